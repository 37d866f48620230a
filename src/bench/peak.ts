// The machine's measured f32 ceiling, in the same process as the thing compared with it: the register-only
// multiply-add loop of assembly/peak.ts (FMA in the relaxed-SIMD build, mul + add in plain SIMD), one core.
// Short timed calls (~2 ms) after a warm-up (V8 first runs a function in its baseline compiler, then tiers it
// up), by this process's CPU time where there is one: a ceiling is what the core does while the loop runs, and
// on a shared machine the wall clock would count other processes' time. The 90th percentile of the rates.
import type { Engine, EngineVariant } from '../engine/engine';
import { CLOCKS, hasCpuClock, type ClockName } from './clock';

export interface Peak {
  variant: EngineVariant;
  /** 'fma' where the build fuses the multiply-add (relaxed SIMD), 'mul+add' otherwise. */
  kind: 'fma' | 'mul+add';
  gflops: number;
  /** What the calls were timed with. */
  clock: ClockName;
}

export interface PeakOptions {
  /** Roughly how long to measure, warm-up included (default 300 ms). */
  ms?: number;
  /** Default 'cpu' where the runtime has it (the rate while the loop runs, whatever else the machine does), else 'wall'. */
  clock?: ClockName;
}

/**
 * A reusable peak sampler on engine e: sample(iters) runs the loop once and returns its rate in GFLOP/s by
 * `now` (milliseconds; default performance.now); run(iters) runs it untimed, for callers that time it among
 * other calls (bench/kernels.ts), and flops(iters) says how much it does. Holds 192 bytes at the arena top until
 * release().
 */
export function peakSampler(e: Engine, now: () => number = () => performance.now()): {
  sample(iters: number): number; run(iters: number): void; flops(iters: number): number; release(): void;
} {
  const k = e.k, chains = k.peak_chains(), flopsPerIter = chains * 4 * 2;
  const mark = e.mark();
  // Accumulators start at the fixed point b / (1 − a) = 1 of c ← c·a + b: finite and normal for any count.
  const acc = e.tensor([chains * 4], new Float32Array(chains * 4).fill(1)).ptr;
  const run = (iters: number): void => k.peak_madd_f32(acc, iters, 0.5, 0.5);
  return {
    sample(iters: number): number {
      const t0 = now();
      run(iters);
      const ms = now() - t0;
      return ms > 0 ? (iters * flopsPerIter) / ms / 1e6 : 0;
    },
    run,
    flops: (iters: number): number => iters * flopsPerIter,
    release(): void { e.release(mark); },
  };
}

/** Iterations of the loop that take about `ms` on engine e's build (after warming it up for about `warmMs`). */
export function peakIters(e: Engine, ms: number, warmMs = 0): number {
  const s = peakSampler(e);
  let iters = 1 << 12;
  const end = performance.now() + warmMs;
  do {
    const t0 = performance.now();
    s.sample(iters);
    if (performance.now() - t0 < ms && iters < 1 << 28) iters *= 2;
  } while (performance.now() < end);
  s.release();
  return iters;
}

/** The kind of multiply-add a build's peak loop runs. */
export const peakKind = (variant: string): Peak['kind'] => (variant.startsWith('relaxed') ? 'fma' : 'mul+add');

/** The peak of engine e's build on this thread, in GFLOP/s. */
export function measurePeak(e: Engine, o: PeakOptions = {}): Peak {
  const budget = o.ms ?? 300, clock = o.clock ?? (hasCpuClock() ? 'cpu' : 'wall');
  const iters = peakIters(e, 2, budget / 3); // calls of about 2 ms
  const s = peakSampler(e, CLOCKS[clock]), rates: number[] = [];
  const end = performance.now() + (2 * budget) / 3;
  while (rates.length < 5 || (performance.now() < end && rates.length < 1001)) rates.push(s.sample(iters));
  s.release();
  rates.sort((a, b) => a - b);
  return { variant: e.variant, kind: peakKind(e.variant), gflops: rates[Math.floor(0.9 * (rates.length - 1))], clock };
}
