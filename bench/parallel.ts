// Data-parallel training throughput: examples/s of the single-threaded trainer and of the worker group with
// 1 and 2 workers, on LeNet-5 (28×28×1) and a ResNet-20-like net (32×32×3, 3 stages × 3 basic blocks, BN),
// at batch 64 and 128; parallel efficiency (rate_W / (W · rate_1thread)); and, per worker, where a step's time
// goes: compute (batch assembly, forward, backward), barrier wait, reduction + optimizer update.
//   node --import tsx bench/parallel.ts [--json] [--quick] [--filter=lenet]
// The numbers depend on free cores: on a 2-core shared machine the main thread and the OS share them too.
import { Model } from '../src/api/model';
import { ThreadStep } from '../src/train/thread-step';
import type { ModelConfig } from '../src/model/config';
import { numelOf } from '../src/layers/layer';
import { lenet5 } from '../src/zoo/lenet5';
import { WorkerGroup } from '../src/parallel/group';
import { shareData } from '../src/parallel/group-step';
import { coreCount } from '../src/parallel/worker-api';
import { randomDataset, resnet } from '../test/parallel/nets';
import { fmt, formatTable, median, parseBenchArgs, printJsonRow, type BenchRow } from './lib';

const args = parseBenchArgs();
const rows: BenchRow[] = [];
const row = (r: Omit<BenchRow, 'bench' | 'peer'>) => rows.push({ bench: 'parallel', peer: 'rede', ...r });

const NETS: { name: string; config: ModelConfig; shape: [number, number, number] }[] = [
  { name: 'lenet5', config: lenet5(), shape: [28, 28, 1] },
  { name: 'resnet20', config: resnet({ input: [32, 32, 3], blocks: 3, width: 16, classes: 10 }), shape: [32, 32, 3] },
];
const OPT = { optimizer: { type: 'sgd' as const, lr: 0.01, momentum: 0.9 }, loss: 'sparse_categorical_crossentropy' as const };

/** Steps to time: about 2 s of single-threaded work per sample, fewer with --quick. */
function stepsFor(net: string, B: number): { warm: number; timed: number; samples: number } {
  const heavy = net === 'resnet20';
  const timed = Math.max(2, Math.round((heavy ? 256 : 4096) / B / (args.quick ? 4 : 1)));
  return { warm: heavy ? 1 : 3, timed, samples: args.quick ? 2 : 3 };
}

async function singleThread(config: ModelConfig, ds: ReturnType<typeof randomDataset>, B: number, net: string): Promise<number> {
  const m = await Model.create(config, { seed: 1 });
  const t = m.compile(OPT).trainer!, ts = new ThreadStep(t.program, () => 1);
  m.ensureCapacity(B);
  const per = numelOf(m.inputShape), nb = ds.y.length / B;
  const step = (i: number) => {
    const b = i % nb;
    m.e.write(m.inputAct, ds.x.subarray(b * B * per, (b + 1) * B * per));
    m.e.i32.set(ds.y.subarray(b * B, (b + 1) * B), m.labels >>> 2);
    ts.runFilled(B, { step: i, lrs: [0.01] });
  };
  const s = stepsFor(net, B), rates: number[] = [];
  for (let i = 0; i < s.warm; i++) step(i);
  for (let k = 0; k < s.samples; k++) {
    const t0 = performance.now();
    for (let i = 0; i < s.timed; i++) step(i);
    rates.push((s.timed * B) / ((performance.now() - t0) / 1000));
  }
  return median(rates);
}

async function group(config: ModelConfig, ds: ReturnType<typeof randomDataset>, B: number, W: number, net: string) {
  const m = await Model.create(config, { seed: 1 });
  const t = m.compile(OPT).trainer!;
  const g = await WorkerGroup.create(t.program, { workers: W, batchSize: B });
  try {
    g.push([m], [t.optState]);
    await g.begin(shareData(t.program, ds, undefined), { batchSize: B, seed: 1, shuffle: true });
    const s = stepsFor(net, B), nb = ds.y.length / B, rates: number[] = [];
    let step = 0;
    const run = async () => { await g.step({ epoch: 0, batch: step % nb, length: B, step, lrs: [0.01], ts: [step + 1] }); step++; };
    for (let i = 0; i < s.warm; i++) await run();
    g.control.resetTimes();
    for (let k = 0; k < s.samples; k++) {
      const t0 = performance.now();
      for (let i = 0; i < s.timed; i++) await run();
      rates.push((s.timed * B) / ((performance.now() - t0) / 1000));
    }
    const timedSteps = s.samples * s.timed;
    const times = g.times().map((x) => ({ compute: x.compute / timedSteps, wait: x.wait / timedSteps, reduce: x.reduce / timedSteps }));
    await g.end();
    return { rate: median(rates), times, variant: g.e.variant };
  } finally {
    await g.close();
  }
}

const cores = await coreCount();
for (const net of NETS) {
  for (const B of [64, 128]) {
    const name = `${net.name}_b${B}`;
    if (args.filter && !name.includes(args.filter)) continue;
    const ds = randomDataset(B * 4, net.shape, 10, 5);
    const one = await singleThread(net.config, ds, B, net.name);
    row({ case: name, variant: 'trainer', threads: 1, metric: 'examples_per_s', value: one, unit: 'examples/s' });
    for (const W of [1, 2]) {
      const r = await group(net.config, ds, B, W, net.name);
      row({ case: name, variant: r.variant, threads: W, metric: 'examples_per_s', value: r.rate, unit: 'examples/s' });
      row({ case: name, variant: r.variant, threads: W, metric: 'parallel_efficiency', value: r.rate / (W * one), unit: 'ratio',
        note: `vs the single-threaded trainer; ${cores} cores visible` });
      r.times.forEach((x, w) => {
        row({ case: name, variant: `worker${w}`, threads: W, metric: 'compute_ms_per_step', value: x.compute, unit: 'ms' });
        row({ case: name, variant: `worker${w}`, threads: W, metric: 'barrier_wait_ms_per_step', value: x.wait, unit: 'ms' });
        row({ case: name, variant: `worker${w}`, threads: W, metric: 'reduce_ms_per_step', value: x.reduce, unit: 'ms' });
      });
    }
  }
}

if (args.json) rows.forEach(printJsonRow);
else {
  console.log(`${cores} cores visible`);
  console.log(formatTable(['case', 'variant', 'threads', 'metric', 'value', 'unit'],
    rows.map((r) => [r.case, r.variant, String(r.threads), r.metric, fmt(r.value, r.unit === 'ratio' ? 2 : 1), r.unit])));
}
