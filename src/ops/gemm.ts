// Checked GEMM over tensors: validates shapes and regions, then one call into the kernel.
import type { Engine } from '../engine/engine';
import { RedeError, shapeStr } from '../engine/errors';
import type { Tensor } from '../engine/tensor';

export interface GemmOptions { transA?: boolean; transB?: boolean; accumulate?: boolean }

/** c = op(a)·op(b) (or c += with accumulate); a, b, c are 2-D row-major tensors. */
export function gemm(e: Engine, a: Tensor, b: Tensor, c: Tensor, o: GemmOptions = {}): void {
  const where = 'gemm';
  for (const [name, t] of [['a', a], ['b', b], ['c', c]] as const) {
    if (t.shape.length !== 2 || !t.shape.every((d) => Number.isInteger(d) && d >= 1)) {
      throw new RedeError(`${where}: ${name} must be 2-D with positive integer dims, got ${shapeStr(t.shape)}`);
    }
  }
  const [m, ka] = o.transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [kb, n] = o.transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (ka !== kb || c.shape[0] !== m || c.shape[1] !== n) {
    throw new RedeError(`${where}: op(a) ${shapeStr([m, ka])} · op(b) ${shapeStr([kb, n])} does not give c ${shapeStr(c.shape)} (transA=${!!o.transA}, transB=${!!o.transB})`);
  }
  e.checkRegion(where, 'a', a.ptr, m * ka * 4);
  e.checkRegion(where, 'b', b.ptr, kb * n * 4);
  e.checkRegion(where, 'c', c.ptr, m * n * 4);
  const mark = e.mark();
  const scratch = e.reserve(e.k.gemm_scratch_bytes(m, n, ka), 'gemm scratch');
  e.k.gemm_f32(o.transA ? 1 : 0, o.transB ? 1 : 0, m, n, ka, a.ptr, a.shape[1], b.ptr, b.shape[1], c.ptr, n, o.accumulate ? 1 : 0, scratch);
  e.release(mark);
}
