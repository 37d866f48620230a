// Checked optimizer updates over tensors: one flat range of parameters p, its gradient g (read only) and the
// optimizer's state, all the same size (any shapes). PyTorch's formulations; see assembly/optim.ts.
// Regularisation (per range): ĝ = g + l2·p + l1·sign(p). Each call writes its step block (the kernels' hyper-
// parameter descriptor) into a transient reservation; src/optim/optimizer.ts writes its own once per step.
import type { Engine } from '../engine/engine';
import { RedeError, checkInt, shapeStr } from '../engine/errors';
import { numel, type Tensor } from '../engine/tensor';
import { ADAM_DESC_BYTES, RMSPROP_DESC_BYTES, SGD_DESC_BYTES, writeAdamDesc, writeRmspropDesc, writeSgdDesc } from '../engine/generated/abi';

/** Reserves `bytes` for a step block, lets `write` fill it, runs call on it, releases it. */
function withStep(e: Engine, where: string, bytes: number, write: (at: number) => void, call: (hyper: number) => void): void {
  const m = e.mark();
  try {
    const at = e.reserve(bytes, `${where} step block`);
    write(at);
    call(at);
  } finally {
    e.release(m);
  }
}

export interface Regularization { l1?: number; l2?: number }

function checkRange(e: Engine, where: string, ts: Record<string, Tensor>): number {
  const entries = Object.entries(ts);
  const [pn, p] = entries[0];
  if (!p.shape.every((d) => Number.isInteger(d) && d >= 1)) throw new RedeError(`${where}: ${pn} must have positive integer dims, got ${shapeStr(p.shape)}`);
  const n = numel(p.shape);
  checkInt(where, `${pn} size`, n);
  for (const [name, t] of entries) {
    if (numel(t.shape) !== n) throw new RedeError(`${where}: ${name} ${shapeStr(t.shape)} must have as many elements as ${pn} ${shapeStr(p.shape)} (${n})`);
    e.checkRegion(where, name, t.ptr, n * 4);
  }
  for (let i = 0; i < entries.length; i++) {
    for (let j = i + 1; j < entries.length; j++) {
      const a = entries[i][1].ptr, b = entries[j][1].ptr;
      if (a < b + n * 4 && b < a + n * 4) throw new RedeError(`${where}: ${entries[i][0]} (byte ${a}) and ${entries[j][0]} (byte ${b}) overlap; every buffer of the update must be distinct (${n} floats each)`);
    }
  }
  return n;
}

function num(where: string, name: string, v: number, lo: number, hi = Infinity, hiOpen = false): number {
  if (!Number.isFinite(v) || v < lo || v > hi || (hiOpen && v === hi)) {
    throw new RedeError(`${where}: ${name} must be in [${lo}, ${hi}${hiOpen || hi === Infinity ? ')' : ']'}, got ${v}`);
  }
  return v;
}

function reg(where: string, r: Regularization): [number, number] {
  return [num(where, 'l1', r.l1 ?? 0, 0), num(where, 'l2', r.l2 ?? 0, 0)];
}

export interface SgdOptions extends Regularization { lr: number; momentum?: number; nesterov?: boolean }

/** SGD (torch.optim.SGD): v = μ·v + ĝ; p -= lr·(ĝ + μ·v) (Nesterov) or lr·v. v may be omitted when μ = 0. */
export function sgd(e: Engine, p: Tensor, g: Tensor, v: Tensor | null, o: SgdOptions): void {
  const where = 'sgd';
  const momentum = num(where, 'momentum', o.momentum ?? 0, 0, 1);
  if (momentum !== 0 && !v) throw new RedeError(`${where}: momentum ${momentum} needs a velocity tensor v of p's size ${shapeStr(p.shape)}`);
  const n = checkRange(e, where, v ? { p, g, v } : { p, g });
  const [l1, l2] = reg(where, o);
  const lr = num(where, 'lr', o.lr, 0);
  withStep(e, where, SGD_DESC_BYTES, (at) => writeSgdDesc(e, at, { lr, momentum, nesterov: o.nesterov ? 1 : 0 }),
    (hyper) => e.k.sgd_f32(hyper, p.ptr, g.ptr, v ? v.ptr : 0, n, l1, l2));
}

export interface RmspropOptions extends Regularization { lr: number; alpha?: number; eps?: number; momentum?: number }

/** RMSprop (torch.optim.RMSprop): sq = α·sq + (1-α)·ĝ²; u = ĝ/(sqrt(sq) + eps); p -= lr·u, or with momentum buf = μ·buf + u, p -= lr·buf. */
export function rmsprop(e: Engine, p: Tensor, g: Tensor, sq: Tensor, buf: Tensor | null, o: RmspropOptions): void {
  const where = 'rmsprop';
  const momentum = num(where, 'momentum', o.momentum ?? 0, 0, 1);
  if (momentum !== 0 && !buf) throw new RedeError(`${where}: momentum ${momentum} needs a momentum buffer buf of p's size ${shapeStr(p.shape)}`);
  const n = checkRange(e, where, buf ? { p, g, sq, buf } : { p, g, sq });
  const [l1, l2] = reg(where, o);
  const d = { lr: num(where, 'lr', o.lr, 0), alpha: num(where, 'alpha', o.alpha ?? 0.99, 0, 1), eps: num(where, 'eps', o.eps ?? 1e-8, 0), momentum };
  withStep(e, where, RMSPROP_DESC_BYTES, (at) => writeRmspropDesc(e, at, d),
    (hyper) => e.k.rmsprop_f32(hyper, p.ptr, g.ptr, sq.ptr, buf ? buf.ptr : 0, n, l1, l2));
}

export interface AdamOptions extends Regularization {
  lr: number; beta1?: number; beta2?: number; eps?: number;
  /** The step number t ≥ 1 of this update (bias corrections 1 - β^t, computed here in f64). */
  step: number;
  /** Decoupled weight decay (AdamW): p -= lr·weightDecay·p. Default 0 (Adam). */
  weightDecay?: number;
}

/** Adam / AdamW (torch.optim.Adam / AdamW): p -= lr·m̂/(sqrt(v̂) + eps), m̂ = m/(1 - β1^t), v̂ = v/(1 - β2^t). */
export function adam(e: Engine, p: Tensor, g: Tensor, m: Tensor, v: Tensor, o: AdamOptions): void {
  const where = o.weightDecay ? 'adamw' : 'adam';
  const n = checkRange(e, where, { p, g, m, v });
  const beta1 = num(where, 'beta1', o.beta1 ?? 0.9, 0, 1, true), beta2 = num(where, 'beta2', o.beta2 ?? 0.999, 0, 1, true);
  checkInt(where, 'step', o.step, 1);
  const [l1, l2] = reg(where, o);
  const bc1 = 1 - beta1 ** o.step, bc2 = 1 - beta2 ** o.step;
  if (!(Math.fround(bc1) > 0 && Math.fround(bc2) > 0)) throw new RedeError(`${where}: bias corrections 1 - β^t underflow f32 for beta1 ${beta1}, beta2 ${beta2}, step ${o.step}`);
  const d = { lr: num(where, 'lr', o.lr, 0), beta1, beta2, eps: num(where, 'eps', o.eps ?? 1e-8, 0), bc1, bc2,
    wd: num(where, 'weightDecay', o.weightDecay ?? 0, 0) };
  withStep(e, where, ADAM_DESC_BYTES, (at) => writeAdamDesc(e, at, d), (hyper) => e.k.adam_f32(hyper, p.ptr, g.ptr, m.ptr, v.ptr, n, l1, l2));
}

/** AdamW: Adam with decoupled weight decay (PyTorch's default 0.01). */
export function adamw(e: Engine, p: Tensor, g: Tensor, m: Tensor, v: Tensor, o: AdamOptions): void {
  adam(e, p, g, m, v, { ...o, weightDecay: o.weightDecay ?? 0.01 });
}
