// A custom training loop's step: chained networks (an encoder into a decoder; a GAN's generator through its
// frozen discriminator), each with its own optimizer or frozen, one loss per output of the last — trained one
// batch at a time by user code, in this thread or across workers, through the same step contract as fit.
//
//   const step = await trainStep({ nets: [encoder, decoder], optimizer: 'adam', loss: 'mse', batchSize: 64, workers: 2 });
//   for (...) { const { loss } = await step.run(x, x); }      // an autoencoder: the target is the input
//   await step.close();
//
// With workers the session keeps the group's copy of the weights in step with the networks: each run()
// pushes the networks' weights into the group first and pulls them back after, so two sessions that share a
// network (a GAN's discriminator step and generator step) see each other's updates.
import { RedeError } from '../engine/errors';
import { checkOptions } from '../engine/options';
import { MemoryPlan } from '../engine/plan';
import { numelOf } from '../layers/layer';
import type { Network } from '../model/network';
import { Optimizer, type OptimizerSpec } from '../optim/optimizer';
import type { LossSpec } from '../train/loss';
import { Objective } from '../train/objective';
import { StepProgram, type Link } from '../train/program';
import { arraySource, type Labels } from '../train/source';
import type { StepExecutor, StepResult } from '../train/step';
import { ThreadStep } from '../train/thread-step';

export interface TrainStepOptions {
  /** The chain, first to last; a bare network trains with `optimizer`, `{ net, trainable: false }` is frozen. */
  nets: (Network | { net: Network; optimizer?: OptimizerSpec; trainable?: boolean })[];
  /** The default optimizer of the trainable networks. */
  optimizer?: OptimizerSpec;
  /** One loss for every output of the last network, or one per output; lossWeights as in compile. */
  loss: LossSpec | LossSpec[];
  lossWeights?: number[];
  /** The largest batch run() will be given. */
  batchSize: number;
  /** Worker threads sharing each batch (default 1); deterministic and microShards as in fit. */
  workers?: number;
  deterministic?: boolean;
  microShards?: number;
  /** Fixes dropout masks (default: the first network's seed). */
  seed?: number;
}

const KEYS = ['nets', 'optimizer', 'loss', 'lossWeights', 'batchSize', 'workers', 'deterministic', 'microShards', 'seed'];

export interface TrainStepSession {
  readonly program: StepProgram;
  readonly workers: number;
  /** One step on this batch: x rows for the first network, labels (i32) or targets (f32) for the last. */
  run(x: Float32Array, y: Labels, o?: { lr?: number[] }): Promise<StepResult>;
  /** Releases the worker threads (a no-op on one thread). */
  close(): Promise<void>;
}

export async function trainStep(options: TrainStepOptions): Promise<TrainStepSession> {
  const o = checkOptions<TrainStepOptions>('trainStep', options, KEYS, { batch_size: 'batchSize', loss_weights: 'lossWeights' });
  if (!Array.isArray(o.nets) || o.nets.length === 0) throw new RedeError('trainStep: nets must be a non-empty list of networks');
  const B = o.batchSize;
  if (!Number.isInteger(B) || B < 1) throw new RedeError(`trainStep: batchSize must be a positive integer, got ${B}`);
  const links: Link[] = o.nets.map((entry, i) => {
    const { net, optimizer, trainable } = 'net' in entry ? entry : { net: entry, optimizer: undefined, trainable: true };
    if (trainable === false) return { net, opt: null };
    const spec = optimizer ?? o.optimizer;
    if (spec === undefined) throw new RedeError(`trainStep: network ${i} is trainable but has no optimizer (give optimizer, or trainable: false)`);
    const opt = new Optimizer(spec), plan = new MemoryPlan();
    opt.checkEntries(net.entries);
    plan.f32('opt', Math.max(1, opt.slots) * net.paramFloats, 'optimizer');
    const state = net.e.allocate(plan, `optimizer state of network ${i}`).ptr.opt;
    net.e.k.fill_f32(state, opt.slots * net.paramFloats, 0);
    return { net, opt: { optimizer: opt, state } };
  });
  const last = links[links.length - 1].net;
  const program = new StepProgram(links, new Objective(last.outputs.length, o.loss, o.lossWeights));
  const seed = o.seed ?? links[0].net.seed;
  const workers = o.workers ?? 1;
  if (!Number.isInteger(workers) || workers < 1) throw new RedeError(`trainStep: workers must be a positive integer, got ${workers}`);

  // The batch is staged where every executor reads it: shared memory when workers assemble their shards.
  const per = numelOf(program.first.inputShape), cols = numelOf(last.outputShape), sparse = program.objective.sparse;
  const grouped = workers > 1 || (o.deterministic ?? false);
  const buffer = (bytes: number) => (grouped ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  const xs = new Float32Array(buffer(4 * B * per));
  const ys: Labels = sparse ? new Int32Array(buffer(4 * B)) : new Float32Array(buffer(4 * B * cols));
  const source = arraySource(xs, ys, per, sparse ? 1 : cols, { batchSize: B, seed, shuffle: false, keepLast: true });

  let exec: StepExecutor;
  if (grouped) {
    const { canShareMemory, NO_SHARED_MEMORY } = await import('../parallel/fallback');
    if (!canShareMemory()) throw new RedeError(`trainStep: ${workers} workers asked, but ${NO_SHARED_MEMORY}`);
    const [{ WorkerGroup }, { GroupStep }] = await Promise.all([import('../parallel/group'), import('../parallel/group-step')]);
    exec = new GroupStep(await WorkerGroup.create(program, { workers, batchSize: B, deterministic: o.deterministic, microShards: o.microShards }), program);
  } else {
    exec = new ThreadStep(program, () => seed);
  }
  await exec.begin({ x: xs, y: ys, source, batchSize: B, seed, shuffle: false });
  let step = 0, closed = false;

  return {
    program, workers,
    async run(x, y, ro = {}) {
      if (closed) throw new RedeError('trainStep: run() after close()');
      const b = program.first.batchOf(x, 'x');
      if (b > B) throw new RedeError(`trainStep: a batch of ${b} examples, the session was made for at most ${B} (batchSize)`);
      if (sparse !== y instanceof Int32Array) throw new RedeError(`trainStep: the loss needs ${sparse ? 'integer labels (Int32Array)' : 'float targets (Float32Array)'}, got ${y?.constructor?.name}`);
      const yPer = sparse ? 1 : cols;
      if (y.length !== b * yPer) throw new RedeError(`trainStep: y has ${y.length} values, expected ${b * yPer} (${b} examples × ${yPer})`);
      for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) throw new RedeError(`trainStep: x value ${i} (example ${Math.floor(i / per)}) is ${x[i]}`);
      if (sparse) for (let i = 0; i < b; i++) if (!(y[i] >= 0 && y[i] < cols)) throw new RedeError(`trainStep: label of example ${i} is ${y[i]}, expected an integer in [0, ${cols})`);
      xs.set(x); (ys as Float32Array | Int32Array).set(y as never);
      const lrs = ro.lr ?? links.map((l) => l.opt?.optimizer.lr ?? 0);
      exec.push();
      const r = await exec.run({ epoch: 0, batch: 0, length: b, step: step++, lrs });
      exec.pull();
      return r;
    },
    async close() {
      if (closed) return;
      closed = true;
      await exec.end().catch(() => {});
      await exec.close();
    },
  };
}
