// Dense: y[b×units] = act(x[b×in]·W[in×units] + bias), act any of ACTIVATIONS (src/layers/activation.ts),
// run in place on y right after the GEMM (softmax: from a logits buffer, which a cross-entropy reads).
// backward: (dy ← dL/dpre from y) → dW (+)= xᵀ·dy   db (+)= Σ_rows dy   dx = dy·Wᵀ   (three GEMM forms, one kernel)
import { RedeError } from '../engine/errors';
import type { Engine } from '../engine/engine';
import { fans } from '../init';
import { RECTIFIERS, epilogueBackward, epilogueCalls, epilogueOf, type ActivationName, type Epilogue } from './activation';
import { Layer, expectInputs, handles, type BufferDecl, type Call, type Handles, type Init, type Shape, type Site, type Step } from './layer';

export interface DenseConfig { name: string; units: number; useBias?: boolean; activation?: ActivationName; alpha?: number; init?: Init; l1?: number; l2?: number }

export class Dense extends Layer {
  override readonly p: Handles<'w' | 'b'>;
  override readonly g: Handles<'w' | 'b'>;
  override readonly buf: Handles<'logits'>;
  readonly units: number;
  readonly inFeatures: number;
  readonly useBias: boolean;
  readonly act: Epilogue;

  constructor(readonly cfg: DenseConfig, inShapes: readonly Shape[]) {
    const where = `dense '${cfg.name}'`;
    expectInputs(where, inShapes, 1);
    if (inShapes[0].length !== 1) throw new RedeError(`${where}: input must be a vector per example, got [${inShapes[0].join(', ')}]; add a flatten layer before it`);
    if (!Number.isInteger(cfg.units) || cfg.units < 1) throw new RedeError(`${where}: units must be a positive integer, got ${cfg.units}`);
    const act = epilogueOf(where, cfg.activation, cfg.alpha);
    super('dense', cfg.name, inShapes, [cfg.units]);
    this.units = cfg.units;
    this.inFeatures = inShapes[0][0];
    this.useBias = cfg.useBias ?? true;
    this.p = handles('w', this.useBias && 'b');
    this.g = handles('w', this.useBias && 'b');
    this.act = act;
    this.buf = handles(act.type === 'softmax' && 'logits');
    this.l1 = cfg.l1 ?? 0; this.l2 = cfg.l2 ?? 0;
    const wShape = [this.inFeatures, this.units];
    const { fanIn, fanOut } = fans(wShape);
    this.params.push({ name: 'w', shape: wShape, init: cfg.init ?? (RECTIFIERS.includes(act.type) ? 'he_uniform' : 'glorot_uniform'), fanIn, fanOut, regularize: true });
    if (this.useBias) this.params.push({ name: 'b', shape: [this.units], init: 'zeros', fanIn, fanOut, regularize: false });
  }

  /** Whether the activation is a fused ReLU (the inference compiler's epilogue test). */
  get relu(): boolean { return this.act.type === 'relu'; }

  override flops(): number { return 2 * this.inFeatures * this.units; }
  override buffers(batch: number): BufferDecl[] { return this.act.type === 'softmax' ? [{ name: 'logits', bytes: 4 * batch * this.units }] : []; }
  override logits(): number { return this.act.type === 'softmax' ? this.buf.logits : 0; }

  override scratchBytes(e: Engine, batch: number): number {
    const k = e.k, I = this.inFeatures, U = this.units;
    return Math.max(k.gemm_scratch_bytes(batch, U, I), k.gemm_scratch_bytes(I, U, batch), k.gemm_scratch_bytes(batch, I, U));
  }

  /** GEMM, bias, activation (inference specializes dense layers: packed weights, src/infer/model.ts). */
  forwardCalls({ batch: b, x: [x], y, p, buf, scratch }: Site<this>): Call[] {
    const I = this.inFeatures, U = this.units, z = this.act.type === 'softmax' ? buf.logits : y;
    const c: Call[] = [['gemm_f32', [0, 0, b, U, I, x, I, p.w, U, z, U, 0, scratch]]];
    if (this.useBias) c.push(['bias_add_f32', [b, U, z, p.b, z]]);
    c.push(...epilogueCalls(this.act, b, U, z, y));
    return c;
  }

  backward(s: Step, [x]: readonly number[], y: number, dy: number, [dx]: readonly number[], fromLogits = false): void {
    const { k } = s, b = s.batch, I = this.inFeatures, U = this.units, acc = s.accumulate ? 1 : 0;
    if (!fromLogits) epilogueBackward(k, this.act, b, U, y, dy);
    k.gemm_f32(1, 0, I, U, b, x, I, dy, U, this.g.w, U, acc, s.scratch);
    if (this.useBias) k.bias_grad_f32(b, U, dy, this.g.b, acc);
    if (dx) k.gemm_f32(0, 1, b, I, U, dy, U, this.p.w, U, dx, I, 0, s.scratch);
  }

  config(): Record<string, unknown> { return { type: 'dense', ...this.cfg }; }
}
