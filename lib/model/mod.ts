/**
 * The network (PyTorch's ANN_MNIST in tf.layers), its hand-written backward pass, the optimizers, predictions and checkpoints.
 *
 * @module
 */
export * from "./checkpoint.ts";
export * from "./gradients.ts";
export * from "./init.ts";
export * from "./network.ts";
export * from "./nll.ts";
export * from "./optimizer.ts";
export * from "./predict.ts";
