/**
 * Tables for notebooks: nodejs-polars DataFrames (which Jupyter renders as HTML tables) with
 * floating-point numbers rounded for reading.
 *
 * @module
 */
import pl from "nodejs-polars";

/**
 * Builds a DataFrame from plain rows, rounding non-integer numbers to `digits` decimals.
 *
 * @param rows One object per row; keys become columns.
 * @param options.digits Decimals kept. Default 4.
 * @returns The DataFrame; a cell's last value shows as a table.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const df = table([{ epoch: 1, loss: 0.123456 }]);
 * assert.deepEqual(df.toRecords(), [{ epoch: 1, loss: 0.1235 }]);
 * ```
 */
export function table(
  rows: readonly Record<string, unknown>[],
  options: { digits?: number } = {},
): pl.DataFrame {
  const { digits = 4 } = options;
  const scale = 10 ** digits;
  return pl.DataFrame(rows.map((row) =>
    Object.fromEntries(
      Object.entries(row).map(([key, value]) => [
        key,
        typeof value === "number" && Number.isFinite(value) && !Number.isInteger(value)
          ? Math.round(value * scale) / scale
          : value,
      ]),
    )
  ));
}
