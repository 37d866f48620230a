// Soft additive attention (Bahdanau et al. 2015; the "soft" attention of Show, Attend and Tell, Xu et al. 2015):
// a decoder state h scores each of L annotation vectors a_i (a CNN's feature grid, one vector per position),
// and the context is the α-weighted mean of the annotations.
//
// Shapes (n examples, L positions, D features per position, A attention units):
//   feats, dfeats  [n, L, D]   the annotations a_i
//   pa, dpa        [n, L, A]   a_i·W_a + b, computed once per image by the caller (one GEMM over all n·L rows)
//   ph, dph        [n, A]      h·W_h, one GEMM per decoder step by the caller
//   w, dw          [A]         the scoring vector
//   u              [n, L, A]   tanh(pa + ph), kept from forward to backward
//   alpha, dalpha  [n, L]      the attention weights        ctx, dctx  [n, D]   the context
// The algebra, per example:
//   u_i = tanh(pa_i + ph)      e_i = w·u_i      α = softmax(e) over i      ctx = Σ_i α_i a_i
// Backward, from dctx and optionally a direct gradient of α (dalpha, e.g. an entropy penalty; 0: none):
//   dα_i = a_i·dctx (+ dalpha_i)      de_i = α_i (dα_i − Σ_j α_j dα_j)      g_i = de_i w ⊙ (1 − u_i²)
//   dpa_i += g_i         dph = Σ_i g_i         dw += Σ_i de_i u_i         dfeats_i += α_i dctx
// Why these accumulate and dph does not: pa, w and the annotations are shared by every step of a caption, so
// their gradients are sums over steps; ph is the step's own (the caller turns dph into dW_h and dh by GEMMs).
// The GEMMs stay with the caller (assembly/gemm.ts); what is here is the part no GEMM does: the tanh over the
// n·L·A grid, the per-example softmax and the two weighted sums, fused so each row is read once per pass.
// Four sizes and pointers, no descriptor: the kernels are called per step with the same few sizes, and the
// caller (src/caption/decoder.ts) computes them in one place.
import { at } from './simd';
import './act'; // tanh_x4, exp_f32x4 are declared @global there

/** Dot product of two rows of `k` floats (SIMD body, scalar tail). */
function dot(x: usize, y: usize, k: i32): f32 {
  let acc = f32x4.splat(0), j = 0;
  for (; j + 4 <= k; j += 4) acc = f32x4.add(acc, f32x4.mul(v128.load(at(x, j)), v128.load(at(y, j))));
  let s = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
  for (; j < k; j++) s += load<f32>(at(x, j)) * load<f32>(at(y, j));
  return s;
}

/** y += s·x over `k` floats. */
function axpy(s: f32, x: usize, y: usize, k: i32): void {
  const sv = f32x4.splat(s);
  let j = 0;
  for (; j + 4 <= k; j += 4) v128.store(at(y, j), f32x4.add(v128.load(at(y, j)), f32x4.mul(sv, v128.load(at(x, j)))));
  for (; j < k; j++) store<f32>(at(y, j), load<f32>(at(y, j)) + s * load<f32>(at(x, j)));
}

/** u = tanh(pa + ph), alpha = softmax(u·w), ctx = Σ alpha_i feats_i (see the header). */
export function attention_forward_f32(n: i32, L: i32, D: i32, A: i32, pa: usize, ph: usize, w: usize, feats: usize,
  u: usize, alpha: usize, ctx: usize): void {
  for (let b = 0; b < n; b++) {
    const phb = at(ph, b * A), al = at(alpha, b * L);
    let mx: f32 = -Infinity;
    for (let i = 0; i < L; i++) {
      const row = (b * L + i) * A, ur = at(u, row), pr = at(pa, row);
      let j = 0;
      for (; j + 4 <= A; j += 4) v128.store(at(ur, j), tanh_x4(f32x4.add(v128.load(at(pr, j)), v128.load(at(phb, j)))));
      for (; j < A; j++) {
        store<f32>(at(ur, j), f32x4.extract_lane(tanh_x4(f32x4.splat(load<f32>(at(pr, j)) + load<f32>(at(phb, j)))), 0));
      }
      const e = dot(ur, w, A);
      store<f32>(at(al, i), e);
      if (e > mx) mx = e;
    }
    let sum: f32 = 0;
    for (let i = 0; i < L; i++) {
      const v = f32x4.extract_lane(exp_f32x4(f32x4.splat(load<f32>(at(al, i)) - mx)), 0);
      store<f32>(at(al, i), v);
      sum += v;
    }
    const inv: f32 = 1 / sum, cb = at(ctx, b * D);
    memory.fill(cb, 0, <usize>D << 2);
    for (let i = 0; i < L; i++) {
      const a = load<f32>(at(al, i)) * inv;
      store<f32>(at(al, i), a);
      axpy(a, at(feats, (b * L + i) * D), cb, D);
    }
  }
}

/**
 * From dctx (and dalpha unless 0): dpa += g, dph = Σ_i g_i, dw += Σ de_i u_i, dfeats += α_i dctx (see the header). `scratch` holds L
 * floats (the per-position dα, then de).
 */
export function attention_backward_f32(n: i32, L: i32, D: i32, A: i32, w: usize, feats: usize, u: usize, alpha: usize,
  dctx: usize, dalpha: usize, dpa: usize, dph: usize, dw: usize, dfeats: usize, scratch: usize): void {
  for (let b = 0; b < n; b++) {
    const al = at(alpha, b * L), dcb = at(dctx, b * D), dphb = at(dph, b * A);
    // dα_i = a_i·dctx, and Σ α_j dα_j.
    let mean: f32 = 0;
    for (let i = 0; i < L; i++) {
      const fr = at(feats, (b * L + i) * D), da = dot(fr, dcb, D) + (dalpha ? load<f32>(at(dalpha, b * L + i)) : 0);
      store<f32>(at(scratch, i), da);
      mean += load<f32>(at(al, i)) * da;
      axpy(load<f32>(at(al, i)), dcb, at(dfeats, (b * L + i) * D), D);
    }
    memory.fill(dphb, 0, <usize>A << 2);
    for (let i = 0; i < L; i++) {
      const de = load<f32>(at(al, i)) * (load<f32>(at(scratch, i)) - mean);
      const row = (b * L + i) * A, ur = at(u, row), gr = at(dpa, row);
      const dev = f32x4.splat(de), one = f32x4.splat(1);
      let j = 0;
      for (; j + 4 <= A; j += 4) {
        const uv = v128.load(at(ur, j));
        const g = f32x4.mul(f32x4.mul(dev, v128.load(at(w, j))), f32x4.sub(one, f32x4.mul(uv, uv)));
        v128.store(at(gr, j), f32x4.add(v128.load(at(gr, j)), g));
        v128.store(at(dphb, j), f32x4.add(v128.load(at(dphb, j)), g));
        v128.store(at(dw, j), f32x4.add(v128.load(at(dw, j)), f32x4.mul(dev, uv)));
      }
      for (; j < A; j++) {
        const uv = load<f32>(at(ur, j)), g = de * load<f32>(at(w, j)) * (1 - uv * uv);
        store<f32>(at(gr, j), load<f32>(at(gr, j)) + g);
        store<f32>(at(dphb, j), load<f32>(at(dphb, j)) + g);
        store<f32>(at(dw, j), load<f32>(at(dw, j)) + de * uv);
      }
    }
  }
}
