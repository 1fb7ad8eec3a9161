/**
 * SGD (with momentum and weight decay) and Adam with PyTorch's exact update rules, as tf ops on the
 * model's variables, so a learning rate here means what it means in the original notebook.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** Stochastic gradient descent, as `torch.optim.SGD`. */
export interface SgdConfig {
  kind: "sgd";
  /** Step size. The original uses 0.01. */
  learningRate: number;
  /** Momentum factor; 0 is plain SGD. The original uses 0.5. Default 0. */
  momentum?: number;
  /** L2 penalty added to the gradient (`grad + weightDecay · w`). Default 0. */
  weightDecay?: number;
  /** Use Nesterov momentum. Default false. */
  nesterov?: boolean;
}

/** Adam, as `torch.optim.Adam` (weight decay as an L2 term added to the gradient). */
export interface AdamConfig {
  kind: "adam";
  /** Step size, typically 1e-3. */
  learningRate: number;
  /** Decay of the first moment. Default 0.9. */
  beta1?: number;
  /** Decay of the second moment. Default 0.999. */
  beta2?: number;
  /** Added to the denominator for stability. Default 1e-8. */
  epsilon?: number;
  /** L2 penalty added to the gradient. Default 0. */
  weightDecay?: number;
}

/** Which optimizer, with its hyperparameters. Plain data, so runs can be logged and compared. */
export type OptimizerConfig = SgdConfig | AdamConfig;

/** Updates variables from their gradients, keeping its own state (momentum buffers, moments). */
export interface Optimizer {
  /** The configuration it was made from. */
  readonly config: OptimizerConfig;
  /**
   * Applies one update.
   *
   * @param variables The parameters, updated in place.
   * @param gradients One gradient per variable, same shapes.
   * @param learningRate The step size for this step (schedules change it).
   */
  step(variables: tf.Variable[], gradients: tf.Tensor[], learningRate: number): void;
  /** Releases the optimizer's state tensors. */
  dispose(): void;
}

/**
 * Creates an optimizer from its configuration.
 *
 * @param config The optimizer and its hyperparameters.
 * @returns A new optimizer; dispose it when training ends.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs";
 * const w = tf.variable(tf.tensor1d([1]));
 * const sgd = createOptimizer({ kind: "sgd", learningRate: 0.1, momentum: 0.5 });
 * sgd.step([w], [tf.tensor1d([1])], 0.1); // buf = 1, w = 1 - 0.1
 * sgd.step([w], [tf.tensor1d([1])], 0.1); // buf = 0.5 + 1, w = 0.9 - 0.15
 * assert.ok(Math.abs(w.dataSync()[0] - 0.75) < 1e-6);
 * ```
 */
export function createOptimizer(config: OptimizerConfig): Optimizer {
  validateConfig(config);
  return config.kind === "sgd" ? createSgd(config) : createAdam(config);
}

type Check = [name: string, ok: (v: number) => boolean, expected: string];

const UNIT_INTERVAL: Check[1] = (v) => v >= 0 && v < 1;
const OPTION_CHECKS: Record<OptimizerConfig["kind"], Check[]> = {
  sgd: [["momentum", UNIT_INTERVAL, "a number in [0, 1)"]],
  adam: [
    ["beta1", UNIT_INTERVAL, "a number in [0, 1)"],
    ["beta2", UNIT_INTERVAL, "a number in [0, 1)"],
    ["epsilon", (v) => v > 0, "a positive number"],
  ],
};

function validateConfig(config: OptimizerConfig): void {
  const kind = (config as { kind: unknown }).kind;
  if (kind !== "sgd" && kind !== "adam") {
    throw new TypeError(
      `Cannot create the optimizer: option kind is ${
        JSON.stringify(kind)
      }, expected "sgd" or "adam"`,
    );
  }
  const checks: Check[] = [
    ["learningRate", (v) => v > 0 && Number.isFinite(v), "a positive number"],
    ["weightDecay", (v) => v >= 0, "a number ≥ 0"],
    ...OPTION_CHECKS[config.kind],
  ];
  const values = config as unknown as Record<string, unknown>;
  for (const [name, ok, expected] of checks) {
    const value = values[name];
    if (name !== "learningRate" && value === undefined) continue;
    if (!(typeof value === "number" && ok(value))) {
      throw new RangeError(
        `Cannot create the ${kind} optimizer: option ${name} is ${value}, expected ${expected}`,
      );
    }
  }
}

/** Lazily creates one zero-initialised state variable per parameter. */
function stateFor(states: tf.Variable[], variables: tf.Variable[]): tf.Variable[] {
  if (states.length === 0) {
    for (const v of variables) states.push(tf.tidy(() => tf.variable(tf.zerosLike(v), false)));
  }
  return states;
}

function createSgd(config: SgdConfig): Optimizer {
  const { momentum = 0, weightDecay = 0, nesterov = false } = config;
  const buffers: tf.Variable[] = [];
  return {
    config,
    step(variables, gradients, learningRate) {
      const state = momentum > 0 ? stateFor(buffers, variables) : [];
      tf.tidy(() => {
        variables.forEach((w, i) => {
          let g = gradients[i];
          if (weightDecay > 0) g = tf.add(g, tf.mul(w, weightDecay));
          if (momentum > 0) {
            // PyTorch: buf = momentum·buf + g (buf starts as g, which equals this with buf = 0).
            const buf = tf.add(tf.mul(state[i], momentum), g);
            state[i].assign(buf);
            g = nesterov ? tf.add(g, tf.mul(buf, momentum)) : buf;
          }
          w.assign(tf.sub(w, tf.mul(g, learningRate)));
        });
      });
    },
    dispose() {
      tf.dispose(buffers);
      buffers.length = 0;
    },
  };
}

function createAdam(config: AdamConfig): Optimizer {
  const { beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8, weightDecay = 0 } = config;
  const firstMoments: tf.Variable[] = [];
  const secondMoments: tf.Variable[] = [];
  let t = 0;
  return {
    config,
    step(variables, gradients, learningRate) {
      const m = stateFor(firstMoments, variables);
      const v = stateFor(secondMoments, variables);
      t++;
      const stepSize = learningRate / (1 - beta1 ** t);
      const secondCorrection = Math.sqrt(1 - beta2 ** t);
      tf.tidy(() => {
        variables.forEach((w, i) => {
          let g = gradients[i];
          if (weightDecay > 0) g = tf.add(g, tf.mul(w, weightDecay));
          const mNew = tf.add(tf.mul(m[i], beta1), tf.mul(g, 1 - beta1));
          const vNew = tf.add(tf.mul(v[i], beta2), tf.mul(tf.square(g), 1 - beta2));
          m[i].assign(mNew);
          v[i].assign(vNew);
          const denominator = tf.add(tf.div(tf.sqrt(vNew), secondCorrection), epsilon);
          w.assign(tf.sub(w, tf.mul(tf.div(mNew, denominator), stepSize)));
        });
      });
    },
    dispose() {
      tf.dispose([...firstMoments, ...secondMoments]);
      firstMoments.length = secondMoments.length = 0;
    },
  };
}
