// Reference dropout kernels, same signatures as assembly/dropout.ts: the same counter-based hash, so the
// reference mask equals the wasm mask bit for bit.
import type { Heap } from './heap';

/** Chris Wellons' lowbias32 integer finalizer, as in assembly/dropout.ts. */
export function lowbias32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0; x = Math.imul(x, 0x7feb352d);
  x = (x ^ (x >>> 15)) >>> 0; x = Math.imul(x, 0x846ca68b | 0);
  return (x ^ (x >>> 16)) >>> 0;
}

/** The 32-bit hash deciding element `index` (global) for (seed, step): kept iff ≥ floor(p·2³²). */
export function dropoutHash(seed: number, step: number, index: number): number {
  const k0 = lowbias32((seed ^ lowbias32((step + 0x9e3779b9) >>> 0)) >>> 0);
  const k1 = lowbias32((step ^ lowbias32((seed + 0x632be5ab) >>> 0)) >>> 0);
  return lowbias32((lowbias32((index + k0) >>> 0) ^ k1) >>> 0);
}

export const dropoutRef = (h: Heap) => {
  const apply = (src: number, dst: number, n: number, p: number, seed: number, step: number, firstIndex: number): void => {
    const f = h.f32, S = src >>> 2, D = dst >>> 2;
    const pf = Math.fround(p); // the wasm export receives p as f32
    const t = Math.min(Math.floor(pf * 4294967296), 4294967295);
    const scale = Math.fround(1 / Math.fround(1 - pf));
    for (let i = 0; i < n; i++) {
      f[D + i] = dropoutHash(seed | 0, step | 0, (firstIndex + i) >>> 0) >= t ? f[S + i] * scale : 0;
    }
  };
  return {
    dropout_forward_f32(x: number, y: number, n: number, p: number, seed: number, step: number, firstIndex: number): void {
      apply(x, y, n, p, seed, step, firstIndex);
    },
    dropout_backward_f32(dy: number, dx: number, n: number, p: number, seed: number, step: number, firstIndex: number): void {
      apply(dy, dx, n, p, seed, step, firstIndex);
    },
  };
};
