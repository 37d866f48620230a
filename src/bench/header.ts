// What every benchmark states before its figures, measured in the same process: the commit, the load average
// (the machines are shared: figures from one run are compared as ratios), the cores, and the measured peak of
// each kernel build on one core (src/bench/peak.ts) — what "% of peak" divides by.
import { execFileSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { Engine } from '../engine/engine';
import { hasRelaxedSimd } from '../engine/wasm';
import { measurePeak, type Peak } from './peak';

export interface BenchHeader {
  /** Short commit of the checkout (with '+dirty' when files differ from it), or 'unknown' outside git. */
  commit: string;
  /** 1, 5 and 15-minute load averages when the header was taken. */
  load: [number, number, number];
  cores: number;
  /** One per build this runtime runs: plain SIMD (mul + add) and, where validated, relaxed SIMD (FMA). */
  peaks: Peak[];
  date: string;
}

function commitOf(cwd: string): string {
  try {
    const git = (...a: string[]) => execFileSync('git', a, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
    return `${git('rev-parse', '--short', 'HEAD')}${dirty ? '+dirty' : ''}`;
  } catch {
    return 'unknown';
  }
}

/** Measures the header (about 0.3 s per build for the peaks). */
export async function benchHeader(o: { cwd?: string; peakMs?: number } = {}): Promise<BenchHeader> {
  const load = loadavg() as [number, number, number];
  const variants = ['simd', ...((await hasRelaxedSimd()) ? ['relaxed-simd'] as const : [])] as const;
  const peaks: Peak[] = [];
  for (const variant of variants) peaks.push(measurePeak(await Engine.create({ variant }), { ms: o.peakMs }));
  return { commit: commitOf(o.cwd ?? process.cwd()), load, cores: availableParallelism(), peaks, date: new Date().toISOString() };
}

/** The peak that a build's figures compare with: its own (FMA for relaxed SIMD, mul + add for plain). */
export function peakFor(h: BenchHeader, variant: string): Peak | undefined {
  return h.peaks.find((p) => p.variant === variant);
}

/** Two lines for a text report. */
export function headerText(h: BenchHeader): string {
  const peaks = h.peaks.map((p) => `${p.variant} ${p.kind} ${p.gflops.toFixed(1)} GFLOP/s`).join(', ') + ` (${h.peaks[0]?.clock ?? 'wall'} clock)`;
  return `commit ${h.commit}   ${h.date}   load average ${h.load.map((l) => l.toFixed(2)).join(' ')} on ${h.cores} cores\n` +
    `peak (register-only multiply-add loop, one core, this process): ${peaks}`;
}
