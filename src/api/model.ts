// The Keras-shaped facade: a Network that can be compiled, fitted, evaluated, asked to predict and saved. It
// sits above src/train (the step program, the executors' contract, the one epoch loop) and src/parallel (the
// worker group), and picks the executor: this thread, or the worker group when fit asks for workers.
import { Engine } from '../engine/engine';
import { RedeError } from '../engine/errors';
import { isDataset, type Dataset } from '../data/dataset';
import { isInputData, type InputData, type LabelData } from '../data/input';
import { numelOf } from '../layers/layer';
import { argmaxRows, checkClassNames, topKRows, type TopK } from '../model/classify';
import type { ModelConfig } from '../model/config';
import { Network, type NetworkOptions } from '../model/network';
import type { Logs } from '../train/callbacks';
import { fitLoop } from '../train/loop';
import { verboseLogger } from '../train/progress';
import type { StepExecutor, TrainData } from '../train/step';
import { ThreadStep } from '../train/thread-step';
import { FIT_ALIASES, FIT_OPTIONS, Trainer, predict, splitOff, type CompileOptions, type FitOptions, type History } from '../train/trainer';
import type { Labels } from '../train/source';
import { checkOptions } from '../engine/options';
import { decodeModel, encodeModel, loadModel, saveModel } from './persist';
import { batchGradients } from '../train/gradients';
import { checkLayout, readWeights, type WeightLayout, type WeightTensor } from '../model/weights';
import type { Bridge, TfjsBackendName } from '../bridge/index';
import type { BackendInfo, BackendName } from '../bridge/types';

export interface ModelOptions extends NetworkOptions {
  /** 'wasm' (default): rede's WebAssembly engine; 'tfjs': TensorFlow.js, an optional peer (docs/backends.md). */
  backend?: BackendName;
  /** With backend 'tfjs': tfjs's backend ('webgpu', 'webgl', 'wasm', 'cpu', 'tensorflow'); default the first that starts. */
  tfjsBackend?: string;
}

export class Model extends Network {
  /** What compile() made (optimizer and its state, objective, counters); null before compile. */
  trainer: (Trainer & { options: CompileOptions }) | null = null;
  private names: string[] | null = null;
  /** The tfjs backend's tf copy of the network and its step; null on the wasm engine. */
  private bridge: Bridge | null = null;

  /**
   * The name of each output class (e.g. Fashion-MNIST's 'T-shirt/top' … 'Ankle boot'), or null: set by fit on
   * a Dataset that has classNames, saved in the .rede file, or assigned (one per output value).
   */
  get classNames(): string[] | null { return this.names; }
  set classNames(v: string[] | null) { this.names = checkClassNames('model', v, numelOf(this.outputShape)); }

  static async create(config: ModelConfig, options: ModelOptions = {}): Promise<Model> {
    const opts = checkOptions<ModelOptions>('Model.create', options, ['engine', 'seed', 'backend', 'tfjsBackend']);
    if (opts.seed !== undefined && !Number.isInteger(opts.seed)) throw new RedeError(`Model.create: seed must be an integer, got ${opts.seed}`);
    if (opts.backend !== undefined && opts.backend !== 'wasm' && opts.backend !== 'tfjs') throw new RedeError(`Model.create: backend must be 'wasm' or 'tfjs', got ${JSON.stringify(opts.backend)}`);
    if (opts.tfjsBackend !== undefined && opts.backend !== 'tfjs') throw new RedeError(`Model.create: tfjsBackend applies to backend 'tfjs', got backend ${JSON.stringify(opts.backend ?? 'wasm')}`);
    const e = opts.engine ?? (await Engine.create());
    // The wasm engine initializes the weights on both backends: one seed, the same start.
    const m = new Model(config, e, opts.seed ?? 0, Network.allocator(e, 1));
    if (opts.backend === 'tfjs') {
      const { Bridge } = await import('../bridge/index');
      m.bridge = await Bridge.open(m, opts.tfjsBackend as TfjsBackendName | undefined);
    }
    return m;
  }

  /** 'wasm' or 'tfjs' (Model.create's backend). */
  get backend(): BackendName { return this.bridge ? 'tfjs' : 'wasm'; }
  /** Which backend and device actually run this model. */
  get backendInfo(): BackendInfo {
    return this.bridge?.info ?? { backend: 'wasm', package: `rede ${this.e.variant}`, version: 'wasm', device: `CPU (WebAssembly, ${this.e.variant})`, gpu: false };
  }

  /** Chooses optimizer, loss(es) and metrics; allocates (zeroed) optimizer state. */
  compile(o: CompileOptions): this {
    this.trainer = Object.assign(this.bridge ? this.bridge.trainer(this, o) : new Trainer(this, o), { options: o });
    return this;
  }
  private compiled(what: string): Trainer {
    if (!this.trainer) throw new RedeError(`model: ${what}() needs compile({optimizer, loss}) first`);
    return this.trainer;
  }

  /**
   * Trains on a Dataset, or on x with labels (sparse losses) or targets y; x and y in any form of
   * src/data/input.ts (typed arrays, number[], nested arrays batch first).
   */
  fit(x: Dataset | InputData, y?: LabelData | FitOptions, o: FitOptions = {}): Promise<History> {
    if (y !== undefined && !isInputData(y)) return this.fitWith(x, undefined, y);
    return this.fitWith(x, y, o);
  }

  private async fitWith(input: Dataset | InputData, labels: LabelData | undefined, options: FitOptions): Promise<History> {
    const t = this.compiled('fit');
    let x: Dataset | Float32Array, y: Labels | undefined;
    if (isDataset(input)) {
      x = input;
      if (input.classNames?.length === numelOf(this.outputShape)) this.names = [...input.classNames];
    } else {
      ({ x, y } = t.arrays('fit', input, labels)); // converted and checked once, before the split
    }
    const o = checkOptions<FitOptions>('fit', options, FIT_OPTIONS, FIT_ALIASES);
    const epochs = o.epochs ?? 1, batchSize = o.batchSize ?? 32, seed = o.seed ?? this.seed;
    if (!Number.isInteger(epochs) || epochs < 0) throw new RedeError(`fit: epochs must be a non-negative integer, got ${epochs}`);
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RedeError(`fit: batchSize must be a positive integer, got ${batchSize}`);
    const initialEpoch = o.initialEpoch ?? 0;
    if (!Number.isInteger(initialEpoch) || initialEpoch < 0 || initialEpoch > epochs) throw new RedeError(`fit: initialEpoch must be an integer in [0, epochs = ${epochs}], got ${initialEpoch}`);
    if (o.onNonFinite !== undefined && o.onNonFinite !== 'stop' && o.onNonFinite !== 'skip') throw new RedeError(`fit: onNonFinite must be 'stop' or 'skip', got ${JSON.stringify(o.onNonFinite)}`);
    if (o.callbacks !== undefined && !Array.isArray(o.callbacks)) throw new RedeError('fit: callbacks must be a list');
    if (o.verbose !== undefined && o.verbose !== 0 && o.verbose !== 1 && o.verbose !== 2) throw new RedeError(`fit: verbose must be 0, 1 or 2, got ${JSON.stringify(o.verbose)}`);
    const logger = verboseLogger(o.verbose, epochs);
    let validation = o.validationData;
    if (o.validationSplit) [x, y, validation] = splitOff(x, y, o.validationSplit, this);
    const shuffle = o.shuffle ?? true;
    const source = t.source(x, y, { batchSize, seed, shuffle, augment: o.augment }); // checks x and y
    if (source.batchesPerEpoch === 0) throw new RedeError('fit: no training examples');
    const data: TrainData = { x, y, source, batchSize, seed, shuffle, augment: o.augment };
    const exec = await this.executor(t, o, Math.min(batchSize, source.count), source.count); // memory for the largest batch there is
    return fitLoop(t, exec, data, {
      epochs, validation, callbacks: [...(o.callbacks ?? []), ...(logger ? [logger] : [])], initialEpoch, onNonFinite: o.onNonFinite ?? 'stop',
      save: (path) => this.save(path),
    });
  }

  /** This thread, or (workers > 1, or deterministic) the worker group cached for this compile. */
  private async executor(t: Trainer, o: FitOptions, batchSize: number, examples: number): Promise<StepExecutor> {
    const thread = () => new ThreadStep(t.program, () => t.seed);
    const req = o.workers ?? 1;
    if (this.bridge) {
      if (req !== 1 || o.deterministic) throw new RedeError(`fit: workers (${JSON.stringify(req)}) and deterministic are the wasm engine's; the tfjs backend runs one step on ${this.bridge.info.device}`);
      return this.bridge.executor(t);
    }
    if ((req === 1 || req === undefined) && !o.deterministic) return thread();
    const { canShareMemory, NO_SHARED_MEMORY, warnSingleThreaded } = await import('../parallel/fallback');
    if (!canShareMemory()) { warnSingleThreaded(req, NO_SHARED_MEMORY); return thread(); }
    const { resolveWorkers, groupFor } = await import('../parallel/groups');
    const deterministic = o.deterministic ?? false;
    const W = await resolveWorkers(req, { batchSize, examples, deterministic, microShards: o.microShards });
    if (W === 1 && !deterministic) return thread();
    const { GroupStep } = await import('../parallel/group-step');
    return new GroupStep(await groupFor(t, t.program, { workers: W, batchSize, deterministic, microShards: o.microShards, stepTimeoutMs: o.stepTimeoutMs }), t.program);
  }

  evaluate(x: Dataset | InputData, y?: LabelData, o: { batchSize?: number } = {}): Logs {
    const t = this.compiled('evaluate');
    return t.evaluate(x, y, checkOptions<{ batchSize?: number }>('evaluate', o, ['batchSize'], { batch_size: 'batchSize' }).batchSize);
  }
  /**
   * Outputs for every example of x (any form of src/data/input.ts): [n, ...outputShape]. Probabilities when the
   * model ends in a softmax (a softmax layer or activation), else what the last layer computes (logits), as Keras.
   */
  predict(x: InputData, o: { batchSize?: number } = {}): Float32Array {
    const bs = checkOptions<{ batchSize?: number }>('predict', o, ['batchSize'], { batch_size: 'batchSize' }).batchSize;
    return this.bridge ? this.bridge.predict(x, bs) : predict(this, x, bs);
  }
  /**
   * The loss of (x, y) and every parameter's gradient, by documented name, with no optimizer step: one training-
   * mode forward, loss and backward (what fit's step computes before its update; L1/L2 penalties are the
   * optimizer's, so not included). Weights, batch-norm running statistics, optimizer state and step counters
   * are bitwise unchanged. Needs compile() for the loss. `layout: 'pytorch'` exports the gradients in
   * PyTorch's shapes, as getWeights does.
   */
  gradients(x: Float32Array, y: Labels, o: { layout?: WeightLayout } = {}): { loss: number; grads: Map<string, WeightTensor> } {
    const t = this.compiled('gradients');
    const layout = checkLayout('gradients', 'layout', checkOptions<{ layout?: WeightLayout }>('gradients', o, ['layout']).layout);
    const loss = batchGradients(t, x, y, 'gradients');
    if (!Number.isFinite(loss)) throw new RedeError(`gradients: the loss is ${loss} for this batch, so there are no gradients (look at the inputs and the weights)`);
    return { loss, grads: readWeights(this, layout, true) };
  }
  /** The best class of each example (the largest output; ties: the lower index). Names: classNames[i]. */
  predictClasses(x: InputData, o: { batchSize?: number } = {}): Int32Array {
    return argmaxRows(this.predict(x, o), numelOf(this.outputShape));
  }
  /**
   * The k best classes of each example, best first: indices and outputs (probabilities when the model ends
   * in a softmax, else scores), n × k each, and their names when classNames are known.
   */
  topK(x: InputData, k: number, o: { batchSize?: number } = {}): TopK {
    const classes = numelOf(this.outputShape);
    if (!Number.isInteger(k) || k < 1 || k > classes) topKRows('topK', new Float32Array(0), classes, k); // throws naming k
    return topKRows('topK', this.predict(x, o), classes, k, this.names);
  }
  save(path: string): Promise<void> { return saveModel(this, path); }
  toBytes(): Uint8Array { return encodeModel(this); }
  static load(path: string, opts: ModelOptions = {}): Promise<Model> { return loadModel(path, Model.create, opts); }
  static fromBytes(bytes: Uint8Array, opts: ModelOptions = {}): Promise<Model> { return decodeModel(bytes, Model.create, opts); }
}
