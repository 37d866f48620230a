// The fuzz loop: N inputs of one target, each timed; counts what the input did (accepted, refused with a
// RedeError, or anything else: a bug) and keeps the first few bugs and the slowest input for the report.
import { RedeError } from '../../src/engine/errors';
import { FuzzRng } from './mutate';
import { makeTarget, TARGETS, type TargetName } from './targets';

export interface FuzzOptions {
  target: TargetName;
  count: number;
  seed?: number;
  /** Run only input `only` (to reproduce one); its error is kept whatever it is. */
  only?: number;
  /** Inputs slower than this are violations. Default 1000 ms. */
  slowMs?: number;
  /** Called every `progressEvery` inputs. */
  progress?: (done: number, r: FuzzReport) => void;
  progressEvery?: number;
}

export interface FuzzFailure { index: number; error: string; input: string }

export interface FuzzReport {
  target: TargetName;
  seed: number;
  inputs: number;
  accepted: number;
  refused: number;
  /** Errors other than RedeError: each is a bug. */
  errors: number;
  failures: FuzzFailure[];
  /** Inputs that took longer than slowMs. */
  slow: number;
  slowest: { index: number; ms: number };
  /** process.resourceUsage().maxRSS at the end, bytes. */
  peakRss: number;
  wallMs: number;
}

/** Distinct failures kept for the report. */
const KEEP = 10;

export async function runFuzz(o: FuzzOptions): Promise<FuzzReport> {
  if (!TARGETS.includes(o.target)) throw new RedeError(`fuzz: --target must be one of ${TARGETS.join(', ')}, got '${o.target}'`);
  const seed = o.seed ?? 1, slowMs = o.slowMs ?? 1000;
  const stream = TARGETS.indexOf(o.target);
  const target = await makeTarget(o.target);
  const r: FuzzReport = { target: o.target, seed, inputs: 0, accepted: 0, refused: 0, errors: 0, failures: [], slow: 0,
    slowest: { index: -1, ms: 0 }, peakRss: 0, wallMs: 0 };
  const seen = new Set<string>();
  const t0 = performance.now();
  const [from, to] = o.only !== undefined ? [o.only, o.only + 1] : [0, o.count];
  for (let i = from; i < to; i++) {
    const input = target.make(new FuzzRng(seed, stream, i));
    const t = performance.now();
    try {
      await target.run(input);
      r.accepted++;
    } catch (e) {
      const bug = !(e instanceof RedeError);
      if (bug) r.errors++; else r.refused++;
      if (bug || o.only !== undefined) {
        // One example per distinct error (its message and the frame it came from).
        const lines = e instanceof Error ? (e.stack ?? String(e)).split('\n') : [String(e)];
        const kind = `${lines[0]} ${lines[1] ?? ''}`;
        if (!seen.has(kind) && r.failures.length < KEEP) {
          seen.add(kind);
          r.failures.push({ index: i, error: lines.slice(0, 6).join('\n'), input: target.show(input) });
        }
      }
    }
    const ms = performance.now() - t;
    if (ms > r.slowest.ms) r.slowest = { index: i, ms };
    if (ms > slowMs) r.slow++;
    r.inputs++;
    if (o.progress && o.progressEvery && r.inputs % o.progressEvery === 0) o.progress(r.inputs, r);
  }
  r.wallMs = performance.now() - t0;
  r.peakRss = process.resourceUsage().maxRSS * 1024;
  return r;
}

/** The limits a run must keep: no error other than RedeError, no input over slowMs, peak RSS under 512 MB. */
export const MAX_RSS = 512 * 1024 * 1024;

export function violations(r: FuzzReport): string[] {
  const out: string[] = [];
  if (r.errors) out.push(`${r.errors} error(s) other than RedeError`);
  if (r.slow) out.push(`${r.slow} input(s) over the time limit`);
  if (r.peakRss >= MAX_RSS) out.push(`peak RSS ${(r.peakRss / 2 ** 20).toFixed(0)} MB is over ${MAX_RSS / 2 ** 20} MB`);
  return out;
}

export function formatReport(r: FuzzReport): string {
  const n = (v: number) => v.toLocaleString('en-US');
  const lines = [
    `fuzz ${r.target} (seed ${r.seed}): ${n(r.inputs)} inputs — ${n(r.refused)} refused with a RedeError, ${n(r.accepted)} accepted, ` +
    `${n(r.errors)} other errors; slowest ${r.slowest.ms.toFixed(1)} ms (input ${r.slowest.index}), ${n(r.slow)} over the limit; ` +
    `peak RSS ${(r.peakRss / 2 ** 20).toFixed(0)} MB; ${(r.wallMs / 1000).toFixed(1)} s`,
  ];
  for (const f of r.failures) lines.push(`  input ${f.index}: ${f.error.replace(/\n/g, '\n    ')}\n    input: ${f.input}`);
  return lines.join('\n');
}
