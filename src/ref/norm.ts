// Reference norm kernels, same signatures as assembly/norm.ts: batch norm (rows × channels, PyTorch's
// running-statistics convention) and TensorFlow's LRN, written straight from the formulas in f64.
import type { Heap } from './heap';
import { readBatchnormDesc, readLrnDesc, type LrnDesc } from '../engine/generated/abi';

export const normRef = (h: Heap) => {
  /** Per-channel Σ_rows fn(r, ch) in f64. */
  const channelSums = (rows: number, c: number, fn: (r: number, ch: number) => number): Float64Array => {
    const s = new Float64Array(c);
    for (let r = 0; r < rows; r++) for (let ch = 0; ch < c; ch++) s[ch] += fn(r, ch);
    return s;
  };
  /** s[i] = bias + alpha·Σ_{|j-i|≤radius} x[row, j]² for one row. */
  const lrnDenominators = (f: Float32Array, X: number, { c, radius, bias, alpha }: LrnDesc): Float64Array => {
    const s = new Float64Array(c);
    for (let i = 0; i < c; i++) {
      let w = 0;
      for (let j = Math.max(0, i - radius); j <= Math.min(c - 1, i + radius); j++) w += f[X + j] * f[X + j];
      s[i] = bias + alpha * w;
    }
    return s;
  };
  return {
    batchnorm_scratch_bytes(c: number): number {
      return 28 * c;
    },
    batchnorm_train_forward_f32(desc: number, x: number, y: number, gamma: number, beta: number,
      mean: number, invstd: number, running_mean: number, running_var: number, _scratch: number): void {
      const { rows, c, eps, momentum } = readBatchnormDesc(h, desc);
      const f = h.f32, X = x >>> 2, Y = y >>> 2;
      const mu = channelSums(rows, c, (r, ch) => f[X + r * c + ch]).map((s) => s / rows);
      const variance = channelSums(rows, c, (r, ch) => (f[X + r * c + ch] - mu[ch]) ** 2).map((s) => s / rows);
      for (let ch = 0; ch < c; ch++) {
        const is = 1 / Math.sqrt(variance[ch] + eps);
        f[(mean >>> 2) + ch] = mu[ch];
        f[(invstd >>> 2) + ch] = is;
        const RM = (running_mean >>> 2) + ch, RV = (running_var >>> 2) + ch;
        f[RM] = (1 - momentum) * f[RM] + momentum * mu[ch];
        f[RV] = (1 - momentum) * f[RV] + momentum * variance[ch] * (rows > 1 ? rows / (rows - 1) : 1);
        for (let r = 0; r < rows; r++) {
          f[Y + r * c + ch] = f[(gamma >>> 2) + ch] * (f[X + r * c + ch] - mu[ch]) * is + f[(beta >>> 2) + ch];
        }
      }
    },
    batchnorm_infer_forward_f32(desc: number, x: number, y: number, gamma: number, beta: number,
      running_mean: number, running_var: number, _scratch: number): void {
      const { rows, c, eps } = readBatchnormDesc(h, desc);
      const f = h.f32, X = x >>> 2, Y = y >>> 2;
      for (let ch = 0; ch < c; ch++) {
        const mu = f[(running_mean >>> 2) + ch], is = 1 / Math.sqrt(f[(running_var >>> 2) + ch] + eps);
        for (let r = 0; r < rows; r++) {
          f[Y + r * c + ch] = f[(gamma >>> 2) + ch] * (f[X + r * c + ch] - mu) * is + f[(beta >>> 2) + ch];
        }
      }
    },
    batchnorm_backward_f32(desc: number, x: number, dy: number, dx: number, gamma: number,
      mean: number, invstd: number, dgamma: number, dbeta: number, accumulate: number, _scratch: number): void {
      const { rows, c } = readBatchnormDesc(h, desc);
      const f = h.f32, X = x >>> 2, DY = dy >>> 2, DX = dx >>> 2;
      const mu = (ch: number) => f[(mean >>> 2) + ch], is = (ch: number) => f[(invstd >>> 2) + ch];
      const xhat = (r: number, ch: number) => (f[X + r * c + ch] - mu(ch)) * is(ch);
      const sdy = channelSums(rows, c, (r, ch) => f[DY + r * c + ch]);
      const sdyx = channelSums(rows, c, (r, ch) => f[DY + r * c + ch] * xhat(r, ch));
      for (let ch = 0; ch < c; ch++) {
        const G = (dgamma >>> 2) + ch, B = (dbeta >>> 2) + ch;
        f[G] = (accumulate ? f[G] : 0) + sdyx[ch];
        f[B] = (accumulate ? f[B] : 0) + sdy[ch];
        const k = f[(gamma >>> 2) + ch] * is(ch);
        for (let r = 0; r < rows; r++) {
          const i = r * c + ch;
          f[DX + i] = k * (f[DY + i] - sdy[ch] / rows - xhat(r, ch) * sdyx[ch] / rows);
        }
      }
    },
    lrn_scratch_bytes(c: number): number {
      return 8 * c;
    },
    lrn_forward_f32(desc: number, x: number, y: number): void {
      const d = readLrnDesc(h, desc), { rows, c, beta } = d;
      const f = h.f32;
      for (let r = 0; r < rows; r++) {
        const X = (x >>> 2) + r * c, Y = (y >>> 2) + r * c;
        const s = lrnDenominators(f, X, d);
        for (let i = 0; i < c; i++) f[Y + i] = f[X + i] * Math.pow(s[i], -beta);
      }
    },
    lrn_backward_f32(desc: number, x: number, dy: number, dx: number, _scratch: number): void {
      const d = readLrnDesc(h, desc), { rows, c, radius, alpha, beta } = d;
      const f = h.f32;
      for (let r = 0; r < rows; r++) {
        const X = (x >>> 2) + r * c, DY = (dy >>> 2) + r * c, DX = (dx >>> 2) + r * c;
        const s = lrnDenominators(f, X, d);
        // ∂y[i]/∂x[j] = [i=j]·s[i]^-β - 2αβ·x[i]·x[j]·s[i]^(-β-1) for |i - j| ≤ radius
        const t = new Float64Array(c);
        for (let i = 0; i < c; i++) t[i] = f[DY + i] * f[X + i] * Math.pow(s[i], -beta - 1);
        const out = new Float64Array(c);
        for (let j = 0; j < c; j++) {
          let w = 0;
          for (let i = Math.max(0, j - radius); i <= Math.min(c - 1, j + radius); i++) w += t[i];
          out[j] = f[DY + j] * Math.pow(s[j], -beta) - 2 * alpha * beta * f[X + j] * w;
        }
        for (let j = 0; j < c; j++) f[DX + j] = out[j];
      }
    },
  };
};
