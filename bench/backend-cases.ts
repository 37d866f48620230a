// Training throughput by compute backend, for bench/train.ts and bench/backends.ts: LeNet-5 (28×28×1) and
// ResNet-20 (32×32×3), the same config, seed and data, trained through Model.fit (the one loop: the source fills
// each batch, the schedule, callbacks) with { backend: 'wasm' } (rede's engine, one thread) and { backend: 'tfjs' }
// (TensorFlow.js; here @tensorflow/tfjs on its cpu backend, and optionally its wasm backend), samples interleaved
// so that load from other processes falls on every peer alike. Not a test: no assertion on speed.
// tfjs-cpu's convolution gradients run at a few MFLOP/s (generic buffer accessors in plain loops): ResNet-20
// takes tens of seconds per example there, so its case is a batch of 4, one step per sample.
import { Model } from '../src/api/model';
import type { ModelConfig } from '../src/model/config';
import type { Dataset } from '../src/data/dataset';
import { lenet5 } from '../src/zoo/lenet5';
import { resnet20 } from '../src/zoo/small';
import { Rng } from '../test/helpers/rand';
import { median, quietly, type BenchRow } from './lib';

export interface BackendOptions {
  /** The bench name the rows carry ('train' or 'backends'). */
  bench: string;
  /** tfjs backends to run beside the wasm engine, e.g. ['cpu'] or ['cpu', 'wasm']. */
  tfjs: readonly string[];
  quick: boolean;
  /** Only cases whose name contains this. */
  filter: string;
  /** Interleaved samples per peer (default 3, 2 with quick). */
  samples?: number;
  /** Called with each row as its case ends: a long run's early cases are not lost. */
  onRow?: (r: BenchRow) => void;
}

interface Case { name: string; config: ModelConfig; shape: [number, number, number]; batch: number; steps: number }

export const BACKEND_CASES = ['lenet5_b32_backends', 'resnet20_b4_backends'] as const;

function cases(quick: boolean): Case[] {
  return [
    { name: BACKEND_CASES[0], config: lenet5(), shape: [28, 28, 1], batch: 32, steps: quick ? 2 : 4 },
    { name: BACKEND_CASES[1], config: resnet20([32, 32, 3]), shape: [32, 32, 3], batch: 4, steps: 1 },
  ];
}

function dataset(c: Case): Dataset {
  const rng = new Rng(3), n = c.batch * c.steps;
  return { x: rng.array(n * c.shape[0] * c.shape[1] * c.shape[2], 0, 1), y: Int32Array.from({ length: n }, () => rng.int(0, 10)), shape: c.shape, classes: 10, name: c.name };
}

interface Peer { variant: string; model: Model }

async function peers(c: Case, tfjs: readonly string[]): Promise<Peer[]> {
  const make = async (backend: 'wasm' | 'tfjs', tfjsBackend?: string) => {
    const m = await quietly(() => Model.create(c.config, { seed: 1, backend, ...(tfjsBackend ? { tfjsBackend } : {}) }));
    m.compile({ optimizer: { type: 'sgd', lr: 0.01, momentum: 0.9 }, loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    return m;
  };
  const out: Peer[] = [{ variant: 'wasm', model: await make('wasm') }];
  for (const tb of tfjs) out.push({ variant: `tfjs-${tb}`, model: await make('tfjs', tb) });
  return out;
}

/** Examples per second of one fit over the case's data (its steps batches), as fit's own clock reports it. */
async function sample(p: Peer, ds: Dataset, batchSize: number): Promise<number> {
  const h = await p.model.fit(ds, { epochs: 1, batchSize, shuffle: true, seed: 2, verbose: 0 });
  return h.history.examples_per_s[0];
}

/** One row per case and backend: median examples/s, the device each backend reports in the note. */
export async function backendRows(o: BackendOptions): Promise<BenchRow[]> {
  const samples = o.samples ?? (o.quick ? 2 : 3), rows: BenchRow[] = [];
  for (const c of cases(o.quick).filter((k) => k.name.includes(o.filter))) {
    const ps = await peers(c, o.tfjs), ds = dataset(c);
    for (const p of ps) await sample(p, ds, c.batch); // warm-up: tfjs compiles its kernels, V8 tiers the wasm up
    const rates = ps.map(() => [] as number[]);
    for (let s = 0; s < samples; s++) for (const [i, p] of ps.entries()) rates[i].push(await sample(p, ds, c.batch));
    ps.forEach((p, i) => {
      const r: BenchRow = { bench: o.bench, case: c.name, peer: 'rede', variant: p.variant, threads: 1, metric: 'examples_per_s', value: median(rates[i]), unit: 'examples/s',
        note: `backend ${p.variant === 'wasm' ? 'wasm' : 'tfjs'}, ${p.model.backendInfo.device}` };
      rows.push(r);
      o.onRow?.(r);
    });
  }
  return rows;
}
