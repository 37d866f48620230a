// time_distributed: Keras's TimeDistributed(Dense) — one dense layer applied to every step of a sequence.
// A [t, f] input is t·batch rows of f features, so it is Dense's GEMMs with t·batch rows; weights
// kernel [f, units] and bias [units] as Dense's.
//   x [b, t, f] → y [b, t, units] = act(x·W + bias), act over each step's units (softmax too)
// backward: (dy ← dL/dpre from y) → dW (+)= xᵀ·dy   db (+)= Σ_rows dy   dx = dy·Wᵀ
import type { Engine } from '../engine/engine';
import { RedeError, shapeStr } from '../engine/errors';
import { fans } from '../init';
import { RECTIFIERS, epilogueBackward, epilogueCalls, epilogueOf, type ActivationName, type Epilogue } from './activation';
import { Layer, expectInputs, handles, type Call, type Handles, type Init, type Shape, type Site, type Step } from './layer';

export interface TimeDistributedConfig { name: string; units: number; useBias?: boolean; activation?: ActivationName; alpha?: number; init?: Init; l1?: number; l2?: number }

export class TimeDistributed extends Layer {
  override readonly p: Handles<'w' | 'b'>;
  override readonly g: Handles<'w' | 'b'>;
  readonly steps: number;
  readonly inFeatures: number;
  readonly units: number;
  readonly useBias: boolean;
  readonly act: Epilogue;

  constructor(readonly cfg: TimeDistributedConfig, inShapes: readonly Shape[]) {
    const where = `time_distributed '${cfg.name}'`;
    expectInputs(where, inShapes, 1);
    if (inShapes[0].length !== 2) throw new RedeError(`${where}: input must be a sequence [steps, features] per example, got ${shapeStr(inShapes[0])}`);
    if (!Number.isInteger(cfg.units) || cfg.units < 1) throw new RedeError(`${where}: units must be a positive integer, got ${cfg.units}`);
    const act = epilogueOf(where, cfg.activation, cfg.alpha);
    super('time_distributed', cfg.name, inShapes, [inShapes[0][0], cfg.units]);
    [this.steps, this.inFeatures] = inShapes[0];
    this.units = cfg.units;
    this.useBias = cfg.useBias ?? true;
    this.act = act;
    this.p = handles('w', this.useBias && 'b');
    this.g = handles('w', this.useBias && 'b');
    this.l1 = cfg.l1 ?? 0; this.l2 = cfg.l2 ?? 0;
    const wShape = [this.inFeatures, this.units], { fanIn, fanOut } = fans(wShape);
    this.params.push({ name: 'w', shape: wShape, init: cfg.init ?? (RECTIFIERS.includes(act.type) ? 'he_uniform' : 'glorot_uniform'), fanIn, fanOut, regularize: true });
    if (this.useBias) this.params.push({ name: 'b', shape: [this.units], init: 'zeros', fanIn, fanOut, regularize: false });
  }

  override flops(): number { return 2 * this.steps * this.inFeatures * this.units; }
  override scratchBytes(e: Engine, batch: number): number {
    const k = e.k, R = batch * this.steps, I = this.inFeatures, U = this.units;
    return Math.max(k.gemm_scratch_bytes(R, U, I), k.gemm_scratch_bytes(I, U, R), k.gemm_scratch_bytes(R, I, U));
  }

  forwardCalls({ batch, x: [x], y, p, scratch }: Site<this>): Call[] {
    const R = batch * this.steps, I = this.inFeatures, U = this.units;
    const c: Call[] = [['gemm_f32', [0, 0, R, U, I, x, I, p.w, U, y, U, 0, scratch]]];
    if (this.useBias) c.push(['bias_add_f32', [R, U, y, p.b, y]]);
    c.push(...epilogueCalls(this.act, R, U, y, y));
    return c;
  }

  backward(s: Step, [x]: readonly number[], y: number, dy: number, [dx]: readonly number[]): void {
    const { k } = s, R = s.batch * this.steps, I = this.inFeatures, U = this.units, acc = s.accumulate ? 1 : 0;
    epilogueBackward(k, this.act, R, U, y, dy);
    k.gemm_f32(1, 0, I, U, R, x, I, dy, U, this.g.w, U, acc, s.scratch);
    if (this.useBias) k.bias_grad_f32(R, U, dy, this.g.b, acc);
    if (dx) k.gemm_f32(0, 1, R, I, U, dy, U, this.p.w, U, dx, I, 0, s.scratch);
  }

  config(): Record<string, unknown> { return { type: 'time_distributed', ...this.cfg }; }
}
