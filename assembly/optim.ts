// Optimizer updates over one flat range of n parameters: p (params), g (gradients, read only) and the
// optimizer's state slots, all [n] f32. PyTorch's formulations (torch.optim), stated at each kernel.
// Regularisation folds into the gradient before the update, per range (the caller splits a range where
// the per-layer coefficients change):  ĝ = g + l2·p + l1·sign(p)   (sign(0) = 0, as Keras' L1).
//
// A call is (hyper: the step block, tensor pointers, n, l1, l2). The step block holds the hyper-parameters that are the
// same for every range of one optimizer step (lr, betas, eps, bias corrections, weight decay), written once
// per step, as a descriptor of 4-byte slots like conv's (assembly/conv.ts): adam's 14 positional arguments
// put nine f32 coefficients in a row, where any swap type-checks. n, l1 and l2 stay arguments because they
// change from range to range (parameter tensor, and worker chunk in parallel training). Slot orders:
// scripts/abi.mjs (`sgd`, `rmsprop`, `adam`), generated into assembly/abi.ts and src/engine/generated/abi.ts.
//   sgd = lr, momentum (f32), nesterov (i32)    rmsprop = lr, alpha, eps, momentum    adam = lr, β1, β2, eps, bc1, bc2, wd
//   adagrad = lr, eps    adadelta = lr, rho, eps
// Where the Optimizer writes its step block: optim_step_block() below (see there).
import {
  descI32, descF32, OPTIM_STEP_BYTES, SGD_LR, SGD_MOMENTUM, SGD_NESTEROV, RMSPROP_LR, RMSPROP_ALPHA, RMSPROP_EPS,
  RMSPROP_MOMENTUM, ADAM_LR, ADAM_BETA1, ADAM_BETA2, ADAM_EPS, ADAM_BC1, ADAM_BC2, ADAM_WD,
  ADAGRAD_LR, ADAGRAD_EPS, ADADELTA_LR, ADADELTA_RHO, ADADELTA_EPS,
} from './abi';
import { madd } from './simd';

const STEP_BLOCK: usize = memory.data(OPTIM_STEP_BYTES, 16);

/**
 * Address of OPTIM_STEP_BYTES of static memory (below heap_base, one per memory) where src/optim/optimizer.ts
 * writes the step block: the Optimizer is handed only the kernels, not the arena, so its block cannot be
 * planned there. In parallel training every worker writes the same bytes into it (same lr, same step t)
 * before its own range's call, and no worker starts step t + 1 before every worker is done with step t.
 */
export function optim_step_block(): usize {
  return STEP_BLOCK;
}

/** sign(p) per lane: -1, 0 or +1 (0 at ±0; NaN gives 0). */
@inline function sign4(p: v128): v128 {
  const zero = f32x4.splat(0), one = f32x4.splat(1);
  const pos = v128.and(f32x4.gt(p, zero), one);
  const neg = v128.and(f32x4.lt(p, zero), one);
  return f32x4.sub(pos, neg);
}

@inline function sign1(p: f32): f32 {
  return p > 0 ? <f32>1 : p < 0 ? <f32>-1 : <f32>0;
}

/** ĝ = g + l2·p + l1·sign(p), four lanes. */
@inline function regularized4(g: v128, p: v128, l1: v128, l2: v128): v128 {
  return madd(l1, sign4(p), madd(l2, p, g));
}

@inline function regularized1(g: f32, p: f32, l1: f32, l2: f32): f32 {
  return g + l2 * p + l1 * sign1(p);
}

/**
 * SGD with momentum (torch.optim.SGD, dampening 0):
 *   v = μ·v + ĝ;  p -= lr·(ĝ + μ·v) with Nesterov, p -= lr·v without.
 * momentum = 0: p -= lr·ĝ and v is not touched (may be 0).
 */
export function sgd_f32(hyper: usize, p: usize, g: usize, v: usize, n: i32, l1: f32, l2: f32): void {
  const lr = descF32(hyper, SGD_LR), momentum = descF32(hyper, SGD_MOMENTUM), nesterov = descI32(hyper, SGD_NESTEROV);
  const lrv = f32x4.splat(-lr), mu = f32x4.splat(momentum), l1v = f32x4.splat(l1), l2v = f32x4.splat(l2);
  let i = 0;
  if (momentum == 0) {
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      const pv = v128.load(p + o);
      v128.store(p + o, madd(lrv, regularized4(v128.load(g + o), pv, l1v, l2v), pv));
    }
    for (; i < n; i++) {
      const o = <usize>i << 2;
      const pv = load<f32>(p + o);
      store<f32>(p + o, pv - lr * regularized1(load<f32>(g + o), pv, l1, l2));
    }
    return;
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const pv = v128.load(p + o);
    const gv = regularized4(v128.load(g + o), pv, l1v, l2v);
    const vv = madd(mu, v128.load(v + o), gv);
    v128.store(v + o, vv);
    const step = nesterov ? madd(mu, vv, gv) : vv;
    v128.store(p + o, madd(lrv, step, pv));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const pv = load<f32>(p + o);
    const gv = regularized1(load<f32>(g + o), pv, l1, l2);
    const vv = momentum * load<f32>(v + o) + gv;
    store<f32>(v + o, vv);
    store<f32>(p + o, pv - lr * (nesterov ? gv + momentum * vv : vv));
  }
}

/**
 * RMSprop (torch.optim.RMSprop, not centered):
 *   sq = α·sq + (1-α)·ĝ²;  u = ĝ / (sqrt(sq) + eps)
 *   momentum > 0: buf = μ·buf + u; p -= lr·buf.   momentum = 0: p -= lr·u and buf is not touched (may be 0).
 * (tf.train.rmsprop puts eps inside the sqrt and lr inside the momentum buffer: see the tests.)
 */
export function rmsprop_f32(hyper: usize, p: usize, g: usize, sq: usize, buf: usize, n: i32, l1: f32, l2: f32): void {
  const lr = descF32(hyper, RMSPROP_LR), alpha = descF32(hyper, RMSPROP_ALPHA), eps = descF32(hyper, RMSPROP_EPS);
  const momentum = descF32(hyper, RMSPROP_MOMENTUM);
  const lrv = f32x4.splat(-lr), av = f32x4.splat(alpha), bv = f32x4.splat(<f32>1 - alpha);
  const ev = f32x4.splat(eps), mu = f32x4.splat(momentum), l1v = f32x4.splat(l1), l2v = f32x4.splat(l2);
  const useMomentum = momentum != 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const pv = v128.load(p + o);
    const gv = regularized4(v128.load(g + o), pv, l1v, l2v);
    const s = madd(bv, f32x4.mul(gv, gv), f32x4.mul(av, v128.load(sq + o)));
    v128.store(sq + o, s);
    let u = f32x4.div(gv, f32x4.add(f32x4.sqrt(s), ev));
    if (useMomentum) {
      u = madd(mu, v128.load(buf + o), u);
      v128.store(buf + o, u);
    }
    v128.store(p + o, madd(lrv, u, pv));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const pv = load<f32>(p + o);
    const gv = regularized1(load<f32>(g + o), pv, l1, l2);
    const s = alpha * load<f32>(sq + o) + (<f32>1 - alpha) * gv * gv;
    store<f32>(sq + o, s);
    let u = gv / (Mathf.sqrt(s) + eps);
    if (useMomentum) {
      u = momentum * load<f32>(buf + o) + u;
      store<f32>(buf + o, u);
    }
    store<f32>(p + o, pv - lr * u);
  }
}

/**
 * Adam / AdamW (torch.optim.Adam, torch.optim.AdamW), step t ≥ 1 with bc1 = 1 - β1^t, bc2 = 1 - β2^t
 * (the caller computes them in f64):
 *   p -= lr·wd·p                         (AdamW's decoupled weight decay; wd = 0 for Adam)
 *   m = β1·m + (1-β1)·ĝ;  v = β2·v + (1-β2)·ĝ²
 *   p -= lr · (m / bc1) / (sqrt(v / bc2) + eps)
 * Coupled L2 (torch Adam's weight_decay) is l2 in ĝ.
 */
export function adam_f32(hyper: usize, p: usize, g: usize, m: usize, v: usize, n: i32, l1: f32, l2: f32): void {
  const lr = descF32(hyper, ADAM_LR), beta1 = descF32(hyper, ADAM_BETA1), beta2 = descF32(hyper, ADAM_BETA2);
  const eps = descF32(hyper, ADAM_EPS), bc1 = descF32(hyper, ADAM_BC1), bc2 = descF32(hyper, ADAM_BC2), wd = descF32(hyper, ADAM_WD);
  const decay: f32 = <f32>1 - lr * wd;
  const stepScale: f32 = -lr / bc1, inv2: f32 = <f32>1 / bc2;
  const dv = f32x4.splat(decay), sv = f32x4.splat(stepScale), i2 = f32x4.splat(inv2);
  const b1 = f32x4.splat(beta1), c1 = f32x4.splat(<f32>1 - beta1);
  const b2 = f32x4.splat(beta2), c2 = f32x4.splat(<f32>1 - beta2);
  const ev = f32x4.splat(eps), l1v = f32x4.splat(l1), l2v = f32x4.splat(l2);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const p0 = v128.load(p + o);
    const gv = regularized4(v128.load(g + o), p0, l1v, l2v);
    const mv = madd(c1, gv, f32x4.mul(b1, v128.load(m + o)));
    const vv = madd(c2, f32x4.mul(gv, gv), f32x4.mul(b2, v128.load(v + o)));
    v128.store(m + o, mv);
    v128.store(v + o, vv);
    const denom = f32x4.add(f32x4.sqrt(f32x4.mul(vv, i2)), ev);
    v128.store(p + o, madd(sv, f32x4.div(mv, denom), f32x4.mul(p0, dv)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const p0 = load<f32>(p + o);
    const gv = regularized1(load<f32>(g + o), p0, l1, l2);
    const mv = beta1 * load<f32>(m + o) + (<f32>1 - beta1) * gv;
    const vv = beta2 * load<f32>(v + o) + (<f32>1 - beta2) * gv * gv;
    store<f32>(m + o, mv);
    store<f32>(v + o, vv);
    store<f32>(p + o, p0 * decay + stepScale * (mv / (Mathf.sqrt(vv * inv2) + eps)));
  }
}

/**
 * AdaGrad (torch.optim.Adagrad with lr_decay 0 and initial accumulator 0; Caffe's AdaGrad is the same):
 *   h = h + ĝ²;  p -= lr · ĝ / (sqrt(h) + eps)
 */
export function adagrad_f32(hyper: usize, p: usize, g: usize, h: usize, n: i32, l1: f32, l2: f32): void {
  const lr = descF32(hyper, ADAGRAD_LR), eps = descF32(hyper, ADAGRAD_EPS);
  const lrv = f32x4.splat(-lr), ev = f32x4.splat(eps), l1v = f32x4.splat(l1), l2v = f32x4.splat(l2);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const pv = v128.load(p + o);
    const gv = regularized4(v128.load(g + o), pv, l1v, l2v);
    const hv = madd(gv, gv, v128.load(h + o));
    v128.store(h + o, hv);
    v128.store(p + o, madd(lrv, f32x4.div(gv, f32x4.add(f32x4.sqrt(hv), ev)), pv));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const pv = load<f32>(p + o);
    const gv = regularized1(load<f32>(g + o), pv, l1, l2);
    const hv = load<f32>(h + o) + gv * gv;
    store<f32>(h + o, hv);
    store<f32>(p + o, pv - lr * (gv / (Mathf.sqrt(hv) + eps)));
  }
}

/**
 * AdaDelta (Zeiler 2012; torch.optim.Adadelta and Caffe's AdaDelta are the same), eps inside both roots:
 *   sq = ρ·sq + (1-ρ)·ĝ²;  u = ĝ · sqrt(acc + eps) / sqrt(sq + eps);  acc = ρ·acc + (1-ρ)·u²;  p -= lr·u
 */
export function adadelta_f32(hyper: usize, p: usize, g: usize, sq: usize, acc: usize, n: i32, l1: f32, l2: f32): void {
  const lr = descF32(hyper, ADADELTA_LR), rho = descF32(hyper, ADADELTA_RHO), eps = descF32(hyper, ADADELTA_EPS);
  const lrv = f32x4.splat(-lr), rv = f32x4.splat(rho), cv = f32x4.splat(<f32>1 - rho), ev = f32x4.splat(eps);
  const l1v = f32x4.splat(l1), l2v = f32x4.splat(l2);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const pv = v128.load(p + o);
    const gv = regularized4(v128.load(g + o), pv, l1v, l2v);
    const s = madd(cv, f32x4.mul(gv, gv), f32x4.mul(rv, v128.load(sq + o)));
    v128.store(sq + o, s);
    const a0 = v128.load(acc + o);
    const u = f32x4.mul(gv, f32x4.div(f32x4.sqrt(f32x4.add(a0, ev)), f32x4.sqrt(f32x4.add(s, ev))));
    v128.store(acc + o, madd(cv, f32x4.mul(u, u), f32x4.mul(rv, a0)));
    v128.store(p + o, madd(lrv, u, pv));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const pv = load<f32>(p + o);
    const gv = regularized1(load<f32>(g + o), pv, l1, l2);
    const s = rho * load<f32>(sq + o) + (<f32>1 - rho) * gv * gv;
    store<f32>(sq + o, s);
    const a0 = load<f32>(acc + o);
    const u = gv * (Mathf.sqrt(a0 + eps) / Mathf.sqrt(s + eps));
    store<f32>(acc + o, rho * a0 + (<f32>1 - rho) * u * u);
    store<f32>(p + o, pv - lr * u);
  }
}
