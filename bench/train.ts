// Training throughput, examples/s, with peers on the same nets in the same run:
//   lenet5_b64    LeNet-5 (28×28×1, conv5×5×6 same → ReLU → maxpool2 → conv5×5×16 valid → ReLU → maxpool2 → dense
//                 120 → ReLU → dense 84 → ReLU → dense 10), one thread: rede (each wasm build), PyTorch, convnetjs
//   resnet20_b64  ResNet-20 (32×32×3, src/zoo/small.ts), 1 thread (rede's trainer in this thread) and 2 threads
//                 (rede's worker group of 2; PyTorch with 2 intra-op threads)
//   lenet5_b32_backends, resnet20_b4_backends   the same nets trained through Model.fit on --backend wasm and
//                 --backend tfjs (@tensorflow/tfjs's cpu backend; bench/backend-cases.ts), interleaved
// All: softmax cross-entropy, SGD momentum 0.9, batch 64, random data from a fixed pool of batches. PyTorch
// (Debian's python3-torch) runs in one long-lived process (bench/peers/torch_train.py): each round times a block
// of rede steps, then a block of PyTorch steps, so both see the same machine; medians over rounds. The header
// states the commit, load average and the peak measured in this process. LeNet-5 also reports the planned arena
// by part against what its tensors need, and the RSS over a long run.
// --baseline=FILE.wasm (a relaxed-SIMD build of another commit, same kernel ABI) adds that build as one more
// one-thread rede runner in the same rounds: a before/after A/B in one process. Control it with an A/A run (this
// build as the baseline): the last runner has read 5–17 % slow with identical code (docs/benchmarks.md, LeNet-5).
// One-thread blocks are timed by each process's CPU time (--clock=wall: by the wall clock), which leaves out the
// time other processes hold the core; two-thread blocks always by the wall clock (CPU time would add the threads up).
// Beside examples/s, the one-thread rows give GFLOP/s: examples/s × the net's nominal FLOPs per example
// (src/bench/profile.ts stepFlops, the count `rede bench` divides by), and that as a share of rede's FMA peak —
// what a peer's speed would ask of rede's wasm.
//   node --import tsx bench/train.ts [--json] [--quick] [--filter=resnet20] [--steps=N] [--tfjs=cpu,wasm] [--baseline=FILE.wasm] [--clock=cpu|wall]
import { createRequire } from 'node:module';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Engine } from '../src/engine/engine';
import { Model } from '../src/api/model';
import { ThreadStep } from '../src/train/thread-step';
import type { ModelConfig } from '../src/model/config';
import { lenet5 } from '../src/zoo/lenet5';
import { resnet20 } from '../src/zoo/small';
import { numelOf } from '../src/layers/layer';
import { WorkerGroup } from '../src/parallel/group';
import { shareData } from '../src/parallel/group-step';
import { benchHeader, headerText, peakFor } from '../src/bench/header';
import { stepFlops } from '../src/bench/profile';
import { headerRows } from '../src/bench/rows';
import { Rng } from '../test/helpers/rand';
import { BACKEND_CASES, backendRows } from './backend-cases';
import { fmt, formatTable, median, parseBenchArgs, parseClock, printJsonRow, type BenchRow } from './lib';

const args = parseBenchArgs();
const { clock, now } = parseClock('bench/train');
const stepsArg = process.argv.find((a) => a.startsWith('--steps='));
const baselineArg = process.argv.find((a) => a.startsWith('--baseline='))?.slice('--baseline='.length);
const B = 64, LR = 0.01;
const rows: BenchRow[] = [];
const row = (r: Omit<BenchRow, 'bench' | 'threads'> & { threads?: number }) => rows.push({ bench: 'train', threads: 1, ...r });
const wanted = (name: string) => !args.filter || name.includes(args.filter);

// Real-looking data: a fixed random batch pool (throughput does not depend on the pixel values).
const POOL = 8;
function pool(per: number): { xs: Float32Array[]; ys: Int32Array[] } {
  const rng = new Rng(3);
  return { xs: Array.from({ length: POOL }, () => rng.array(B * per, 0, 1)), ys: Array.from({ length: POOL }, () => Int32Array.from({ length: B }, () => rng.int(0, 10))) };
}

/** Something that runs `n` training steps and says how long they took (seconds). */
interface Runner { name: string; run(n: number): Promise<number>; close(): Promise<void> }

/** rede's trainer in this thread (ThreadStep, as fit runs it with one worker). */
async function redeThread(config: ModelConfig, variant: 'simd' | 'relaxed-simd' | 'auto', wasmFile?: string): Promise<Runner & { model: Model }> {
  const e = wasmFile
    ? await Engine.create({ module: await WebAssembly.compile(readFileSync(wasmFile)), variantOfModule: 'relaxed-simd' })
    : await Engine.create({ variant });
  const m = await Model.create(config, { engine: e, seed: 1 });
  m.compile({ optimizer: { type: 'sgd', lr: LR, momentum: 0.9 }, loss: 'sparse_categorical_crossentropy' });
  m.ensureCapacity(B);
  const { xs, ys } = pool(numelOf(m.inputShape));
  const ts = new ThreadStep(m.trainer!.program, () => 1);
  let i = 0;
  const step = () => { e.write(m.inputAct, xs[i % POOL]); e.i32.set(ys[i % POOL], m.labels >>> 2); ts.runFilled(B, { step: i++, lrs: [LR] }); };
  return { name: wasmFile ? `${e.variant} baseline` : e.variant, model: m, run: async (n) => { const t0 = now(); for (let k = 0; k < n; k++) step(); return (now() - t0) / 1000; }, close: async () => {} };
}

/** rede's worker group of W (src/parallel), each worker assembling its shard from the shared pool. */
async function redeGroup(config: ModelConfig, W: number): Promise<Runner> {
  const m = await Model.create(config, { seed: 1 });
  const t = m.compile({ optimizer: { type: 'sgd', lr: LR, momentum: 0.9 }, loss: 'sparse_categorical_crossentropy' }).trainer!;
  const { xs, ys } = pool(numelOf(m.inputShape));
  const x = new Float32Array(POOL * xs[0].length), y = new Int32Array(POOL * B);
  xs.forEach((a, i) => x.set(a, i * a.length)); ys.forEach((a, i) => y.set(a, i * B));
  const g = await WorkerGroup.create(t.program, { workers: W, batchSize: B });
  g.push([m], [t.optState]);
  await g.begin(shareData(t.program, x, y), { batchSize: B, seed: 1, shuffle: false });
  let step = 0;
  return {
    name: g.e.variant,
    run: async (n) => {
      const t0 = performance.now();
      for (let k = 0; k < n; k++, step++) await g.step({ epoch: 0, batch: step % POOL, length: B, step, lrs: [LR], ts: [step + 1] });
      return (performance.now() - t0) / 1000;
    },
    close: async () => { await g.end(); await g.close(); },
  };
}

/** The PyTorch process: one for the run, set up per net and thread count; null (with why) when unavailable. */
class TorchPeer {
  private constructor(private readonly p: ChildProcessWithoutNullStreams, private readonly lines: AsyncIterator<string>) {}
  version = '';
  static start(): TorchPeer | string {
    const python = '/usr/bin/python3', script = fileURLToPath(new URL('./peers/torch_train.py', import.meta.url));
    if (!existsSync(python)) return 'python3-torch is not installed (apt-get install python3-torch)';
    const p = spawn(python, [script], { stdio: ['pipe', 'pipe', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => { err = (err + d).slice(-2000); });
    const peer = new TorchPeer(p, createInterface({ input: p.stdout })[Symbol.asyncIterator]());
    peer.stderr = () => err;
    return peer;
  }
  stderr: () => string = () => '';
  private async ask(msg: object): Promise<Record<string, unknown>> {
    this.p.stdin.write(`${JSON.stringify(msg)}\n`);
    const r = await this.lines.next();
    if (r.done) throw new Error(`pytorch peer exited: ${this.stderr().trim().split('\n').pop() ?? ''}`);
    return JSON.parse(r.value) as Record<string, unknown>;
  }
  async runner(net: string, threads: number): Promise<Runner> {
    const r = await this.ask({ setup: net, threads, batch: B });
    this.version = String(r.version);
    if (r.threads !== threads) throw new Error(`pytorch peer runs ${r.threads} threads, not ${threads}`);
    // One thread: the clock the rede runners use (the peer reports its process's CPU time too); more: the wall.
    const key = threads === 1 && clock === 'cpu' ? 'cpu' : 'seconds';
    return { name: 'pytorch', run: async (n) => Number((await this.ask({ run: n }))[key]), close: async () => {} };
  }
  close(): void { this.p.stdin.end(); }
}

/**
 * Warms each runner up, then `rounds` rounds of one timed block each, in turn; examples/s medians. A block is
 * `steps` steps for every runner (about the same work; each runner's own rate comes from its own block).
 */
async function interleaved(runners: Runner[], o: { warm: number; steps: number; rounds: number }): Promise<number[]> {
  for (const r of runners) await r.run(o.warm);
  const rates: number[][] = runners.map(() => []);
  for (let k = 0; k < o.rounds; k++) {
    for (const [i, r] of runners.entries()) rates[i].push((o.steps * B) / (await r.run(o.steps)));
  }
  return rates.map(median);
}

function convnetjs(xs: Float32Array[], ys: Int32Array[]): void {
  const require = createRequire(import.meta.url);
  const cj = require('convnetjs');
  const net = new cj.Net();
  net.makeLayers([
    { type: 'input', out_sx: 28, out_sy: 28, out_depth: 1 },
    { type: 'conv', sx: 5, filters: 6, stride: 1, pad: 2, activation: 'relu' },
    { type: 'pool', sx: 2, stride: 2 },
    { type: 'conv', sx: 5, filters: 16, stride: 1, pad: 0, activation: 'relu' },
    { type: 'pool', sx: 2, stride: 2 },
    { type: 'fc', num_neurons: 120, activation: 'relu' },
    { type: 'fc', num_neurons: 84, activation: 'relu' },
    { type: 'softmax', num_classes: 10 },
  ]);
  const trainer = new cj.Trainer(net, { method: 'sgd', learning_rate: 0.01, momentum: 0.9, batch_size: B, l2_decay: 0 });
  const v = new cj.Vol(28, 28, 1, 0);
  const ex = (i: number) => { const x = xs[(i / B | 0) % POOL]; for (let p = 0; p < 784; p++) v.w[p] = x[(i % B) * 784 + p]; trainer.train(v, ys[(i / B | 0) % POOL][i % B]); };
  for (let i = 0; i < (args.quick ? 64 : 256); i++) ex(i);
  const rates: number[] = [];
  for (let s = 0; s < (args.quick ? 3 : 5); s++) {
    const t0 = now();
    for (let i = 0; i < B * 2; i++) ex(i);
    rates.push((B * 2) / ((now() - t0) / 1000));
  }
  row({ case: 'lenet5_b64', peer: 'convnetjs', variant: 'js-float64', metric: 'examples_per_s', value: median(rates), unit: 'examples/s' });
}

/** What LeNet-5's tensors need at batch B: weights, gradients, momentum, every activation and its gradient. */
function tensorBytes(m: Model): number {
  const acts = numelOf(m.inputShape) + m.layers.reduce((s, L) => s + numelOf(L.outShape), 0);
  return 4 * (3 * m.paramCount + 2 * acts * B);
}

const header = await benchHeader();
const torch = TorchPeer.start();
const noTorch = (why: string, c: string, threads: number) => row({ case: c, peer: 'pytorch', variant: 'cpu', threads, metric: 'examples_per_s', value: null, unit: 'examples/s', note: why });
const peak = peakFor(header, 'relaxed-simd') ?? peakFor(header, 'simd');
/** Beside one-thread examples/s: GFLOP/s of the net's nominal FLOPs at each rate, and that over rede's peak. */
function flopRows(c: string, model: Model, rated: { peer: string; variant: string; rate: number }[]): void {
  const flops = stepFlops(model, 'train');
  for (const r of rated) {
    const g = (r.rate * flops) / 1e9;
    row({ case: c, peer: r.peer, variant: r.variant, metric: 'gflops', value: g, unit: 'GFLOP/s', note: `examples/s × ${(flops / 1e6).toFixed(1)} MFLOP per example (nominal: src/bench/profile.ts stepFlops)` });
    if (peak) row({ case: c, peer: r.peer, variant: r.variant, metric: 'share_of_rede_peak', value: g / peak.gflops, unit: 'ratio', note: `of rede's ${peak.variant} ${peak.kind} peak, ${peak.gflops.toFixed(1)} GFLOP/s (${peak.clock} clock, header)` });
  }
}

/** PyTorch's runner, or null after writing the row that says why there is none. */
async function torchRunner(net: string, threads: number, c: string): Promise<Runner | null> {
  if (typeof torch === 'string') { noTorch(torch, c, threads); return null; }
  try {
    return await torch.runner(net, threads);
  } catch (e) {
    noTorch(`python3 failed: ${(e as Error).message}`, c, threads);
    return null;
  }
}

try {
  if (wanted('lenet5_b64')) {
    const simd = await redeThread(lenet5(), 'simd'), relaxed = await redeThread(lenet5(), 'relaxed-simd');
    const pt = await torchRunner('lenet5', 1, 'lenet5_b64');
    const base = baselineArg ? await redeThread(lenet5(), 'auto', baselineArg) : null;
    const runners: Runner[] = [simd, relaxed, ...(pt ? [pt] : []), ...(base ? [base] : [])];
    const rates = await interleaved(runners, args.quick ? { warm: 10, steps: 10, rounds: 3 } : { warm: 60, steps: 40, rounds: 9 });
    runners.forEach((r, i) => row({ case: 'lenet5_b64', peer: r === pt ? 'pytorch' : 'rede', variant: r === pt ? 'cpu' : r.name, metric: 'examples_per_s', value: rates[i], unit: 'examples/s',
      ...(r === pt ? { note: `torch ${(torch as TorchPeer).version}, interleaved with rede` } : r === base ? { note: `${baselineArg}, interleaved` } : {}) }));
    flopRows('lenet5_b64', relaxed.model, runners.map((r, i) => ({ peer: r === pt ? 'pytorch' : 'rede', variant: r === pt ? 'cpu' : r.name, rate: rates[i] })));
    const { xs, ys } = pool(784);
    convnetjs(xs, ys);

    const m = relaxed.model;
    for (const [part, bytes] of Object.entries(m.memory())) row({ case: 'lenet5_b64_arena', peer: 'rede', variant: part, metric: 'bytes', value: bytes, unit: 'B' });
    row({ case: 'lenet5_b64_arena', peer: 'rede', variant: 'tensors_needed', metric: 'bytes', value: tensorBytes(m), unit: 'B' });
    // RSS over a long run: sampled every 500 steps; flat means nothing grows per step.
    const steps = stepsArg ? Number(stepsArg.split('=')[1]) : args.quick ? 1000 : 10000;
    const rss: number[] = [];
    for (let i = 0; i < steps; i += 500) { await relaxed.run(Math.min(500, steps - i)); rss.push(process.memoryUsage().rss); }
    const c = `lenet5_b64_${steps}_steps`;
    row({ case: c, peer: 'rede', variant: 'relaxed-simd', metric: 'rss_first', value: rss[0], unit: 'B' });
    row({ case: c, peer: 'rede', variant: 'relaxed-simd', metric: 'rss_last', value: rss[rss.length - 1], unit: 'B' });
    row({ case: c, peer: 'rede', variant: 'relaxed-simd', metric: 'rss_peak', value: Math.max(...rss), unit: 'B' });
  }

  if (wanted('resnet20_b64')) {
    const config = resnet20([32, 32, 3], 10);
    for (const threads of [1, 2]) {
      const rede = threads === 1 ? await redeThread(config, 'auto') : await redeGroup(config, threads);
      const pt = await torchRunner('resnet20', threads, 'resnet20_b64');
      const base = threads === 1 && baselineArg ? await redeThread(config, 'auto', baselineArg) : null;
      const runners: Runner[] = [rede, ...(pt ? [pt] : []), ...(base ? [base] : [])];
      try {
        const rates = await interleaved(runners, args.quick ? { warm: 1, steps: 1, rounds: 1 } : { warm: 2, steps: 3, rounds: 7 });
        row({ case: 'resnet20_b64', peer: 'rede', variant: rede.name, threads, metric: 'examples_per_s', value: rates[0], unit: 'examples/s',
          note: threads === 1 ? `trainer in this thread, ${clock} clock` : `worker group of ${threads}, wall clock` });
        if (base) row({ case: 'resnet20_b64', peer: 'rede', variant: base.name, threads, metric: 'examples_per_s', value: rates[runners.indexOf(base)], unit: 'examples/s', note: `${baselineArg}, interleaved` });
        if (pt) row({ case: 'resnet20_b64', peer: 'pytorch', variant: 'cpu', threads, metric: 'examples_per_s', value: rates[1], unit: 'examples/s', note: `torch ${(torch as TorchPeer).version}, ${threads} threads, interleaved with rede, ${threads === 1 ? clock : 'wall'} clock` });
        if ('model' in rede) flopRows('resnet20_b64', rede.model as Model, [{ peer: 'rede', variant: rede.name, rate: rates[0] }, ...(pt ? [{ peer: 'pytorch', variant: 'cpu', rate: rates[1] }] : [])]);
      } finally {
        await rede.close();
      }
    }
  }
  if (BACKEND_CASES.some(wanted)) {
    const tfjs = (process.argv.find((a) => a.startsWith('--tfjs='))?.slice(7) ?? 'cpu').split(',').filter(Boolean);
    rows.push(...await backendRows({ bench: 'train', tfjs, quick: args.quick, filter: args.filter }));
  }
} finally {
  if (typeof torch !== 'string') torch.close();
}

if (args.json) [...headerRows('train', header), ...rows].forEach(printJsonRow);
else {
  console.log(headerText(header));
  console.log(`one-thread blocks timed by the ${clock} clock, two-thread blocks by the wall clock`);
  const ref = (r: BenchRow, peer: string) => rows.find((x) => x.case === r.case && x.peer === peer && x.threads === r.threads && x.metric === r.metric)?.value ?? null;
  console.log(formatTable(['case', 'peer', 'variant', 'threads', 'value', 'unit', 'vs convnetjs', 'vs pytorch'],
    rows.map((r) => {
      const cj = ref(r, 'convnetjs'), pt = ref(r, 'pytorch'), rate = r.metric === 'examples_per_s' && r.value !== null;
      const value = r.unit === 'B' ? (r.value! / 2 ** 20).toFixed(2) : r.unit === 'ratio' ? `${(r.value! * 100).toFixed(0)} %` : fmt(r.value, r.unit === 'GFLOP/s' ? 1 : 0);
      return [r.case, r.peer, r.variant, String(r.threads), value, r.unit === 'B' ? 'MiB' : r.unit === 'ratio' ? '' : r.unit,
        rate && cj && r.peer !== 'convnetjs' ? `${(r.value! / cj).toFixed(1)}×` : '', rate && pt && r.peer !== 'pytorch' ? `${(r.value! / pt).toFixed(2)}×` : ''];
    })));
  for (const r of rows) if (r.note && r.value === null) console.log(`${r.peer}: ${r.note}`);
}
