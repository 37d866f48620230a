// Checked GEMM over tensors: validates shapes and regions, then one call into the kernel.
// Tensors are dense row-major 2-D, so each leading dimension is the tensor's row length.
import type { Engine } from '../engine/engine';
import { RedeError, shapeStr } from '../engine/errors';
import type { Tensor } from '../engine/tensor';
import { GEMM_NR } from '../engine/generated/abi';

export interface GemmOptions { transA?: boolean; transB?: boolean; accumulate?: boolean }

function check2d(where: string, name: string, t: Tensor): void {
  if (t.shape.length !== 2 || !t.shape.every((d) => Number.isInteger(d) && d >= 1 && d < 2 ** 31)) {
    throw new RedeError(`${where}: ${name} must be 2-D with positive integer dims, got ${shapeStr(t.shape)}`);
  }
}

/** [m, k] of op(a). */
const opShape = (t: Tensor, trans?: boolean): [number, number] => (trans ? [t.shape[1], t.shape[0]] : [t.shape[0], t.shape[1]]);

/** c = op(a)·op(b) (or c += with accumulate); a, b, c are 2-D row-major tensors. */
export function gemm(e: Engine, a: Tensor, b: Tensor, c: Tensor, o: GemmOptions = {}): void {
  const where = 'gemm_f32';
  check2d(where, 'a', a); check2d(where, 'b', b); check2d(where, 'c', c);
  const [m, ka] = opShape(a, o.transA);
  const [kb, n] = opShape(b, o.transB);
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

/** Shape of op(B) (k×n) packed for gemmPackedB: [ceil(n/NR), k, NR] (NR-wide k-panels, zero-padded). */
export function gemmPackedBShape(k: number, n: number): [number, number, number] {
  return [Math.ceil(n / GEMM_NR), k, GEMM_NR];
}

function checkPacked(e: Engine, where: string, packed: Tensor, k: number, n: number): void {
  const want = gemmPackedBShape(k, n);
  if (packed.shape.length !== 3 || packed.shape.some((d, i) => d !== want[i])) {
    throw new RedeError(`${where}: packed must have shape ${shapeStr(want)} for op(b) ${shapeStr([k, n])}, got ${shapeStr(packed.shape)}`);
  }
  const bytes = e.k.gemm_packed_b_bytes(k, n);
  if (bytes !== want[0] * want[1] * want[2] * 4) {
    throw new RedeError(`${where}: kernel packs ${bytes} bytes for op(b) ${shapeStr([k, n])}, but the wrapper expects ${shapeStr(want)} (NR mismatch)`);
  }
  e.checkRegion(where, 'packed', packed.ptr, bytes);
}

/** Packs op(b) (k×n) once into `packed` (shape gemmPackedBShape(k, n)), e.g. a layer's weights. */
export function gemmPackB(e: Engine, b: Tensor, packed: Tensor, o: { transB?: boolean } = {}): void {
  const where = 'gemm_pack_b';
  check2d(where, 'b', b);
  const [k, n] = opShape(b, o.transB);
  e.checkRegion(where, 'b', b.ptr, k * n * 4);
  checkPacked(e, where, packed, k, n);
  e.k.gemm_pack_b(o.transB ? 1 : 0, k, n, b.ptr, b.shape[1], packed.ptr);
}

/** c = op(a)·B (or c += with accumulate), B packed by gemmPackB; n is c's column count. */
export function gemmPackedB(e: Engine, a: Tensor, packed: Tensor, c: Tensor, o: { transA?: boolean; accumulate?: boolean } = {}): void {
  const where = 'gemm_f32_packed_b';
  check2d(where, 'a', a); check2d(where, 'c', c);
  const [m, k] = opShape(a, o.transA);
  const n = c.shape[1];
  if (c.shape[0] !== m) {
    throw new RedeError(`${where}: op(a) ${shapeStr([m, k])} (transA=${!!o.transA}) does not match c ${shapeStr(c.shape)} in rows`);
  }
  checkPacked(e, where, packed, k, n);
  e.checkRegion(where, 'a', a.ptr, m * k * 4);
  e.checkRegion(where, 'c', c.ptr, m * n * 4);
  const mark = e.mark();
  const scratch = e.reserve(e.k.gemm_f32_packed_b_scratch_bytes(m, n, k), 'gemm scratch');
  e.k.gemm_f32_packed_b(o.transA ? 1 : 0, m, n, k, a.ptr, a.shape[1], packed.ptr, c.ptr, n, o.accumulate ? 1 : 0, scratch);
  e.release(mark);
}
