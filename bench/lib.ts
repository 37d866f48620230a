// Shared benchmark helpers: timing (median of samples after warm-up), the JSON-lines convention every
// rede benchmark prints with --json, and a plain text table otherwise.
//   {"bench":"kernels","case":"gemm_512","peer":"rede","variant":"simd","threads":1,"metric":"gflops","value":41.2,"unit":"GFLOP/s"}
// A row a peer cannot run has value null and a note saying why; no number is ever made up.

// The row type is the package's own (src/bench/rows.ts: `rede bench` prints the same rows).
import type { BenchRow } from '../src/bench/rows';
import type { WeightSource } from '../src/infer/lower';
import { CLOCKS, hasCpuClock, type ClockName } from '../src/bench/clock';
import { Rng } from '../test/helpers/rand';
export type { BenchRow };

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

/**
 * --clock=cpu|wall: what one-thread samples are timed by. Default: this process's CPU time where Node has it,
 * which leaves out the time other processes hold the core (src/bench/clock.ts).
 */
export function parseClock(where: string, argv: readonly string[] = process.argv.slice(2)): { clock: ClockName; now: () => number } {
  const arg = argv.find((a) => a.startsWith('--clock='))?.slice('--clock='.length);
  if (arg !== undefined && arg !== 'cpu' && arg !== 'wall') throw new Error(`${where}: --clock is cpu or wall, got '${arg}'`);
  if (arg === 'cpu' && !hasCpuClock()) throw new Error(`${where}: --clock=cpu needs Node's process.cpuUsage`);
  const clock: ClockName = (arg as ClockName | undefined) ?? (hasCpuClock() ? 'cpu' : 'wall');
  return { clock, now: CLOCKS[clock] };
}

export interface TimeOptions {
  /** Keep calling for this long before measuring (lets V8 tier the wasm up to optimized code). */
  warmupMs?: number;
  /** Samples taken after warm-up; the median is reported. */
  samples?: number;
  /** Each sample repeats the call until it spans at least this long. */
  minSampleMs?: number;
  /** The clock samples are timed with, in milliseconds (default performance.now; src/bench/clock.ts has CPU time). */
  now?: () => number;
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
  const now = o.now ?? (() => performance.now());
  const reps = fns.map((fn) => {
    let calls = 0;
    const w0 = performance.now();
    while (calls < 2 || performance.now() - w0 < warmupMs) { fn(); calls++; }
    return Math.max(1, Math.ceil(minSampleMs / ((performance.now() - w0) / calls)));
  });
  const times: number[][] = fns.map(() => []);
  for (let s = 0; s < samples; s++) {
    fns.forEach((fn, i) => {
      const t0 = now();
      for (let r = 0; r < reps[i]; r++) fn();
      times[i].push((now() - t0) / reps[i] / 1000);
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

/**
 * @tensorflow/tfjs on its wasm backend (XNNPACK, SIMD), quietly: the peer of every bench. threads = 1 (the
 * default; what the kernel bench uses) is the plain SIMD build; threads > 1 is the threaded-SIMD build with
 * an XNNPACK pool of that many threads, which tfjs 4.22 does not offer in Node without the workarounds below.
 */
export async function loadTfjsWasm(threads = 1): Promise<typeof import('@tensorflow/tfjs')> {
  return quietly(async () => {
    const tf = await import('@tensorflow/tfjs');
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const { createRequire } = await import('node:module');
    const { dirname } = await import('node:path');
    // In Node the backend reads its .wasm files from disk: give it the package's dist folder.
    const require = createRequire(import.meta.url);
    wasm.setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.node.js'))}/`);
    if (threads === 1) {
      if (!(await tf.setBackend('wasm'))) throw new Error('bench: tfjs wasm backend failed to initialise');
      await tf.ready();
      return tf;
    }
    const os = (await import('node:os')).default;
    // 1. tfjs's WASM_HAS_MULTITHREAD_SUPPORT flag answers false whenever IS_NODE (tfjs issue #3830), so the
    //    backend would load the single-threaded build and ignore setThreadsCount. Node has SharedArrayBuffer,
    //    wasm threads and worker_threads: set the flag before the backend initialises.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
    wasm.setThreadsCount(threads);
    // 2. Emscripten starts its pthread workers from the script that locateFile gives it, which tfjs makes a
    //    blob: URL; Node's worker_threads only start files (or file:/data: URLs). For the same reason the
    //    worker cannot importScripts the glue code tfjs posts it as a Blob. So write the package's own worker
    //    script to a .cjs file under os.tmpdir() (named by its content: rewritten atomically, never piles up),
    //    with the worker's createObjectURL pointed at the package's copy of that glue on disk, and have the
    //    main thread's createObjectURL hand out that file for the worker script while the backend starts.
    //    (The script's string literals hold raw newlines: escape them, as tfjs does for its blob.)
    const { wasmWorkerContents } = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js') as { wasmWorkerContents: string };
    const glue = require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js');
    const source = `${wasmWorkerContents.replace(/\n/g, '\\n')}\n// rede bench: the glue arrives as a Blob, which importScripts (a file read in Node) cannot load.\n` +
      `URL.createObjectURL = () => ${JSON.stringify(glue)};\nURL.revokeObjectURL = () => {};\n`;
    const { createHash } = await import('node:crypto');
    const { writeFileSync, renameSync } = await import('node:fs');
    const { join } = await import('node:path');
    const workerFile = join(os.tmpdir(), `rede-tfjs-wasm-pthread-${createHash('sha256').update(source).digest('hex').slice(0, 16)}.cjs`);
    writeFileSync(`${workerFile}.${process.pid}`, source);
    renameSync(`${workerFile}.${process.pid}`, workerFile);
    // 3. The backend caps its pool at (logical cores) / 2, from os.cpus() in Node: on a 2-core machine that is
    //    1 whatever setThreadsCount asked. Report twice the cores while the backend starts so the cap is the
    //    core count (the pool never gets more threads than asked for).
    const { createObjectURL } = URL, { cpus } = os;
    URL.createObjectURL = (obj) => (obj instanceof Blob && obj.type === 'application/javascript' ? workerFile : createObjectURL.call(URL, obj));
    os.cpus = () => { const c = cpus(); return [...c, ...c]; };
    try {
      if (!(await tf.setBackend('wasm'))) throw new Error('bench: tfjs wasm backend failed to initialise');
      await tf.ready();
    } finally {
      URL.createObjectURL = createObjectURL;
      os.cpus = cpus;
    }
    if (wasm.getThreadsCount() !== threads) throw new Error(`bench: tfjs wasm runs ${wasm.getThreadsCount()} threads, not ${threads}`);
    return tf;
  });
}

/** He-uniform weights, identity batch norms: activations keep their scale through 16 layers (no denormals). */
export function randomWeights(seed: number): WeightSource {
  const rng = new Rng(seed);
  return {
    param: (L, name, n) => {
      const decl = L.params.find((p) => p.name === name)!;
      if (decl.init === 'ones') return new Float32Array(n).fill(1);
      if (decl.init === 'zeros') return new Float32Array(n);
      const lim = Math.sqrt(6 / decl.fanIn), a = new Float32Array(n);
      for (let i = 0; i < n; i++) a[i] = (2 * rng.next() - 1) * lim;
      return a;
    },
    state: (_L, name, n) => new Float32Array(n).fill(name === 'running_var' ? 1 : 0),
  };
}
