// Shared benchmark helpers: timing (median of samples after warm-up), the JSON-lines convention every
// rede benchmark prints with --json, and a plain text table otherwise.
//   {"bench":"kernels","case":"gemm_512","peer":"rede","variant":"simd","threads":1,"metric":"gflops","value":41.2,"unit":"GFLOP/s"}
// A row a peer cannot run has value null and a note saying why; no number is ever made up.

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

export interface BenchArgs {
  /** --json: one JSON object per line instead of the table. */
  json: boolean;
  /** --filter=text: only cases whose name contains text. */
  filter: string;
  /** --quick: shorter warm-up and fewer samples (smoke runs; numbers are noisier). */
  quick: boolean;
}

export function parseBenchArgs(argv: readonly string[] = process.argv.slice(2)): BenchArgs {
  const filter = argv.find((a) => a.startsWith('--filter='))?.slice('--filter='.length) ?? '';
  return { json: argv.includes('--json'), filter, quick: argv.includes('--quick') };
}

export interface TimeOptions {
  /** Keep calling for this long before measuring (lets V8 tier the wasm up to optimized code). */
  warmupMs?: number;
  /** Samples taken after warm-up; the median is reported. */
  samples?: number;
  /** Each sample repeats the call until it spans at least this long. */
  minSampleMs?: number;
}

/** Median seconds per call of fn, over `samples` samples taken after a warm-up. */
export function timeCall(fn: () => void, o: TimeOptions = {}): number {
  const warmupMs = o.warmupMs ?? 400, samples = o.samples ?? 7, minSampleMs = o.minSampleMs ?? 150;
  let calls = 0;
  const w0 = performance.now();
  while (calls < 2 || performance.now() - w0 < warmupMs) { fn(); calls++; }
  const perCall = (performance.now() - w0) / calls;
  const reps = Math.max(1, Math.ceil(minSampleMs / perCall));
  const times: number[] = [];
  for (let s = 0; s < samples; s++) {
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) fn();
    times.push((performance.now() - t0) / reps / 1000);
  }
  return median(times);
}

/**
 * Median seconds per call of each fn, with their samples taken round-robin (after each has warmed up), so
 * that load from other processes on a shared machine falls on all of them alike and their ratios hold.
 */
export function timeCallsInterleaved(fns: readonly (() => void)[], o: TimeOptions = {}): number[] {
  const warmupMs = o.warmupMs ?? 400, samples = o.samples ?? 7, minSampleMs = o.minSampleMs ?? 150;
  const reps = fns.map((fn) => {
    let calls = 0;
    const w0 = performance.now();
    while (calls < 2 || performance.now() - w0 < warmupMs) { fn(); calls++; }
    return Math.max(1, Math.ceil(minSampleMs / ((performance.now() - w0) / calls)));
  });
  const times: number[][] = fns.map(() => []);
  for (let s = 0; s < samples; s++) {
    fns.forEach((fn, i) => {
      const t0 = performance.now();
      for (let r = 0; r < reps[i]; r++) fn();
      times[i].push((performance.now() - t0) / reps[i] / 1000);
    });
  }
  return times.map(median);
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** Runs fn with console.log / console.warn / console.info silenced (peers greet on load). */
export async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const { log, warn, info } = console;
  console.log = console.warn = console.info = () => {};
  try {
    return await fn();
  } finally {
    Object.assign(console, { log, warn, info });
  }
}

export function printJsonRow(r: BenchRow): void {
  process.stdout.write(`${JSON.stringify(r)}\n`);
}

/** A plain text table: header row, then rows; columns padded to their widest cell. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const width = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(width[i]) : c.padStart(width[i]))).join('  ');
  return [line(header), width.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export const fmt = (v: number | null, digits = 1): string => (v === null ? 'n/a' : v.toFixed(digits));

/** @tensorflow/tfjs on its wasm backend (XNNPACK, SIMD; one thread in Node), quietly: the peer of every bench. */
export async function loadTfjsWasm(): Promise<typeof import('@tensorflow/tfjs')> {
  return quietly(async () => {
    const tf = await import('@tensorflow/tfjs');
    const { setWasmPaths } = await import('@tensorflow/tfjs-backend-wasm');
    const { createRequire } = await import('node:module');
    const { dirname } = await import('node:path');
    // In Node the backend reads its .wasm files from disk: give it the package's dist folder.
    const require = createRequire(import.meta.url);
    setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.node.js'))}/`);
    if (!(await tf.setBackend('wasm'))) throw new Error('bench: tfjs wasm backend failed to initialise');
    await tf.ready();
    return tf;
  });
}
