// A Tensor is plain data: a shape and the byte address of its first f32 in the engine's memory.
// Activations are NHWC; conv weights are HWIO ([kh, kw, cin/groups, cout]), as in TensorFlow.

export interface Tensor {
  readonly shape: readonly number[];
  readonly ptr: number;
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
