// fit with workers: the same loop as Trainer.fit (epochs, schedules, callbacks, validation, history), with
// each step run by the worker group. The group keeps its own copy of the weights and optimizer state in
// shared memory: they are copied in when fit starts, out at every epoch end (before validation and the
// epoch callbacks, which see the model as usual) and when fit ends. During an epoch, TrainContext.snapshot
// and restore reach the live weights. If a worker fails, fit rejects with its error and the model keeps the
// weights of the last completed epoch.
import type { Dataset } from '../data/dataset';
import { RedeError } from '../engine/errors';
import { learningRate } from '../optim/schedules';
import type { Logs, TrainContext } from '../train/callbacks';
import type { Labels } from '../train/source';
import { splitOff, type FitOptions, type History, type Trainer } from '../train/trainer';
import { NO_SHARED_MEMORY, canShareMemory, warnSingleThreaded } from './fallback';
import { WorkerGroup } from './group';
import type { DataSpec } from './worker';
import { coreCount } from './worker-api';

const groups = new WeakMap<Trainer, WorkerGroup>();

/** The worker count fit uses: 'auto' is one per core; never more workers than examples in a batch, nor than micro-shards. */
export async function resolveWorkers(req: number | 'auto', batchSize: number, examples: number, deterministic: boolean, microShards = 8): Promise<number> {
  if (req !== 'auto' && (!Number.isInteger(req) || req < 1)) throw new RedeError(`fit: workers must be a positive integer or 'auto', got ${req}`);
  const want = req === 'auto' ? await coreCount() : req;
  return Math.max(1, Math.min(want, batchSize, examples, deterministic ? microShards : Infinity));
}

/** The trainer's worker group for these settings: the cached one when it fits, else a new one. */
export async function groupFor(trainer: Trainer, o: { workers: number; batchSize: number; deterministic: boolean; microShards?: number; maxBytes?: number }): Promise<WorkerGroup> {
  const old = groups.get(trainer);
  const shards = o.deterministic ? (o.microShards ?? 8) : o.workers;
  if (old && !old.dead && old.spec.workers === o.workers && old.spec.shards === shards && old.deterministic === o.deterministic &&
    old.spec.capacity >= Math.ceil(o.batchSize / shards)) return old;
  groups.delete(trainer);
  if (old) await old.close();
  const g = await WorkerGroup.create(trainer, { workers: o.workers, batchSize: o.batchSize, deterministic: o.deterministic, microShards: o.microShards, maxBytes: o.maxBytes });
  groups.set(trainer, g);
  return g;
}

/** Terminates the trainer's worker group, if any (idle workers never keep Node alive, so this is optional). */
export async function closeWorkers(trainer: Trainer): Promise<void> {
  const g = groups.get(trainer);
  groups.delete(trainer);
  await g?.close();
}

/** The group fit last used on this trainer (benchmarks read its per-worker times). */
export const workerGroupOf = (trainer: Trainer): WorkerGroup | undefined => groups.get(trainer);

/** A typed array over a SharedArrayBuffer (the same one when it already is): sent once to every worker. */
function shared<T extends Float32Array | Int32Array>(a: T): T {
  if (typeof SharedArrayBuffer !== 'undefined' && a.buffer instanceof SharedArrayBuffer) return a;
  const copy = new (a.constructor as { new(b: SharedArrayBuffer): T })(new SharedArrayBuffer(a.byteLength));
  copy.set(a);
  return copy;
}

/** The training data as the workers receive it: shared copies (made once per fit) and their layout. */
export function shareData(trainer: Trainer, x: Dataset | Float32Array, y: Labels | undefined): DataSpec {
  const m = trainer.model;
  if (!(x instanceof Float32Array)) return { kind: 'dataset', x: shared(x.x), y: shared(x.y), shape: x.shape, classes: x.classes };
  const n = m.batchOf(x, 'x');
  return { kind: 'arrays', x: shared(x), y: shared(y!), per: x.length / n, yPer: y!.length / n };
}

export async function fitParallel(trainer: Trainer, x: Dataset | Float32Array, y: Labels | undefined, o: FitOptions): Promise<History> {
  const m = trainer.model, req = o.workers ?? 1;
  if (!canShareMemory()) {
    warnSingleThreaded(req, NO_SHARED_MEMORY);
    return trainer.fit(x, y, { ...o, workers: 1, deterministic: false });
  }
  const epochs = o.epochs ?? 1, batchSize = o.batchSize ?? 32, seed = o.seed ?? m.seed;
  if (!Number.isInteger(epochs) || epochs < 0) throw new RedeError(`fit: epochs must be a non-negative integer, got ${epochs}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RedeError(`fit: batchSize must be a positive integer, got ${batchSize}`);
  let val = o.validationData;
  if (o.validationSplit) [x, y, val] = splitOff(x, y, o.validationSplit, m);
  const src = trainer.source(x, y, batchSize, seed, o.shuffle ?? true, o.augment, true); // checks x and y
  if (src.batchesPerEpoch === 0) throw new RedeError('fit: no training examples');
  const deterministic = o.deterministic ?? false;
  const W = await resolveWorkers(req, batchSize, src.count, deterministic, o.microShards);
  if (W === 1 && !deterministic) return trainer.fit(x, y, { ...o, workers: 1, validationSplit: undefined, validationData: val });
  trainer.seed = seed;
  const group = await groupFor(trainer, { workers: W, batchSize, deterministic, microShards: o.microShards });
  group.push(m, trainer);

  const history: History = { epochs: [], history: {} };
  let stopped = false;
  const ctx: TrainContext = {
    stop: () => { stopped = true; },
    snapshot: () => group.weights(),
    restore: (w) => { group.e.write(group.base.params, w); m.e.write(m.params, w); },
    save: async (path) => { group.pull(m, trainer); await m.save(path); },
    epochs, batchesPerEpoch: src.batchesPerEpoch,
  };
  const cbs = o.callbacks ?? [];
  const accuracy = trainer.loss.sparse && trainer.metrics.includes('accuracy');
  try {
    await group.begin(shareData(trainer, x, y), { batchSize, seed, shuffle: o.shuffle ?? true, augment: o.augment });
    for (const c of cbs) await c.onTrainBegin?.(ctx);
    const first = o.initialEpoch ?? 0;
    trainer.step = first * src.batchesPerEpoch;
    for (let epoch = first; epoch < epochs && !stopped; epoch++) {
      for (const c of cbs) await c.onEpochBegin?.(epoch, ctx);
      const t0 = now();
      let lossSum = 0, seen = 0, correct = 0;
      for (let bi = 0; bi < src.batchesPerEpoch; bi++) {
        const b = src.batchLength(bi);
        const lr = learningRate(trainer.optimizer.lr, trainer.schedule, trainer.step, epoch);
        const r = await group.step(epoch, bi, b, trainer.step, lr, trainer.optimizer.t + 1);
        if (r.skipped || !Number.isFinite(r.loss)) {
          if (o.onNonFinite === 'skip') { trainer.step++; continue; }
          throw new RedeError(`fit: loss is ${r.loss} at epoch ${epoch + 1}, step ${bi + 1} (global step ${trainer.step}); weights are those before this step`);
        }
        trainer.optimizer.t++;
        lossSum += r.loss * b; seen += b; correct += r.correct;
        trainer.step++;
        const logs: Logs = { loss: r.loss, lr };
        for (const c of cbs) await c.onBatchEnd?.(trainer.step, logs, ctx);
      }
      const secs = (now() - t0) / 1000;
      group.pull(m, trainer);
      const logs = trainer.endEpoch(epoch, { lossSum, seen, correct, seconds: secs }, val, batchSize, history);
      for (const c of cbs) await c.onEpochEnd?.(epoch, logs, ctx);
      group.push(m, trainer); // the epoch callbacks may have changed the model's weights
    }
    await group.end();
    group.pull(m, trainer);
  } catch (err) {
    if (group.dead) {
      groups.delete(trainer);
      await group.close();
    } else {
      await group.end().catch(() => {});
      group.pull(m, trainer);
    }
    throw err;
  }
  for (const c of cbs) await c.onTrainEnd?.({}, ctx);
  return history;
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());
