// A profile as benchmark rows — one JSON object per line, the schema every rede benchmark prints:
//   {"bench","case","peer","variant","threads","metric","value","unit"}
// — and as a text table of layers: time forward / backward, share of the step, GFLOP/s and % of peak.
import type { BenchHeader } from './header';
import { peakKind } from './peak';
import type { StepProfile } from './profile';

export interface BenchRow {
  bench: string;
  case: string;
  peer: string;
  variant: string;
  threads: number;
  metric: string;
  value: number | null;
  unit: string;
  note?: string;
}

/** GFLOP/s of `flops` in `ms`, or null where there is no work or no time to divide by. */
export const gflops = (flops: number, ms: number): number | null => (flops > 0 && ms > 0 ? flops / ms / 1e6 : null);

/** The header as rows: load average (with the commit) and each build's peak. */
export function headerRows(bench: string, h: BenchHeader): BenchRow[] {
  return [
    { bench, case: 'machine', peer: 'rede', variant: 'host', threads: 1, metric: 'load_average_1m', value: h.load[0], unit: 'load', note: `commit ${h.commit}; ${h.cores} cores; ${h.date}` },
    ...h.peaks.map((p) => ({ bench, case: 'machine', peer: 'rede', variant: p.variant, threads: 1, metric: 'peak_gflops', value: p.gflops, unit: 'GFLOP/s', note: `${p.kind} register-only loop, ${p.clock} clock` })),
  ];
}

/** Per layer and for the step; case names `${name}_${mode}_b${B}` (step) and `…/${layer}` (layers). */
export function profileRows(bench: string, name: string, p: StepProfile): BenchRow[] {
  const c = `${name}_${p.mode}_b${p.batchSize}`, peak = p.peakGflops > 0 ? p.peakGflops : null;
  const out: BenchRow[] = [];
  const add = (cs: string, metric: string, value: number | null, unit: string, note?: string) =>
    out.push({ bench, case: cs, peer: 'rede', variant: p.variant, threads: p.workers, metric, value, unit, ...(note ? { note } : {}) });
  const layerNote = p.profiledBatch !== p.batchSize ? `one worker's shard of ${p.profiledBatch} examples, profiled in this thread` : undefined;
  for (const l of p.layers) {
    const cs = `${c}/${l.name}`;
    add(cs, 'forward_ms', l.forwardMs, 'ms', layerNote);
    if (p.mode === 'train') add(cs, 'backward_ms', l.backwardMs, 'ms', layerNote);
    add(cs, 'share', (l.forwardMs + l.backwardMs) / p.stepMs, 'ratio');
    for (const [dir, f, ms] of [['forward', l.forwardFlops, l.forwardMs], ['backward', l.backwardFlops, l.backwardMs]] as const) {
      const g = gflops(f, ms);
      if (g === null) continue;
      add(cs, `${dir}_gflops`, g, 'GFLOP/s');
      if (peak) add(cs, `${dir}_peak_pct`, (100 * g) / peak, '%');
    }
  }
  if (p.mode === 'train') { add(`${c}/loss`, 'forward_ms', p.lossMs, 'ms'); add(`${c}/optimizer`, 'forward_ms', p.updateMs, 'ms'); }
  add(c, 'peak_gflops', p.peakGflops, 'GFLOP/s', `${peakKind(p.variant)} loop, a block in every round (${p.clock} clock): what % of peak divides by`);
  add(c, 'step_ms', p.stepMs, 'ms', `plain step of ${p.profiledBatch} examples in this thread (${p.clock} clock)`);
  add(c, 'accounted_ratio', p.accountedRatio, 'ratio', 'Σ per-layer times ÷ plain step, median over rounds');
  const flops = p.layers.reduce((s, l) => s + l.forwardFlops + l.backwardFlops, 0);
  add(c, 'step_gflops', gflops(flops, p.stepMs), 'GFLOP/s');
  if (p.group) add(c, 'group_step_ms', p.group.stepMs, 'ms', `${p.workers} workers (${p.group.variant}), batch ${p.batchSize} (wall clock)`);
  if (p.compiled) add(c, 'compiled_ms', p.compiled.stepMs, 'ms', `InferenceModel, ${p.compiled.threads} thread(s), batch ${p.batchSize} (${p.compiled.clock} clock)`);
  add(c, 'examples_per_s', p.examplesPerS, 'examples/s');
  add(c, 'ms_per_example', 1000 / p.examplesPerS, 'ms');
  return out;
}

const f = (v: number | null, d = 1): string => (v === null || !Number.isFinite(v) ? '' : v.toFixed(d));

/** Columns padded to their widest cell; the first left-aligned. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const width = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(width[i]) : c.padStart(width[i]))).join('  ');
  return [line(header), width.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The layer table and the step's totals, for a terminal. */
export function profileText(name: string, p: StepProfile): string {
  const peak = p.peakGflops > 0 ? p.peakGflops : null;
  const pct = (g: number | null) => (g === null || !peak ? '' : f((100 * g) / peak, 0));
  const train = p.mode === 'train';
  const rows = p.layers.map((l) => {
    const gf = gflops(l.forwardFlops, l.forwardMs), gb = gflops(l.backwardFlops, l.backwardMs);
    return [`${l.name} (${l.type})`, f(l.forwardMs, 3), ...(train ? [f(l.backwardMs, 3)] : []), f((100 * (l.forwardMs + l.backwardMs)) / p.stepMs, 1),
      f(gf), pct(gf), ...(train ? [f(gb), pct(gb)] : [])];
  });
  if (train) {
    rows.push(['loss', f(p.lossMs, 3), '', f((100 * p.lossMs) / p.stepMs, 1), '', '', '', '']);
    rows.push(['optimizer update', f(p.updateMs, 3), '', f((100 * p.updateMs) / p.stepMs, 1), '', '', '', '']);
  }
  const head = train ? ['layer', 'fwd ms', 'bwd ms', '% step', 'fwd GF/s', 'fwd %pk', 'bwd GF/s', 'bwd %pk'] : ['layer', 'ms', '% step', 'GF/s', '% peak'];
  const flops = p.layers.reduce((s, l) => s + l.forwardFlops + l.backwardFlops, 0);
  const lines = [
    `${name}: ${train ? 'training step' : 'inference forward'}, batch ${p.batchSize}, ${p.workers} worker${p.workers > 1 ? 's' : ''}, ${p.variant}; medians of ${p.rounds} interleaved rounds${p.clock === 'cpu' ? ', CPU time' : ''}` +
      (p.profiledBatch !== p.batchSize ? `\nlayers: one worker's shard of ${p.profiledBatch} examples, profiled in this thread` : ''),
    table(head, rows),
    `step in this thread (no probe): ${f(p.stepMs, 2)} ms for ${p.profiledBatch} examples, ${f(gflops(flops, p.stepMs))} GFLOP/s` +
      `${peak ? ` (${pct(gflops(flops, p.stepMs))} % of peak)` : ''}; the rows account for ${f(100 * p.accountedRatio, 0)} % of it`,
    `peak: ${peakKind(p.variant)} loop ${f(peak)} GFLOP/s, timed in every round beside the layers (the header's was measured before)`,
  ];
  if (p.group) {
    lines.push(`step on ${p.workers} workers (wall clock): ${f(p.group.stepMs, 2)} ms for ${p.batchSize} examples; per worker compute / barrier wait / reduce + update, ms: ` +
      p.group.perWorker.map((w) => `${f(w.compute, 2)} / ${f(w.wait, 2)} / ${f(w.reduce, 2)}`).join(', '));
  }
  if (p.compiled) lines.push(`compiled InferenceModel (folded BN, fused epilogues), ${p.compiled.threads} thread(s), ${p.compiled.clock} clock: ${f(p.compiled.stepMs, 2)} ms for ${p.batchSize} examples, ${f(1000 / p.compiled.examplesPerS, 3)} ms/example`);
  lines.push(`${f(p.examplesPerS, 0)} examples/s, ${f(1000 / p.examplesPerS, 3)} ms per example`);
  return lines.join('\n');
}
