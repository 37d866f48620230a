// Reference int8 conv helpers and element-wise ops, same signatures as assembly/qconv.ts, written from the
// definitions there (no tricks: every tap, every window cell), exact in integers.
import type { Heap } from './heap';
import { QPARAM_BYTES, readConvDesc, readPoolDesc, readQaddDesc } from '../engine/generated/abi';
import { mulq, nearestEven } from './qmath';

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

export const qconvRef = (h: Heap) => {
  const i8 = () => new Int8Array(h.memory.buffer);
  return {
    im2col_s8(desc: number, x: number, col: number, zx: number): void {
      const d = readConvDesc(h, desc), B = i8(), cinG = d.cin / d.groups;
      let o = col;
      for (let g = 0; g < d.groups; g++) for (let b = 0; b < d.n; b++) for (let oy = 0; oy < d.oh; oy++) for (let ox = 0; ox < d.ow; ox++) {
        for (let ky = 0; ky < d.kh; ky++) for (let kx = 0; kx < d.kw; kx++) for (let c = 0; c < cinG; c++) {
          const iy = oy * d.strideH - d.padTop + ky * d.dilationH, ix = ox * d.strideW - d.padLeft + kx * d.dilationW;
          B[o++] = iy < 0 || iy >= d.h || ix < 0 || ix >= d.w ? zx : B[x + ((b * d.h + iy) * d.w + ix) * d.cin + g * cinG + c];
        }
      }
    },
    dwconv_s8(desc: number, x: number, w: number, q: number, zx: number, zy: number, lo: number, hi: number, y: number): void {
      const d = readConvDesc(h, desc), B = i8(), I = h.i32, mult = d.cout / d.cin;
      for (let b = 0; b < d.n; b++) for (let oy = 0; oy < d.oh; oy++) for (let ox = 0; ox < d.ow; ox++) for (let j = 0; j < d.cout; j++) {
        const r = (q + j * QPARAM_BYTES) >>> 2, c = Math.floor(j / mult);
        let acc = I[r];
        for (let ky = 0; ky < d.kh; ky++) for (let kx = 0; kx < d.kw; kx++) {
          const iy = oy * d.strideH - d.padTop + ky * d.dilationH, ix = ox * d.strideW - d.padLeft + kx * d.dilationW;
          if (iy < 0 || iy >= d.h || ix < 0 || ix >= d.w) continue;
          acc += (B[x + ((b * d.h + iy) * d.w + ix) * d.cin + c] - zx) * B[w + (ky * d.kw + kx) * d.cout + j];
        }
        B[y + ((b * d.oh + oy) * d.ow + ox) * d.cout + j] = clamp(zy + mulq(acc | 0, I[r + 1], I[r + 2]), lo, hi);
      }
    },
    maxpool_s8(desc: number, x: number, y: number): void {
      pool(desc, x, y, (vals) => vals.reduce((m, v) => Math.max(m, v), -128));
    },
    avgpool_s8(desc: number, x: number, y: number): void {
      pool(desc, x, y, (vals) => {
        const s = vals.reduce((t, v) => t + v, 0), n = Math.max(1, vals.length);
        return clamp(Math.trunc((s + (s >= 0 ? Math.floor(n / 2) : -Math.floor(n / 2))) / n), -128, 127);
      });
    },
    add_s8(p: number, n: number, a: number, b: number, y: number): void {
      const d = readQaddDesc(h, p), B = i8();
      for (let i = 0; i < n; i++) {
        const va = mulq((B[a + i] - d.za) << d.left, d.multA, d.shiftA), vb = mulq((B[b + i] - d.zb) << d.left, d.multB, d.shiftB);
        B[y + i] = clamp(d.zy + mulq((va + vb) | 0, d.multY, d.shiftY), d.lo, d.hi);
      }
    },
    quantize_f32_s8(n: number, x: number, y: number, inv: number, zero: number): void {
      const B = i8(), F = h.f32, s = Math.fround(inv);
      for (let i = 0; i < n; i++) {
        let v = Math.fround(F[(x >>> 2) + i] * s);
        if (Number.isNaN(v)) v = 0;
        v = Math.min(Math.max(v, -1e6), 1e6);
        B[y + i] = clamp(nearestEven(v) + zero, -128, 127);
      }
    },
    dequantize_s8_f32(n: number, x: number, y: number, scale: number, zero: number): void {
      const B = i8(), F = h.f32, s = Math.fround(scale);
      for (let i = 0; i < n; i++) F[(y >>> 2) + i] = (B[x + i] - zero) * s;
    },
  };

  /** y[b, oy, ox, c] = reduce(the real cells of the window at (oy, ox), channel c). */
  function pool(desc: number, x: number, y: number, reduce: (vals: number[]) => number): void {
    const d = readPoolDesc(h, desc), B = new Int8Array(h.memory.buffer);
    for (let b = 0; b < d.n; b++) for (let oy = 0; oy < d.oh; oy++) for (let ox = 0; ox < d.ow; ox++) for (let c = 0; c < d.c; c++) {
      const vals: number[] = [];
      for (let iy = Math.max(0, oy * d.strideH - d.padTop); iy < Math.min(d.h, oy * d.strideH - d.padTop + d.kh); iy++) {
        for (let ix = Math.max(0, ox * d.strideW - d.padLeft); ix < Math.min(d.w, ox * d.strideW - d.padLeft + d.kw); ix++) {
          vals.push(B[x + ((b * d.h + iy) * d.w + ix) * d.c + c]);
        }
      }
      B[y + ((b * d.oh + oy) * d.ow + ox) * d.c + c] = reduce(vals);
    }
  }
};
