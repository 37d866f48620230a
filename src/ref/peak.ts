// Reference for assembly/peak.ts: the same chains, one float at a time. The multiply and the add are rounded
// separately, as the plain SIMD build does; the relaxed build's fused madd rounds once (tests allow for it).
import type { Heap } from './heap';

const CHAINS = 12;

export const peakRef = (h: Heap) => ({
  peak_chains(): number { return CHAINS; },
  peak_madd_f32(acc: number, iters: number, a: number, b: number): void {
    const f = h.f32, A = acc >>> 2, fa = Math.fround(a), fb = Math.fround(b);
    for (let j = 0; j < CHAINS * 4; j++) {
      let c = f[A + j];
      for (let i = 0; i < iters; i++) c = Math.fround(Math.fround(c * fa) + fb);
      f[A + j] = c;
    }
  },
});
