// rede's optimizer updates (src/ref/optim.ts: PyTorch's formulations) as tf ops over one tensor per parameter,
// with the state in rede's layout (slot after slot, each like the parameters) so it moves between backends:
//   ĝ = g + l2·p + l1·sign(p)   (weights only: the layer's `regularize` parameters)
//   sgd       v = μ·v + ĝ;  p −= lr·(nesterov ? ĝ + μ·v : v)          (μ = 0: p −= lr·ĝ, no state)
//   rmsprop   s = α·s + (1 − α)·ĝ²;  u = ĝ/(√s + ε);  b = μ·b + u (μ > 0);  p −= lr·u
//   adam(w)   m = β1·m + (1 − β1)·ĝ;  v = β2·v + (1 − β2)·ĝ²;  p = p·(1 − lr·wd) − lr·(m/bc1)/(√(v/bc2) + ε)
//   adagrad   h = h + ĝ²;  p −= lr·ĝ/(√h + ε)
//   adadelta  s = ρ·s + (1 − ρ)·ĝ²;  u = ĝ·√(a + ε)/√(s + ε);  a = ρ·a + (1 − ρ)·u²;  p −= lr·u
// A frozen layer (trainable: false) keeps its parameters and state.
// Clipping scales every gradient by min(1, clipNorm / ‖g‖₂) first, the global norm over all of them.
import type * as TF from '@tensorflow/tfjs';
import type { Network } from '../model/network';
import type { Optimizer } from '../optim/optimizer';
import type { Tf } from './tfjs';

export class TfOptimizer {
  /** state[slot][entry]. */
  private state: TF.Tensor[][] = [];

  constructor(readonly tf: Tf, readonly opt: Optimizer, readonly net: Network, readonly at: number) {}

  /** The optimizer state at `at` in the network's memory into tf tensors. */
  push(): void {
    const { tf, net } = this, old = this.state.flat();
    this.state = Array.from({ length: this.opt.slots }, (_, s) => net.entries.map((en) =>
      tf.tensor(net.e.read(this.at + (s * net.paramFloats + en.offset) * 4, en.n), [...en.shape])));
    tf.dispose(old);
  }

  pull(): void {
    const net = this.net;
    this.state.forEach((slot, s) => slot.forEach((t, i) => net.e.write(this.at + (s * net.paramFloats + net.entries[i].offset) * 4, t.dataSync() as Float32Array)));
  }

  dispose(): void { this.tf.dispose(this.state.flat()); this.state = []; }

  /** The parameters after step t (≥ 1) with rate lr; frees the old state (not the old parameters or grads). */
  update(params: readonly TF.Tensor[], grads: readonly TF.Tensor[], lr: number, t: number): TF.Tensor[] {
    const { tf, net } = this, c = this.opt.cfg;
    const next: TF.Tensor[] = [], state: TF.Tensor[][] = this.state.map(() => []);
    tf.tidy(() => {
      let scale: TF.Tensor | null = null;
      if (c.clipNorm !== undefined) {
        const norm = tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g)))));
        scale = tf.minimum(1, tf.div(c.clipNorm, norm));
      }
      net.entries.forEach((en, i) => {
        const p = params[i];
        if (!en.layer.trainable) { // a frozen layer (trainable: false) keeps its values and its state
          this.state.forEach((slot, s) => { state[s][i] = tf.keep(tf.clone(slot[i])); });
          next.push(tf.keep(tf.clone(p)));
          return;
        }
        let g = scale ? tf.mul(grads[i], scale) : grads[i];
        const l1 = en.regularize ? en.layer.l1 : 0, l2 = en.regularize ? en.layer.l2 : 0;
        if (l2) g = tf.add(g, tf.mul(p, l2));
        if (l1) g = tf.add(g, tf.mul(tf.sign(p), l1));
        const keep = (slot: number, v: TF.Tensor) => { state[slot][i] = tf.keep(v); return v; };
        let q: TF.Tensor;
        switch (c.type) {
          case 'sgd': {
            const mu = c.momentum ?? 0;
            if (mu === 0) { q = tf.sub(p, tf.mul(g, lr)); break; }
            const v = keep(0, tf.add(tf.mul(this.state[0][i], mu), g));
            q = tf.sub(p, tf.mul(c.nesterov ? tf.add(g, tf.mul(v, mu)) : v, lr));
            break;
          }
          case 'rmsprop': {
            const a = c.alpha ?? 0.99, eps = c.eps ?? 1e-8, mu = c.momentum ?? 0;
            const s = keep(0, tf.add(tf.mul(this.state[0][i], a), tf.mul(tf.square(g), 1 - a)));
            let u = tf.div(g, tf.add(tf.sqrt(s), eps));
            if (mu !== 0) u = keep(1, tf.add(tf.mul(this.state[1][i], mu), u));
            q = tf.sub(p, tf.mul(u, lr));
            break;
          }
          case 'adam': case 'adamw': {
            const b1 = c.beta1 ?? 0.9, b2 = c.beta2 ?? 0.999, eps = c.eps ?? 1e-8, wd = c.type === 'adamw' ? (c.weightDecay ?? 0.01) : 0;
            // The bias corrections in float32, as the kernels' step block holds them.
            const bc1 = Math.fround(1 - b1 ** t), bc2 = Math.fround(1 - b2 ** t);
            const m = keep(0, tf.add(tf.mul(this.state[0][i], b1), tf.mul(g, 1 - b1)));
            const v = keep(1, tf.add(tf.mul(this.state[1][i], b2), tf.mul(tf.square(g), 1 - b2)));
            const stepv = tf.div(tf.div(m, bc1), tf.add(tf.sqrt(tf.div(v, bc2)), eps));
            q = tf.sub(wd ? tf.mul(p, 1 - lr * wd) : p, tf.mul(stepv, lr));
            break;
          }
          case 'adagrad': { // PyTorch's defaults, as src/optim/optimizer.ts
            const hsum = keep(0, tf.add(this.state[0][i], tf.square(g)));
            q = tf.sub(p, tf.mul(tf.div(g, tf.add(tf.sqrt(hsum), c.eps ?? 1e-10)), lr));
            break;
          }
          case 'adadelta': {
            const rho = c.alpha ?? 0.9, eps = c.eps ?? 1e-6;
            const sq = keep(0, tf.add(tf.mul(this.state[0][i], rho), tf.mul(tf.square(g), 1 - rho)));
            const u = tf.div(tf.mul(g, tf.sqrt(tf.add(this.state[1][i], eps))), tf.sqrt(tf.add(sq, eps)));
            keep(1, tf.add(tf.mul(this.state[1][i], rho), tf.mul(tf.square(u), 1 - rho)));
            q = tf.sub(p, tf.mul(u, lr));
            break;
          }
        }
        next.push(tf.keep(q));
      });
    });
    const old = this.state.flat();
    this.state = state.map((slot, s) => slot.length ? slot : this.state[s]);
    tf.dispose(old.filter((t) => !this.state.flat().includes(t)));
    return next;
  }
}
