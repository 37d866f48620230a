// Optimizers over the model's flat parameter buffer. State (velocity, moments) is laid out like the
// parameters, slot after slot, so entry i's state sits at the same offset in each slot. One kernel call per
// parameter tensor, because L1/L2 coefficients are per layer; the step's hyper-parameters (lr, betas, eps,
// bias corrections, weight decay) are written once per step into the kernels' step block (see writeStep).
import { RedeError } from '../engine/errors';
import { checkNumber, checkOptions } from '../engine/options';
import type { Kernels } from '../engine/generated/kernels';
import { OPTIM_STEP_BYTES, writeAdadeltaDesc, writeAdagradDesc, writeAdamDesc, writeRmspropDesc, writeSgdDesc } from '../engine/generated/abi';
import type { ParamEntry } from '../model/network';

export type OptimizerConfig =
  | { type: 'sgd'; lr?: number; momentum?: number; nesterov?: boolean }
  | { type: 'rmsprop'; lr?: number; alpha?: number; eps?: number; momentum?: number }
  | { type: 'adam' | 'adamw'; lr?: number; beta1?: number; beta2?: number; eps?: number; weightDecay?: number }
  | { type: 'adagrad'; lr?: number; eps?: number }
  /** alpha: the decay of both running averages (PyTorch's and Keras's rho, Caffe's momentum). */
  | { type: 'adadelta'; lr?: number; alpha?: number; eps?: number };

export interface OptimizerCommon {
  /** Clip the global gradient norm to this (before the update). */
  clipNorm?: number;
  /**
   * Per-tensor settings by weight name (`<layer>/kernel`, `<layer>/bias`, …): Caffe's param { lr_mult,
   * decay_mult }, PyTorch's parameter groups. `lrMult` scales the rate for that tensor (sgd only: see
   * applyRange; after the step that tensor's gradient buffer holds lrMult × its gradient, which a monitor reading
   * it sees); `l1` / `l2` replace the layer's coefficients for it (biases too, which rede otherwise never
   * regularizes).
   */
  perParam?: Record<string, ParamSettings>;
}

export interface ParamSettings { lrMult?: number; l1?: number; l2?: number }
const PARAM_SETTINGS = ['lrMult', 'l1', 'l2'];

export type OptimizerSpec = (OptimizerConfig & OptimizerCommon) | OptimizerConfig['type'];

const DEFAULT_LR = { sgd: 0.01, rmsprop: 0.001, adam: 0.001, adamw: 0.001, adagrad: 0.01, adadelta: 1 } as const;
const TYPES = Object.keys(DEFAULT_LR) as OptimizerConfig['type'][];

/** Each optimizer's own options (besides type and clipNorm). */
const OPTIONS: Record<OptimizerConfig['type'], readonly string[]> = {
  sgd: ['lr', 'momentum', 'nesterov'],
  rmsprop: ['lr', 'alpha', 'eps', 'momentum'],
  adam: ['lr', 'beta1', 'beta2', 'eps', 'weightDecay'],
  adamw: ['lr', 'beta1', 'beta2', 'eps', 'weightDecay'],
  adagrad: ['lr', 'eps'],
  adadelta: ['lr', 'alpha', 'eps'],
};
/** Keras / tfjs / PyTorch spellings. */
const ALIASES: Record<string, string> = {
  learningRate: 'lr', learning_rate: 'lr', epsilon: 'eps', beta_1: 'beta1', beta_2: 'beta2', rho: 'alpha',
  weight_decay: 'weightDecay', decay: 'weightDecay', clipnorm: 'clipNorm', useNesterov: 'nesterov',
};

export class Optimizer {
  readonly cfg: OptimizerConfig & OptimizerCommon;
  /** Floats of state per parameter float. */
  readonly slots: number;
  /** Steps taken (Adam's bias correction uses it; saved with checkpoints). */
  t = 0;

  constructor(spec: OptimizerSpec) {
    if (typeof spec !== 'string' && (spec === null || typeof spec !== 'object')) throw new RedeError(`optimizer: expected a type name or { type, ... }, got ${spec === null ? 'null' : typeof spec}`);
    const type = typeof spec === 'string' ? spec : spec.type;
    if (!(TYPES as string[]).includes(type)) {
      throw new RedeError(`optimizer: unknown type '${type}' (expected ${TYPES.join(', ')})`);
    }
    const where = `optimizer ${type}`;
    const cfg = typeof spec === 'string' ? { type } as OptimizerConfig & OptimizerCommon
      : checkOptions<OptimizerConfig & OptimizerCommon>(where, spec, ['type', ...OPTIONS[type as OptimizerConfig['type']], 'clipNorm', 'perParam'], ALIASES);
    const lr = cfg.lr ?? DEFAULT_LR[cfg.type];
    if (!(lr > 0) || !Number.isFinite(lr) || !Number.isFinite(Math.fround(lr))) throw new RedeError(`${where}: lr must be a positive number (finite in float32), got ${lr}`);
    const c = cfg as unknown as Record<string, unknown>;
    const unit = (k: string) => { if (c[k] !== undefined) checkNumber(where, k, c[k], { min: 0, max: 1, exclusiveMax: true }); };
    unit('momentum'); unit('beta1'); unit('beta2'); unit('alpha');
    if (c.eps !== undefined) checkNumber(where, 'eps', c.eps, { min: 0, exclusiveMin: true });
    if (c.weightDecay !== undefined) checkNumber(where, 'weightDecay', c.weightDecay, { min: 0 });
    if (c.clipNorm !== undefined) checkNumber(where, 'clipNorm', c.clipNorm, { min: 0, exclusiveMin: true });
    if (c.nesterov !== undefined && typeof c.nesterov !== 'boolean') throw new RedeError(`${where}: nesterov must be true or false, got ${JSON.stringify(c.nesterov)}`);
    if (c.perParam !== undefined) cfg.perParam = checkPerParam(where, c.perParam, cfg.type);
    this.cfg = { ...cfg, lr };
    this.slots = cfg.type === 'sgd' ? ((cfg.momentum ?? 0) > 0 ? 1 : 0)
      : cfg.type === 'rmsprop' ? ((cfg.momentum ?? 0) > 0 ? 2 : 1) : cfg.type === 'adagrad' ? 1 : 2;
  }

  get lr(): number { return this.cfg.lr!; }

  /**
   * Where this optimizer writes its step block (0: the kernels' static one). Data-parallel training gives each
   * network's optimizer a block of its own in the shared memory: the workers of a chain update its networks one
   * after another, and a fast worker writing the next network's rates into a shared block would change them
   * under a slow one still applying the previous network's.
   */
  stepBlock = 0;

  /**
   * One update of every parameter with learning rate `lr`, from gradients at `grads` (same layout as
   * `params`), state at `state` (slots × paramFloats).
   */
  apply(k: Kernels, entries: readonly ParamEntry[], params: number, grads: number, state: number, paramFloats: number, lr: number): void {
    this.t++;
    this.applyRange(k, entries, params, grads, state, paramFloats, lr, this.t, 0, paramFloats);
  }

  /**
   * The update of step `t` (≥ 1) restricted to floats [from, to) of the flat buffer; `t` is not advanced.
   * Parallel training gives each worker one chunk. The kernels are elementwise, so any split whose bounds are
   * multiples of 4 floats (entries start on 16) gives the same bits as one whole-buffer call.
   */
  applyRange(k: Kernels, entries: readonly ParamEntry[], params: number, grads: number, state: number, paramFloats: number, lr: number,
    t: number, from: number, to: number): void {
    const slot = paramFloats * 4, hyper = this.writeStep(k, lr, t), per = this.cfg.perParam;
    if (per && !this.checked.has(entries)) this.checkEntries(entries);
    for (const en of entries) {
      const lo = Math.max(en.offset, from), hi = Math.min(en.offset + en.n, to);
      if (lo >= hi || !en.layer.trainable) continue; // a frozen layer (trainable: false) keeps its values
      const off = lo * 4, n = hi - lo, p = params + off, g = grads + off, s0 = state + off;
      let l1 = en.regularize ? en.layer.l1 : 0, l2 = en.regularize ? en.layer.l2 : 0;
      const own = per?.[en.key];
      if (own) {
        if (own.l1 !== undefined) l1 = own.l1;
        if (own.l2 !== undefined) l2 = own.l2;
        // SGD's update is linear in ĝ = g + l2·w + l1·sign(w) (v = μ·v + ĝ, p −= lr·v; Nesterov too), so a
        // tensor's rate lr·m is the step of m·ĝ: the gradient is scaled in place (it is rewritten by the next
        // backward) and the coefficients with it. The adaptive optimizers are not linear in ĝ (refused).
        const m = own.lrMult ?? 1;
        if (m !== 1) { k.scale_inplace_f32(g, n, m); l1 *= m; l2 *= m; }
      }
      switch (this.cfg.type) {
        case 'sgd': k.sgd_f32(hyper, p, g, s0, n, l1, l2); break;
        case 'rmsprop': k.rmsprop_f32(hyper, p, g, s0, s0 + slot, n, l1, l2); break;
        case 'adam': case 'adamw': k.adam_f32(hyper, p, g, s0, s0 + slot, n, l1, l2); break;
        case 'adagrad': k.adagrad_f32(hyper, p, g, s0, n, l1, l2); break;
        case 'adadelta': k.adadelta_f32(hyper, p, g, s0, s0 + slot, n, l1, l2); break;
      }
    }
  }

  /**
   * Writes step t's hyper-parameters into the kernels' step block and returns its address. The block is static
   * memory of the kernels module (optim_step_block, assembly/optim.ts): this class is handed the kernels, not
   * the arena, so it cannot plan one there. Every range of the step, and every worker's, reads the same values.
   */
  private writeStep(k: Kernels, lr: number, t: number): number {
    const c = this.cfg, at = this.stepBlock || k.optim_step_block(), b = k.memory.buffer;
    const m = { i32: new Int32Array(b, at, OPTIM_STEP_BYTES / 4), f32: new Float32Array(b, at, OPTIM_STEP_BYTES / 4) };
    // The views start at the block: the writers address slot i of "ptr 0".
    switch (c.type) {
      case 'sgd':
        writeSgdDesc(m, 0, { lr, momentum: c.momentum ?? 0, nesterov: c.nesterov ? 1 : 0 });
        break;
      case 'rmsprop':
        writeRmspropDesc(m, 0, { lr, alpha: c.alpha ?? 0.99, eps: c.eps ?? 1e-8, momentum: c.momentum ?? 0 });
        break;
      case 'adam':
      case 'adamw': {
        const beta1 = c.beta1 ?? 0.9, beta2 = c.beta2 ?? 0.999;
        writeAdamDesc(m, 0, { lr, beta1, beta2, eps: c.eps ?? 1e-8, bc1: 1 - beta1 ** t, bc2: 1 - beta2 ** t,
          wd: c.type === 'adamw' ? (c.weightDecay ?? 0.01) : 0 });
        break;
      }
      // PyTorch's defaults: Adagrad eps 1e-10, Adadelta rho 0.9 and eps 1e-6.
      case 'adagrad':
        writeAdagradDesc(m, 0, { lr, eps: c.eps ?? 1e-10 });
        break;
      case 'adadelta':
        writeAdadeltaDesc(m, 0, { lr, rho: c.alpha ?? 0.9, eps: c.eps ?? 1e-6 });
        break;
    }
    return at;
  }

  /** Scales gradients so that their global L2 norm is at most clipNorm; returns the norm before clipping. */
  clip(k: Kernels, entries: readonly ParamEntry[], grads: number): number {
    let ss = 0;
    // Over the trainable parameters only (Keras's clipnorm sees the trainable weights' gradients).
    for (const en of entries) if (en.layer.trainable) ss += k.sum_squares_f32(grads + en.offset * 4, en.n);
    const norm = Math.sqrt(ss), max = this.cfg.clipNorm;
    if (max !== undefined && norm > max) {
      for (const en of entries) if (en.layer.trainable) k.scale_inplace_f32(grads + en.offset * 4, en.n, max / norm);
    }
    return norm;
  }

  private readonly checked = new WeakSet<readonly ParamEntry[]>();

  /** perParam must name tensors of the network it updates (a misspelled name is an error, not a no-op). */
  checkEntries(entries: readonly ParamEntry[]): void {
    const per = this.cfg.perParam;
    if (!per) return;
    const keys = new Set(entries.map((e) => e.key)), unknown = Object.keys(per).filter((key) => !keys.has(key));
    if (unknown.length) {
      throw new RedeError(`optimizer ${this.cfg.type}: perParam names ${unknown.map((u) => `'${u}'`).join(', ')}, which the network does not have (its tensors: ${[...keys].join(', ')})`);
    }
    this.checked.add(entries);
  }

  config(): OptimizerConfig & OptimizerCommon { return { ...this.cfg }; }
}

function checkPerParam(where: string, v: unknown, type: OptimizerConfig['type']): Record<string, ParamSettings> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new RedeError(`${where}: perParam must be an object of weight name → { lrMult, l1, l2 }, got ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}`);
  const out: Record<string, ParamSettings> = {};
  for (const [key, settings] of Object.entries(v)) {
    const at = `${where}: perParam '${key}'`;
    const o = checkOptions<ParamSettings>(at, settings, PARAM_SETTINGS);
    if (o.lrMult !== undefined) {
      checkNumber(at, 'lrMult', o.lrMult, { min: 0, exclusiveMin: true });
      if (o.lrMult !== 1 && type !== 'sgd') throw new RedeError(`${at}: lrMult ${o.lrMult} is supported with sgd only (its update is linear in the gradient), not ${type}`);
    }
    if (o.l1 !== undefined) checkNumber(at, 'l1', o.l1, { min: 0 });
    if (o.l2 !== undefined) checkNumber(at, 'l2', o.l2, { min: 0 });
    out[key] = { ...o };
  }
  return out;
}
