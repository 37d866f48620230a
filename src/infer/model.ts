// InferenceModel: a trained Model compiled for fast batch-1 prediction on its own engine.
//   1. lower(): batch norm folded into the conv before it, ReLU and residual add fused into the conv's epilogue,
//      flatten/reshape/dropout turned into aliases, every other layer a layer op (src/infer/lower.ts).
//   2. Weights are packed once (gemm_pack_b panels) for every im2col-GEMM conv and every dense layer.
//   3. Activations are planned once for one example with buffers reused after their last reader, each op's
//      scratch (im2col band, GEMM packing buffer) in the same pool while that op runs (plan.ts).
//   4. Each op becomes a fixed list of kernel calls on fixed addresses, per thread. A conv is im2col + GEMM
//      over bands of whole output rows (a sub-descriptor per band, so im2col_f32 fills just that band's col
//      rows), then bias / residual / ReLU on the band while it is in cache. With T threads a conv's output
//      rows are split T ways (any row slice of a GEMM is a valid GEMM); where there are too few rows (7×7
//      maps) the packed weight panels — GEMM columns — are split instead, each thread running the band's
//      im2col itself. Dense layers split their columns the same way. A layer op is the layer's own
//      forwardCalls for one example (the description training runs), on the main thread.
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
import { GEMM_NR, CONV_DESC_BYTES, writeConvDesc } from '../engine/generated/abi';
import { numelOf, type Call, type Shape } from '../layers/layer';
import type { Network as Model } from '../model/network';
import type { Kernels } from '../engine/generated/kernels';
import { spawnWorker, type WorkerLike } from '../parallel/worker-api';
import { lower, type LayerOp, type Lowered, type Op } from './lower';
import { planActivations, type ActivationPlan } from './plan';
import { inferHooks } from './hooks';
import { checkOptions } from '../engine/options';

export interface InferenceOptions {
  /** Threads for predict (the main thread + workers − 1 helpers). Default 1. */
  workers?: number;
  /** Target bytes of one im2col band (whole output rows). Default 1 MiB (stays in L2). */
  bandBytes?: number;
  /** Where the helper entry is (default: worker.ts beside this file from source, rede-infer-worker.js beside a bundle). */
  workerUrl?: URL;
  /** How long predict waits for a helper's share of one op before it gives up (default 30 s). */
  helperTimeoutMs?: number;
  /** Largest staging buffer for packing weights, bytes (default 4 MiB; tests use tiny ones). */
  packStageBytes?: number;
}

export type { Call };

/** One op's scratch: how many threads run a share of it, and the bytes of each thread's slots. */
interface OpScratch { threads: number; col: number; gemm: number; main: number }

/** Per op: the calls of each thread (index 0: main), then the calls main makes after all threads are done. */
interface OpCalls { threads: Call[][]; after: Call[] }

export interface InferenceMemory {
  /** Packed weights, biases and other constants. */
  weights: number;
  /** The planned pool: activations (reused after their last reader) and each op's scratch while it runs. */
  activations: number;
  /** Kernel descriptors (conv bands, pooling, batch norm, LRN) and the thread control words. */
  scratch: number;
  /** Everything the arena holds for this model. */
  total: number;
  /** Bytes alive at the worst op, values and scratch (lower bound of any plan), and one buffer per value. */
  peakLive: number;
  naive: number;
  /** The two largest values, and the largest single col band (for the bound weights + 2 largest + col). */
  largestTwo: number;
  colBand: number;
}

const CTL_SEQ = 0, CTL_OP = 1, CTL_DONE = 2, CTL_WORDS = 16;
/** Iterations to spin before sleeping in Atomics.wait (a wake-up costs tens of µs; most waits are shorter). */
const SPIN = 20000;
/** Default helper timeout: no op's share takes anywhere near this long (VGG-16's largest conv: ~0.1 s). */
const HELPER_TIMEOUT_MS = 30000;

export class InferenceModel {
  private closed = false;
  /** See InferenceOptions.helperTimeoutMs. */
  helperTimeoutMs = HELPER_TIMEOUT_MS;
  private constructor(
    readonly e: Engine,
    readonly inputShape: Shape,
    readonly outputShape: Shape,
    readonly threads: number,
    private readonly input: number,
    private readonly output: number,
    private readonly ops: { name: string; main: (() => void)[]; after: (() => void)[]; parallel: boolean }[],
    private readonly ctl: Int32Array | null,
    private readonly helpers: WorkerLike[],
    readonly memory: InferenceMemory,
    /** What was folded and the ops that remain (the weights themselves are not kept outside the arena). */
    readonly summary: { folded: Lowered['folded']; ops: { kind: Op['kind']; name: string }[] },
  ) {}

  /** Compiles a trained model; its own engine (same kernel variant) holds only what inference needs. */
  static async from(model: Model, o: InferenceOptions = {}): Promise<InferenceModel> {
    if ((o.workers ?? 1) > 1 && model.e.variant === 'ref') throw new RedeError('infer: workers > 1 needs a wasm engine (the model runs on the reference kernels)');
    return InferenceModel.fromLowered(lower(model), { variant: model.e.variant, maxBytes: model.e.maxBytes, ...o });
  }

  /** Compiles an already lowered graph (lowerGraph with any WeightSource: no Model needed). */
  static async fromLowered(g: Lowered, options: InferenceOptions & { variant?: EngineVariant | 'auto'; maxBytes?: number } = {}): Promise<InferenceModel> {
    const o = checkOptions<InferenceOptions & { variant?: EngineVariant | 'auto'; maxBytes?: number }>('infer', options,
      ['workers', 'bandBytes', 'workerUrl', 'helperTimeoutMs', 'packStageBytes', 'variant', 'maxBytes']);
    const T = o.workers ?? 1;
    if (!Number.isInteger(T) || T < 1 || T > 64) throw new RedeError(`infer: workers must be an integer in [1, 64], got ${o.workers}`);
    if (T > 1 && o.variant === 'ref') throw new RedeError('infer: workers > 1 needs a wasm engine, not the reference kernels');
    const bandBytes = o.bandBytes ?? 1 << 20;
    const e = await Engine.create({ variant: o.variant ?? 'auto', shared: T > 1, maxBytes: o.maxBytes });
    const b = new Builder(e, g, T, bandBytes, o.packStageBytes ?? 4 << 20);
    const compiled = b.compile();
    const input = b.valueAddr(0), output = b.valueAddr(g.output);
    const outputShape = g.values[g.output].shape;
    let ctl: Int32Array | null = null;
    const helpers: WorkerLike[] = [];
    if (T > 1) {
      ctl = new Int32Array(e.memory.buffer, b.ctl, CTL_WORDS);
      const url = o.workerUrl ?? defaultInferWorkerUrl();
      try {
        for (let t = 1; t < T; t++) {
          const w = await spawnWorker(url, `rede-infer-${t}`);
          helpers.push(w);
          const ready = new Promise<void>((res, rej) => {
            w.onMessage((m) => { if (m === 'ready') res(); });
            w.onError((err) => rej(new RedeError(`infer: helper ${t} failed: ${err.message}`)));
            w.onExit((code) => rej(new RedeError(`infer: helper ${t} exited with code ${code} before it was ready`)));
          });
          w.post({ module: e.module, memory: e.memory, ctl: b.ctl, calls: compiled.map((c) => c.threads[t]), stallMs: inferHooks.helperStallAfterReadyMs });
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
    const ops = compiled.map((c, i) => ({
      name: g.ops[i].name,
      main: bind(c.threads[0]),
      after: bind(c.after),
      parallel: c.threads.slice(1).some((l) => l.length > 0),
    }));
    const inf = new InferenceModel(e, g.values[0].shape, outputShape, T, input, output, ops, ctl, helpers, b.memory(),
      { folded: g.folded, ops: g.ops.map((op) => ({ kind: op.kind, name: op.name })) });
    inf.helperTimeoutMs = o.helperTimeoutMs ?? HELPER_TIMEOUT_MS;
    return inf;
  }

  /** Outputs for every example of x ([n, ...inputShape] flat): [n, ...outputShape]. */
  predict(x: Float32Array): Float32Array {
    if (this.closed) throw new RedeError('infer: predict() after close()');
    const per = numelOf(this.inputShape), outPer = numelOf(this.outputShape);
    if (x.length === 0 || x.length % per !== 0) {
      throw new RedeError(`infer: input has ${x.length} values, not a whole number of examples of shape ${shapeStr(this.inputShape)} (${per} values each)`);
    }
    for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) throw new RedeError(`infer: input value ${i} (example ${Math.floor(i / per)}) is ${x[i]}`);
    const n = x.length / per, out = new Float32Array(n * outPer);
    for (let i = 0; i < n; i++) {
      this.e.f32.set(x.subarray(i * per, (i + 1) * per), this.input >>> 2);
      this.run();
      out.set(this.e.f32.subarray(this.output >>> 2, (this.output >>> 2) + outPer), i * outPer);
    }
    return out;
  }

  private seq = 0;
  private run(): void {
    const ctl = this.ctl, helpers = this.threads - 1;
    for (let i = 0; i < this.ops.length; i++) {
      const op = this.ops[i];
      if (op.parallel && ctl) {
        const target = Atomics.load(ctl, CTL_DONE) + helpers;
        Atomics.store(ctl, CTL_OP, i);
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

/** Lays out the arena and turns each op into per-thread call lists. */
class Builder {
  private readonly k: Kernels;
  private weightsAt = 0;
  private pool = 0;
  private descAt = 0;
  ctl = 0;
  /** The scratch addresses of the op being compiled: per thread an im2col band and a GEMM packing buffer. */
  private colAt: number[] = [];
  private gemmAt: number[] = [];
  private mainScratch = 0;
  private act!: ActivationPlan;
  private layout = { weights: 0, scratch: 0, descs: 0 };
  /** The largest im2col band of any op (for the memory report). */
  private colBand = 0;

  constructor(readonly e: Engine, readonly g: Lowered, readonly T: number, readonly bandBytes: number,
    readonly packStage: number) {
    this.k = e.k;
  }

  valueAddr(v: number): number { return this.pool + this.act.offset[v]; }

  // ---- geometry ----------------------------------------------------------------------------------------
  private static gemmPath(geo: ConvGeom): boolean { return !(geo.groups > 1); }
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

  // ---- sizes, then layout -------------------------------------------------------------------------------
  /**
   * Weights and descriptors to reserve, and each op's scratch: per thread that runs a share of the op, an
   * im2col band (`col`; thread 0's slot also serves a layer op: its non-descriptor buffers, then its scratch)
   * and a GEMM packing buffer (`gemm`). The activation planner places each op's scratch in the pool.
   */
  private measure(): { weightFloats: number; descBytes: number; scratch: OpScratch[] } {
    let weightFloats = 0, descBytes = 0;
    const k = this.k, T = this.T;
    const panels = (kk: number, n: number) => k.gemm_packed_b_bytes(kk, n) / 4;
    const scratch = this.g.ops.map((op): OpScratch => {
      const s: OpScratch = { threads: 1, col: 0, gemm: 0, main: 0 };
      if (op.kind === 'conv') {
        const geo = op.geo, K = Builder.colWidth(geo);
        if (Builder.gemmPath(geo)) {
          weightFloats += alignUp(panels(K, geo.cout), 16);
          const rows = this.bandRows(geo);
          s.threads = T;
          if (!Builder.pointwise(geo)) s.col = rows * geo.ow * K * 4;
          s.gemm = k.gemm_f32_packed_b_scratch_bytes(rows * geo.ow, geo.cout, K);
          descBytes += (Math.ceil(geo.oh / rows) + T) * CONV_DESC_BYTES; // bands, + rounding at thread boundaries
        } else {
          weightFloats += alignUp(op.w.length, 16);
          descBytes += CONV_DESC_BYTES;
          s.main = this.convScratch(geo);
        }
        if (op.b) weightFloats += alignUp(op.b.length, 16);
      } else if (op.kind === 'dense') {
        weightFloats += alignUp(panels(op.k, op.n), 16) + (op.b ? alignUp(op.n, 16) : 0);
        s.threads = this.splitColumns(1, op.n) ? T : 1;
        s.gemm = k.gemm_f32_packed_b_scratch_bytes(1, op.n, op.k);
      } else {
        // A layer op: its parameters and state as constants, its descriptors in the descriptor region, its
        // other buffers (max pool's argmax, unused at inference) and its scratch in the op's pool block.
        for (const a of [...Object.values(op.params), ...Object.values(op.state)]) weightFloats += alignUp(a.length, 16);
        const bufs = op.layer.buffers(1);
        for (const b of bufs) if (b.desc) descBytes += b.bytes;
        s.main = bufs.reduce((t, b) => t + (b.desc ? 0 : alignUp(b.bytes)), 0) + op.layer.scratchBytes(this.e, 1);
      }
      this.colBand = Math.max(this.colBand, s.col);
      return s;
    });
    return { weightFloats, descBytes, scratch };
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

  compile(): OpCalls[] {
    const { weightFloats, descBytes, scratch } = this.measure();
    const slots = scratch.map(Builder.slots);
    this.act = planActivations(this.g, slots.map((s) => s.bytes));
    const p = new MemoryPlan();
    p.f32('weights', weightFloats, 'parameters');
    p.bytes('pool', this.act.bytes, 'activations');
    p.bytes('descs', descBytes, 'scratch');
    p.bytes('ctl', CTL_WORDS * 4, 'scratch');
    const l = this.e.allocate(p, 'inference model');
    this.weightsAt = l.ptr.weights; this.pool = l.ptr.pool; this.descAt = l.ptr.descs; this.ctl = l.ptr.ctl;
    this.layout = { weights: l.partBytes.parameters, scratch: l.partBytes.scratch, descs: descBytes };
    this.e.f32.fill(0, l.ptr.pool >>> 2, (l.ptr.pool + this.act.bytes) >>> 2);
    return this.g.ops.map((op, i) => {
      const at = this.pool + this.act.tempOffset[i];
      this.colAt = slots[i].col.map((c) => at + c);
      this.gemmAt = slots[i].gemm.map((c) => at + c);
      this.mainScratch = this.colAt[0] ?? 0;
      return this.compileOp(op);
    });
  }

  memory(): InferenceMemory {
    const sizes = this.g.values.map((v, i) => (this.act.offset[i] >= 0 ? alignUp(v.floats * 4) : 0)).sort((a, b) => b - a);
    return {
      weights: this.layout.weights, activations: this.act.bytes, scratch: this.layout.scratch,
      total: this.layout.weights + this.act.bytes + this.layout.scratch,
      peakLive: this.act.peakLiveBytes, naive: this.act.naiveBytes, largestTwo: sizes[0] + (sizes[1] ?? 0), colBand: this.colBand,
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
  /** Takes `bytes` of the descriptor region, lets `write` fill them at their address, returns it. */
  private putDesc(bytes: number, write: (at: number) => void): number {
    const at = this.descAt;
    write(at);
    this.descAt += bytes;
    return at;
  }
  private putConvDesc(geo: ConvGeom): number { return this.putDesc(CONV_DESC_BYTES, (at) => writeConvDesc(this.e, at, geo)); }

  /** bias, residual, ReLU over y (rows × cols), in that order; bias / res 0: none. */
  private static epilogue({ y, rows, cols, bias, res, relu }: { y: number; rows: number; cols: number; bias: number; res: number; relu: boolean }): Call[] {
    const c: Call[] = [];
    if (bias) c.push(['bias_add_f32', [rows, cols, y, bias, y]]);
    if (res) c.push(['add_f32', [y, res, y, rows * cols]]);
    if (relu) c.push(['relu_forward_f32', [rows * cols, y, y]]);
    return c;
  }

  private compileOp(op: Op): OpCalls {
    const T = this.T, threads: Call[][] = Array.from({ length: T }, () => []), after: Call[] = [];
    const main = threads[0];
    const V = (v: number) => this.valueAddr(v);
    switch (op.kind) {
      case 'conv': {
        const geo = op.geo, K = Builder.colWidth(geo), cout = geo.cout;
        const bias = op.b ? this.putF32(op.b) : 0, res = op.res >= 0 ? V(op.res) : 0;
        const x = V(op.x), y = V(op.y);
        if (!Builder.gemmPath(geo)) {
          const w = this.putF32(op.w), d = this.putConvDesc(geo);
          main.push(['conv2d_forward_f32', [d, x, w, bias, y, op.relu && !res ? 1 : 0, this.mainScratch]]);
          if (res) main.push(...Builder.epilogue({ y, rows: 1, cols: geo.oh * geo.ow * cout, bias: 0, res, relu: op.relu }));
          break;
        }
        const packed = this.putPacked(op.w, K, cout), pw = Builder.pointwise(geo), band = this.bandRows(geo);
        const cols = this.splitColumns(geo.oh, cout);
        /** Calls for output rows [r0, r1) and GEMM columns [j0, j1) of thread t, with band descriptor d. */
        const bandCalls = (t: number, [r0, r1, d]: readonly [number, number, number], [j0, j1]: readonly [number, number], withEpilogue: boolean): Call[] => {
          const rows = (r1 - r0) * geo.ow, c: Call[] = [];
          let a = x + r0 * geo.ow * geo.cin * 4, lda = geo.cin;
          if (!pw) { c.push(['im2col_f32', [d, this.bandX(geo, x, r0), this.colAt[t]]]); a = this.colAt[t]; lda = K; }
          const yb = y + r0 * geo.ow * cout * 4;
          c.push(['gemm_f32_packed_b', [0, rows, j1 - j0, K, a, lda, packed + j0 * K * 4, yb + j0 * 4, cout, 0, this.gemmAt[t]]]);
          if (withEpilogue) c.push(...Builder.epilogue({ y: yb, rows, cols: cout, bias, res: res ? res + r0 * geo.ow * cout * 4 : 0, relu: op.relu }));
          return c;
        };
        const bands = (r0: number, r1: number): [number, number, number][] => {
          const out: [number, number, number][] = [];
          for (let r = r0; r < r1; r += band) {
            const e = Math.min(r1, r + band);
            out.push([r, e, pw ? 0 : this.putConvDesc(this.bandGeom(geo, r, e))]);
          }
          return out;
        };
        if (!cols) {
          for (let t = 0; t < T; t++) {
            const [r0, r1] = Builder.share(geo.oh, t, T);
            for (const b of bands(r0, r1)) threads[t].push(...bandCalls(t, b, [0, cout], true));
          }
        } else {
          const all = bands(0, geo.oh), panels = Math.ceil(cout / GEMM_NR);
          for (let t = 0; t < T; t++) {
            const [q0, q1] = Builder.share(panels, t, T);
            for (const b of all) threads[t].push(...bandCalls(t, b, [q0 * GEMM_NR, Math.min(cout, q1 * GEMM_NR)], false));
          }
          after.push(...Builder.epilogue({ y, rows: geo.oh * geo.ow, cols: cout, bias, res, relu: op.relu }));
        }
        break;
      }
      case 'dense': {
        const packed = this.putPacked(op.w, op.k, op.n), bias = op.b ? this.putF32(op.b) : 0, res = op.res >= 0 ? V(op.res) : 0;
        const x = V(op.x), y = V(op.y), parts = this.splitColumns(1, op.n) ? T : 1, panels = Math.ceil(op.n / GEMM_NR);
        for (let t = 0; t < parts; t++) {
          const [q0, q1] = Builder.share(panels, t, parts), j0 = q0 * GEMM_NR, j1 = Math.min(op.n, q1 * GEMM_NR);
          if (j1 > j0) threads[t].push(['gemm_f32_packed_b', [0, 1, j1 - j0, op.k, x, op.k, packed + j0 * op.k * 4, y + j0 * 4, op.n, 0, this.gemmAt[t]]]);
        }
        after.push(...Builder.epilogue({ y, rows: 1, cols: op.n, bias, res, relu: op.relu }));
        break;
      }
      default: {
        main.push(...this.layerCalls(op));
        if (op.relu) main.push(['relu_forward_f32', [this.g.values[op.y].floats, V(op.y), V(op.y)]]);
      }
    }
    return { threads, after };
  }

  /**
   * A layer op's own forward for one example (Layer.forwardCalls): its weights copied into the weights
   * region, descriptors in the descriptor region (the layer writes them now), its other buffers and then its
   * scratch carved from the op's scratch block, in measure()'s order.
   */
  private layerCalls(op: LayerOp): Call[] {
    const place = (arrays: Record<string, Float32Array>) => Object.fromEntries(Object.entries(arrays).map(([k, a]) => [k, this.putF32(a)]));
    const buf: Record<string, number> = {};
    let at = this.mainScratch;
    for (const b of op.layer.buffers(1)) {
      if (b.desc) buf[b.name] = this.putDesc(b.bytes, () => {});
      else { buf[b.name] = at; at += alignUp(b.bytes); }
    }
    return op.layer.forwardCalls({ e: this.e, batch: 1, training: false, seed: 0, step: 0, exampleOffset: 0,
      x: op.xs.map((v) => this.valueAddr(v)), y: this.valueAddr(op.y), p: place(op.params), s: place(op.state), buf, scratch: at });
  }

  /**
   * The geometry of output rows [r0, r1) of a batch-1 conv as a conv of its own: its input starts at input
   * row base = r0·stride − padTop (clamped at 0, the rest becomes top padding) and has the rows below it.
   */
  private bandGeom(geo: ConvGeom, r0: number, r1: number): ConvGeom {
    const base = r0 * geo.strideH - geo.padTop;
    const from = Math.max(0, base), h = geo.h - from;
    return { ...geo, n: 1, h, oh: r1 - r0, padTop: Math.max(0, -base), tileRows: 0 };
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
