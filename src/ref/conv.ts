// Reference conv kernels, same signatures as assembly/conv.ts: the definitions written out directly (no im2col,
// no tiles), f64 sums. The descriptor is read with the generated reader (scripts/abi.mjs); shapes:
//   x, dx [n, h, w, cin]   y, dy [n, oh, ow, cout]   w, dw [kh, kw, cin/groups, cout]   bias [cout]
//   col [groups, n·oh·ow, kh·kw·cin/groups]
import type { Heap } from './heap';
import { readConvDesc } from '../engine/generated/abi';

interface Desc {
  n: number; h: number; w: number; cin: number; oh: number; ow: number; cout: number; kh: number; kw: number;
  sh: number; sw: number; pt: number; pl: number; dh: number; dw: number; groups: number;
  cinG: number; coutG: number;
}

function readDesc(h: Heap, desc: number): Desc {
  const d = readConvDesc(h, desc);
  return { n: d.n, h: d.h, w: d.w, cin: d.cin, oh: d.oh, ow: d.ow, cout: d.cout, kh: d.kh, kw: d.kw, sh: d.strideH, sw: d.strideW,
    pt: d.padTop, pl: d.padLeft, dh: d.dilationH, dw: d.dilationW, groups: d.groups, cinG: d.cin / d.groups, coutG: d.cout / d.groups };
}

/**
 * Calls visit(p, xIndex, wIndex, colIndex, g) for every (output pixel, tap, group channel, group) whose input
 * lies inside the image: p = (b·oh + oy)·ow + ox; x element, w row (its output-channel 0 of group g), col entry.
 */
function forEachTap(d: Desc, visit: (p: number, xi: number, wi: number, ci: number, g: number) => void): void {
  const K = d.kh * d.kw * d.cinG;
  for (let b = 0; b < d.n; b++) for (let oy = 0; oy < d.oh; oy++) for (let ox = 0; ox < d.ow; ox++) {
    const p = (b * d.oh + oy) * d.ow + ox;
    for (let ky = 0; ky < d.kh; ky++) {
      const iy = oy * d.sh - d.pt + ky * d.dh;
      if (iy < 0 || iy >= d.h) continue;
      for (let kx = 0; kx < d.kw; kx++) {
        const ix = ox * d.sw - d.pl + kx * d.dw;
        if (ix < 0 || ix >= d.w) continue;
        for (let g = 0; g < d.groups; g++) for (let c = 0; c < d.cinG; c++) {
          const tap = (ky * d.kw + kx) * d.cinG + c;
          visit(p, ((b * d.h + iy) * d.w + ix) * d.cin + g * d.cinG + c, tap * d.cout + g * d.coutG, (g * d.n * d.oh * d.ow + p) * K + tap, g);
        }
      }
    }
  }
}

export const convRef = (h: Heap) => ({
  conv2d_scratch_bytes(_desc: number): number {
    return 0;
  },

  im2col_f32(desc: number, x: number, col: number): void {
    const f = h.f32, d = readDesc(h, desc);
    f.fill(0, col >>> 2, (col >>> 2) + d.groups * d.n * d.oh * d.ow * d.kh * d.kw * d.cinG);
    forEachTap(d, (_p, xi, _wi, ci) => { f[(col >>> 2) + ci] = f[(x >>> 2) + xi]; });
  },

  col2im_f32(desc: number, col: number, dx: number): void {
    const f = h.f32, d = readDesc(h, desc);
    const acc = new Float64Array(d.n * d.h * d.w * d.cin);
    forEachTap(d, (_p, xi, _wi, ci) => { acc[xi] += f[(col >>> 2) + ci]; });
    f.set(acc, dx >>> 2);
  },

  conv2d_forward_f32(desc: number, x: number, w: number, bias: number, y: number, act: number, _scratch: number): void {
    const f = h.f32, d = readDesc(h, desc);
    const acc = new Float64Array(d.n * d.oh * d.ow * d.cout);
    forEachTap(d, (p, xi, wi, _ci, g) => {
      const xv = f[(x >>> 2) + xi];
      for (let o = 0; o < d.coutG; o++) acc[p * d.cout + g * d.coutG + o] += xv * f[(w >>> 2) + wi + o];
    });
    for (let i = 0; i < acc.length; i++) {
      let v = acc[i] + (bias ? f[(bias >>> 2) + (i % d.cout)] : 0);
      if (act === 1) v = Math.max(v, 0);
      f[(y >>> 2) + i] = v;
    }
  },

  conv2d_backward_data_f32(desc: number, dy: number, w: number, dx: number, _scratch: number): void {
    const f = h.f32, d = readDesc(h, desc);
    const acc = new Float64Array(d.n * d.h * d.w * d.cin);
    forEachTap(d, (p, xi, wi, _ci, g) => {
      let s = 0;
      for (let o = 0; o < d.coutG; o++) s += f[(dy >>> 2) + p * d.cout + g * d.coutG + o] * f[(w >>> 2) + wi + o];
      acc[xi] += s;
    });
    f.set(acc, dx >>> 2);
  },

  conv2d_backward_filter_f32(desc: number, x: number, dy: number, dw: number, accumulate: number, _scratch: number): void {
    const f = h.f32, d = readDesc(h, desc);
    const acc = new Float64Array(d.kh * d.kw * d.cinG * d.cout);
    forEachTap(d, (p, xi, wi, _ci, g) => {
      const xv = f[(x >>> 2) + xi];
      for (let o = 0; o < d.coutG; o++) acc[wi + o] += xv * f[(dy >>> 2) + p * d.cout + g * d.coutG + o];
    });
    for (let i = 0; i < acc.length; i++) f[(dw >>> 2) + i] = (accumulate ? f[(dw >>> 2) + i] : 0) + acc[i];
  },
});
