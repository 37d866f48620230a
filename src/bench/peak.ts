// The machine's measured f32 ceiling, in the same process as the thing compared with it: the register-only
// multiply-add loop of assembly/peak.ts (FMA in the relaxed-SIMD build, mul + add in plain SIMD), one core.
// Short timed calls (~2 ms) after a warm-up (V8 first runs a function in its baseline compiler, then tiers it
// up); the 90th percentile of their rates is the peak: a ceiling is what the core does when it runs, and on a
// shared machine a short call often runs undisturbed while the median would count other processes' time.
import type { Engine, EngineVariant } from '../engine/engine';

export interface Peak {
  variant: EngineVariant;
  /** 'fma' where the build fuses the multiply-add (relaxed SIMD), 'mul+add' otherwise. */
  kind: 'fma' | 'mul+add';
  gflops: number;
}

export interface PeakOptions {
  /** Roughly how long to measure, warm-up included (default 300 ms). */
  ms?: number;
}

/** The peak of engine e's build on this thread, in GFLOP/s. */
export function measurePeak(e: Engine, o: PeakOptions = {}): Peak {
  const k = e.k, chains = k.peak_chains(), budget = o.ms ?? 300;
  const flopsPerIter = chains * 4 * 2;
  const mark = e.mark();
  // Accumulators start at the fixed point b / (1 − a) = 1 of c ← c·a + b: finite and normal for any count.
  const acc = e.tensor([chains * 4], new Float32Array(chains * 4).fill(1)).ptr;
  const time = (iters: number) => { const t0 = performance.now(); k.peak_madd_f32(acc, iters, 0.5, 0.5); return (performance.now() - t0) / 1000; };
  // Warm up for a third of the budget, sizing calls to about 2 ms each.
  let iters = 1 << 14;
  const warmEnd = performance.now() + budget / 3;
  while (performance.now() < warmEnd) {
    const s = time(iters);
    if (s < 0.002) iters = Math.min(iters * 2, 1 << 28);
  }
  const rates: number[] = [];
  const end = performance.now() + (2 * budget) / 3;
  while (rates.length < 5 || (performance.now() < end && rates.length < 1001)) rates.push((iters * flopsPerIter) / time(iters) / 1e9);
  e.release(mark);
  rates.sort((a, b) => a - b);
  return { variant: e.variant, kind: e.variant.startsWith('relaxed') ? 'fma' : 'mul+add', gflops: rates[Math.floor(0.9 * (rates.length - 1))] };
}
