// The ops of an int8 inference graph (made by lowerQuantized, src/infer/qlower.ts; run by InferenceModel like
// every other op). A value is either f32 or int8 with per-tensor parameters real = scale·(q − zero); these ops
// read and write int8 values, except quantize (f32 → int8), dequantize (int8 → f32) and a conv / dense whose
// output is f32 (the model's output, or an activation int8 cannot express, applied in f32 as an epilogue).
// Algebra, requantization and the QPARAM record: assembly/qgemm.ts.
import type { ConvGeom } from '../ops/conv';
import type { Epilogue } from '../layers/activation';
import type { QaddDesc } from '../engine/generated/abi';

/** A value's int8 parameters: real = scale·(q − zero). */
export interface QParams { scale: number; zero: number }

interface Base { name: string; xs: number[]; x: number; y: number }

/** y_j = requant(conv(x − zx; wq)_j + bias_j) (int8, clamp [lo, hi]) or (acc + bias_j)·scale_j then act (f32out). */
export interface QConvOp extends Base {
  kind: 'qconv'; geo: ConvGeom; w: Int8Array; qp: Int32Array; zx: number; zy: number; lo: number; hi: number; f32out: boolean; act: Epilogue;
}
export interface QDenseOp extends Base {
  kind: 'qdense'; k: number; n: number; w: Int8Array; qp: Int32Array; zx: number; zy: number; lo: number; hi: number; f32out: boolean; act: Epilogue;
}

export type QOp =
  | (Base & { kind: 'quantize'; q: QParams; n: number })
  | (Base & { kind: 'dequantize'; q: QParams; n: number })
  | QConvOp
  | QDenseOp
  /** Max / average over windows (global average pooling: one window over the map); output parameters = input's. */
  | (Base & { kind: 'qmaxpool'; geo: ConvGeom })
  | (Base & { kind: 'qavgpool'; geo: ConvGeom })
  | (Base & { kind: 'qadd'; p: QaddDesc; n: number });

/** The QPARAM record of each output channel: bias, mult, shift (int32) and f32 scale, 4 words per channel. */
export function qparamRecords(bias: Int32Array, mult: Int32Array, shift: Int32Array, scale: Float32Array): Int32Array {
  const n = bias.length, r = new Int32Array(4 * n), f = new Float32Array(r.buffer);
  for (let j = 0; j < n; j++) { r[4 * j] = bias[j]; r[4 * j + 1] = mult[j]; r[4 * j + 2] = shift[j]; f[4 * j + 3] = scale[j]; }
  return r;
}
