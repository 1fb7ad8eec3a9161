/**
 * The model the evaluation notebook studies: the one notebook 03 saved for this profile, or, when
 * there is none, a model trained on the spot with the quick recipe (and saying so). The stand-in is
 * never saved, so it cannot later pass for notebook 03's model.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { loadModel, trainedModelDir } from "../model/checkpoint.ts";
import { loadSplits } from "../data/mnist.ts";
import { createModel } from "../model/network.ts";
import { profileName } from "../util/profile.ts";
import { ORIGINAL_OPTIMIZER, train } from "./train.ts";

/** A model and where it came from. */
export interface TrainedModel {
  model: tf.LayersModel;
  /** One sentence for the reader: which checkpoint, or that it was trained here. */
  source: string;
  /** What the checkpoint recorded (recipe, history, accuracy), if anything. */
  metadata: Record<string, unknown>;
}

/** The recipe used when no checkpoint exists: the original's, on a subset for a few epochs. */
export const FALLBACK_RECIPE = { epochs: 5, limit: 15_000, seed: 0 } as const;

/**
 * Loads the model notebook 03 saved for the current profile, or trains a quick one in its place.
 *
 * @param options.dir Checkpoint folder. Default: {@linkcode trainedModelDir} for the profile.
 * @returns The model, a sentence saying where it came from, and its metadata.
 */
export async function loadTrainedModel(options: { dir?: string } = {}): Promise<TrainedModel> {
  const dir = options.dir ?? trainedModelDir();
  try {
    const model = await loadModel(dir);
    const metadata = (model.getUserDefinedMetadata() ?? {}) as Record<string, unknown>;
    return {
      model,
      source: `loaded from ${dir} (saved by notebook 03, ${profileName()} profile)`,
      metadata,
    };
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const { epochs, limit, seed } = FALLBACK_RECIPE;
  const splits = await loadSplits({ seed, limit });
  const model = createModel({ seed });
  const result = await train(model, splits.train, {
    epochs,
    seed,
    optimizer: ORIGINAL_OPTIMIZER,
    validation: splits.validation,
  });
  const metadata = {
    config: { ...FALLBACK_RECIPE, optimizer: ORIGINAL_OPTIMIZER },
    history: result.history,
  };
  return {
    model,
    source: `trained here: no model was saved at ${dir}, so this is a quick one ` +
      `(${epochs} epochs on ${
        limit.toLocaleString("en")
      } images); run notebook 03 for the full recipe`,
    metadata,
  };
}
