// Checked norm kernel calls over tensors: batch norm (training forward, inference forward, backward) and
// TensorFlow's LRN. x, y, dy, dx: [..., c] (NHWC, or [n, c] for dense), seen as rows × c; per-channel
// tensors (gamma, beta, mean, invstd, runningMean, runningVar, dgamma, dbeta): [c].
import type { Engine } from '../engine/engine';
import { RedeError, checkInt, shapeStr } from '../engine/errors';
import { numel, type Tensor } from '../engine/tensor';
import { BATCHNORM_DESC_BYTES, LRN_DESC_BYTES, writeBatchnormDesc, writeLrnDesc, type BatchnormDesc, type LrnDesc } from '../engine/generated/abi';

/** rows × c of an activation tensor, checked: positive integer dims, c = the last one. */
function rowsByChannels(where: string, name: string, t: Tensor): [number, number] {
  if (t.shape.length < 1 || !t.shape.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new RedeError(`${where}: ${name} must have positive integer dims, channels last, got ${shapeStr(t.shape)}`);
  }
  const n = numel(t.shape), c = t.shape[t.shape.length - 1];
  checkInt(where, `${name} size`, n);
  return [n / c, c];
}

function sameShape(where: string, name: string, t: Tensor, like: Tensor, likeName: string): void {
  if (t.shape.length !== like.shape.length || t.shape.some((d, i) => d !== like.shape[i])) {
    throw new RedeError(`${where}: ${name} ${shapeStr(t.shape)} must have the shape of ${likeName} ${shapeStr(like.shape)}`);
  }
}

function channelVectors(e: Engine, where: string, c: number, vs: Record<string, Tensor>): void {
  for (const [name, t] of Object.entries(vs)) {
    if (numel(t.shape) !== c || !t.shape.every((d) => Number.isInteger(d) && d >= 1)) {
      throw new RedeError(`${where}: ${name} must hold one value per channel, [${c}], got ${shapeStr(t.shape)}`);
    }
    e.checkRegion(where, name, t.ptr, c * 4);
  }
}

/** a and b are the same region or do not overlap at all. */
function aliasOrDisjoint(where: string, an: string, a: Tensor, bn: string, b: Tensor, bytes: number, mayAlias: boolean): void {
  if (mayAlias && a.ptr === b.ptr) return;
  if (a.ptr < b.ptr + bytes && b.ptr < a.ptr + bytes) {
    throw new RedeError(`${where}: ${an} (byte ${a.ptr}) and ${bn} (byte ${b.ptr}) overlap over ${bytes}-byte regions; they must be ${mayAlias ? 'the same tensor or ' : ''}disjoint`);
  }
}

function checkFinite(where: string, name: string, v: number, lo: number, hi = Infinity, loOpen = false): void {
  if (!Number.isFinite(v) || v < lo || v > hi || (loOpen && v === lo)) {
    throw new RedeError(`${where}: ${name} must be a number in ${loOpen ? '(' : '['}${lo}, ${hi}${hi === Infinity ? ')' : ']'}, got ${v}`);
  }
}

/** Reserves the descriptor (and scratch bytes), writes it, runs call, releases both. */
function withBn(e: Engine, where: string, d: BatchnormDesc, call: (desc: number, scratch: number) => void): void {
  const m = e.mark();
  try {
    const desc = e.reserve(BATCHNORM_DESC_BYTES, `${where} descriptor`);
    writeBatchnormDesc(e, desc, d);
    call(desc, e.reserve(e.k.batchnorm_scratch_bytes(d.c), `${where} scratch`));
  } finally {
    e.release(m);
  }
}

function withLrn(e: Engine, where: string, d: LrnDesc, scratchBytes: number, call: (desc: number, scratch: number) => void): void {
  const m = e.mark();
  try {
    const desc = e.reserve(LRN_DESC_BYTES, `${where} descriptor`);
    writeLrnDesc(e, desc, d);
    call(desc, e.reserve(scratchBytes, `${where} scratch`));
  } finally {
    e.release(m);
  }
}

export interface BatchNormParams { gamma: Tensor; beta: Tensor }
export interface BatchNormRunning { runningMean: Tensor; runningVar: Tensor }
export interface BatchNormSaved { mean: Tensor; invstd: Tensor }
export interface BatchNormOptions {
  /** Added to the variance (Keras 1e-3, PyTorch 1e-5). Default 1e-5. */
  eps?: number;
  /** PyTorch's: running = (1 - momentum)·running + momentum·batch (Keras' momentum 0.99 is 0.01 here). Default 0.1. */
  momentum?: number;
}

/**
 * Training forward: y = gamma·(x - mean)·invstd + beta with the batch's statistics, saved in `saved` for
 * backward; running statistics updated (unbiased variance, PyTorch's convention). y may be x.
 */
export function batchNormTrainForward(e: Engine, x: Tensor, y: Tensor, p: BatchNormParams & BatchNormRunning & BatchNormSaved, o: BatchNormOptions = {}): void {
  const where = 'batchnorm_train_forward';
  const [rows, c] = rowsByChannels(where, 'x', x);
  const eps = o.eps ?? 1e-5, momentum = o.momentum ?? 0.1;
  checkFinite(where, 'eps', eps, 0, Infinity, true);
  checkFinite(where, 'momentum', momentum, 0, 1);
  sameShape(where, 'y', y, x, 'x');
  e.checkRegion(where, 'x', x.ptr, rows * c * 4);
  e.checkRegion(where, 'y', y.ptr, rows * c * 4);
  aliasOrDisjoint(where, 'y', y, 'x', x, rows * c * 4, true);
  channelVectors(e, where, c, { gamma: p.gamma, beta: p.beta, mean: p.mean, invstd: p.invstd, runningMean: p.runningMean, runningVar: p.runningVar });
  withBn(e, where, { rows, c, eps, momentum }, (desc, scratch) => e.k.batchnorm_train_forward_f32(desc, x.ptr, y.ptr,
    p.gamma.ptr, p.beta.ptr, p.mean.ptr, p.invstd.ptr, p.runningMean.ptr, p.runningVar.ptr, scratch));
}

/** Inference forward: y = gamma·(x - runningMean)/sqrt(runningVar + eps) + beta. y may be x. */
export function batchNormInferForward(e: Engine, x: Tensor, y: Tensor, p: BatchNormParams & BatchNormRunning, o: { eps?: number } = {}): void {
  const where = 'batchnorm_infer_forward';
  const [rows, c] = rowsByChannels(where, 'x', x);
  const eps = o.eps ?? 1e-5;
  checkFinite(where, 'eps', eps, 0, Infinity, true);
  sameShape(where, 'y', y, x, 'x');
  e.checkRegion(where, 'x', x.ptr, rows * c * 4);
  e.checkRegion(where, 'y', y.ptr, rows * c * 4);
  aliasOrDisjoint(where, 'y', y, 'x', x, rows * c * 4, true);
  channelVectors(e, where, c, { gamma: p.gamma, beta: p.beta, runningMean: p.runningMean, runningVar: p.runningVar });
  withBn(e, where, { rows, c, eps, momentum: 0 }, (desc, scratch) => e.k.batchnorm_infer_forward_f32(desc, x.ptr, y.ptr,
    p.gamma.ptr, p.beta.ptr, p.runningMean.ptr, p.runningVar.ptr, scratch));
}

/**
 * Backward of the training forward from its saved mean and invstd: dx, and dgamma = Σ dy·x̂, dbeta = Σ dy
 * (added to dgamma/dbeta with accumulate). dx may be dy.
 */
export function batchNormBackward(e: Engine, x: Tensor, dy: Tensor, dx: Tensor,
  p: { gamma: Tensor; dgamma: Tensor; dbeta: Tensor } & BatchNormSaved, o: { accumulate?: boolean } = {}): void {
  const where = 'batchnorm_backward';
  const [rows, c] = rowsByChannels(where, 'x', x);
  sameShape(where, 'dy', dy, x, 'x');
  sameShape(where, 'dx', dx, x, 'x');
  for (const [name, t] of [['x', x], ['dy', dy], ['dx', dx]] as const) e.checkRegion(where, name, t.ptr, rows * c * 4);
  aliasOrDisjoint(where, 'dx', dx, 'dy', dy, rows * c * 4, true);
  aliasOrDisjoint(where, 'dx', dx, 'x', x, rows * c * 4, false);
  channelVectors(e, where, c, { gamma: p.gamma, mean: p.mean, invstd: p.invstd, dgamma: p.dgamma, dbeta: p.dbeta });
  // eps and momentum play no part in the backward (it reads the saved invstd)
  withBn(e, where, { rows, c, eps: 0, momentum: 0 }, (desc, scratch) => e.k.batchnorm_backward_f32(desc, x.ptr, dy.ptr, dx.ptr,
    p.gamma.ptr, p.mean.ptr, p.invstd.ptr, p.dgamma.ptr, p.dbeta.ptr, o.accumulate ? 1 : 0, scratch));
}

/** TensorFlow's LRN parameters (tf.nn.local_response_normalization; defaults are TF's). */
export interface LrnOptions { depthRadius?: number; bias?: number; alpha?: number; beta?: number }

/** The kernels' descriptor for rows × c, options checked. */
function lrnDesc(where: string, rows: number, c: number, o: LrnOptions): LrnDesc {
  const radius = o.depthRadius ?? 5, bias = o.bias ?? 1, alpha = o.alpha ?? 1, beta = o.beta ?? 0.5;
  checkInt(where, 'depthRadius', radius, 0);
  checkFinite(where, 'bias', bias, 0, Infinity, true);
  checkFinite(where, 'alpha', alpha, 0);
  checkFinite(where, 'beta', beta, 0);
  return { rows, c, radius, bias, alpha, beta };
}

/** y = x·(bias + alpha·Σ_{|j-i|≤depthRadius} x_j²)^(-beta) across channels. y must not overlap x. */
export function lrnForward(e: Engine, x: Tensor, y: Tensor, o: LrnOptions = {}): void {
  const where = 'lrn_forward';
  const [rows, c] = rowsByChannels(where, 'x', x);
  const d = lrnDesc(where, rows, c, o);
  sameShape(where, 'y', y, x, 'x');
  e.checkRegion(where, 'x', x.ptr, rows * c * 4);
  e.checkRegion(where, 'y', y.ptr, rows * c * 4);
  aliasOrDisjoint(where, 'y', y, 'x', x, rows * c * 4, false);
  withLrn(e, where, d, 0, (desc) => e.k.lrn_forward_f32(desc, x.ptr, y.ptr));
}

/** dx of the LRN forward at x (recomputes its denominators). dx may be dy, not x. */
export function lrnBackward(e: Engine, x: Tensor, dy: Tensor, dx: Tensor, o: LrnOptions = {}): void {
  const where = 'lrn_backward';
  const [rows, c] = rowsByChannels(where, 'x', x);
  const d = lrnDesc(where, rows, c, o);
  sameShape(where, 'dy', dy, x, 'x');
  sameShape(where, 'dx', dx, x, 'x');
  for (const [name, t] of [['x', x], ['dy', dy], ['dx', dx]] as const) e.checkRegion(where, name, t.ptr, rows * c * 4);
  aliasOrDisjoint(where, 'dx', dx, 'dy', dy, rows * c * 4, true);
  aliasOrDisjoint(where, 'dx', dx, 'x', x, rows * c * 4, false);
  withLrn(e, where, d, e.k.lrn_scratch_bytes(c), (desc, scratch) => e.k.lrn_backward_f32(desc, x.ptr, dy.ptr, dx.ptr, scratch));
}
