// Recurrent layer throughput: one LSTM layer (batch 32, 50 steps, 256 input features, 256 units, last state)
// forward + backward (every weight's gradient and dL/dx, for L = Σ y·r), in examples/s: rede (each wasm
// variant, one thread) against @tensorflow/tfjs's tf.layers.lstm with the same weights, on its cpu backend
// and on its wasm backend (XNNPACK), in this run. Samples are interleaved round-robin with rede's
// (bench/lib.ts timeCallsInterleaved), so load from other processes falls on both and their ratio holds.
// The header line (stderr with --json) gives the commit, the load average and the machine's measured peak
// (rede's 512³ GEMM, GFLOP/s).
//   npm run bench:rnn -- [--json] [--quick]
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import type * as TF from '@tensorflow/tfjs';
import { Engine } from '../src/engine/engine';
import { Model } from '../src/api/model';
import { Rng } from '../test/helpers/rand';
import { fmt, formatTable, loadTfjsWasm, median, parseBenchArgs, printJsonRow, quietly, timeCall, timeCallsInterleaved, type BenchRow } from './lib';

const args = parseBenchArgs();
// --quick is a smoke run (the test command runs it) on a small layer: batch 8, 10 steps, 32 → 64 units.
const [B, T, F, U] = args.quick ? [8, 10, 32, 64] : [32, 50, 256, 256], GU = 4 * U;
const CASE = `lstm_b${B}_t${T}_u${U}`;
const rows: BenchRow[] = [];
const row = (r: Omit<BenchRow, 'bench' | 'threads' | 'case' | 'metric' | 'unit'>) => rows.push({ bench: 'rnn', case: CASE, threads: 1, metric: 'examples_per_s', unit: 'examples/s', ...r });
const timing = args.quick ? { warmupMs: 200, samples: 3, minSampleMs: 50 } : { warmupMs: 1000, samples: 5, minSampleMs: 300 };

const rng = new Rng(5);
const kernel = rng.array(F * GU, -0.06, 0.06), rec = rng.array(U * GU, -0.06, 0.06), bias = rng.array(GU, -0.1, 0.1);
const x = rng.array(B * T * F), r = rng.array(B * U);

/** rede: forward (training) + backward through the public model API, one call per step. */
async function redeStep(variant: 'simd' | 'relaxed-simd'): Promise<() => void> {
  const e = await Engine.create({ variant });
  const m = await Model.create({ input: [T, F], layers: [{ type: 'lstm', name: 'lstm', units: U }] }, { engine: e, seed: 1 });
  m.setWeights({ 'lstm/kernel': { shape: [F, GU], data: kernel }, 'lstm/recurrent_kernel': { shape: [U, GU], data: rec }, 'lstm/bias': { shape: [GU], data: bias } });
  return () => { m.forward(x, { training: true }); m.backward(r); };
}

/** tfjs: the same layer and loss; gradients of the three weights and of x. */
function tfjsStep(tf: typeof TF): { step: () => void; dispose: () => void } {
  const layer = tf.layers.lstm({ units: U, recurrentActivation: 'sigmoid', inputShape: [T, F] });
  const xv = tf.variable(tf.tensor3d(x, [B, T, F])), rt = tf.tensor2d(r, [B, U]);
  layer.apply(xv);
  layer.setWeights([tf.tensor2d(kernel, [F, GU]), tf.tensor2d(rec, [U, GU]), tf.tensor1d(bias)]);
  const vars = [...layer.trainableWeights.map((w) => w.read() as TF.Variable), xv];
  return {
    step: () => {
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(xv) as TF.Tensor, rt)) as TF.Scalar, vars);
      const g = Object.values(grads);
      for (const t of g) t.dataSync(); // wait for the backend
      tf.dispose([value, ...g]);
    },
    dispose: () => { tf.dispose([xv, rt]); layer.dispose(); },
  };
}

/**
 * Medians of seconds per call: `fast` sampled as timeCallsInterleaved does, `slow` warmed by one call and then
 * timed one call per round, the rounds interleaved with the fast ones (2 rounds).
 */
function slowPeerInterleaved(fast: (() => void)[], slow: () => void, o: { samples: number; minSampleMs: number }): number[] {
  slow();
  const reps = fast.map((fn) => { fn(); const t0 = performance.now(); fn(); return Math.max(1, Math.ceil(o.minSampleMs / (performance.now() - t0))); });
  const times: number[][] = [...fast.map(() => []), []];
  for (let round = 0; round < 2; round++) {
    for (let s = 0; s < Math.ceil(o.samples / 2); s++) fast.forEach((fn, i) => {
      const t0 = performance.now();
      for (let r = 0; r < reps[i]; r++) fn();
      times[i].push((performance.now() - t0) / reps[i] / 1000);
    });
    const t0 = performance.now();
    slow();
    times[fast.length].push((performance.now() - t0) / 1000);
  }
  return times.map(median);
}

function commit(): string {
  try { return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim(); } catch { return 'unknown'; }
}

/** The machine's measured peak for this kind of work: rede's GEMM at 512³, one thread. */
async function gemmPeak(): Promise<number> {
  const e = await Engine.create(), n = 512, a = e.tensor([n, n], rng.array(n * n)), b = e.tensor([n, n], rng.array(n * n)), c = e.tensor([n, n]);
  const scratch = e.reserve(e.k.gemm_scratch_bytes(n, n, n), 'gemm scratch');
  const s = timeCall(() => e.k.gemm_f32(0, 0, n, n, n, a.ptr, n, b.ptr, n, c.ptr, n, 0, scratch), timing);
  return (2 * n ** 3) / s / 1e9;
}

const load0 = os.loadavg()[0];
const peak = await gemmPeak();
const header = `rnn bench: commit ${commit()}, ${os.cpus().length} × ${os.cpus()[0]?.model?.trim()}, Node ${process.versions.node}, ` +
  `load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; measured peak (rede gemm 512³, 1 thread) ${peak.toFixed(1)} GFLOP/s; ` +
  `${CASE}: forward + backward, medians of ${timing.samples} interleaved samples (tfjs cpu: 2, one call each)`;
(args.json ? process.stderr : process.stdout).write(`${header}\n`);
rows.push({ bench: 'rnn', case: 'gemm_512', peer: 'rede', variant: 'simd', threads: 1, metric: 'gflops', value: peak, unit: 'GFLOP/s' });

const rede = { simd: await redeStep('simd'), 'relaxed-simd': await redeStep('relaxed-simd') };
// Round 1: rede vs tfjs cpu. Round 2: rede vs tfjs wasm (tfjs has one backend at a time).
for (const backend of ['cpu', 'wasm'] as const) {
  let tf: typeof TF;
  try {
    tf = backend === 'cpu' ? await quietly(async () => { const t = await import('@tensorflow/tfjs'); await t.setBackend('cpu'); await t.ready(); return t; }) : await loadTfjsWasm(1);
  } catch (err) {
    row({ peer: 'tfjs', variant: backend, value: null, note: `tfjs ${backend} backend did not start: ${(err as Error).message}` });
    continue;
  }
  const warn = console.warn, log = console.log;
  console.warn = console.log = () => {}; // tfjs greets Node users and warns about its orthogonal initializer
  let peer: ReturnType<typeof tfjsStep>;
  try { peer = tfjsStep(tf); peer.step(); } finally { console.warn = warn; console.log = log; }
  // tfjs cpu runs ~3 orders of magnitude slower (minutes a call on a loaded machine): one warm-up call and
  // two samples of one call each for it, interleaved with rede's samples.
  const [s1, s2, sp] = backend === 'cpu' ? slowPeerInterleaved([rede.simd, rede['relaxed-simd']], peer.step, timing)
    : timeCallsInterleaved([rede.simd, rede['relaxed-simd'], peer.step], timing);
  peer.dispose();
  row({ peer: 'rede', variant: `simd (round ${backend})`, value: B / s1 });
  row({ peer: 'rede', variant: `relaxed-simd (round ${backend})`, value: B / s2 });
  row({ peer: 'tfjs', variant: backend, value: B / sp });
}

if (args.json) for (const x of rows) printJsonRow(x);
else {
  const base = (v: string) => rows.find((x) => x.peer === 'rede' && x.variant === `relaxed-simd (round ${v})`)?.value ?? null;
  console.log(formatTable(['case', 'peer', 'variant', 'value', 'unit', 'rede relaxed ÷ this'],
    rows.map((x) => {
      const round = x.peer === 'tfjs' ? x.variant : x.variant.match(/round (\w+)/)?.[1] ?? '';
      const b = round ? base(round) : null;
      return [x.case, x.peer, x.variant, fmt(x.value, x.unit === 'GFLOP/s' ? 1 : 0), x.unit, b && x.value ? (b / x.value).toFixed(2) : ''];
    })));
  for (const x of rows) if (x.note) console.log(`${x.peer} ${x.variant}: ${x.note}`);
  console.log(`load at start ${load0.toFixed(2)}, at end ${os.loadavg()[0].toFixed(2)}`);
}
