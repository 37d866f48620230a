// InferenceModel: a trained Model compiled for fast prediction on its own engine, one example or a batch.
//   1. lower(): batch norm folded into the conv before it, ReLU and residual add fused into the conv's epilogue,
//      flatten/reshape/dropout turned into aliases, every other layer a layer op (src/infer/lower.ts).
//   2. Weights are packed once (gemm_pack_b panels) for every im2col-GEMM conv and every dense layer.
//   3. Activations are planned once per batch size (1, 2, 4, … up to batchSize) with buffers reused after their
//      last reader, each op's scratch (im2col band, GEMM packing buffer) in the same pool while that op runs
//      (plan.ts). The plans share the weights and one pool (only one runs at a time): n examples run as the
//      largest plans that fit, so a batch is a few GEMMs over many rows, not n batch-1 runs.
//   4. Each op becomes a fixed list of kernel calls on fixed addresses, per thread. A conv is im2col + GEMM
//      over bands of whole output rows (a sub-descriptor per band, so im2col_f32 fills just that band's col
//      rows), then bias / residual / ReLU on the band while it is in cache. With T threads a conv's output
//      rows are split T ways (any row slice of a GEMM is a valid GEMM); where there are too few rows (7×7
//      maps) the packed weight panels — GEMM columns — are split instead, each thread running the band's
//      im2col itself. In a batched plan a band is several whole examples when one example's im2col fits a
//      band (split across threads by example), else rows of one example as at batch 1. Dense layers split
//      their columns the same way, or their rows in a batch. A layer op is the layer's own forwardCalls for
//      the plan's batch (the description training runs), on the main thread. The layer's own activation, and
//      an activation or softmax layer after a linear conv / dense, runs on the output as an epilogue.
//
// Memory: [weights (packed) | pool: activations + per-op, per-thread scratch (col band, GEMM A-pack) | descriptors
// (conv bands; layer ops' own: pool, batch norm, LRN)].
// Threads: T − 1 helper workers instantiate the same module on the same shared memory and receive their
// call lists once; per op the main thread publishes the op index in a control word, runs its own share and
// waits (Atomics.wait: Node's main thread may block; in a browser, run InferenceModel inside a worker).
import { Engine, type EngineVariant } from '../engine/engine';
import { RedeError, shapeStr } from '../engine/errors';
import { MemoryPlan, alignUp } from '../engine/plan';
import type { ConvGeom } from '../ops/conv';
import { GEMM_NR, CONV_DESC_BYTES, POOL_DESC_BYTES, QADD_DESC_BYTES, QPARAM_BYTES, writeConvDesc, writePoolDesc, writeQaddDesc } from '../engine/generated/abi';
import type { QConvOp, QDenseOp } from './qops';
import { numelOf, type Call, type Shape } from '../layers/layer';
import { epilogueCalls, type Epilogue } from '../layers/activation';
import { toExamples, type InputData } from '../data/input';
import { argmaxRows, checkClassNames, topKRows, type TopK } from '../model/classify';
import type { Network as Model } from '../model/network';
import type { Kernels } from '../engine/generated/kernels';
import { spawnWorker, type WorkerLike } from '../parallel/worker-api';
import { lower, type LayerOp, type Lowered, type Op } from './lower';
import { planActivations, type ActivationPlan } from './plan';
import { winogradApplies, winogradBands, winogradCalls, winogradFilter, winogradScratch, winogradUBytes } from './winograd';
import { inferHooks } from './hooks';
import { checkOptions } from '../engine/options';

export interface InferenceOptions {
  /** Threads for predict (the main thread + workers − 1 helpers). Default 1. */
  workers?: number;
  /** Target bytes of one im2col band (whole output rows, or whole examples in a batch). Default 1 MiB (stays in L2). */
  bandBytes?: number;
  /** Where the helper entry is (default: worker.ts beside this file from source, rede-infer-worker.js beside a bundle). */
  workerUrl?: URL;
  /** How long predict waits for a helper's share of one op before it gives up (default 30 s). */
  helperTimeoutMs?: number;
  /**
   * Stride-1 3×3 convs with at least 16 input channels as Winograd F(2×2, 3×3) (src/infer/winograd.ts): 4/9 of the
   * multiplies, results equal to rounding (within 1e-4 relative). Default true; false keeps im2col + GEMM.
   */
  winograd?: boolean;
  /** Largest staging buffer for packing weights, bytes (default 4 MiB; tests use tiny ones). */
  packStageBytes?: number;
  /**
   * The largest batch run as one plan (plans for 1, 2, 4, … and this). Default: the largest power of two ≤ 32
   * whose plan (activations + scratch) stays within 8 MiB — 1 for ImageNet-sized inputs, whose batch-1 plan
   * is about that big already; 32 for MNIST-sized ones.
   */
  batchSize?: number;
  /** Names of the output classes (default: the model's classNames). */
  classNames?: string[] | null;
  /**
   * Kernels already compiled (rede/infer fetches one variant): the module and its variant. It must be a
   * shared-memory build when workers > 1 and a non-shared one otherwise. Default: compiled from the inlined bytes.
   */
  kernels?: { module: WebAssembly.Module; variant: EngineVariant };
}

export type { Call };

/** One op's scratch: how many threads run a share of it, and the bytes of each thread's slots. */
interface OpScratch { threads: number; col: number; gemm: number; main: number }

/** Per op: the calls of each thread (index 0: main), then the calls main makes after all threads are done. */
interface OpCalls { threads: Call[][]; after: Call[] }

/** One compiled batch size: where its input and output live, and its ops' call lists. */
interface Plan {
  batch: number; input: number; output: number;
  /** Index of its first op in the list every thread holds (the plans' ops back to back). */
  first: number;
  ops: { name: string; main: (() => void)[]; after: (() => void)[]; parallel: boolean }[];
}

export interface InferenceMemory {
  /** Packed weights, biases and other constants. */
  weights: number;
  /** The planned pool: activations (reused after their last reader) and each op's scratch while it runs; the
   *  largest batch plan's (the smaller plans reuse its bytes). */
  activations: number;
  /** Kernel descriptors (conv bands, pooling, batch norm, LRN) and the thread control words. */
  scratch: number;
  /** Everything the arena holds for this model. */
  total: number;
  /** Of the largest plan: bytes alive at the worst op, values and scratch (lower bound of any plan), and one buffer per value. */
  peakLive: number;
  naive: number;
  /** Of the largest plan: the two largest values, and the largest single col band (for the bound weights + 2 largest + col). */
  largestTwo: number;
  colBand: number;
}

const CTL_SEQ = 0, CTL_OP = 1, CTL_DONE = 2, CTL_WORDS = 16;
declare global {
  /** true in rede/infer's bundle (scripts/build-infer.mjs defines it), whose minifier then drops the Winograd branches. */
  var REDE_INFER_BUNDLE: boolean | undefined; // eslint-disable-line no-var
}
/** Iterations to spin before sleeping in Atomics.wait (a wake-up costs tens of µs; most waits are shorter). */
const SPIN = 20000;
/** Elements from which an int8 add is split across threads (compileOp, 'qadd'). */
const QADD_SPLIT = 1 << 15;
/** Default helper timeout: no op's share takes anywhere near this long (VGG-16's largest conv: ~0.1 s). */
const HELPER_TIMEOUT_MS = 30000;
/** The default batch is the largest power of two up to this whose plan stays within DEFAULT_BATCH_BYTES. */
const MAX_DEFAULT_BATCH = 32, DEFAULT_BATCH_BYTES = 8 << 20;

/** The batch sizes compiled for `batch`: powers of two below it, and itself. */
function batchSizes(batch: number): number[] {
  const sizes: number[] = [];
  for (let b = 1; b < batch; b *= 2) sizes.push(b);
  return [...sizes, batch];
}

export class InferenceModel {
  private closed = false;
  /** See InferenceOptions.helperTimeoutMs. */
  helperTimeoutMs = HELPER_TIMEOUT_MS;
  private names: string[] | null = null;
  private constructor(
    readonly e: Engine,
    readonly inputShape: Shape,
    readonly outputShape: Shape,
    readonly threads: number,
    /** Largest first. */
    private readonly plans: Plan[],
    private readonly ctl: Int32Array | null,
    private readonly helpers: WorkerLike[],
    readonly memory: InferenceMemory,
    /** What was folded and the ops that remain (the weights themselves are not kept outside the arena); winograd:
     *  the conv runs as Winograd F(2×2, 3×3). */
    readonly summary: { folded: Lowered['folded']; ops: { kind: Op['kind']; name: string; winograd?: true }[] },
    /** Whether the outputs are probabilities (the model ends in a softmax layer or activation). */
    readonly endsInSoftmax: boolean,
  ) {}

  /** The largest batch one plan runs (InferenceOptions.batchSize). */
  get batchSize(): number { return this.plans[0].batch; }

  /** Output class names (from the model or the classNames option), or null. */
  get classNames(): string[] | null { return this.names; }
  set classNames(v: string[] | null) { this.names = checkClassNames('infer', v, numelOf(this.outputShape)); }

  /** Compiles a trained model; its own engine (same kernel variant) holds only what inference needs. */
  static async from(model: Model, o: InferenceOptions = {}): Promise<InferenceModel> {
    if ((o.workers ?? 1) > 1 && model.e.variant === 'ref') throw new RedeError('infer: workers > 1 needs a wasm engine (the model runs on the reference kernels)');
    const names = (model as Model & { classNames?: string[] | null }).classNames ?? null;
    return InferenceModel.fromLowered(lower(model), { variant: model.e.variant, maxBytes: model.e.maxBytes, classNames: names, ...o });
  }

  /** Compiles an already lowered graph (lowerGraph with any WeightSource: no Model needed). */
  static async fromLowered(g: Lowered, options: InferenceOptions & { variant?: EngineVariant | 'auto'; maxBytes?: number } = {}): Promise<InferenceModel> {
    const o = checkOptions<InferenceOptions & { variant?: EngineVariant | 'auto'; maxBytes?: number }>('infer', options,
      ['workers', 'bandBytes', 'winograd', 'workerUrl', 'helperTimeoutMs', 'packStageBytes', 'batchSize', 'classNames', 'variant', 'maxBytes', 'kernels'], { batch_size: 'batchSize' });
    const T = o.workers ?? 1;
    if (!Number.isInteger(T) || T < 1 || T > 64) throw new RedeError(`infer: workers must be an integer in [1, 64], got ${o.workers}`);
    if (T > 1 && o.variant === 'ref') throw new RedeError('infer: workers > 1 needs a wasm engine, not the reference kernels');
    if (o.batchSize !== undefined && !(Number.isInteger(o.batchSize) && o.batchSize >= 1 && o.batchSize <= 4096)) {
      throw new RedeError(`infer: batchSize must be an integer in [1, 4096], got ${o.batchSize}`);
    }
    const outputShape = g.values[g.output].shape, classes = numelOf(outputShape);
    const names = checkClassNames('infer', o.classNames, classes);
    const bandBytes = o.bandBytes ?? 1 << 20;
    if (o.winograd !== undefined && typeof o.winograd !== 'boolean') throw new RedeError(`infer: winograd must be true or false, got ${JSON.stringify(o.winograd)}`);
    const e = await Engine.create(o.kernels ? { module: o.kernels.module, variantOfModule: o.kernels.variant, shared: T > 1, maxBytes: o.maxBytes }
      : { variant: o.variant ?? 'auto', shared: T > 1, maxBytes: o.maxBytes });
    const b = new Builder(e, g, T, bandBytes, o.packStageBytes ?? 4 << 20, o.winograd ?? true);
    const compiled = b.compile(batchSizes(o.batchSize ?? b.defaultBatch()));
    // A kernels module with part of the ABI (rede/infer's, assembly/infer.ts) must have every export this graph calls.
    for (const [i, c] of compiled.flatMap((p) => [...p.calls.entries()])) {
      for (const [name] of [...c.threads.flat(), ...c.after]) {
        if (typeof e.k[name] !== 'function') throw new RedeError(`infer: op '${g.ops[i].name}' (${g.ops[i].kind}) needs the kernel '${name}', which these kernels (${e.variant}) do not export`);
      }
    }
    let ctl: Int32Array | null = null;
    const helpers: WorkerLike[] = [];
    if (T > 1) {
      ctl = new Int32Array(e.memory.buffer, b.ctl, CTL_WORDS);
      const url = o.workerUrl ?? defaultInferWorkerUrl();
      const all = compiled.flatMap((p) => p.calls); // every plan's ops back to back: Plan.first indexes them
      try {
        for (let t = 1; t < T; t++) {
          const w = await spawnWorker(url, `rede-infer-${t}`);
          helpers.push(w);
          const ready = new Promise<void>((res, rej) => {
            w.onMessage((m) => { if (m === 'ready') res(); });
            w.onError((err) => rej(new RedeError(`infer: helper ${t} failed: ${err.message}`)));
            w.onExit((code) => rej(new RedeError(`infer: helper ${t} exited with code ${code} before it was ready`)));
          });
          w.post({ module: e.module, memory: e.memory, ctl: b.ctl, calls: all.map((c) => c.threads[t]), stallMs: inferHooks.helperStallAfterReadyMs });
          await ready;
          w.unref();
        }
      } catch (err) {
        await Promise.all(helpers.map((w) => w.terminate()));
        throw err;
      }
    }
    const bind = (calls: Call[]) => calls.map(([name, args]) => {
      const fn = e.k[name] as (...a: number[]) => unknown;
      return () => { fn(...args); };
    });
    let first = 0;
    const plans = compiled.map((p): Plan => {
      const plan = {
        batch: p.batch, input: p.input, output: p.output, first,
        ops: p.calls.map((c, i) => ({ name: g.ops[i].name, main: bind(c.threads[0]), after: bind(c.after), parallel: c.threads.slice(1).some((l) => l.length > 0) })),
      };
      first += p.calls.length;
      return plan;
    }).reverse();
    const last = g.ops.find((op) => op.y === g.output);
    const softmax = last !== undefined && (last.kind === 'softmax' || ((last.kind === 'conv' || last.kind === 'dense' || last.kind === 'qconv' || last.kind === 'qdense') && last.act.type === 'softmax'));
    const inf = new InferenceModel(e, g.values[0].shape, outputShape, T, plans, ctl, helpers, b.memory(),
      { folded: g.folded, ops: g.ops.map((op) => ({ kind: op.kind, name: op.name, ...(!globalThis.REDE_INFER_BUNDLE && op.kind === 'conv' && b.winograd(op.geo) ? { winograd: true as const } : {}) })) }, softmax);
    inf.helperTimeoutMs = o.helperTimeoutMs ?? HELPER_TIMEOUT_MS;
    inf.names = names;
    return inf;
  }

  /**
   * Outputs for every example of x (any form of src/data/input.ts: [n, ...inputShape] batch first): [n,
   * ...outputShape], probabilities when the model ends in a softmax. n examples run as the largest batched
   * plans that fit (n = 40 with batchSize 32: a batch of 32, then one of 8).
   */
  predict(x: InputData): Float32Array {
    if (this.closed) throw new RedeError('infer: predict() after close()');
    const { data, n } = toExamples('infer', 'input', x, this.inputShape);
    const per = numelOf(this.inputShape), outPer = numelOf(this.outputShape), out = new Float32Array(n * outPer);
    for (let i = 0; i < n;) {
      const p = this.plans.find((q) => q.batch <= n - i)!; // plans are largest first and include batch 1
      this.e.f32.set(data.subarray(i * per, (i + p.batch) * per), p.input >>> 2);
      this.run(p);
      out.set(this.e.f32.subarray(p.output >>> 2, (p.output >>> 2) + p.batch * outPer), i * outPer);
      i += p.batch;
    }
    return out;
  }

  /** The best class of each example (ties: the lower index). */
  predictClasses(x: InputData): Int32Array { return argmaxRows(this.predict(x), numelOf(this.outputShape)); }

  /** The k best classes of each example, best first, with their outputs (see Model.topK) and names when known. */
  topK(x: InputData, k: number): TopK {
    const classes = numelOf(this.outputShape);
    if (!Number.isInteger(k) || k < 1 || k > classes) topKRows('infer topK', new Float32Array(0), classes, k); // throws naming k
    return topKRows('infer topK', this.predict(x), classes, k, this.names);
  }

  private seq = 0;
  private run(plan: Plan): void {
    const ctl = this.ctl, helpers = this.threads - 1;
    for (let i = 0; i < plan.ops.length; i++) {
      const op = plan.ops[i];
      if (op.parallel && ctl) {
        const target = Atomics.load(ctl, CTL_DONE) + helpers;
        Atomics.store(ctl, CTL_OP, plan.first + i);
        Atomics.store(ctl, CTL_SEQ, ++this.seq);
        Atomics.notify(ctl, CTL_SEQ);
        for (const f of op.main) f();
        // A helper that died (a trap, a terminated thread) never counts itself done, and its error event
        // cannot arrive while this loop blocks: give up after HELPER_TIMEOUT_MS instead of hanging.
        let spins = 0, done: number, since = 0;
        while ((done = Atomics.load(ctl, CTL_DONE)) < target) {
          if (++spins <= SPIN) continue;
          if (!since) since = performance.now();
          else if (performance.now() - since > this.helperTimeoutMs) {
            this.closed = true;
            void Promise.all(this.helpers.map((w) => w.terminate()));
            throw new RedeError(`infer: a helper thread did not finish op ${i} ('${op.name}') within ${this.helperTimeoutMs} ms; the model is closed`);
          }
          Atomics.wait(ctl, CTL_DONE, done, 5);
        }
      } else {
        for (const f of op.main) f();
      }
      for (const f of op.after) f();
    }
  }

  /**
   * Where one example's forward goes, op by op (bench/infer-ops.ts): runs the batch-1 plan on x `rounds` times,
   * reading `clock` (ms) around each op, and returns each op's median. One thread only: a shared op's time would
   * be the main thread's share.
   */
  opTimes(x: InputData, rounds: number, clock: () => number = () => performance.now()): { name: string; ms: number }[] {
    if (this.closed) throw new RedeError('infer: opTimes() after close()');
    if (this.threads !== 1) throw new RedeError(`infer: opTimes needs a model compiled with workers: 1, got ${this.threads}`);
    if (!Number.isInteger(rounds) || rounds < 1) throw new RedeError(`infer: opTimes rounds must be a positive integer, got ${rounds}`);
    const { data } = toExamples('infer', 'input', x, this.inputShape);
    const plan = this.plans.find((p) => p.batch === 1)!;
    this.e.f32.set(data.subarray(0, numelOf(this.inputShape)), plan.input >>> 2);
    const times = plan.ops.map(() => [] as number[]);
    for (let r = 0; r < rounds; r++) {
      plan.ops.forEach((op, i) => {
        const t0 = clock();
        for (const f of op.main) f();
        for (const f of op.after) f();
        times[i].push(clock() - t0);
      });
    }
    return plan.ops.map((op, i) => ({ name: op.name, ms: times[i].sort((a, b) => a - b)[times[i].length >> 1] }));
  }

  /** Stops the helper threads. The model cannot predict afterwards. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ctl) {
      Atomics.store(this.ctl, CTL_OP, -1);
      Atomics.store(this.ctl, CTL_SEQ, ++this.seq);
      Atomics.notify(this.ctl, CTL_SEQ);
    }
    await Promise.all(this.helpers.map((w) => w.terminate()));
  }
}

/** Examples [e0, e1) × output rows [r0, r1) of a conv: several whole examples, or rows of one. */
interface Band { e0: number; e1: number; r0: number; r1: number }

/** How a conv's work is cut for one batch: each thread's bands (all the same ones when columns are split). */
interface ConvWork { threads: Band[][]; columns: boolean; rows: number; descs: number }

/** The constants of one op in the weights region, placed once and shared by every plan. */
interface Consts { packed: number; w: number; bias: number; params: Record<string, number>; state: Record<string, number> }

/** Lays out the arena and turns each op into per-thread call lists, per batch size. */
class Builder {
  private readonly k: Kernels;
  private weightsAt = 0;
  private pool = 0;
  private descAt = 0;
  private descEnd = 0;
  ctl = 0;
  /** The scratch addresses of the op being compiled: per thread an im2col band and a GEMM packing buffer. */
  private colAt: number[] = [];
  private gemmAt: number[] = [];
  private mainScratch = 0;
  private layout = { weights: 0, scratch: 0, descs: 0 };
  private consts: (Consts | null)[] = [];
  /** The largest plan's activation plan, and the largest im2col band of any op (for the memory report). */
  private largest!: { batch: number; act: ActivationPlan };
  private colBand = 0;

  constructor(readonly e: Engine, readonly g: Lowered, readonly T: number, readonly bandBytes: number,
    readonly packStage: number, readonly winogradOn: boolean) {
    this.k = e.k;
  }

  // ---- geometry ----------------------------------------------------------------------------------------
  private static gemmPath(geo: ConvGeom): boolean { return !(geo.groups > 1); }
  /** Whether a conv runs as Winograd: asked for, applicable, and in these kernels (rede/infer's have none). */
  winograd(geo: ConvGeom): boolean { return !globalThis.REDE_INFER_BUNDLE && this.winogradOn && typeof this.k.winograd_input_f32 === 'function' && winogradApplies(geo, this.T); }
  private static pointwise(geo: ConvGeom): boolean {
    return geo.kh === 1 && geo.kw === 1 && geo.strideH === 1 && geo.strideW === 1 && geo.padTop === 0 && geo.padLeft === 0 && geo.oh === geo.h && geo.ow === geo.w;
  }
  private static colWidth(geo: ConvGeom): number { return geo.kh * geo.kw * geo.cin / geo.groups; }
  private bandRows(geo: ConvGeom): number {
    return Math.max(1, Math.min(geo.oh, Math.floor(this.bandBytes / (geo.ow * Builder.colWidth(geo) * 4))));
  }
  /** Split GEMM columns (weight panels) instead of rows when there are too few output rows to share. */
  private splitColumns(rows: number, n: number): boolean { return this.T > 1 && rows < 4 * this.T && n >= 16 * this.T; }
  /** Output rows [r0, r1) of thread t of T. */
  private static share(total: number, t: number, T: number): [number, number] {
    return [Math.floor(total * t / T), Math.floor(total * (t + 1) / T)];
  }

  /**
   * The bands of a conv over `batch` examples. Whole examples per band when the batch has several and one
   * example's im2col fits a band (a 1×1 conv has no im2col: the whole share is one GEMM), split across threads
   * by example; else rows of one example, split across threads by rows, as at batch 1. `rows`: GEMM rows of
   * the largest band (sizes its scratch); `descs`: descriptors to reserve (distinct band geometries, bounded).
   */
  private convWork(geo: ConvGeom, batch: number): ConvWork {
    const T = this.T, oh = geo.oh, pw = Builder.pointwise(geo), band = this.bandRows(geo);
    const perBand = pw ? batch : Math.floor(this.bandBytes / (oh * geo.ow * Builder.colWidth(geo) * 4));
    const whole = batch > 1 && perBand >= 1;
    const columns = this.splitColumns(batch * oh, geo.cout);
    const byExample = whole && (columns || batch >= T);
    const examples = (e0: number, e1: number): Band[] => {
      const out: Band[] = [];
      for (let e = e0; e < e1; e += perBand) out.push({ e0: e, e1: Math.min(e1, e + perBand), r0: 0, r1: oh });
      return out;
    };
    const rowsOf = (r0: number, r1: number): Band[] => {
      const out: Band[] = [];
      for (let e = 0; e < batch; e++) for (let r = r0; r < r1; r += band) out.push({ e0: e, e1: e + 1, r0: r, r1: Math.min(r1, r + band) });
      return out;
    };
    const threads = Array.from({ length: T }, (_, t): Band[] => {
      if (columns) return byExample ? examples(0, batch) : rowsOf(0, oh);
      return byExample ? examples(...Builder.share(batch, t, T)) : rowsOf(...Builder.share(oh, t, T));
    });
    const most = byExample ? Math.min(perBand, batch) * oh : band; // output rows (of ow pixels) in the largest band
    const descs = byExample ? Math.ceil(batch / perBand) + T : Math.ceil(oh / band) + T; // bands, + rounding at thread boundaries
    return { threads, columns, rows: most * geo.ow, descs };
  }

  // ---- sizes, then layout -------------------------------------------------------------------------------
  /** Floats of the weights region: packed GEMM panels, biases, layer ops' parameters and state. */
  private weightFloats(): number {
    let floats = 0;
    const panels = (kk: number, n: number) => this.k.gemm_packed_b_bytes(kk, n) / 4;
    for (const op of this.g.ops) {
      if (op.kind === 'conv') {
        if (!globalThis.REDE_INFER_BUNDLE && this.winograd(op.geo)) floats += 16 * winogradUBytes(this.k, op.geo) / 4;
        else floats += alignUp(Builder.gemmPath(op.geo) ? panels(Builder.colWidth(op.geo), op.geo.cout) : op.w.length, 16);
        if (op.b) floats += alignUp(op.b.length, 16);
      } else if (op.kind === 'dense') {
        floats += alignUp(panels(op.k, op.n), 16) + (op.b ? alignUp(op.n, 16) : 0);
      } else if (op.kind === 'qconv' || op.kind === 'qdense') {
        floats += this.qWeightBytes(op) / 4;
      } else if (op.kind === 'qadd') {
        floats += alignUp(QADD_DESC_BYTES / 4, 16);
      } else if (op.kind === 'quantize' || op.kind === 'dequantize' || op.kind === 'qmaxpool' || op.kind === 'qavgpool') {
        // no constants
      } else {
        for (const a of [...Object.values(op.params), ...Object.values(op.state)]) floats += alignUp(a.length, 16);
      }
    }
    return floats;
  }

  /**
   * For `batch` examples: descriptor bytes, and each op's scratch: per thread that runs a share of the op, an
   * im2col band (`col`; thread 0's slot also serves a layer op: its non-descriptor buffers, then its scratch)
   * and a GEMM packing buffer (`gemm`). The activation planner places each op's scratch in the pool.
   */
  private measure(batch: number): { descBytes: number; scratch: OpScratch[] } {
    let descBytes = 0;
    const k = this.k, T = this.T;
    const scratch = this.g.ops.map((op): OpScratch => {
      const s: OpScratch = { threads: 1, col: 0, gemm: 0, main: 0 };
      if (op.kind === 'conv') {
        const geo = op.geo, K = Builder.colWidth(geo);
        if (!globalThis.REDE_INFER_BUNDLE && this.winograd(geo)) {
          const { col, gemm } = winogradScratch(this.k, geo, winogradBands(geo, this.T, this.bandBytes).tiles);
          s.threads = this.T; s.col = col; s.gemm = gemm;
          descBytes += CONV_DESC_BYTES;
        } else if (Builder.gemmPath(geo)) {
          const w = this.convWork(geo, batch);
          s.threads = T;
          if (!Builder.pointwise(geo)) s.col = w.rows * K * 4;
          s.gemm = k.gemm_f32_packed_b_scratch_bytes(w.rows, geo.cout, K);
          descBytes += w.descs * CONV_DESC_BYTES;
        } else {
          descBytes += CONV_DESC_BYTES;
          s.main = this.convScratch({ ...geo, n: batch });
        }
      } else if (op.kind === 'dense') {
        const cols = this.splitColumns(batch, op.n), rows = !cols && T > 1 && batch >= T;
        s.threads = cols || rows ? T : 1;
        s.gemm = k.gemm_f32_packed_b_scratch_bytes(rows ? Math.ceil(batch / T) : batch, op.n, op.k);
      } else if (op.kind === 'qconv') {
        const geo = op.geo, K = Builder.colWidth(geo);
        if (Builder.depthwise(geo)) descBytes += CONV_DESC_BYTES;
        else {
          const w = this.convWork(geo, batch);
          s.threads = T;
          if (!Builder.pointwise(geo)) s.col = w.rows * K * geo.groups;
          s.gemm = k.qgemm_scratch_bytes(w.rows, geo.cout / geo.groups, K);
          descBytes += w.descs * CONV_DESC_BYTES;
        }
      } else if (op.kind === 'qdense') {
        s.gemm = k.qgemm_scratch_bytes(batch, op.n, op.k);
      } else if (op.kind === 'qmaxpool' || op.kind === 'qavgpool') {
        descBytes += POOL_DESC_BYTES;
      } else if (op.kind === 'qadd' || op.kind === 'quantize' || op.kind === 'dequantize') {
        // no scratch, constants only
      } else {
        // A layer op: its parameters and state as constants, its descriptors in the descriptor region, its
        // other buffers (max pool's argmax, unused at inference) and its scratch in the op's pool block.
        const bufs = op.layer.buffers(batch);
        for (const b of bufs) if (b.desc) descBytes += b.bytes;
        s.main = bufs.reduce((t, b) => t + (b.desc ? 0 : alignUp(b.bytes)), 0) + op.layer.scratchBytes(this.e, batch);
      }
      return s;
    });
    return { descBytes, scratch };
  }

  /** Byte offsets of thread t's col and gemm slots inside an op's scratch block, and the block's size. */
  private static slots(s: OpScratch): { col: number[]; gemm: number[]; bytes: number } {
    const col: number[] = [], gemm: number[] = [];
    let at = 0;
    for (let t = 0; t < s.threads; t++) {
      col.push(at); at += alignUp(t === 0 ? Math.max(s.col, s.main) : s.col);
      gemm.push(at); at += alignUp(s.gemm);
    }
    return { col, gemm, bytes: at };
  }

  private convScratch(geo: ConvGeom): number {
    const m = this.e.mark(), d = this.e.reserve(CONV_DESC_BYTES, 'conv descriptor');
    writeConvDesc(this.e, d, geo);
    const bytes = this.k.conv2d_scratch_bytes(d);
    this.e.release(m);
    return bytes;
  }

  /** The activation plan of `batch` examples, and its ops' scratch slots. */
  private planFor(batch: number): { batch: number; descBytes: number; scratch: OpScratch[]; slots: ReturnType<typeof Builder.slots>[]; act: ActivationPlan } {
    const { descBytes, scratch } = this.measure(batch);
    const slots = scratch.map(Builder.slots);
    return { batch, descBytes, scratch, slots, act: planActivations(this.g, slots.map((s) => s.bytes), batch) };
  }

  /** See InferenceOptions.batchSize. */
  defaultBatch(): number {
    for (let b = MAX_DEFAULT_BATCH; b > 1; b /= 2) if (this.planFor(b).act.bytes <= DEFAULT_BATCH_BYTES) return b;
    return 1;
  }

  compile(batches: number[]): { batch: number; input: number; output: number; calls: OpCalls[] }[] {
    const plans = batches.map((b) => this.planFor(b));
    this.largest = plans.reduce((a, p) => (p.act.bytes > a.act.bytes ? p : a));
    const poolBytes = this.largest.act.bytes, descBytes = plans.reduce((t, p) => t + p.descBytes, 0);
    const p = new MemoryPlan();
    p.f32('weights', this.weightFloats(), 'parameters');
    p.bytes('pool', poolBytes, 'activations');
    p.bytes('descs', descBytes, 'scratch');
    p.bytes('ctl', CTL_WORDS * 4, 'scratch');
    const l = this.e.allocate(p, 'inference model');
    this.weightsAt = l.ptr.weights; this.pool = l.ptr.pool; this.descAt = l.ptr.descs; this.descEnd = l.ptr.descs + descBytes; this.ctl = l.ptr.ctl;
    this.layout = { weights: l.partBytes.parameters, scratch: l.partBytes.scratch, descs: descBytes };
    this.e.f32.fill(0, l.ptr.pool >>> 2, (l.ptr.pool + poolBytes) >>> 2);
    this.consts = this.g.ops.map(() => null);
    return plans.map((plan) => {
      const addr = (v: number) => this.pool + plan.act.offset[v];
      const calls = this.g.ops.map((op, i) => {
        const at = this.pool + plan.act.tempOffset[i];
        this.colAt = plan.slots[i].col.map((c) => at + c);
        this.gemmAt = plan.slots[i].gemm.map((c) => at + c);
        this.mainScratch = this.colAt[0] ?? 0;
        this.colBand = Math.max(this.colBand, plan.scratch[i].col);
        return this.compileOp(op, i, plan.batch, addr);
      });
      return { batch: plan.batch, input: addr(0), output: addr(this.g.output), calls };
    });
  }

  memory(): InferenceMemory {
    const { batch, act } = this.largest;
    const sizes = this.g.values.map((v, i) => (act.offset[i] >= 0 ? alignUp(v.floats * batch * 4) : 0)).sort((a, b) => b - a);
    return {
      weights: this.layout.weights, activations: act.bytes, scratch: this.layout.scratch,
      total: this.layout.weights + act.bytes + this.layout.scratch,
      peakLive: act.peakLiveBytes, naive: act.naiveBytes, largestTwo: sizes[0] + (sizes[1] ?? 0), colBand: this.colBand,
    };
  }

  // ---- constants ---------------------------------------------------------------------------------------
  private putF32(data: Float32Array): number {
    const at = this.weightsAt;
    this.e.f32.set(data, at >>> 2);
    this.weightsAt += alignUp(data.length, 16) * 4;
    return at;
  }
  /**
   * Packs w [k, n] (row-major) into gemm_pack_b panels in the weights region. Column blocks of whole panels
   * go through a staging buffer of at most packStage bytes: memory never grows to hold a raw copy of a big
   * matrix (VGG-16's fc1 is 411 MB) next to its packed one, since wasm memory cannot shrink afterwards.
   */
  private putPacked(w: Float32Array, kk: number, n: number): number {
    const at = this.weightsAt, m = this.e.mark();
    const width = Math.min(n, Math.max(GEMM_NR, Math.floor(this.packStage / (kk * 4) / GEMM_NR) * GEMM_NR));
    const stage = this.e.reserve(kk * width * 4, 'weight staging');
    for (let j0 = 0; j0 < n; j0 += width) {
      const cols = Math.min(width, n - j0), f = this.e.f32, base = stage >>> 2;
      if (cols === n) f.set(w, base);
      else for (let p = 0; p < kk; p++) for (let j = 0, src = p * n + j0, dst = base + p * cols; j < cols; j++) f[dst + j] = w[src + j];
      this.k.gemm_pack_b(0, kk, cols, stage, cols, at + j0 * kk * 4);
    }
    this.e.release(m);
    this.weightsAt += alignUp(this.k.gemm_packed_b_bytes(kk, n) / 4, 16) * 4;
    return at;
  }
  /** Op i's constants, placed in the weights region the first time a plan asks. */
  private constsOf(op: Op, i: number): Consts {
    const c = this.consts[i];
    if (c) return c;
    const place = (arrays: Record<string, Float32Array>) => Object.fromEntries(Object.entries(arrays).map(([name, a]) => [name, this.putF32(a)]));
    const made: Consts = { packed: 0, w: 0, bias: 0, params: {}, state: {} };
    if (op.kind === 'conv') {
      if (!globalThis.REDE_INFER_BUNDLE && this.winograd(op.geo)) {
        const u = winogradFilter(op.w, op.geo.cin, op.geo.cout);
        made.packed = this.putPacked(u[0], op.geo.cin, op.geo.cout);
        for (let xi = 1; xi < 16; xi++) this.putPacked(u[xi], op.geo.cin, op.geo.cout); // back to back, winogradUBytes apart
      } else if (Builder.gemmPath(op.geo)) made.packed = this.putPacked(op.w, Builder.colWidth(op.geo), op.geo.cout);
      else made.w = this.putF32(op.w);
      if (op.b) made.bias = this.putF32(op.b);
    } else if (op.kind === 'dense') {
      made.packed = this.putPacked(op.w, op.k, op.n);
      if (op.b) made.bias = this.putF32(op.b);
    } else if (op.kind === 'qconv' || op.kind === 'qdense') {
      this.putQWeights(op, made);
    } else if (op.kind === 'qadd') {
      made.w = this.weightsAt;
      writeQaddDesc(this.e, made.w, op.p);
      this.weightsAt += alignUp(QADD_DESC_BYTES / 4, 16) * 4;
    } else if (op.kind === 'quantize' || op.kind === 'dequantize' || op.kind === 'qmaxpool' || op.kind === 'qavgpool') {
      // none
    } else {
      made.params = place(op.params); made.state = place(op.state);
    }
    return (this.consts[i] = made);
  }
  /** Takes `bytes` of the descriptor region, lets `write` fill them at their address, returns it. */
  private putDesc(bytes: number, write: (at: number) => void): number {
    const at = this.descAt;
    if (at + bytes > this.descEnd) throw new Error(`infer: descriptor region overrun (${at + bytes - this.descEnd} bytes): measure() and compileOp() disagree`);
    write(at);
    this.descAt += bytes;
    return at;
  }
  private putConvDesc(geo: ConvGeom): number { return this.putDesc(CONV_DESC_BYTES, (at) => writeConvDesc(this.e, at, geo)); }

  /** bias, residual, activation over y (rows × cols), in that order; bias / res 0: none. */
  private static epilogue({ y, rows, cols, bias, res, act }: { y: number; rows: number; cols: number; bias: number; res: number; act: Epilogue }): Call[] {
    const c: Call[] = [];
    if (bias) c.push(['bias_add_f32', [rows, cols, y, bias, y]]);
    if (res) c.push(['add_f32', [y, res, y, rows * cols]]);
    c.push(...epilogueCalls(act, rows, cols, y, y));
    return c;
  }

  private compileOp(op: Op, i: number, batch: number, V: (v: number) => number): OpCalls {
    const T = this.T, threads: Call[][] = Array.from({ length: T }, () => []), after: Call[] = [];
    const main = threads[0];
    switch (op.kind) {
      case 'conv': {
        const geo = op.geo, K = Builder.colWidth(geo), cout = geo.cout, c = this.constsOf(op, i);
        const res = op.res >= 0 ? V(op.res) : 0, x = V(op.x), y = V(op.y), pixels = batch * geo.oh * geo.ow;
        if (!globalThis.REDE_INFER_BUNDLE && this.winograd(geo)) {
          const calls = winogradCalls(this.k, geo, {
            desc: this.putConvDesc({ ...geo, n: 1 }), x, y, packed: c.packed, bias: c.bias, res, relu: op.act.type === 'relu', batch, T,
            bandBytes: this.bandBytes, col: this.colAt, gemm: this.gemmAt,
            epilogue: (at, rows) => (op.act.type === 'relu' ? [] : Builder.epilogue({ y: y + at, rows, cols: cout, bias: 0, res: 0, act: op.act })),
          });
          calls.forEach((l, t) => threads[t].push(...l));
          break;
        }
        if (!Builder.gemmPath(geo)) {
          const d = this.putConvDesc({ ...geo, n: batch }), fused = op.act.type === 'relu' && !res;
          main.push(['conv2d_forward_f32', [d, x, c.w, c.bias, y, fused ? 1 : 0, this.mainScratch]]);
          if (!fused) main.push(...Builder.epilogue({ y, rows: pixels, cols: cout, bias: 0, res, act: op.act }));
          break;
        }
        const pw = Builder.pointwise(geo), work = this.convWork(geo, batch), descs = new Map<string, number>();
        /** The band's descriptor: a conv of its own over its examples and rows (one per distinct geometry). */
        const desc = ({ e0, e1, r0, r1 }: Band): number => {
          const key = `${e1 - e0}:${r0}:${r1}`;
          let d = descs.get(key);
          if (d === undefined) descs.set(key, d = this.putConvDesc(this.bandGeom(geo, r0, r1, e1 - e0)));
          return d;
        };
        /** Calls for band b and GEMM columns [j0, j1) of thread t. */
        const bandCalls = (t: number, b: Band, [j0, j1]: readonly [number, number], withEpilogue: boolean): Call[] => {
          const rows = (b.e1 - b.e0) * (b.r1 - b.r0) * geo.ow, pix0 = (b.e0 * geo.oh + b.r0) * geo.ow, calls: Call[] = [];
          let a = x + pix0 * geo.cin * 4, lda = geo.cin; // 1×1: input pixel p is output pixel p
          if (!pw) {
            calls.push(['im2col_f32', [desc(b), this.bandX(geo, x + b.e0 * geo.h * geo.w * geo.cin * 4, b.r0), this.colAt[t]]]);
            a = this.colAt[t]; lda = K;
          }
          const yb = y + pix0 * cout * 4;
          calls.push(['gemm_f32_packed_b', [0, rows, j1 - j0, K, a, lda, c.packed + j0 * K * 4, yb + j0 * 4, cout, 0, this.gemmAt[t]]]);
          if (withEpilogue) calls.push(...Builder.epilogue({ y: yb, rows, cols: cout, bias: c.bias, res: res ? res + pix0 * cout * 4 : 0, act: op.act }));
          return calls;
        };
        if (!work.columns) {
          work.threads.forEach((bands, t) => { for (const b of bands) threads[t].push(...bandCalls(t, b, [0, cout], true)); });
        } else {
          const panels = Math.ceil(cout / GEMM_NR);
          work.threads.forEach((bands, t) => {
            const [q0, q1] = Builder.share(panels, t, T);
            for (const b of bands) threads[t].push(...bandCalls(t, b, [q0 * GEMM_NR, Math.min(cout, q1 * GEMM_NR)], false));
          });
          after.push(...Builder.epilogue({ y, rows: pixels, cols: cout, bias: c.bias, res, act: op.act }));
        }
        break;
      }
      case 'dense': {
        const c = this.constsOf(op, i), res = op.res >= 0 ? V(op.res) : 0, x = V(op.x), y = V(op.y);
        const gemm = (t: number, r0: number, r1: number, j0: number, j1: number): Call =>
          ['gemm_f32_packed_b', [0, r1 - r0, j1 - j0, op.k, x + r0 * op.k * 4, op.k, c.packed + j0 * op.k * 4, y + (r0 * op.n + j0) * 4, op.n, 0, this.gemmAt[t]]];
        if (this.splitColumns(batch, op.n)) {
          const panels = Math.ceil(op.n / GEMM_NR);
          for (let t = 0; t < T; t++) {
            const [q0, q1] = Builder.share(panels, t, T), j0 = q0 * GEMM_NR, j1 = Math.min(op.n, q1 * GEMM_NR);
            if (j1 > j0) threads[t].push(gemm(t, 0, batch, j0, j1));
          }
        } else if (T > 1 && batch >= T) {
          for (let t = 0; t < T; t++) { const [r0, r1] = Builder.share(batch, t, T); if (r1 > r0) threads[t].push(gemm(t, r0, r1, 0, op.n)); }
        } else {
          main.push(gemm(0, 0, batch, 0, op.n));
        }
        after.push(...Builder.epilogue({ y, rows: batch, cols: op.n, bias: c.bias, res, act: op.act }));
        break;
      }
      case 'quantize': case 'dequantize': {
        const n = op.n * batch;
        if (op.kind === 'quantize') main.push(['quantize_f32_s8', [n, V(op.x), V(op.y), Math.fround(1 / op.q.scale), op.q.zero]]);
        else main.push(['dequantize_s8_f32', [n, V(op.x), V(op.y), op.q.scale, op.q.zero]]);
        break;
      }
      case 'qadd': {
        const c = this.constsOf(op, i), n = op.n * batch, a = V(op.xs[0]), b = V(op.xs[1]), y = V(op.y);
        // Element-wise, so each thread can take a contiguous share in whole 16-byte vectors (the same bytes as one
        // call); below QADD_SPLIT elements waking the helpers costs more than the add (ResNet-20's are 4–16 K).
        const parts = n >= QADD_SPLIT ? T : 1, vecs = Math.ceil(n / 16);
        for (let t = 0; t < parts; t++) {
          const [v0, v1] = Builder.share(vecs, t, parts), e0 = v0 * 16, e1 = Math.min(n, v1 * 16);
          if (e1 > e0) threads[t].push(['add_s8', [c.w, e1 - e0, a + e0, b + e0, y + e0]]);
        }
        break;
      }
      case 'qmaxpool': case 'qavgpool': {
        const g = op.geo, d = this.putDesc(POOL_DESC_BYTES, (at) => writePoolDesc(this.e, at, { n: batch, h: g.h, w: g.w, c: g.cin, kh: g.kh, kw: g.kw,
          strideH: g.strideH, strideW: g.strideW, padTop: g.padTop, padLeft: g.padLeft, oh: g.oh, ow: g.ow }));
        main.push([op.kind === 'qmaxpool' ? 'maxpool_s8' : 'avgpool_s8', [d, V(op.x), V(op.y)]]);
        break;
      }
      case 'qdense': {
        const c = this.constsOf(op, i), x = V(op.x), y = V(op.y);
        main.push(['qgemm_s8', [batch, op.n, op.k, x, op.k, c.packed, c.bias, op.zy, op.lo, op.hi, y, op.n, op.f32out ? 1 : 0, this.gemmAt[0]]]);
        if (op.f32out) after.push(...epilogueCalls(op.act, batch, op.n, y, y));
        break;
      }
      case 'qconv': {
        this.compileQConv(op, i, batch, V, threads, after);
        break;
      }
      default: {
        main.push(...this.layerCalls(op, i, batch, V));
        if (op.relu) main.push(['relu_forward_f32', [this.g.values[op.y].floats * batch, V(op.y), V(op.y)]]);
      }
    }
    return { threads, after };
  }

  // ---- int8 ops (src/infer/qops.ts) -------------------------------------------------------------------
  private static depthwise(geo: ConvGeom): boolean { return geo.groups > 1 && geo.groups === geo.cin; }
  /** Bytes of an int8 conv / dense's constants: packed weights per group (depthwise: raw HWIO), QPARAM records. */
  private qWeightBytes(op: QConvOp | QDenseOp): number {
    const rec = alignUp(op.qp.length * 4, 64);
    if (op.kind === 'qdense') return alignUp(this.k.qgemm_packed_b_bytes(op.k, op.n), 64) + rec;
    const g = op.geo;
    if (Builder.depthwise(g)) return alignUp(op.w.length, 64) + rec;
    return g.groups * alignUp(this.k.qgemm_packed_b_bytes(Builder.colWidth(g), g.cout / g.groups), 64) + rec;
  }
  /** Places an int8 conv / dense's weights (packed once per group through a staging copy) and its QPARAM records. */
  private putQWeights(op: QConvOp | QDenseOp, made: Consts): void {
    const e = this.e, depthwise = op.kind === 'qconv' && Builder.depthwise(op.geo);
    const groups = op.kind === 'qconv' ? op.geo.groups : 1, cout = op.kind === 'qconv' ? op.geo.cout : op.n;
    const K = op.kind === 'qconv' ? Builder.colWidth(op.geo) : op.k, coutG = cout / groups;
    made.packed = this.weightsAt;
    if (depthwise) {
      e.u8.set(new Uint8Array(op.w.buffer, op.w.byteOffset, op.w.length), made.packed);
      this.weightsAt += alignUp(op.w.length, 64);
    } else {
      const m = e.mark(), stage = e.reserve(op.w.length, 'int8 weight staging'), per = alignUp(this.k.qgemm_packed_b_bytes(K, coutG), 64);
      e.u8.set(new Uint8Array(op.w.buffer, op.w.byteOffset, op.w.length), stage);
      for (let g = 0; g < groups; g++) this.k.qgemm_pack_b(K, coutG, stage + g * coutG, cout, made.packed + g * per);
      e.release(m);
      this.weightsAt += groups * per;
    }
    made.bias = this.weightsAt;
    e.i32.set(op.qp, made.bias >>> 2);
    this.weightsAt += alignUp(op.qp.length * 4, 64);
  }
  /**
   * An int8 conv: depthwise direct; else the f32 conv's bands (convWork: rows split across threads, or GEMM
   * columns when rows are few and there is one group), each an int8 im2col (zero point as padding; none for
   * 1×1) and one qgemm_s8 per group, which requantizes (or writes f32, then the activation) as it stores.
   */
  private compileQConv(op: QConvOp, i: number, batch: number, V: (v: number) => number, threads: Call[][], after: Call[]): void {
    const geo = op.geo, c = this.constsOf(op, i), x = V(op.x), y = V(op.y), T = this.T, f32out = op.f32out ? 1 : 0;
    if (Builder.depthwise(geo)) {
      const d = this.putConvDesc({ ...geo, n: batch });
      threads[0].push(['dwconv_s8', [d, x, c.packed, c.bias, op.zx, op.zy, op.lo, op.hi, y]]);
      return;
    }
    const K = Builder.colWidth(geo), cout = geo.cout, G = geo.groups, coutG = cout / G, elem = op.f32out ? 4 : 1;
    const per = alignUp(this.k.qgemm_packed_b_bytes(K, coutG), 64), pw = Builder.pointwise(geo), work = this.convWork(geo, batch);
    const columns = work.columns && G === 1, descs = new Map<string, number>();
    const desc = ({ e0, e1, r0, r1 }: Band): number => {
      const key = `${e1 - e0}:${r0}:${r1}`;
      let d = descs.get(key);
      if (d === undefined) descs.set(key, d = this.putConvDesc(this.bandGeom(geo, r0, r1, e1 - e0)));
      return d;
    };
    const bandCalls = (t: number, b: Band, [j0, j1]: readonly [number, number]): Call[] => {
      const rows = (b.e1 - b.e0) * (b.r1 - b.r0) * geo.ow, pix0 = (b.e0 * geo.oh + b.r0) * geo.ow, calls: Call[] = [];
      let a = x + pix0 * geo.cin, lda = geo.cin, gStride = geo.cin / G; // 1×1: x is [P, cin], group g at column g·cinG
      if (!pw) {
        const from = Math.max(0, b.r0 * geo.strideH - geo.padTop);
        calls.push(['im2col_s8', [desc(b), x + b.e0 * geo.h * geo.w * geo.cin + from * geo.w * geo.cin, this.colAt[t], op.zx]]);
        a = this.colAt[t]; lda = K; gStride = rows * K; // col [G, rows, K]
      }
      const yb = y + pix0 * cout * elem;
      for (let g = 0; g < G; g++) {
        const c0 = g * coutG + j0, n = j1 - j0;
        calls.push(['qgemm_s8', [rows, n, K, a + g * gStride, lda, c.packed + g * per + (j0 / 8) * (this.k.qgemm_packed_b_bytes(K, 8)),
          c.bias + c0 * QPARAM_BYTES, op.zy, op.lo, op.hi, yb + c0 * elem, cout, f32out, this.gemmAt[t]]]);
      }
      if (op.f32out && !columns) calls.push(...epilogueCalls(op.act, rows, cout, yb, yb));
      return calls;
    };
    if (!columns) {
      // With several groups and few rows convWork may hand every thread all bands (column split): thread 0 runs them alone.
      work.threads.forEach((bands, t) => { if (!work.columns || t === 0) for (const b of bands) threads[t].push(...bandCalls(t, b, [0, coutG])); });
    } else {
      const panels = Math.ceil(cout / 8);
      work.threads.forEach((bands, t) => {
        const [q0, q1] = Builder.share(panels, t, T);
        if (q1 > q0) for (const b of bands) threads[t].push(...bandCalls(t, b, [q0 * 8, Math.min(cout, q1 * 8)]));
      });
      if (op.f32out) after.push(...epilogueCalls(op.act, batch * geo.oh * geo.ow, cout, y, y));
    }
  }

  /**
   * A layer op's own forward for `batch` examples (Layer.forwardCalls): its weights in the weights region
   * (once for every plan), descriptors in the descriptor region (the layer writes them now), its other buffers
   * and then its scratch carved from the op's scratch block, in measure()'s order.
   */
  private layerCalls(op: LayerOp & Op, i: number, batch: number, V: (v: number) => number): Call[] {
    const c = this.constsOf(op, i), buf: Record<string, number> = {};
    let at = this.mainScratch;
    for (const b of op.layer.buffers(batch)) {
      if (b.desc) buf[b.name] = this.putDesc(b.bytes, () => {});
      else { buf[b.name] = at; at += alignUp(b.bytes); }
    }
    return op.layer.forwardCalls({ e: this.e, batch, training: false, seed: 0, step: 0, exampleOffset: 0,
      x: op.xs.map(V), y: V(op.y), p: c.params, s: c.state, buf, scratch: at });
  }

  /**
   * The geometry of output rows [r0, r1) of n examples as a conv of its own: its input starts at input row
   * base = r0·stride − padTop (clamped at 0, the rest becomes top padding) and has the rows below it. Several
   * examples (n > 1) are always whole: r0 = 0, r1 = oh, the conv's own geometry over n examples.
   */
  private bandGeom(geo: ConvGeom, r0: number, r1: number, n: number): ConvGeom {
    const base = r0 * geo.strideH - geo.padTop;
    const from = Math.max(0, base), h = geo.h - from;
    return { ...geo, n, h, oh: r1 - r0, padTop: Math.max(0, -base), tileRows: 0 };
  }
  private bandX(geo: ConvGeom, x: number, r0: number): number {
    const from = Math.max(0, r0 * geo.strideH - geo.padTop);
    return x + from * geo.w * geo.cin * 4;
  }
}

/** worker.ts beside this file when running from source (tsx), else the bundled helper beside the bundle. */
function defaultInferWorkerUrl(): URL {
  const here = import.meta.url as string | undefined;
  if (here) return new URL(here.endsWith('.ts') ? './worker.ts' : './rede-infer-worker.js', here);
  // A CommonJS bundle has no import.meta: its own file name locates the ESM helper bundle next door.
  if (typeof __filename !== 'undefined') return new URL('../esm/rede-infer-worker.js', `file://${__filename}`);
  throw new Error('infer: cannot locate the helper entry; pass workerUrl');
}
