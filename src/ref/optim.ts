// Reference optimizer updates, same signatures as assembly/optim.ts (PyTorch's formulations), in f64.
import type { Heap } from './heap';
import { readSgdDesc, readRmspropDesc, readAdamDesc, readAdagradDesc, readAdadeltaDesc } from '../engine/generated/abi';

/** ĝ = g + l2·p + l1·sign(p), sign(0) = 0. */
const regularized = (g: number, p: number, l1: number, l2: number): number => g + l2 * p + l1 * Math.sign(p);

export const optimRef = (h: Heap) => ({
  sgd_f32(hyper: number, p: number, g: number, v: number, n: number, l1: number, l2: number): void {
    const { lr, momentum, nesterov } = readSgdDesc(h, hyper);
    const f = h.f32, P = p >>> 2, G = g >>> 2, V = v >>> 2;
    for (let i = 0; i < n; i++) {
      const gi = regularized(f[G + i], f[P + i], l1, l2);
      if (momentum === 0) { f[P + i] -= lr * gi; continue; }
      const vi = momentum * f[V + i] + gi;
      f[V + i] = vi;
      f[P + i] -= lr * (nesterov ? gi + momentum * vi : vi);
    }
  },
  rmsprop_f32(hyper: number, p: number, g: number, sq: number, buf: number, n: number, l1: number, l2: number): void {
    const { lr, alpha, eps, momentum } = readRmspropDesc(h, hyper);
    const f = h.f32, P = p >>> 2, G = g >>> 2, Q = sq >>> 2, B = buf >>> 2;
    for (let i = 0; i < n; i++) {
      const gi = regularized(f[G + i], f[P + i], l1, l2);
      const s = alpha * f[Q + i] + (1 - alpha) * gi * gi;
      f[Q + i] = s;
      let u = gi / (Math.sqrt(s) + eps);
      if (momentum !== 0) { u = momentum * f[B + i] + u; f[B + i] = u; }
      f[P + i] -= lr * u;
    }
  },
  adam_f32(hyper: number, p: number, g: number, m: number, v: number, n: number, l1: number, l2: number): void {
    const { lr, beta1, beta2, eps, bc1, bc2, wd } = readAdamDesc(h, hyper);
    const f = h.f32, P = p >>> 2, G = g >>> 2, M = m >>> 2, V = v >>> 2;
    for (let i = 0; i < n; i++) {
      const p0 = f[P + i];
      const gi = regularized(f[G + i], p0, l1, l2);
      const mi = beta1 * f[M + i] + (1 - beta1) * gi;
      const vi = beta2 * f[V + i] + (1 - beta2) * gi * gi;
      f[M + i] = mi; f[V + i] = vi;
      f[P + i] = p0 * (1 - lr * wd) - lr * (mi / bc1) / (Math.sqrt(vi / bc2) + eps);
    }
  },
  adagrad_f32(hyper: number, p: number, g: number, hh: number, n: number, l1: number, l2: number): void {
    const { lr, eps } = readAdagradDesc(h, hyper);
    const f = h.f32, P = p >>> 2, G = g >>> 2, H = hh >>> 2;
    for (let i = 0; i < n; i++) {
      const gi = regularized(f[G + i], f[P + i], l1, l2);
      const s = f[H + i] + gi * gi;
      f[H + i] = s;
      f[P + i] -= lr * gi / (Math.sqrt(s) + eps);
    }
  },
  adadelta_f32(hyper: number, p: number, g: number, sq: number, acc: number, n: number, l1: number, l2: number): void {
    const { lr, rho, eps } = readAdadeltaDesc(h, hyper);
    const f = h.f32, P = p >>> 2, G = g >>> 2, Q = sq >>> 2, A = acc >>> 2;
    for (let i = 0; i < n; i++) {
      const gi = regularized(f[G + i], f[P + i], l1, l2);
      const s = rho * f[Q + i] + (1 - rho) * gi * gi;
      f[Q + i] = s;
      const u = gi * Math.sqrt(f[A + i] + eps) / Math.sqrt(s + eps);
      f[A + i] = rho * f[A + i] + (1 - rho) * u * u;
      f[P + i] -= lr * u;
    }
  },
});
