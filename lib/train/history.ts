/**
 * The training history's row: what `train()` records, sweeps store and charts draw.
 *
 * @module
 */

/** The data a history row was measured on. */
export type HistorySplit = "train" | "validation";

/**
 * One split of one epoch. `train` rows average the epoch's batches; `validation` rows evaluate
 * after it. Charts that compare runs take these rows with extra keys such as `run` or `lr`.
 * Trained with the `dynamics` option, `train` rows also carry the per-layer columns of
 * `dynamics.ts` (`grad_norm_linear1`, `update_ratio_linear1`, …).
 */
export type HistoryRow = {
  /** 1-based epoch. */
  epoch: number;
  /** Which data the numbers were measured on. */
  split: HistorySplit;
  /** Mean negative log-likelihood (cross-entropy). */
  loss: number;
  /** Share classified right, in [0, 1]. */
  accuracy: number;
};
