// Training throughput by compute backend: LeNet-5 (28×28×1) and ResNet-20 (32×32×3), the same config, seed and
// data, trained through Model.fit (the one loop: the source fills each batch, the schedule, callbacks) with
// { backend: 'wasm' } (rede's engine, one thread) and { backend: 'tfjs' } (TensorFlow.js; here @tensorflow/tfjs
// on its cpu backend, and optionally its wasm backend), samples interleaved so that load from other processes
// falls on every peer alike. Not a test: no assertion on speed.
//   node --import tsx bench/backends.ts [--json] [--quick] [--samples=N] [--tfjs=cpu,tensorflow] [--filter=lenet5]
// tfjs-cpu's convolution gradients run at a few MFLOP/s (generic buffer accessors in plain loops): ResNet-20
// takes tens of seconds per example there, so its case is a batch of 4, one step per sample.
// Prints a header line first (commit, load average, the machine's measured single-thread GEMM peak), a footer
// line last (the load average at the end), and between them
//   {"bench":"backends","case":"lenet5_b32","peer":"rede","variant":"wasm","threads":1,"metric":"examples_per_s",...}
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { Engine } from '../src/engine/engine';
import { Model } from '../src/api/model';
import type { ModelConfig } from '../src/model/config';
import type { Dataset } from '../src/data/dataset';
import { lenet5 } from '../src/zoo/lenet5';
import { resnet20 } from '../src/zoo/small';
import { Rng } from '../test/helpers/rand';
import { fmt, formatTable, median, parseBenchArgs, printJsonRow, quietly, type BenchRow } from './lib';

const args = parseBenchArgs();
const tfjsBackends = (process.argv.find((a) => a.startsWith('--tfjs='))?.slice(7) ?? 'cpu').split(',').filter(Boolean);
const samplesArg = Number(process.argv.find((a) => a.startsWith('--samples='))?.slice(10));

interface Case { name: string; config: ModelConfig; shape: [number, number, number]; batch: number; steps: number }
const CASES = ([
  { name: 'lenet5_b32', config: lenet5(), shape: [28, 28, 1], batch: 32, steps: args.quick ? 2 : 4 },
  { name: 'resnet20_b4', config: resnet20([32, 32, 3]), shape: [32, 32, 3], batch: 4, steps: 1 },
] satisfies Case[]).filter((c) => c.name.includes(args.filter));

function commit(): string {
  try { return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim(); } catch { return 'unknown'; }
}

/** Single-thread f32 GEMM GFLOP/s of rede's kernel at 256³: the machine's measured peak for this bench's header. */
async function gemmPeak(): Promise<number> {
  const e = await Engine.create(), n = 256, k = e.k, mark = e.mark();
  const a = e.reserve(4 * n * n, 'a'), b = e.reserve(4 * n * n, 'b'), c = e.reserve(4 * n * n, 'c'), s = e.reserve(k.gemm_scratch_bytes(n, n, n), 'scratch');
  e.f32.fill(0.5, a >>> 2, (a >>> 2) + 2 * n * n);
  const times: number[] = [];
  for (let i = 0; i < 12; i++) {
    const t0 = performance.now();
    k.gemm_f32(0, 0, n, n, n, a, n, b, n, c, n, 0, s);
    times.push((performance.now() - t0) / 1000);
  }
  e.release(mark);
  return (2 * n ** 3) / median(times.slice(2)) / 1e9;
}

function dataset(c: Case): Dataset {
  const rng = new Rng(3), n = c.batch * c.steps;
  return { x: rng.array(n * c.shape[0] * c.shape[1] * c.shape[2], 0, 1), y: Int32Array.from({ length: n }, () => rng.int(0, 10)), shape: c.shape, classes: 10, name: c.name };
}

interface Peer { peer: string; variant: string; model: Model }

async function peers(c: Case): Promise<Peer[]> {
  const make = async (backend: 'wasm' | 'tfjs', tfjsBackend?: string) => {
    const m = await quietly(() => Model.create(c.config, { seed: 1, backend, ...(tfjsBackend ? { tfjsBackend } : {}) }));
    m.compile({ optimizer: { type: 'sgd', lr: 0.01, momentum: 0.9 }, loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    return m;
  };
  const out: Peer[] = [{ peer: 'rede', variant: 'wasm', model: await make('wasm') }];
  for (const tb of tfjsBackends) out.push({ peer: 'rede', variant: `tfjs-${tb}`, model: await make('tfjs', tb) });
  return out;
}

/** Examples per second of one fit over the case's data (its steps batches), as fit's own clock reports it. */
async function sample(p: Peer, ds: Dataset, batchSize: number): Promise<number> {
  const h = await p.model.fit(ds, { epochs: 1, batchSize, shuffle: true, seed: 2, verbose: 0 });
  return h.history.examples_per_s[0];
}

const rows: BenchRow[] = [];
const samples = Number.isInteger(samplesArg) && samplesArg > 0 ? samplesArg : args.quick ? 2 : 3;
const header = {
  bench: 'backends', header: true, commit: commit(), date: new Date().toISOString(), load: os.loadavg().map((l) => +l.toFixed(2)),
  cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', node: process.versions.node, gemm_peak_gflops: +(await gemmPeak()).toFixed(1),
  samples,
};
if (args.json) process.stdout.write(`${JSON.stringify(header)}\n`);
for (const c of CASES) {
  const ps = await peers(c), ds = dataset(c);
  for (const p of ps) await sample(p, ds, c.batch); // warm-up: tfjs compiles its kernels, V8 tiers the wasm up
  const rates = ps.map(() => [] as number[]);
  for (let s = 0; s < samples; s++) for (const [i, p] of ps.entries()) rates[i].push(await sample(p, ds, c.batch));
  ps.forEach((p, i) => {
    const r: BenchRow = { bench: 'backends', case: c.name, peer: p.peer, variant: p.variant, threads: 1, metric: 'examples_per_s', value: median(rates[i]), unit: 'examples/s', note: p.model.backendInfo.device };
    rows.push(r);
    if (args.json) printJsonRow(r); // as each case ends: a long run's early cases are not lost
  });
}

if (args.json) {
  process.stdout.write(`${JSON.stringify({ bench: 'backends', footer: true, load: os.loadavg().map((l) => +l.toFixed(2)) })}\n`); // the load it ran under
} else {
  console.log(`training examples/s by backend, medians of ${samples} interleaved samples; commit ${header.commit}, ${header.cpus} × ${header.cpu}, ` +
    `Node ${header.node}, load ${header.load.join(' ')}, GEMM peak ${header.gemm_peak_gflops} GFLOP/s (one thread)`);
  console.log(formatTable(['case', 'backend', 'examples/s', '÷ wasm', 'device'], rows.map((r) => {
    const wasm = rows.find((w) => w.case === r.case && w.variant === 'wasm')!.value!;
    return [r.case, r.variant, fmt(r.value, 1), fmt(r.value! / wasm, 3), r.note ?? ''];
  })));
}
