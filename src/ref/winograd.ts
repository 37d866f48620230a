// Reference Winograd F(2×2, 3×3) transforms, same signatures and layouts as assembly/winograd.ts (see there for
// the algebra): each V and Y entry written out as its sum over the tile with Bᵀ's and Aᵀ's entries, f64 sums;
// then the output's bias, residual and ReLU.
import type { Heap } from './heap';
import { readConvDesc } from '../engine/generated/abi';

const BT = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]];
const AT = [[1, 1, 1, 0], [0, 1, -1, -1]];

export const winogradRef = (h: Heap) => ({
  winograd_buffer_bytes(tiles: number, channels: number): number { return 16 * tiles * channels * 4; },
  winograd_input_f32(desc: number, x: number, ty0: number, ty1: number, v: number, _tmp: number): void {
    const d = readConvDesc(h, desc), f = h.f32, tilesW = Math.ceil(d.ow / 2), T = (ty1 - ty0) * tilesW;
    for (let ty = ty0; ty < ty1; ty++) for (let tx = 0; tx < tilesW; tx++) for (let c = 0; c < d.cin; c++) {
      const t = (ty - ty0) * tilesW + tx;
      const at = (r: number, s: number) => {
        const iy = 2 * ty - d.padTop + r, ix = 2 * tx - d.padLeft + s;
        return iy >= 0 && iy < d.h && ix >= 0 && ix < d.w ? f[(x >>> 2) + (iy * d.w + ix) * d.cin + c] : 0;
      };
      for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) {
        let sum = 0;
        for (let r = 0; r < 4; r++) for (let s = 0; s < 4; s++) sum += BT[i][r] * at(r, s) * BT[j][s];
        f[(v >>> 2) + ((i * 4 + j) * T + t) * d.cin + c] = sum;
      }
    }
  },
  winograd_output_f32(desc: number, m: number, ty0: number, ty1: number, y: number, bias: number, res: number, relu: number): void {
    const d = readConvDesc(h, desc), f = h.f32, tilesW = Math.ceil(d.ow / 2), T = (ty1 - ty0) * tilesW;
    for (let ty = ty0; ty < ty1; ty++) for (let tx = 0; tx < tilesW; tx++) for (let o = 0; o < d.cout; o++) {
      const t = (ty - ty0) * tilesW + tx;
      for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) {
        const oy = 2 * ty + a, ox = 2 * tx + b;
        if (oy >= d.oh || ox >= d.ow) continue;
        let sum = 0;
        for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) sum += AT[a][i] * f[(m >>> 2) + ((i * 4 + j) * T + t) * d.cout + o] * AT[b][j];
        const at = (oy * d.ow + ox) * d.cout + o;
        sum = Math.fround(sum) + (bias ? f[(bias >>> 2) + o] : 0) + (res ? f[(res >>> 2) + at] : 0);
        f[(y >>> 2) + at] = relu ? Math.max(0, sum) : sum;
      }
    }
  },
});
