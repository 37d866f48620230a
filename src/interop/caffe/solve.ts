// Solver.fromFile(path).train(): a Caffe solver run as Caffe's Solver::Solve runs it, iteration by iteration:
//   for iter in 0 .. max_iter−1:
//     test every test_interval iterations (at 0 too unless test_initialization: false)
//     one forward/backward on the next batch; print the loss (averaged over average_loss) every display
//     update with lr = policy(iter); after the update iter+1; snapshot every `snapshot` iterations
//   snapshot at the end (snapshot_after_train) and test once more when max_iter is a multiple of test_interval.
// The batches are the training set in a seeded shuffled order, epoch after epoch (Caffe reads its database in
// stored order: the shuffle replaces convert_mnist_data's fixed order). A test covers test_iter × the test
// batch size examples, at most the whole test set once.
import { RedeError } from '../../engine/errors';
import type { Engine } from '../../engine/engine';
import { Batcher } from '../../data/batcher';
import type { AugmentOptions } from '../../data/augment';
import { type Dataset, numExamples, subset } from '../../data/dataset';
import { Model } from '../../api/model';
import { trainStep } from '../../api/train-step';
import type { LayerConfig } from '../../model/config';
import { weightName } from '../../model/weights';
import { learningRate, type Schedule } from '../../optim/schedules';
import type { OptimizerConfig, OptimizerCommon } from '../../optim/optimizer';
import { caffeTransform, dataSpecFor, loadSpec } from './data';
import { netToConfig, parseNet, type CaffeNetSpec, type ConvertedNet } from './net';
import { parseSolver, solverOptimizer, solverSchedule, solverSeed, type CaffeSolver } from './solver';

/** Files larger than this are no prototxt (bounded reads of untrusted paths). */
const MAX_FILE = 64 * 2 ** 20;

// Node's fs and path are imported when a file is read, so that the browser bundle loads without them.
const nodeFs = () => import('node:fs');
const nodePath = () => import('node:path');

async function readText(path: string, what: string): Promise<string> {
  const { readFileSync } = await nodeFs();
  let text: Buffer;
  try {
    text = readFileSync(path);
  } catch (e) {
    throw new RedeError(`${what} '${path}' could not be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (text.length > MAX_FILE) throw new RedeError(`${what} '${path}': ${text.length} bytes, a prototxt may be at most ${MAX_FILE}`);
  return text.toString('utf8');
}

export interface SolverRunOptions {
  /** Overrides random_seed (and its absence: default 1). */
  seed?: number;
  /** Where snapshots go instead of snapshot_prefix ('' or null: no snapshots). */
  snapshotPrefix?: string | null;
  /** Fewer iterations than max_iter (the schedule still uses max_iter, as poly's end). */
  maxIter?: number;
  /** Augments the training batches (rede's, not Caffe's: Caffe's transform has only mirror and crop). */
  augment?: AugmentOptions;
  /** One line per display / test / snapshot, as Caffe's log. */
  log?: (line: string) => void;
  engine?: Engine;
}

export interface SolverRun {
  model: Model;
  /** Display lines: the smoothed loss at each display iteration. */
  losses: { iter: number; loss: number; lr: number }[];
  tests: { iter: number; accuracy?: number; loss: number; examples: number }[];
  snapshots: string[];
  seconds: number;
}

export class Solver {
  private constructor(readonly solver: CaffeSolver, readonly net: CaffeNetSpec, readonly netPath: string) {}

  /**
   * A solver file (prototxt or JSON) and the net it names. `net` is resolved as Caffe does (from the current
   * directory), then in the solver's directory, then as the bare file name there, so Caffe's own
   * examples/mnist/lenet_solver.prototxt finds its net wherever the pair is copied.
   */
  static async fromFile(path: string, o: { net?: string } = {}): Promise<Solver> {
    const solver = parseSolver(await readText(path, 'solver'), path);
    const netPath = o.net ?? await resolveNet(solver, path);
    return new Solver(solver, parseNet(await readText(netPath, 'net'), netPath), netPath);
  }

  /** From texts already read (tests, browsers): `netSource` names the net in errors. */
  static fromText(solverText: string, netText: string, o: { source?: string; netSource?: string } = {}): Solver {
    const solver = parseSolver(solverText, o.source ?? 'solver');
    const netSource = o.netSource ?? solver.net ?? 'net';
    return new Solver(solver, parseNet(netText, netSource), netSource);
  }

  get schedule(): Schedule { return solverSchedule(this.solver); }
  /** The solver's optimizer without a net's per-parameter multipliers (convert() gives it with them). */
  get optimizer(): OptimizerConfig & OptimizerCommon { return solverOptimizer(this.solver); }

  /** The data the net's data layers name (see data.ts), or `spec` when given. */
  async loadData(spec?: string): Promise<{ train: Dataset; test: Dataset | null; why: string }> {
    const choice = spec !== undefined ? { spec, why: spec } : await dataSpecFor(this.net.train!, this.netPath);
    if (spec === undefined && this.net.test?.source !== undefined && this.net.test.source !== this.net.train!.source) {
      // The test layer's source must map to the same data (its test split).
      const t = await dataSpecFor(this.net.test, this.netPath);
      if (t.spec !== choice.spec) throw new RedeError(`${this.netPath}: the TRAIN data maps to ${choice.why} but the TEST data to ${t.why}; give the data explicitly`);
    }
    const { train, test } = await loadSpec(choice.spec);
    const where = this.netPath;
    return { train: caffeTransform(train, this.net.train!, where), test: test && caffeTransform(test, this.net.test ?? this.net.train!, where), why: choice.why };
  }

  /**
   * The rede config of the net for inputs of `shape`, with the solver's weight decay on its weighted layers
   * (weight_decay × the weights' decay_mult as the layer's l2 or l1, so a saved model states it), and the
   * solver's optimizer with Caffe's per-tensor multipliers (optimizerFor).
   */
  convert(shape: readonly number[]): ConvertedNet & { optimizer: OptimizerConfig & OptimizerCommon } {
    const c = netToConfig(this.net, shape), s = this.solver;
    if (s.weight_decay > 0) {
      for (const layer of c.config.layers as (LayerConfig & { l1?: number; l2?: number })[]) {
        const mult = c.params.get(weightName(layer.name!, 'w'))?.decayMult;
        if (mult === undefined || mult === 0) continue;
        layer[s.regularization_type === 'L1' ? 'l1' : 'l2'] = s.weight_decay * mult;
      }
    }
    const optimizer = solverOptimizer(s, c.params);
    if (s.type !== 'SGD' && s.type !== 'Nesterov' && [...c.params.values()].some((p) => p.lrMult !== 1)) {
      c.notes.push(`lr_mult: applied with SGD and Nesterov only (their updates are linear in the gradient); with ${s.type} every tensor uses base_lr`);
    }
    return { ...c, optimizer };
  }

  /** Runs the solver on `data` (see the file comment); returns the trained model and the log. */
  async train(data: { train: Dataset; test: Dataset | null }, o: SolverRunOptions = {}): Promise<SolverRun> {
    const s = this.solver, log = o.log ?? (() => {});
    const seed = o.seed ?? solverSeed(s, 1);
    const maxIter = o.maxIter ?? s.max_iter;
    if (!Number.isInteger(maxIter) || maxIter < 1) throw new RedeError(`solver: maxIter must be a positive integer, got ${maxIter}`);
    const batch = this.net.train!.batchSize ?? (() => { throw new RedeError(`${this.netPath}: the TRAIN data layer '${this.net.train!.layer}' states no batch_size`); })();
    const n = numExamples(data.train);
    if (batch > n) throw new RedeError(`${this.netPath}: batch_size ${batch} is more than the ${n} training examples`);
    const conv = this.convert(data.train.shape);
    const schedule = this.schedule, optimizer = conv.optimizer;
    const prefix = o.snapshotPrefix === undefined ? s.snapshot_prefix : o.snapshotPrefix || undefined;
    const snapshotting = prefix !== undefined && (s.snapshot > 0 || s.snapshot_after_train);
    if (snapshotting) {
      const [{ mkdirSync }, { dirname }] = await Promise.all([nodeFs(), nodePath()]);
      mkdirSync(dirname(prefix) || '.', { recursive: true });
    }

    const model = await Model.create(conv.config, { seed, ...(o.engine ? { engine: o.engine } : {}) });
    // compile() only for evaluate (loss and metrics); the steps are the trainStep session's, with the solver's optimizer.
    model.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy', metrics: conv.metrics.length ? conv.metrics : ['accuracy'] });
    const step = await trainStep({ nets: [model], optimizer, loss: 'sparse_categorical_crossentropy', batchSize: batch, seed });
    const batcher = new Batcher(data.train, { batchSize: batch, seed, shuffle: true, augment: o.augment ?? (this.net.train!.mirror ? { flip: true } : undefined) });
    const per = data.train.x.length / n, xs = new Float32Array(batch * per), ys = new Int32Array(batch);
    const testBatch = this.net.test?.batchSize ?? batch;
    const testSet = data.test && (s.test_iter.length ? subset(data.test, 0, Math.min(numExamples(data.test), s.test_iter[0] * testBatch)) : data.test);
    const run: SolverRun = { model, losses: [], tests: [], snapshots: [], seconds: 0 };
    const t0 = performance.now();
    const test = (iter: number) => {
      if (!testSet || s.test_interval === 0) return;
      const r = model.evaluate(testSet, undefined, { batchSize: Math.max(testBatch, 100) });
      run.tests.push({ iter, accuracy: r.accuracy, loss: r.loss, examples: numExamples(testSet) });
      log(`Iteration ${iter}, Testing net: ${conv.metrics.length ? `accuracy = ${r.accuracy.toFixed(4)}, ` : ''}loss = ${r.loss.toFixed(6)} (${numExamples(testSet)} examples)`);
    };
    const snapshot = async (iter: number) => {
      if (prefix === undefined) return;
      const path = `${prefix}_iter_${iter}.rede`;
      await model.save(path);
      run.snapshots.push(path);
      log(`Snapshotting to ${path}`);
    };
    const recent: number[] = [];
    try {
      for (let iter = 0; iter < maxIter; iter++) {
        if (s.test_interval > 0 && iter % s.test_interval === 0 && (iter > 0 || s.test_initialization)) test(iter);
        const epoch = Math.floor(iter / batcher.batchesPerEpoch), b = iter % batcher.batchesPerEpoch;
        batcher.fill(epoch, b, xs, ys);
        const lr = learningRate(s.base_lr, schedule, iter, epoch);
        if (!(lr >= 0) || !Number.isFinite(Math.fround(lr))) throw new RedeError(`solver: the learning rate at iteration ${iter} is ${lr} (lr_policy "${s.lr_policy}")`);
        const r = await step.run(xs, ys, { lr: [lr] });
        if (r.skipped) throw new RedeError(`solver: the loss is ${r.loss} at iteration ${iter}; try a lower base_lr (currently ${s.base_lr})`);
        recent.push(r.loss);
        if (recent.length > s.average_loss) recent.shift();
        if (s.display > 0 && iter % s.display === 0) {
          const loss = recent.reduce((a, v) => a + v, 0) / recent.length;
          run.losses.push({ iter, loss, lr });
          log(`Iteration ${iter}, loss = ${loss.toFixed(6)}, lr = ${Number(lr.toPrecision(6))}`);
        }
        if (s.snapshot > 0 && (iter + 1) % s.snapshot === 0) await snapshot(iter + 1);
      }
      if (s.snapshot_after_train && !(s.snapshot > 0 && maxIter % s.snapshot === 0)) await snapshot(maxIter);
      if (s.test_interval > 0 && maxIter % s.test_interval === 0) test(maxIter);
    } finally {
      await step.close();
    }
    run.seconds = (performance.now() - t0) / 1000;
    log(`Optimization Done (${run.seconds.toFixed(1)} s)`);
    return run;
  }
}

async function resolveNet(s: CaffeSolver, solverPath: string): Promise<string> {
  const [{ existsSync }, { basename, dirname, join }] = await Promise.all([nodeFs(), nodePath()]);
  if (s.net === undefined) throw new RedeError(`${solverPath}: solver: net is required (the net prototxt; train_net/test_net are not read)`);
  const here = dirname(solverPath);
  for (const p of [s.net, join(here, s.net), join(here, basename(s.net))]) if (existsSync(p)) return p;
  throw new RedeError(`${solverPath}: solver net '${s.net}' was found neither from the current directory nor in ${here}/`);
}
