// Checked dropout kernel calls over tensors. The mask of element i is a hash of (seed, step, firstIndex + i):
// a worker handling a slice passes the global index of the slice's first element and draws the same mask as
// one thread doing the whole tensor; backward regenerates it from the same (seed, step, firstIndex).
import type { Engine } from '../engine/engine';
import { RedeError, checkInt, shapeStr } from '../engine/errors';
import { numel, type Tensor } from '../engine/tensor';

export interface DropoutOptions {
  /** Probability of dropping an element, in [0, 1). */
  p: number;
  /** Any 32-bit integer (the model's seed). */
  seed: number;
  /** The training step: a new mask every step. Any 32-bit integer. */
  step: number;
  /** Global index of the first element of this slice. Default 0. */
  firstIndex?: number;
}

const isInt32 = (v: number): boolean => Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 32;

function checked(e: Engine, where: string, a: Tensor, an: string, b: Tensor, bn: string, o: DropoutOptions): number {
  if (!a.shape.every((d) => Number.isInteger(d) && d >= 1)) throw new RedeError(`${where}: ${an} must have positive integer dims, got ${shapeStr(a.shape)}`);
  const n = numel(a.shape);
  checkInt(where, `${an} size`, n);
  if (numel(b.shape) !== n) throw new RedeError(`${where}: ${bn} ${shapeStr(b.shape)} must have as many elements as ${an} ${shapeStr(a.shape)}`);
  if (!(Number.isFinite(o.p) && o.p >= 0 && o.p < 1)) throw new RedeError(`${where}: p must be in [0, 1), got ${o.p} (${an} ${shapeStr(a.shape)})`);
  for (const k of ['seed', 'step', 'firstIndex'] as const) {
    const v = o[k] ?? 0;
    if (!isInt32(v)) throw new RedeError(`${where}: ${k} must be a 32-bit integer, got ${v}`);
  }
  e.checkRegion(where, an, a.ptr, n * 4);
  e.checkRegion(where, bn, b.ptr, n * 4);
  if (a.ptr !== b.ptr && a.ptr < b.ptr + n * 4 && b.ptr < a.ptr + n * 4) {
    throw new RedeError(`${where}: ${an} (byte ${a.ptr}) and ${bn} (byte ${b.ptr}) partly overlap; they must be the same tensor or disjoint`);
  }
  return n;
}

/** y = x·mask/(1-p) (inverted dropout). y may be x. */
export function dropoutForward(e: Engine, x: Tensor, y: Tensor, o: DropoutOptions): void {
  const n = checked(e, 'dropout_forward', x, 'x', y, 'y', o);
  e.k.dropout_forward_f32(x.ptr, y.ptr, n, o.p, o.seed | 0, o.step | 0, (o.firstIndex ?? 0) | 0);
}

/** dx = dy·mask/(1-p) with the forward's options. dx may be dy. */
export function dropoutBackward(e: Engine, dy: Tensor, dx: Tensor, o: DropoutOptions): void {
  const n = checked(e, 'dropout_backward', dy, 'dy', dx, 'dx', o);
  e.k.dropout_backward_f32(dy.ptr, dx.ptr, n, o.p, o.seed | 0, o.step | 0, (o.firstIndex ?? 0) | 0);
}
