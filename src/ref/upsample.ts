// Reference UpSampling2D kernels, same signatures as assembly/upsample.ts (see there for the coordinate rule):
// each output pixel is written out as a weighted sum over its source pixels, f64 sums; backward is the same
// list of (source, weight) scattered.
import type { Heap } from './heap';
import { readUpsampleDesc, type UpsampleDesc } from '../engine/generated/abi';

/** One axis: the (source index, weight) pairs output index o reads, for an input of `size` scaled by `scale`. */
function axisTaps(o: number, scale: number, size: number, bilinear: boolean): [number, number][] {
  if (!bilinear) return [[Math.floor(o / scale), 1]];
  const s = (o + 0.5) / scale - 0.5; // half-pixel centers
  const lo = Math.max(Math.floor(s), 0), hi = Math.min(Math.ceil(s), size - 1);
  if (lo === hi) return [[lo, 1]];
  const t = Math.fround(s - lo); // the kernels' weight is an f32
  return [[lo, 1 - t], [hi, t]];
}

/** Calls visit(outputPixel, inputPixel, weight) for every source of every output pixel (pixel = flat index / c). */
function forEachSource(d: UpsampleDesc, bilinear: boolean, visit: (o: number, i: number, weight: number) => void): void {
  const oh = d.h * d.sizeH, ow = d.w * d.sizeW;
  for (let b = 0; b < d.n; b++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) {
    const o = (b * oh + oy) * ow + ox;
    for (const [iy, wy] of axisTaps(oy, d.sizeH, d.h, bilinear)) {
      for (const [ix, wx] of axisTaps(ox, d.sizeW, d.w, bilinear)) visit(o, (b * d.h + iy) * d.w + ix, wy * wx);
    }
  }
}

function forward(h: Heap, desc: number, x: number, y: number, bilinear: boolean): void {
  const d = readUpsampleDesc(h, desc), f = h.f32, c = d.c;
  const acc = new Float64Array(d.n * d.h * d.sizeH * d.w * d.sizeW * c);
  forEachSource(d, bilinear, (o, i, wt) => { for (let ch = 0; ch < c; ch++) acc[o * c + ch] += wt * f[(x >>> 2) + i * c + ch]; });
  f.set(acc, y >>> 2);
}

function backward(h: Heap, desc: number, dy: number, dx: number, bilinear: boolean): void {
  const d = readUpsampleDesc(h, desc), f = h.f32, c = d.c;
  const acc = new Float64Array(d.n * d.h * d.w * c);
  forEachSource(d, bilinear, (o, i, wt) => { for (let ch = 0; ch < c; ch++) acc[i * c + ch] += wt * f[(dy >>> 2) + o * c + ch]; });
  f.set(acc, dx >>> 2);
}

export const upsampleRef = (h: Heap) => ({
  upsample_nearest_forward_f32(desc: number, x: number, y: number): void { forward(h, desc, x, y, false); },
  upsample_nearest_backward_f32(desc: number, dy: number, dx: number): void { backward(h, desc, dy, dx, false); },
  upsample_bilinear_forward_f32(desc: number, x: number, y: number): void { forward(h, desc, x, y, true); },
  upsample_bilinear_backward_f32(desc: number, dy: number, dx: number): void { backward(h, desc, dy, dx, true); },
});
