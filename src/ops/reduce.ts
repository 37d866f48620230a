// Checked reductions over flat tensors: the chunked all-reduce of gradient slices, in-place scale, sum of
// squares (gradient norms) and fill.
import type { Engine } from '../engine/engine';
import { RedeError, checkInt, shapeStr } from '../engine/errors';
import { numel, type Tensor } from '../engine/tensor';

function size(where: string, name: string, t: Tensor): number {
  if (!t.shape.every((d) => Number.isInteger(d) && d >= 1)) throw new RedeError(`${where}: ${name} must have positive integer dims, got ${shapeStr(t.shape)}`);
  const n = numel(t.shape);
  checkInt(where, `${name} size`, n);
  return n;
}

/**
 * dst[i] = Σ_{s<count} src[s·stride + i] for each i < numel(dst), added in slice order (deterministic).
 * src addresses slice 0; slices lie `stride` floats apart (stride ≥ numel(dst), so they do not overlap).
 * dst may be slice 0 itself (src.ptr) or lie outside every slice.
 */
export function sumSlices(e: Engine, dst: Tensor, src: Tensor, count: number, stride: number): void {
  const where = 'sum_slices';
  const n = size(where, 'dst', dst);
  checkInt(where, 'count', count);
  checkInt(where, 'stride', stride, n);
  const span = ((count - 1) * stride + n) * 4;
  checkInt(where, 'slices span (floats)', span / 4);
  if (numel(src.shape) < span / 4) {
    throw new RedeError(`${where}: src ${shapeStr(src.shape)} holds ${numel(src.shape)} floats, but ${count} slices of ${n} floats at stride ${stride} span ${span / 4}`);
  }
  e.checkRegion(where, 'dst', dst.ptr, n * 4);
  e.checkRegion(where, `src (${count} slices of ${n} floats, stride ${stride})`, src.ptr, span);
  if (dst.ptr !== src.ptr) {
    for (let s = 0; s < count; s++) {
      const a = src.ptr + s * stride * 4;
      if (dst.ptr < a + n * 4 && a < dst.ptr + n * 4) {
        throw new RedeError(`${where}: dst (byte ${dst.ptr}, ${n} floats) overlaps slice ${s} (byte ${a}); dst must be slice 0 itself or outside every slice`);
      }
    }
  }
  e.k.sum_slices_f32(dst.ptr, src.ptr, n, count, stride);
}

/** x *= s in place. */
export function scaleInPlace(e: Engine, x: Tensor, s: number): void {
  const where = 'scale';
  const n = size(where, 'x', x);
  if (!Number.isFinite(s)) throw new RedeError(`${where}: factor must be finite, got ${s} (x ${shapeStr(x.shape)})`);
  e.checkRegion(where, 'x', x.ptr, n * 4);
  e.k.scale_inplace_f32(x.ptr, n, s);
}

/** Σ x², accumulated in f64. */
export function sumSquares(e: Engine, x: Tensor): number {
  const where = 'sum_squares';
  const n = size(where, 'x', x);
  e.checkRegion(where, 'x', x.ptr, n * 4);
  return e.k.sum_squares_f32(x.ptr, n);
}

/** x = value everywhere. */
export function fillTensor(e: Engine, x: Tensor, value: number): void {
  const where = 'fill';
  const n = size(where, 'x', x);
  e.checkRegion(where, 'x', x.ptr, n * 4);
  e.k.fill_f32(x.ptr, n, value);
}
