// BatchNorm over the last axis (channels): statistics over every other axis of the batch (n·h·w rows).
// Training uses batch statistics and updates the running ones (PyTorch's convention: momentum 0.1,
// unbiased running variance); inference uses the running ones. With micro-shards (parallel training) each
// shard normalizes with its own statistics, like PyTorch DDP without SyncBN.
// LRN (AlexNet) normalizes across channels: y = x / (bias + alpha·Σ_window x²)^beta, TensorFlow's semantics.
import type { Engine } from '../engine/engine';
import { RedeError } from '../engine/errors';
import { BATCHNORM_DESC_BYTES, LRN_DESC_BYTES, writeBatchnormDesc, writeLrnDesc } from '../engine/generated/abi';
import { Layer, expectInputs, handles, numelOf, type BufferDecl, type Call, type Shape, type Site, type Step } from './layer';

export class BatchNorm extends Layer {
  override readonly p = handles('gamma', 'beta');
  override readonly g = handles('gamma', 'beta');
  override readonly s = handles('running_mean', 'running_var');
  override readonly buf = handles('mean', 'invstd', 'desc');
  readonly c: number;
  readonly momentum: number;
  readonly epsilon: number;
  constructor(readonly cfg: { name: string; momentum?: number; epsilon?: number }, inShapes: readonly Shape[]) {
    const where = `batchnorm '${cfg.name}'`;
    expectInputs(where, inShapes, 1);
    super('batchnorm', cfg.name, inShapes, inShapes[0]);
    this.c = inShapes[0][inShapes[0].length - 1];
    this.momentum = cfg.momentum ?? 0.1;
    this.epsilon = cfg.epsilon ?? 1e-5;
    if (!(this.momentum >= 0 && this.momentum <= 1)) throw new RedeError(`${where}: momentum must be in [0, 1], got ${cfg.momentum}`);
    if (!(this.epsilon > 0)) throw new RedeError(`${where}: epsilon must be > 0, got ${cfg.epsilon}`);
    const c = this.c;
    this.params.push({ name: 'gamma', shape: [c], init: 'ones', fanIn: c, fanOut: c, regularize: false });
    this.params.push({ name: 'beta', shape: [c], init: 'zeros', fanIn: c, fanOut: c, regularize: false });
    this.state.push({ name: 'running_mean', floats: c, init: 0 }, { name: 'running_var', floats: c, init: 1 });
  }
  private rows(batch: number): number { return batch * numelOf(this.outShape) / this.c; }
  override flops(): number { return 4 * numelOf(this.outShape); }
  override buffers(): BufferDecl[] {
    return [{ name: 'desc', bytes: BATCHNORM_DESC_BYTES, desc: true }, { name: 'mean', bytes: 4 * this.c }, { name: 'invstd', bytes: 4 * this.c }];
  }
  override scratchBytes(e: Engine): number { return e.k.batchnorm_scratch_bytes(this.c); }
  /** The kernels' descriptor (rows of `batch` examples, c, eps, momentum) at `at`. */
  private desc(e: Engine, at: number, batch: number): number {
    return this.descriptor(e, at, batch, () => writeBatchnormDesc(e, at, { rows: this.rows(batch), c: this.c, eps: this.epsilon, momentum: this.momentum }));
  }
  forwardCalls({ e, batch, training, x: [x], y, p, s, buf, scratch }: Site<this>): Call[] {
    const d = this.desc(e, buf.desc, batch);
    if (training) {
      return [['batchnorm_train_forward_f32', [d, x, y, p.gamma, p.beta, buf.mean, buf.invstd, s.running_mean, s.running_var, scratch]]];
    }
    return [['batchnorm_infer_forward_f32', [d, x, y, p.gamma, p.beta, s.running_mean, s.running_var, scratch]]];
  }
  backward(s: Step, [x]: readonly number[], _y: number, dy: number, [dx]: readonly number[]): void {
    if (!s.training) return this.backwardInference(s, x, dy, dx);
    // The kernel always writes dx; without a consumer for it, dy (ours to overwrite) takes it.
    s.k.batchnorm_backward_f32(this.desc(s.e, this.buf.desc, s.batch), x, dy, dx || dy, this.p.gamma, this.buf.mean, this.buf.invstd,
      this.g.gamma, this.g.beta, s.accumulate ? 1 : 0, s.scratch);
  }
  /**
   * After an inference forward the layer is a per-channel affine map y = γ·(x − μ_r)·r + β, r = 1/√(σ²_r + ε):
   * dx = dy·γ·r, dγ (+)= Σ dy·(x − μ_r)·r, dβ (+)= Σ dy. Off the training path (adversarial inputs, saliency),
   * so plain TypeScript.
   */
  private backwardInference(s: Step, x: number, dy: number, dx: number): void {
    const f = s.e.f32, c = this.c, rows = this.rows(s.batch);
    const g = this.p.gamma >>> 2, mu = this.s.running_mean >>> 2, v = this.s.running_var >>> 2;
    const dg = this.g.gamma >>> 2, db = this.g.beta >>> 2;
    for (let ch = 0; ch < c; ch++) {
      const r = 1 / Math.sqrt(f[v + ch] + this.epsilon), scale = f[g + ch] * r;
      let sg = 0, sb = 0;
      for (let i = 0; i < rows; i++) {
        const at = i * c + ch, d = f[(dy >>> 2) + at];
        sg += d * (f[(x >>> 2) + at] - f[mu + ch]) * r;
        sb += d;
        if (dx) f[(dx >>> 2) + at] = d * scale;
      }
      f[dg + ch] = s.accumulate ? f[dg + ch] + sg : sg;
      f[db + ch] = s.accumulate ? f[db + ch] + sb : sb;
    }
  }

  config(): Record<string, unknown> { return { type: 'batchnorm', ...this.cfg }; }
}

export class LRN extends Layer {
  override readonly buf = handles('desc');
  readonly radius: number; readonly bias: number; readonly alpha: number; readonly beta: number;
  constructor(readonly cfg: { name: string; radius?: number; bias?: number; alpha?: number; beta?: number }, inShapes: readonly Shape[]) {
    const where = `lrn '${cfg.name}'`;
    expectInputs(where, inShapes, 1);
    super('lrn', cfg.name, inShapes, inShapes[0]);
    // AlexNet's values (k = 2, n = 5 → radius 2, α = 1e-4, β = 0.75) as defaults.
    this.radius = cfg.radius ?? 2; this.bias = cfg.bias ?? 2; this.alpha = cfg.alpha ?? 1e-4; this.beta = cfg.beta ?? 0.75;
    if (!Number.isInteger(this.radius) || this.radius < 0) throw new RedeError(`${where}: radius must be a non-negative integer, got ${cfg.radius}`);
  }
  private get c(): number { return this.outShape[this.outShape.length - 1]; }
  override flops(): number { return (2 * this.radius + 3) * numelOf(this.outShape); }
  override buffers(): BufferDecl[] { return [{ name: 'desc', bytes: LRN_DESC_BYTES, desc: true }]; }
  override scratchBytes(e: Engine): number { return e.k.lrn_scratch_bytes(this.c); }
  /** The kernels' descriptor (rows of `batch` examples, c, radius, bias, alpha, beta) at `at`. */
  private desc(e: Engine, at: number, batch: number): number {
    return this.descriptor(e, at, batch, () => writeLrnDesc(e, at, { rows: batch * numelOf(this.outShape) / this.c, c: this.c,
      radius: this.radius, bias: this.bias, alpha: this.alpha, beta: this.beta }));
  }
  forwardCalls({ e, batch, x: [x], y, buf }: Site<this>): Call[] {
    return [['lrn_forward_f32', [this.desc(e, buf.desc, batch), x, y]]];
  }
  backward(s: Step, [x]: readonly number[], _y: number, dy: number, [dx]: readonly number[]): void {
    if (!dx) return;
    s.k.lrn_backward_f32(this.desc(s.e, this.buf.desc, s.batch), x, dy, dx, s.scratch);
  }
  config(): Record<string, unknown> { return { type: 'lrn', ...this.cfg }; }
}
