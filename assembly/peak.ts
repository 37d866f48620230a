// The core's f32 SIMD ceiling in this build, for "% of peak" in rede bench and the bench headers.
// peak_chains() independent chains c ← c·a + b, each an f32x4 accumulator held in a register: no loads or stores
// inside the loop, so its speed is the multiply-add throughput of one core and nothing else. Relaxed-SIMD
// builds fuse the multiply-add (f32x4.relaxed_madd: one FMA instruction where the CPU has FMA); plain SIMD
// builds issue a mul and an add. Twelve chains hide the latency: an FMA takes ~4 cycles and two can start per
// cycle (8 in flight), a dependent mul then add ~6 (12 in flight), and 12 accumulators + a + b fit the 16
// registers V8 allocates on x86-64.
// FLOPs per call: iters · peak_chains() · 4 lanes · 2 (the multiply and the add count separately, also fused).

import { madd } from './simd';
/** How many f32x4 accumulators peak_madd_f32 carries (TypeScript asks the build rather than repeating the number). */
export function peak_chains(): i32 { return 12; }

/**
 * acc: 12 f32x4 accumulators (48 floats, 16-byte aligned), read, then `iters` times each c ← c·a + b, written
 * back. The result is checked against src/ref/peak.ts; storing it keeps the loop from being optimized away.
 */
export function peak_madd_f32(acc: usize, iters: i32, a: f32, b: f32): void {
  const va = f32x4.splat(a), vb = f32x4.splat(b);
  let c0 = v128.load(acc, 0);
  let c1 = v128.load(acc, 16);
  let c2 = v128.load(acc, 32);
  let c3 = v128.load(acc, 48);
  let c4 = v128.load(acc, 64);
  let c5 = v128.load(acc, 80);
  let c6 = v128.load(acc, 96);
  let c7 = v128.load(acc, 112);
  let c8 = v128.load(acc, 128);
  let c9 = v128.load(acc, 144);
  let c10 = v128.load(acc, 160);
  let c11 = v128.load(acc, 176);
  for (let i = 0; i < iters; i++) {
    c0 = madd(c0, va, vb);
    c1 = madd(c1, va, vb);
    c2 = madd(c2, va, vb);
    c3 = madd(c3, va, vb);
    c4 = madd(c4, va, vb);
    c5 = madd(c5, va, vb);
    c6 = madd(c6, va, vb);
    c7 = madd(c7, va, vb);
    c8 = madd(c8, va, vb);
    c9 = madd(c9, va, vb);
    c10 = madd(c10, va, vb);
    c11 = madd(c11, va, vb);
  }
  v128.store(acc, c0, 0);
  v128.store(acc, c1, 16);
  v128.store(acc, c2, 32);
  v128.store(acc, c3, 48);
  v128.store(acc, c4, 64);
  v128.store(acc, c5, 80);
  v128.store(acc, c6, 96);
  v128.store(acc, c7, 112);
  v128.store(acc, c8, 128);
  v128.store(acc, c9, 144);
  v128.store(acc, c10, 160);
  v128.store(acc, c11, 176);
}
