// rede train: build a model (zoo name or config JSON), fit it on a dataset with a live progress display,
// report held-out accuracy on the test split, and save it.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { RedeError } from '../../engine/errors';
import type { AugmentOptions } from '../../data/augment';
import { Model } from '../../api/model';
import type { OptimizerSpec } from '../../optim/optimizer';
import type { Schedule } from '../../optim/schedules';
import type { Callback, Logs, TrainContext } from '../../train/callbacks';
import { checkDistinct, checkWritable, count, firstN, type Io, loadData, modelConfig, num, parse } from '../common';
import { CSVLogger } from '../../train/csv-logger';
import { Progress, ProgressLogger } from '../../train/progress';
import { writeFileAtomic } from '../../io/atomic';
import { figure } from '../../viz/svg';
import type { History } from '../../train/trainer';
import { solverUsage, trainSolver } from './solver';
import { numelOf } from '../../layers/layer';
import { describeBackend } from '../../bridge/types';

/** Loss and accuracy per epoch, training and held-out, side by side. */
export function learningCurves(h: History, name: string): string {
  const x = h.epochs.map((e) => e + 1), hist = h.history;
  const series = (keys: [string, string][]) => keys.filter(([k]) => hist[k]).map(([k, label]) => ({ name: label, x, y: hist[k], markers: true }));
  const accuracy = series([['accuracy', 'training'], ['val_accuracy', 'held-out']]); // none for --target input
  return figure([
    { kind: 'line', title: 'loss', xLabel: 'epoch', xIntegers: true, series: series([['loss', 'training'], ['val_loss', 'held-out']]) },
    ...(accuracy.length ? [{ kind: 'line' as const, title: 'accuracy', xLabel: 'epoch', xIntegers: true, series: accuracy }] : []),
  ], { cols: accuracy.length ? 2 : 1, title: `${name}: learning curves` });
}

export const usage = `usage: rede train [options]

  --model NAME|FILE       zoo model (lenet5) or a model config .json        [lenet5]
  --data SPEC             mnist | fashion-mnist | a directory of IDX files   [mnist]
  --epochs N                                                                 [10]
  --batch-size B                                                             [32]
  --optimizer NAME        sgd | momentum | nesterov | rmsprop | adam | adamw [momentum]
  --lr X                  learning rate   [sgd 0.1, momentum/nesterov 0.02, rmsprop/adam/adamw 0.001]
  --momentum M            for momentum, nesterov and rmsprop                 [0.9 / 0.9 / 0]
  --clip-norm N           scale each step's gradients to a global L2 norm of at most N
  --schedule NAME         constant | cosine (to 0 over the run)             [cosine]
  --seed S                initialization, shuffling, augmentation            [1]
  --augment               mnist: ±2 px shifts, ±10° rotations, ±10% zooms; fashion-mnist: ±2 px shifts, flips
  --subset N              train on the first N training examples only
  --validation-split F    hold out this fraction of the training data for per-epoch validation
                          (default: validate on the test split)
  --out FILE              save the trained model (.rede)
  --workers N|auto        worker threads sharing each batch (auto: one per core)                  [1]
  --deterministic         the same weights for any worker count (fixed micro-shards)
  --backend NAME          wasm (rede's engine) | tfjs (TensorFlow.js: tfjs-node-gpu, tfjs-node or tfjs,
                          the first installed; docs/backends.md)                               [wasm]
  --tfjs-backend NAME     with --backend tfjs: tensorflow | wasm | cpu (default: the package's own)
  --plot FILE.svg         write the learning curves (loss and accuracy per epoch, train and held-out)
  --csv FILE.csv          one row per epoch (epoch from 0, loss, accuracy, val_loss, ...), written as it ends
  --target labels|input   what the model learns to output: the class labels, or its own input (an
                          autoencoder: the model's output size must equal its input's)          [labels]
  --loss NAME             sparse_categorical_crossentropy (labels) | mse | binary_crossentropy (on
                          logits; both for --target input)          [sparse_categorical_crossentropy]
${solverUsage}

Prints per-epoch lines (a live bar when stderr is a terminal) and the test accuracy at the end. Every output
path is checked before training; the model is saved first, so a plot or CSV that fails to write still
leaves it saved (the exit status is then 1, naming what failed).`;

const OPTIONS = {
  model: { type: 'string' }, data: { type: 'string' }, epochs: { type: 'string' }, 'batch-size': { type: 'string' },
  optimizer: { type: 'string' }, lr: { type: 'string' }, momentum: { type: 'string' }, schedule: { type: 'string' },
  seed: { type: 'string' }, augment: { type: 'boolean' }, subset: { type: 'string' }, 'validation-split': { type: 'string' },
  out: { type: 'string' }, workers: { type: 'string' }, deterministic: { type: 'boolean' }, plot: { type: 'string' },
  csv: { type: 'string' }, 'clip-norm': { type: 'string' }, loss: { type: 'string' }, target: { type: 'string' },
  solver: { type: 'string' }, 'snapshot-prefix': { type: 'string' }, 'max-iter': { type: 'string' },
  backend: { type: 'string' }, 'tfjs-backend': { type: 'string' },
} as const;

const LOSSES = { labels: ['sparse_categorical_crossentropy'], input: ['mse', 'binary_crossentropy'] } as const;
type Target = keyof typeof LOSSES;
type TrainLoss = (typeof LOSSES)[Target][number];

/** --target and --loss, checked together: labels take cross-entropy over classes, the input mse or BCE. */
export function lossAndTarget(loss: string | undefined, target: string | undefined): { loss: TrainLoss; target: Target } {
  const t = target ?? 'labels';
  if (t !== 'labels' && t !== 'input') throw new RedeError(`train: unknown --target '${t}' (expected labels or input)`);
  const l = loss ?? LOSSES[t][0];
  if (!(LOSSES[t] as readonly string[]).includes(l)) {
    const other: Target = t === 'labels' ? 'input' : 'labels';
    const hint = (LOSSES[other] as readonly string[]).includes(l) ? ` (--loss ${l} goes with --target ${other})` : '';
    throw new RedeError(`train: --loss '${l}' with --target ${t}: expected ${LOSSES[t].join(' or ')}${hint}`);
  }
  return { loss: l as TrainLoss, target: t };
}

const OPTIMIZER_NAMES = ['sgd', 'momentum', 'nesterov', 'rmsprop', 'adam', 'adamw'] as const;
type OptimizerName = (typeof OPTIMIZER_NAMES)[number];
const DEFAULT_LR: Record<OptimizerName, number> = { sgd: 0.1, momentum: 0.02, nesterov: 0.02, rmsprop: 0.001, adam: 0.001, adamw: 0.001 };

/** The CLI's optimizer names as optimizer configs: 'momentum' and 'nesterov' are SGD variants. */
export function optimizerSpec(name: string, lr: number | undefined, momentum: number | undefined, clipNorm?: number): OptimizerSpec {
  if (!(OPTIMIZER_NAMES as readonly string[]).includes(name)) {
    throw new RedeError(`train: unknown optimizer '${name}' (expected ${OPTIMIZER_NAMES.join(', ')})`);
  }
  const n = name as OptimizerName, rate = lr ?? DEFAULT_LR[n], clip = clipNorm === undefined ? {} : { clipNorm };
  switch (n) {
    case 'sgd': return { type: 'sgd', lr: rate, ...clip };
    case 'momentum': return { type: 'sgd', lr: rate, momentum: momentum ?? 0.9, ...clip };
    case 'nesterov': return { type: 'sgd', lr: rate, momentum: momentum ?? 0.9, nesterov: true, ...clip };
    case 'rmsprop': return { type: 'rmsprop', lr: rate, momentum: momentum ?? 0, ...clip };
    default: return { type: n, lr: rate, ...clip };
  }
}

/** --augment's transform: digits must not be mirrored, clothes may be. */
export function augmentFor(data: string): AugmentOptions {
  return data === 'fashion-mnist' ? { shift: 2, flip: true } : { shift: 2, rotation: 10, zoom: 0.1 };
}

function describe(spec: OptimizerSpec): string {
  if (typeof spec === 'string') return spec;
  const extra = spec.type === 'sgd' && spec.momentum ? ` momentum ${spec.momentum}${spec.nesterov ? ' nesterov' : ''}` : '';
  return `${spec.type}${extra} lr ${spec.lr}${spec.clipNorm ? ` clip-norm ${spec.clipNorm}` : ''}`;
}

/**
 * A file-writing callback (the CSV log: train begin and epoch ends) whose failures must not end a run that
 * has trained for hours: its first failure is kept, and the callback silenced, for train to report after
 * the model is saved.
 */
class Guarded implements Callback {
  failure: string | null = null;
  constructor(readonly cb: Callback, readonly what: string) {}
  private async run(f: () => void | Promise<void>): Promise<void> {
    if (this.failure !== null) return;
    try {
      await f();
    } catch (e) {
      this.failure = `${this.what} could not be written (${(e as Error).message})`;
    }
  }
  onTrainBegin(ctx: TrainContext) { return this.run(() => this.cb.onTrainBegin?.(ctx)); }
  onEpochEnd(epoch: number, logs: Logs, ctx: TrainContext) { return this.run(() => this.cb.onEpochEnd?.(epoch, logs, ctx)); }
}

/** fit's non-finite-loss error, read back for the hint: "fit: loss is NaN at epoch 2, step 5 (…)". */
const NON_FINITE = /^fit: loss is (\S+) at epoch (\d+), step (\d+)/;

/** Saves to --out, or, when that fails, to a fresh temporary directory: a trained model is not thrown away. */
async function saveModel(model: Model, out: string, io: Io, failures: string[]): Promise<string | null> {
  try {
    await model.save(out);
    io.stdout.write(`saved ${out}\n`);
    return out;
  } catch (e) {
    failures.push(`--out '${out}' could not be written (${(e as Error).message})`);
  }
  try {
    const fallback = join(mkdtempSync(join(tmpdir(), 'rede-')), basename(out));
    await model.save(fallback);
    io.stdout.write(`saved ${fallback} (instead of ${out})\n`);
    return fallback;
  } catch {
    return null;
  }
}

export async function train(argv: string[], io: Io): Promise<void> {
  const { values: v } = parse('train', argv, OPTIONS);
  if (v.help) { io.stdout.write(`${usage}\n`); return; }
  if (v.solver !== undefined) return trainSolver(v, io, augmentFor);
  for (const flag of ['snapshot-prefix', 'max-iter'] as const) if (v[flag] !== undefined) throw new RedeError(`train: --${flag} goes with --solver`);
  const epochs = num('train', 'epochs', v.epochs, 10, { int: true, min: 1 });
  let batchSize = num('train', 'batch-size', v['batch-size'], 32, { int: true, min: 1 });
  const seed = num('train', 'seed', v.seed, 1, { int: true, min: 0 });
  const lr = v.lr === undefined ? undefined : num('train', 'lr', v.lr, 0, { above: 0 });
  const momentum = v.momentum === undefined ? undefined : num('train', 'momentum', v.momentum, 0, { min: 0, max: 1 });
  const clipNorm = v['clip-norm'] === undefined ? undefined : num('train', 'clip-norm', v['clip-norm'], 0, { above: 0 });
  const subsetN = v.subset === undefined ? undefined : num('train', 'subset', v.subset, 0, { int: true, min: 1 });
  const split = v['validation-split'] === undefined ? undefined : num('train', 'validation-split', v['validation-split'], 0, { above: 0, max: 0.9 });
  const schedule = v.schedule ?? 'cosine';
  if (schedule !== 'cosine' && schedule !== 'constant') throw new RedeError(`train: unknown schedule '${schedule}' (expected constant or cosine)`);
  const optimizer = optimizerSpec(v.optimizer ?? 'momentum', lr, momentum, clipNorm);
  const { loss, target } = lossAndTarget(v.loss, v.target);
  const onInput = target === 'input';
  if (onInput && v.augment) throw new RedeError('train: --augment changes the input but not the target; it is not available with --target input');
  const dataSpec = v.data ?? 'mnist';
  const workers = v.workers === undefined || v.workers === 'auto' ? (v.workers ?? 1) as number | 'auto'
    : num('train', 'workers', v.workers, 1, { int: true, min: 1 });
  const backend = v.backend ?? 'wasm';
  if (backend !== 'wasm' && backend !== 'tfjs') throw new RedeError(`train: unknown --backend '${backend}' (expected wasm or tfjs)`);
  if (v['tfjs-backend'] !== undefined && backend !== 'tfjs') throw new RedeError('train: --tfjs-backend needs --backend tfjs');
  if (backend === 'tfjs' && (v.workers !== undefined || v.deterministic)) throw new RedeError('train: --workers and --deterministic are the wasm engine\'s; --backend tfjs runs on one tfjs device');
  if (v.plot && !v.plot.endsWith('.svg')) throw new RedeError(`train: --plot writes SVG; give a file name ending in .svg, got '${v.plot}'`);
  // Every write target, before any data is read: a typo must not cost a training run.
  const targets: [string, string | undefined][] = [['out', v.out], ['plot', v.plot], ['csv', v.csv]];
  for (const [flag, path] of targets) if (path !== undefined) checkWritable('train', flag, path);
  checkDistinct('train', targets);

  const data = await loadData('train', dataSpec, 'train');
  const trainSet = firstN('train', data.train!, subsetN);
  const config = modelConfig('train', v.model ?? 'lenet5', trainSet.shape, trainSet.classes);
  const model = await Model.create(config, { seed, backend, ...(v['tfjs-backend'] ? { tfjsBackend: v['tfjs-backend'] } : {}) });
  const inSize = numelOf(model.inputShape), outSize = numelOf(model.outputShape);
  if (onInput && outSize !== inSize) {
    throw new RedeError(`train: --target input needs an output as large as the input, got output [${model.outputShape.join(', ')}] (${count(outSize)} values) for input [${model.inputShape.join(', ')}] (${count(inSize)})`);
  }
  const info = model.backendInfo;
  // The wasm engine is named in the header line below; tfjs's package, backend and device get a line of their own.
  if (backend === 'tfjs') io.stderr.write(`backend: ${describeBackend(info)}\n`);
  const nTrain = split ? trainSet.y.length - Math.floor(trainSet.y.length * split) : trainSet.y.length;
  if (batchSize > nTrain) {
    io.stderr.write(`train: --batch-size ${count(batchSize)} is more than the ${count(nTrain)} training examples; using ${count(nTrain)}\n`);
    batchSize = nTrain;
  }
  const batches = Math.ceil(nTrain / batchSize);
  const sched: Schedule | undefined = schedule === 'cosine' ? { type: 'cosine', totalSteps: epochs * batches } : undefined;
  model.compile({ optimizer, loss, metrics: onInput ? [] : ['accuracy'], schedule: sched });
  const augment = v.augment ? augmentFor(dataSpec) : undefined;
  const validation = split ? undefined : data.test ?? undefined;

  io.stderr.write(`${config.name ?? 'model'} (${count(model.paramCount)} parameters, engine ${backend === 'tfjs' ? `tfjs ${info.tfjsBackend}` : model.e.variant}) on ${trainSet.name ?? dataSpec}: ` +
    `${count(nTrain)} training examples${split ? `, ${count(trainSet.y.length - nTrain)} held out for validation` : ''}; ` +
    `${onInput ? `target: the input, ${loss}; ` : ''}${describe(optimizer)}${sched ? ' cosine' : ''}, batch ${batchSize}, ${epochs} epochs, seed ${seed}${augment ? ', augmented' : ''}\n`);

  // No SIGINT handler: fit never yields to the event loop, so one would only delay Ctrl-C to the end.
  const progress = new Progress(io.stderr);
  const csv = v.csv ? new Guarded(new CSVLogger(v.csv), `--csv '${v.csv}'`) : null;
  const callbacks: Callback[] = [new ProgressLogger(progress, epochs), ...(csv ? [csv] : [])];
  let history;
  try {
    const o = { epochs, batchSize, seed, augment, validationSplit: split, workers, deterministic: v.deterministic, callbacks, verbose: 0 as const };
    history = onInput // an autoencoder: the target is the input
      ? await model.fit(trainSet.x, trainSet.x, { ...o, validationData: validation ? [validation.x, validation.x] : undefined })
      : await model.fit(trainSet, { ...o, validationData: validation });
  } catch (e) {
    const m = e instanceof RedeError ? NON_FINITE.exec(e.message) : null;
    if (!m) throw e;
    const rate = typeof optimizer === 'string' ? '' : ` (currently ${optimizer.lr}${sched ? ', cosine-scheduled' : ''})`;
    const clip = clipNorm === undefined ? 'or clip gradients with --clip-norm (e.g. --clip-norm 1)' : `or a smaller --clip-norm (currently ${clipNorm})`;
    throw new RedeError(`train: the loss became ${m[1]} at epoch ${m[2]} batch ${m[3]} (of ${batches}); try a lower --lr${rate}, ${clip}; nothing was saved`);
  } finally {
    progress.clear();
  }

  // The model first: whatever fails after this, the training is not lost.
  const failures: string[] = [];
  const saved = v.out ? await saveModel(model, v.out, io, failures) : null;
  if (csv?.failure) failures.push(csv.failure);
  if (v.plot) {
    try {
      await writeFileAtomic(v.plot, new TextEncoder().encode(learningCurves(history, config.name ?? 'model')));
      io.stdout.write(`plotted ${v.plot}\n`);
    } catch (e) {
      failures.push(`--plot '${v.plot}' could not be written (${(e as Error).message})`);
    }
  }
  if (v.csv && !csv?.failure) io.stdout.write(`logged ${v.csv}\n`);

  if (data.test && onInput) {
    const t = model.evaluate(data.test.x, data.test.x, { batchSize: Math.max(batchSize, 128) });
    io.stdout.write(`test ${loss} ${t.loss.toFixed(5)}  (reconstructing ${count(data.test.y.length)} examples of ${data.test.name ?? dataSpec})\n`);
  } else if (data.test) {
    const t = model.evaluate(data.test, undefined, { batchSize: Math.max(batchSize, 128) });
    io.stdout.write(`test accuracy ${t.accuracy.toFixed(4)}  loss ${t.loss.toFixed(4)}  (${count(data.test.y.length)} examples of ${data.test.name ?? dataSpec})\n`);
  } else {
    io.stderr.write(`no test split in ${dataSpec}: held-out accuracy not measured\n`);
  }
  if (failures.length) {
    const kept = saved ? `the trained model was saved to '${saved}'` : v.out ? 'the trained model could not be saved anywhere' : 'the trained model was not saved (no --out)';
    throw new RedeError(`train: ${failures.join('; ')}; ${kept}`);
  }
}
