// Dense: y[b×units] = x[b×in]·W[in×units] + bias, optional fused ReLU.
// backward: dW (+)= xᵀ·dy   db (+)= Σ_rows dy   dx = dy·Wᵀ   (three GEMM forms, one kernel)
import { RedeError } from '../engine/errors';
import type { Engine } from '../engine/engine';
import { fans } from '../init';
import { Layer, expectInputs, handles, type Call, type Handles, type Init, type Shape, type Site, type Step } from './layer';

export interface DenseConfig { name: string; units: number; useBias?: boolean; activation?: 'linear' | 'relu'; init?: Init; l1?: number; l2?: number }

export class Dense extends Layer {
  override readonly p: Handles<'w' | 'b'>;
  override readonly g: Handles<'w' | 'b'>;
  readonly units: number;
  readonly inFeatures: number;
  readonly useBias: boolean;
  readonly relu: boolean;

  constructor(readonly cfg: DenseConfig, inShapes: readonly Shape[]) {
    const where = `dense '${cfg.name}'`;
    expectInputs(where, inShapes, 1);
    if (inShapes[0].length !== 1) throw new RedeError(`${where}: input must be a vector per example, got [${inShapes[0].join(', ')}]; add a flatten layer before it`);
    if (!Number.isInteger(cfg.units) || cfg.units < 1) throw new RedeError(`${where}: units must be a positive integer, got ${cfg.units}`);
    if (cfg.activation !== undefined && cfg.activation !== 'linear' && cfg.activation !== 'relu') throw new RedeError(`${where}: activation must be 'linear' or 'relu' (other activations are layers of their own), got '${cfg.activation}'`);
    super('dense', cfg.name, inShapes, [cfg.units]);
    this.units = cfg.units;
    this.inFeatures = inShapes[0][0];
    this.useBias = cfg.useBias ?? true;
    this.p = handles('w', this.useBias && 'b');
    this.g = handles('w', this.useBias && 'b');
    this.relu = cfg.activation === 'relu';
    this.l1 = cfg.l1 ?? 0; this.l2 = cfg.l2 ?? 0;
    const wShape = [this.inFeatures, this.units];
    const { fanIn, fanOut } = fans(wShape);
    this.params.push({ name: 'w', shape: wShape, init: cfg.init ?? (this.relu ? 'he_uniform' : 'glorot_uniform'), fanIn, fanOut, regularize: true });
    if (this.useBias) this.params.push({ name: 'b', shape: [this.units], init: 'zeros', fanIn, fanOut, regularize: false });
  }

  override flops(): number { return 2 * this.inFeatures * this.units; }

  override scratchBytes(e: Engine, batch: number): number {
    const k = e.k, I = this.inFeatures, U = this.units;
    return Math.max(k.gemm_scratch_bytes(batch, U, I), k.gemm_scratch_bytes(I, U, batch), k.gemm_scratch_bytes(batch, I, U));
  }

  /** GEMM, bias, ReLU (inference specializes dense layers: packed weights, src/infer/model.ts). */
  forwardCalls({ batch: b, x: [x], y, p, scratch }: Site<this>): Call[] {
    const I = this.inFeatures, U = this.units, c: Call[] = [['gemm_f32', [0, 0, b, U, I, x, I, p.w, U, y, U, 0, scratch]]];
    if (this.useBias) c.push(['bias_add_f32', [b, U, y, p.b, y]]);
    if (this.relu) c.push(['relu_forward_f32', [b * U, y, y]]);
    return c;
  }

  backward(s: Step, [x]: readonly number[], y: number, dy: number, [dx]: readonly number[]): void {
    const { k } = s, b = s.batch, I = this.inFeatures, U = this.units, acc = s.accumulate ? 1 : 0;
    if (this.relu) k.relu_backward_f32(b * U, y, dy, dy); // y > 0 exactly where x > 0
    k.gemm_f32(1, 0, I, U, b, x, I, dy, U, this.g.w, U, acc, s.scratch);
    if (this.useBias) k.bias_grad_f32(b, U, dy, this.g.b, acc);
    if (dx) k.gemm_f32(0, 1, b, I, U, dy, U, this.p.w, U, dx, I, 0, s.scratch);
  }

  config(): Record<string, unknown> { return { type: 'dense', ...this.cfg }; }
}
