// The Keras-shaped facade: a Network that can be compiled, fitted, evaluated, asked to predict and saved. It
// sits above src/train (the step program, the executors' contract, the one epoch loop) and src/parallel (the
// worker group), and picks the executor: this thread, or the worker group when fit asks for workers.
import { Engine } from '../engine/engine';
import { RedeError } from '../engine/errors';
import type { Dataset } from '../data/dataset';
import type { ModelConfig } from '../model/config';
import { Network, type NetworkOptions } from '../model/network';
import type { Logs } from '../train/callbacks';
import { fitLoop } from '../train/loop';
import type { Labels } from '../train/source';
import type { StepExecutor, TrainData } from '../train/step';
import { ThreadStep } from '../train/thread-step';
import { Trainer, predict, splitOff, type CompileOptions, type FitOptions, type History } from '../train/trainer';
import { decodeModel, encodeModel, loadModel, saveModel } from './persist';

export type ModelOptions = NetworkOptions;

export class Model extends Network {
  /** What compile() made (optimizer and its state, objective, counters); null before compile. */
  trainer: (Trainer & { options: CompileOptions }) | null = null;

  static async create(config: ModelConfig, opts: ModelOptions = {}): Promise<Model> {
    const e = opts.engine ?? (await Engine.create());
    return new Model(config, e, opts.seed ?? 0, Network.allocator(e, 1));
  }

  /** Chooses optimizer, loss(es) and metrics; allocates (zeroed) optimizer state. */
  compile(o: CompileOptions): this {
    this.trainer = Object.assign(new Trainer(this, o), { options: o });
    return this;
  }
  private compiled(what: string): Trainer {
    if (!this.trainer) throw new RedeError(`model: ${what}() needs compile({optimizer, loss}) first`);
    return this.trainer;
  }

  fit(x: Dataset | Float32Array, y?: Labels | FitOptions, o: FitOptions = {}): Promise<History> {
    if (!(y instanceof Int32Array || y instanceof Float32Array) && y !== undefined) return this.fitWith(x, undefined, y);
    return this.fitWith(x, y, o);
  }

  private async fitWith(x: Dataset | Float32Array, y: Labels | undefined, o: FitOptions): Promise<History> {
    const t = this.compiled('fit');
    const epochs = o.epochs ?? 1, batchSize = o.batchSize ?? 32, seed = o.seed ?? this.seed;
    if (!Number.isInteger(epochs) || epochs < 0) throw new RedeError(`fit: epochs must be a non-negative integer, got ${epochs}`);
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RedeError(`fit: batchSize must be a positive integer, got ${batchSize}`);
    let validation = o.validationData;
    if (o.validationSplit) [x, y, validation] = splitOff(x, y, o.validationSplit, this);
    const shuffle = o.shuffle ?? true;
    const source = t.source(x, y, { batchSize, seed, shuffle, augment: o.augment }); // checks x and y
    if (source.batchesPerEpoch === 0) throw new RedeError('fit: no training examples');
    const data: TrainData = { x, y, source, batchSize, seed, shuffle, augment: o.augment };
    const exec = await this.executor(t, o, batchSize, source.count);
    return fitLoop(t, exec, data, {
      epochs, validation, callbacks: o.callbacks ?? [], initialEpoch: o.initialEpoch ?? 0, onNonFinite: o.onNonFinite ?? 'stop',
      save: (path) => this.save(path),
    });
  }

  /** This thread, or (workers > 1, or deterministic) the worker group cached for this compile. */
  private async executor(t: Trainer, o: FitOptions, batchSize: number, examples: number): Promise<StepExecutor> {
    const thread = () => new ThreadStep(t.program, () => t.seed);
    const req = o.workers ?? 1;
    if ((req === 1 || req === undefined) && !o.deterministic) return thread();
    const { canShareMemory, NO_SHARED_MEMORY, warnSingleThreaded } = await import('../parallel/fallback');
    if (!canShareMemory()) { warnSingleThreaded(req, NO_SHARED_MEMORY); return thread(); }
    const { resolveWorkers, groupFor } = await import('../parallel/groups');
    const deterministic = o.deterministic ?? false;
    const W = await resolveWorkers(req, batchSize, examples, deterministic, o.microShards);
    if (W === 1 && !deterministic) return thread();
    const { GroupStep } = await import('../parallel/group-step');
    return new GroupStep(await groupFor(t, t.program, { workers: W, batchSize, deterministic, microShards: o.microShards }), t.program);
  }

  evaluate(x: Dataset | Float32Array, y?: Labels, o: { batchSize?: number } = {}): Logs {
    return this.compiled('evaluate').evaluate(x, y, o.batchSize);
  }
  /** Outputs for every example of x: [n, ...outputShape]. */
  predict(x: Float32Array, o: { batchSize?: number } = {}): Float32Array { return predict(this, x, o.batchSize); }
  save(path: string): Promise<void> { return saveModel(this, path); }
  toBytes(): Uint8Array { return encodeModel(this); }
  static load(path: string, opts: ModelOptions = {}): Promise<Model> { return loadModel(path, Model.create, opts); }
  static fromBytes(bytes: Uint8Array, opts: ModelOptions = {}): Promise<Model> { return decodeModel(bytes, Model.create, opts); }
}
