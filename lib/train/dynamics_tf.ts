/**
 * The tfjs side of the training dynamics (see `dynamics.ts`): the measured step of `train()`'s
 * tfjs path, and the end-of-epoch weight norms and dead fractions read from a model, whatever
 * path trained it.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { IMAGE_PIXELS } from "../data/mnist.ts";
import { dynamicsRow, type Probe, type StepNorms, vectorNorm } from "./dynamics.ts";

function denseLayers(model: tf.LayersModel): tf.layers.Layer[] {
  return model.layers.filter((l) => l.getClassName() === "Dense");
}

/**
 * Runs one optimizer step (`step`) and measures the dense kernels' gradient norms (from
 * `gradients`, aligned with `variables`) and how far the step moved them. Call inside a tidy.
 *
 * @returns The step's norms, one entry per dense layer.
 */
export function tfMeasuredStep(
  model: tf.LayersModel,
  variables: readonly tf.Variable[],
  gradients: readonly tf.Tensor[],
  step: () => void,
): StepNorms {
  const kernels = denseLayers(model).map((layer) => layer.trainableWeights[0].read());
  const index = kernels.map((kernel) => variables.indexOf(kernel as tf.Variable));
  const grad = index.map((i) => vectorNorm(gradients[i].dataSync()));
  const before = kernels.map((kernel) => kernel.dataSync().slice());
  step();
  const update = kernels.map((kernel, i) => {
    const after = kernel.dataSync();
    let sum = 0;
    for (let j = 0; j < after.length; j++) sum += (after[j] - before[i][j]) ** 2;
    return Math.sqrt(sum);
  });
  return { grad, update, weight: before.map(vectorNorm) };
}

/** ‖w‖ of each dense kernel of a model. */
export function tfWeightNorms(model: tf.LayersModel): number[] {
  return denseLayers(model).map((layer) => vectorNorm(layer.getWeights()[0].dataSync()));
}

/**
 * The share of each hidden dense layer's units that output zero (after its ReLU) for every probe
 * image, the model in inference mode (no dropout).
 *
 * @returns One fraction per dense layer but the last.
 */
export function tfDeadFractions(model: tf.LayersModel, probe: Probe): number[] {
  const hidden = denseLayers(model).slice(0, -1);
  return tf.tidy(() => {
    let h: tf.Tensor = tf.tensor2d(probe.images, [probe.rows, IMAGE_PIXELS]);
    const dead: number[] = [];
    for (const layer of model.layers) {
      if (dead.length === hidden.length) break;
      h = layer.apply(h, { training: false }) as tf.Tensor;
      if (hidden.includes(layer)) {
        const alive = h.greater(0).any(0).cast("float32").sum().dataSync()[0];
        dead.push(1 - alive / h.shape[1]!);
      }
    }
    return dead;
  });
}

/**
 * One epoch's dynamics columns of a model holding its end-of-epoch weights.
 *
 * @param model The model.
 * @param probe The fixed probe batch.
 * @param norms The epoch's measured step (`null`: its columns are NaN).
 * @returns The columns (see `dynamicsColumns`).
 */
export function tfEpochDynamics(
  model: tf.LayersModel,
  probe: Probe,
  norms: StepNorms | null,
): Record<string, number> {
  return dynamicsRow(norms, tfWeightNorms(model), tfDeadFractions(model, probe));
}
