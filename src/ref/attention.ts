// Reference soft additive attention, same signatures as assembly/attention.ts: the textbook loops in f64, one
// example and one position at a time, with the softmax's Jacobian written out (dα → de) rather than fused.
import type { Heap } from './heap';

export const attentionRef = (heap: Heap) => ({
  attention_forward_f32(n: number, L: number, D: number, A: number, pa: number, ph: number, w: number, feats: number,
    u: number, alpha: number, ctx: number): void {
    const f = heap.f32, P = pa >>> 2, H = ph >>> 2, W = w >>> 2, F = feats >>> 2, U = u >>> 2, AL = alpha >>> 2, C = ctx >>> 2;
    for (let b = 0; b < n; b++) {
      const e = new Float64Array(L);
      for (let i = 0; i < L; i++) {
        let s = 0;
        for (let j = 0; j < A; j++) {
          const t = Math.tanh(f[P + (b * L + i) * A + j] + f[H + b * A + j]);
          f[U + (b * L + i) * A + j] = t;
          s += f[W + j] * t;
        }
        e[i] = s;
      }
      let mx = -Infinity, sum = 0;
      for (let i = 0; i < L; i++) mx = Math.max(mx, e[i]);
      for (let i = 0; i < L; i++) { e[i] = Math.exp(e[i] - mx); sum += e[i]; }
      for (let i = 0; i < L; i++) f[AL + b * L + i] = e[i] / sum;
      for (let d = 0; d < D; d++) {
        let s = 0;
        for (let i = 0; i < L; i++) s += (e[i] / sum) * f[F + (b * L + i) * D + d];
        f[C + b * D + d] = s;
      }
    }
  },

  attention_backward_f32(n: number, L: number, D: number, A: number, w: number, feats: number, u: number, alpha: number,
    dctx: number, dalpha: number, dpa: number, dph: number, dw: number, dfeats: number, _scratch: number): void {
    const f = heap.f32, W = w >>> 2, F = feats >>> 2, U = u >>> 2, AL = alpha >>> 2, DC = dctx >>> 2;
    const DPA = dpa >>> 2, DPH = dph >>> 2, DW = dw >>> 2, DF = dfeats >>> 2;
    for (let b = 0; b < n; b++) {
      const da = new Float64Array(L), de = new Float64Array(L);
      for (let i = 0; i < L; i++) for (let d = 0; d < D; d++) da[i] += f[F + (b * L + i) * D + d] * f[DC + b * D + d];
      if (dalpha) for (let i = 0; i < L; i++) da[i] += f[(dalpha >>> 2) + b * L + i];
      // de_i = Σ_k (∂α_k/∂e_i) dα_k, with ∂α_k/∂e_i = α_k (δ_ki − α_i).
      for (let i = 0; i < L; i++) {
        let s = 0;
        for (let k = 0; k < L; k++) s += f[AL + b * L + k] * ((k === i ? 1 : 0) - f[AL + b * L + i]) * da[k];
        de[i] = s;
      }
      const dphb = new Float64Array(A);
      for (let i = 0; i < L; i++) {
        for (let j = 0; j < A; j++) {
          const t = f[U + (b * L + i) * A + j], g = de[i] * f[W + j] * (1 - t * t);
          f[DPA + (b * L + i) * A + j] += g;
          dphb[j] += g;
          f[DW + j] += de[i] * t;
        }
        for (let d = 0; d < D; d++) f[DF + (b * L + i) * D + d] += f[AL + b * L + i] * f[DC + b * D + d];
      }
      for (let j = 0; j < A; j++) f[DPH + b * A + j] = dphb[j];
    }
  },
});
