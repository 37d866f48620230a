// Reference pool kernels, same signatures as assembly/pool.ts (NHWC; see there for the geometry and argmax).
import type { Heap } from './heap';
import { readPoolDesc, type PoolDesc } from '../engine/generated/abi';

/** One axis of a pooling geometry: window k, stride, leading pad, input size. */
interface Axis { k: number; stride: number; pad: number; size: number }
const rowsOf = (d: PoolDesc): Axis => ({ k: d.kh, stride: d.strideH, pad: d.padTop, size: d.h });
const colsOf = (d: PoolDesc): Axis => ({ k: d.kw, stride: d.strideW, pad: d.padLeft, size: d.w });

/** The real cells of output row/column `o`'s window along axis a: [lo, hi) clipped to [0, size). */
const span = (o: number, a: Axis): [number, number] =>
  [Math.max(o * a.stride - a.pad, 0), Math.min(o * a.stride - a.pad + a.k, a.size)];

export const poolRef = (h: Heap) => ({
  maxpool2d_forward_f32(desc: number, x: number, y: number, argmax: number): void {
    const d = readPoolDesc(h, desc), { n, h: hh, w, c, oh, ow } = d, R = rowsOf(d), C = colsOf(d);
    const f = h.f32, iv = h.i32, X = x >>> 2, Y = y >>> 2, A = argmax >>> 2;
    for (let b = 0; b < n; b++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) {
      const [y0, y1] = span(oy, R), [x0, x1] = span(ox, C);
      for (let ch = 0; ch < c; ch++) {
        const o = ((b * oh + oy) * ow + ox) * c + ch;
        let best = -1, m = 0;
        for (let iy = y0; iy < y1; iy++) for (let ix = x0; ix < x1; ix++) {
          const e = ((b * hh + iy) * w + ix) * c + ch;
          if (best < 0 || f[X + e] > m) { best = e; m = f[X + e]; } // first of equals wins
        }
        f[Y + o] = m;
        iv[A + o] = best;
      }
    }
  },

  maxpool2d_backward_f32(desc: number, argmax: number, dy: number, dx: number, accumulate: number): void {
    const d = readPoolDesc(h, desc), xCount = d.n * d.h * d.w * d.c, yCount = d.n * d.oh * d.ow * d.c;
    const f = h.f32, iv = h.i32, A = argmax >>> 2, DY = dy >>> 2, DX = dx >>> 2;
    if (!accumulate) f.fill(0, DX, DX + xCount);
    for (let o = 0; o < yCount; o++) {
      const i = iv[A + o];
      if (i >= 0 && i < xCount) f[DX + i] += f[DY + o];
    }
  },

  avgpool2d_forward_f32(desc: number, x: number, y: number): void {
    const d = readPoolDesc(h, desc), { n, h: hh, w, c, oh, ow } = d, R = rowsOf(d), C = colsOf(d);
    const f = h.f32, X = x >>> 2, Y = y >>> 2;
    for (let b = 0; b < n; b++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) {
      const [y0, y1] = span(oy, R), [x0, x1] = span(ox, C);
      const count = Math.max(y1 - y0, 0) * Math.max(x1 - x0, 0);
      for (let ch = 0; ch < c; ch++) {
        let s = 0;
        for (let iy = y0; iy < y1; iy++) for (let ix = x0; ix < x1; ix++) s += f[X + ((b * hh + iy) * w + ix) * c + ch];
        f[Y + ((b * oh + oy) * ow + ox) * c + ch] = count > 0 ? s / count : 0;
      }
    }
  },

  avgpool2d_backward_f32(desc: number, dy: number, dx: number, accumulate: number): void {
    const d = readPoolDesc(h, desc), { n, h: hh, w, c, oh, ow } = d, R = rowsOf(d), C = colsOf(d);
    const f = h.f32, DY = dy >>> 2, DX = dx >>> 2;
    if (!accumulate) f.fill(0, DX, DX + n * hh * w * c);
    for (let b = 0; b < n; b++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) {
      const [y0, y1] = span(oy, R), [x0, x1] = span(ox, C);
      const count = Math.max(y1 - y0, 0) * Math.max(x1 - x0, 0);
      if (count === 0) continue;
      for (let ch = 0; ch < c; ch++) {
        const g = f[DY + ((b * oh + oy) * ow + ox) * c + ch] / count;
        for (let iy = y0; iy < y1; iy++) for (let ix = x0; ix < x1; ix++) f[DX + ((b * hh + iy) * w + ix) * c + ch] += g;
      }
    }
  },

  global_avgpool_forward_f32(n: number, hw: number, c: number, x: number, y: number): void {
    const f = h.f32, X = x >>> 2, Y = y >>> 2;
    for (let b = 0; b < n; b++) for (let ch = 0; ch < c; ch++) {
      let s = 0;
      for (let p = 0; p < hw; p++) s += f[X + (b * hw + p) * c + ch];
      f[Y + b * c + ch] = s / hw;
    }
  },

  global_avgpool_backward_f32(n: number, hw: number, c: number, dy: number, dx: number, accumulate: number): void {
    const f = h.f32, DY = dy >>> 2, DX = dx >>> 2;
    for (let b = 0; b < n; b++) for (let p = 0; p < hw; p++) for (let ch = 0; ch < c; ch++) {
      const i = DX + (b * hw + p) * c + ch, g = f[DY + b * c + ch] / hw;
      f[i] = accumulate ? f[i] + g : g;
    }
  },
});
