// Training throughput: LeNet-5 (28×28×1, conv5×5×6 same → ReLU → maxpool2 → conv5×5×16 valid → ReLU → maxpool2
// → dense 120 → ReLU → dense 84 → ReLU → dense 10, softmax CE, SGD momentum 0.9, batch 64), one thread,
// rede (each wasm variant), PyTorch (Debian's python3-torch, one thread, if installed) and convnetjs 0.3.0 on
// the same net, measured in this run. Also memory: the
// planned arena by part against what the tensors themselves need, and peak RSS over a long run.
//   node --import tsx bench/train.ts [--json] [--quick] [--steps=N]
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Engine } from '../src/engine/engine';
import { Model } from '../src/api/model';
import { ThreadStep } from '../src/train/thread-step';
import { lenet5 } from '../src/zoo/lenet5';
import { numelOf } from '../src/layers/layer';
import { Rng } from '../test/helpers/rand';
import { fmt, formatTable, median, parseBenchArgs, printJsonRow, type BenchRow } from './lib';

const args = parseBenchArgs();
const stepsArg = process.argv.find((a) => a.startsWith('--steps='));
const B = 64;
const rows: BenchRow[] = [];
const row = (r: Omit<BenchRow, 'bench' | 'threads'> & { threads?: number }) => rows.push({ bench: 'train', threads: 1, ...r });

// Real-looking data: a fixed random batch pool (throughput does not depend on the pixel values).
const rng = new Rng(3);
const POOL = 16;
const xs = Array.from({ length: POOL }, () => rng.array(B * 784, 0, 1));
const ys = Array.from({ length: POOL }, () => Int32Array.from({ length: B }, () => rng.int(0, 10)));

async function rede(variant: 'simd' | 'relaxed-simd'): Promise<Model> {
  const e = await Engine.create({ variant });
  const m = await Model.create(lenet5(), { engine: e, seed: 1 });
  m.compile({ optimizer: { type: 'sgd', lr: 0.01, momentum: 0.9 }, loss: 'sparse_categorical_crossentropy' });
  m.ensureCapacity(B);
  const t = m.trainer!, ts = new ThreadStep(t.program, () => 1);
  const step = (i: number) => {
    e.write(m.inputAct, xs[i % POOL]);
    e.i32.set(ys[i % POOL], m.labels >>> 2);
    ts.runFilled(B, { step: i, lrs: [0.01] });
  };
  const warm = args.quick ? 20 : 60, samples = args.quick ? 3 : 7, per = args.quick ? 20 : 50;
  for (let i = 0; i < warm; i++) step(i);
  const rates: number[] = [];
  for (let s = 0; s < samples; s++) {
    const t0 = performance.now();
    for (let i = 0; i < per; i++) step(i);
    rates.push((per * B) / ((performance.now() - t0) / 1000));
  }
  row({ case: 'lenet5_b64', peer: 'rede', variant, metric: 'examples_per_s', value: median(rates), unit: 'examples/s' });
  return m;
}

function convnetjs(): void {
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
  const vols = xs[0].length / 784;
  const v = new cj.Vol(28, 28, 1, 0);
  const ex = (i: number) => { const x = xs[(i / vols | 0) % POOL]; for (let p = 0; p < 784; p++) v.w[p] = x[(i % vols) * 784 + p]; trainer.train(v, ys[(i / vols | 0) % POOL][i % vols]); };
  for (let i = 0; i < (args.quick ? 64 : 256); i++) ex(i);
  const rates: number[] = [];
  for (let s = 0; s < (args.quick ? 3 : 5); s++) {
    const t0 = performance.now();
    for (let i = 0; i < B * 2; i++) ex(i);
    rates.push((B * 2) / ((performance.now() - t0) / 1000));
  }
  row({ case: 'lenet5_b64', peer: 'convnetjs', variant: 'js-float64', metric: 'examples_per_s', value: median(rates), unit: 'examples/s' });
}

/**
 * PyTorch (Debian's python3-torch, CPU, one thread) on the same net, loss, optimizer and batch, in a child
 * process right after rede. Optional: without it the row says so and has no number.
 */
function pytorch(): void {
  const python = '/usr/bin/python3', script = fileURLToPath(new URL('./peers/torch_lenet5.py', import.meta.url));
  const r = existsSync(python) ? spawnSync(python, [script, '1', ...(args.quick ? ['--quick'] : [])], { encoding: 'utf8' }) : null;
  let value: number | null = null, note = 'python3-torch is not installed (apt-get install python3-torch)';
  if (r && r.status === 0) {
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    value = out.examples_per_s; note = `torch ${out.version}`;
  } else if (r) note = `python3 failed: ${(r.stderr || '').trim().split('\n').pop()}`;
  row({ case: 'lenet5_b64', peer: 'pytorch', variant: 'cpu', metric: 'examples_per_s', value, unit: 'examples/s', note });
}

/** What LeNet-5's tensors need at batch B: weights, gradients, momentum, every activation and its gradient. */
function tensorBytes(m: Model): number {
  const acts = numelOf(m.inputShape) + m.layers.reduce((s, L) => s + numelOf(L.outShape), 0);
  return 4 * (3 * m.paramCount + 2 * acts * B);
}

const models: Model[] = [];
for (const v of ['simd', 'relaxed-simd'] as const) models.push(await rede(v));
pytorch();
convnetjs();
const mem = models[1].memory();
for (const [part, bytes] of Object.entries(mem)) row({ case: 'lenet5_b64_arena', peer: 'rede', variant: part, metric: 'bytes', value: bytes, unit: 'B' });
row({ case: 'lenet5_b64_arena', peer: 'rede', variant: 'tensors_needed', metric: 'bytes', value: tensorBytes(models[1]), unit: 'B' });

// RSS over a long run: sampled every 500 steps; flat means nothing grows per step.
const steps = stepsArg ? Number(stepsArg.split('=')[1]) : args.quick ? 1000 : 10000;
{
  const m = models[1], e = m.e, ts = new ThreadStep(m.trainer!.program, () => 1);
  const rss: number[] = [];
  for (let i = 0; i < steps; i++) {
    e.write(m.inputAct, xs[i % POOL]); e.i32.set(ys[i % POOL], m.labels >>> 2); ts.runFilled(B, { step: i, lrs: [0.01] });
    if (i % 500 === 0 || i === steps - 1) rss.push(process.memoryUsage().rss);
  }
  row({ case: `lenet5_b64_${steps}_steps`, peer: 'rede', variant: 'relaxed-simd', metric: 'rss_first', value: rss[1] ?? rss[0], unit: 'B' });
  row({ case: `lenet5_b64_${steps}_steps`, peer: 'rede', variant: 'relaxed-simd', metric: 'rss_last', value: rss[rss.length - 1], unit: 'B' });
  row({ case: `lenet5_b64_${steps}_steps`, peer: 'rede', variant: 'relaxed-simd', metric: 'rss_peak', value: Math.max(...rss), unit: 'B' });
}

if (args.json) rows.forEach(printJsonRow);
else {
  const cj = rows.find((r) => r.peer === 'convnetjs')!.value!;
  const pt = rows.find((r) => r.peer === 'pytorch')!.value;
  console.log(formatTable(['case', 'peer', 'variant', 'value', 'unit', 'vs convnetjs', 'vs pytorch'],
    rows.map((r) => [r.case, r.peer, r.variant, r.unit === 'B' ? (r.value! / 2 ** 20).toFixed(2) : fmt(r.value, 0), r.unit === 'B' ? 'MiB' : r.unit,
      r.metric === 'examples_per_s' && r.value !== null ? `${(r.value / cj).toFixed(1)}×` : '',
      r.metric === 'examples_per_s' && r.value !== null && pt ? `${(r.value / pt).toFixed(2)}×` : ''])));
  for (const r of rows) if (r.note && r.value === null) console.log(`${r.peer}: ${r.note}`);
}
