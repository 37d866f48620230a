// Principal component analysis computed by rede itself (lecture 2.6.1: PCA as a hand-chosen feature extractor).
//   X [n, d] (rows are examples)   μ = mean row   Xc = X − 1·μ
//   C [d, d] = Xcᵀ·Xc / (n − 1)                         one GEMM call (transA) in the wasm kernel
// The top-k eigenvectors of C come from subspace iteration (block power iteration) on p = k + oversample
// columns V [d, p]: W = C·V (GEMM), V ← orth(W) by modified Gram–Schmidt, until the Ritz values settle;
// then Rayleigh–Ritz: H [p, p] = Vᵀ·C·V, H = U·Λ·Uᵀ by cyclic Jacobi, components = V·U (Golub & Van Loan,
// "Matrix Computations", 4th ed., §8.2.4 orthogonal iteration and §8.5 Jacobi methods). The k-th vector
// converges like (λ_{p+1}/λ_k)^iterations, which the oversampling keeps well below 1.
import type { Engine } from '../engine/engine';
import { RedeError } from '../engine/errors';
import { normalAt } from '../data/rng';

export interface Pca {
  /** Input dimension d. */
  dims: number;
  /** Components kept. */
  k: number;
  /** μ [d]. */
  mean: Float32Array;
  /** [k, d] row-major: row j is the unit eigenvector of the j-th largest eigenvalue (sign: largest |entry| positive). */
  components: Float32Array;
  /** λ_1 ≥ … ≥ λ_k: the variance along each component. */
  eigenvalues: Float64Array;
  /** trace(C): the total variance, for explained-variance ratios. */
  totalVariance: number;
  /** Subspace iterations run. */
  iterations: number;
  /** max_j ‖C·v_j − λ_j·v_j‖ / λ_1 at the end (≤ tol unless maxIterations ran out). */
  residual: number;
}

export interface PcaOptions {
  /** Extra columns iterated beyond k (speeds convergence of the k-th vector). Default 32. */
  oversample?: number;
  /** Stop when every kept Ritz pair's residual ‖C·v − λ·v‖ is at most tol·λ_1 (the GEMM is f32). Default 1e-5. */
  tol?: number;
  maxIterations?: number;
  /** Seeds the random start. */
  seed?: number;
}

/** Column means [d] and the covariance [d, d] (f32, from one GEMM of the centred data). */
export function covariance(e: Engine, x: Float32Array, n: number, d: number): { mean: Float32Array; cov: Float32Array } {
  checkData('covariance', x, n, d);
  if (n < 2) throw new RedeError(`covariance: needs at least 2 examples, got ${n}`);
  const mean = columnMeans(x, n, d);
  const mark = e.mark();
  try {
    const xc = e.reserve(n * d * 4, 'pca centred data'), c = e.reserve(d * d * 4, 'pca covariance');
    const f = e.f32, at = xc >>> 2;
    for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) f[at + r * d + j] = x[r * d + j] - mean[j];
    const scratch = e.reserve(e.k.gemm_scratch_bytes(d, d, n), 'pca gemm scratch');
    // C = Xcᵀ·Xc: a is Xc read transposed ([d, n] view of [n, d], lda = d).
    e.k.gemm_f32(1, 0, d, d, n, xc, d, xc, d, c, d, 0, scratch);
    const cov = e.read(c, d * d);
    const s = 1 / (n - 1);
    for (let i = 0; i < cov.length; i++) cov[i] *= s;
    return { mean, cov };
  } finally {
    e.release(mark);
  }
}

/** Fits the top-k principal components of x [n, d]. */
export function fitPca(e: Engine, x: Float32Array, n: number, d: number, k: number, o: PcaOptions = {}): Pca {
  if (!Number.isInteger(k) || k < 1 || k > d) throw new RedeError(`fitPca: k must be an integer in [1, ${d}], got ${k}`);
  const { mean, cov } = covariance(e, x, n, d);
  let trace = 0;
  for (let i = 0; i < d; i++) trace += cov[i * d + i];
  const { values, vectors, iterations, residual } = topEigen(e, cov, d, k, o);
  return { dims: d, k, mean, components: vectors, eigenvalues: values, totalVariance: trace, iterations, residual };
}

/**
 * The top-k eigenpairs of the symmetric matrix a [d, d] (f32) by subspace iteration + Rayleigh–Ritz.
 * vectors: [k, d] row-major, unit length, sign-normalized; residual: max_j ‖A·v_j − λ_j·v_j‖ / λ_1 at the end.
 */
export function topEigen(e: Engine, a: Float32Array, d: number, k: number, o: PcaOptions = {}): { values: Float64Array; vectors: Float32Array; iterations: number; residual: number } {
  if (a.length !== d * d) throw new RedeError(`topEigen: matrix has ${a.length} values, expected ${d}×${d}`);
  const p = Math.min(d, k + (o.oversample ?? 32));
  const tol = o.tol ?? 1e-5, maxIt = o.maxIterations ?? 300, seed = o.seed ?? 0;
  // Work on columns in f64 (cols[j] is column j of V, length d); the products run in the GEMM kernel.
  let cols: Float64Array[] = Array.from({ length: p }, (_, j) => Float64Array.from({ length: d }, (_, i) => normalAt(seed, j, i)));
  orthonormalize(cols, 2);
  const mark = e.mark();
  try {
    const A = e.reserve(d * d * 4, 'eigen matrix'), V = e.reserve(d * p * 4, 'eigen basis'), W = e.reserve(d * p * 4, 'eigen product');
    const scratch = e.reserve(e.k.gemm_scratch_bytes(d, p, d), 'eigen gemm scratch');
    e.write(A, a);
    const times = (vs: Float64Array[]): Float64Array[] => {
      const f = e.f32, v = V >>> 2;
      for (let i = 0; i < d; i++) for (let j = 0; j < p; j++) f[v + i * p + j] = vs[j][i];
      e.k.gemm_f32(0, 0, d, p, d, A, d, V, p, W, p, 0, scratch); // W [d, p] = A·V
      const g = e.f32, w = W >>> 2;
      return Array.from({ length: p }, (_, j) => { const c = new Float64Array(d); for (let i = 0; i < d; i++) c[i] = g[w + i * p + j]; return c; });
    };
    // Every `check` iterations: Rayleigh–Ritz on the current basis, and stop once every kept Ritz pair
    // (θ_j, y_j) has a residual ‖A·y_j − θ_j·y_j‖ ≤ tol·θ_1. Rotating to the Ritz vectors also speeds convergence.
    const check = 5;
    let ritz: { values: Float64Array; vectors: Float64Array } | null = null, it = 0, residual = Infinity;
    for (; it < maxIt; it++) {
      const w = times(cols);
      if ((it + 1) % check === 0 || it === maxIt - 1) {
        const h = new Float64Array(p * p);
        for (let r = 0; r < p; r++) for (let c = r; c < p; c++) { const v = dot(cols[r], w[c]); h[r * p + c] = v; h[c * p + r] = v; }
        ritz = jacobiEigen(h, p);
        const y = rotate(cols, ritz.vectors, p), ay = rotate(w, ritz.vectors, p);
        let worst = 0;
        for (let j = 0; j < k; j++) {
          let r2 = 0;
          for (let i = 0; i < d; i++) r2 += (ay[j][i] - ritz.values[j] * y[j][i]) ** 2;
          worst = Math.max(worst, Math.sqrt(r2));
        }
        residual = worst / Math.abs(ritz.values[0]);
        if (residual <= tol || it === maxIt - 1) { cols = y; it++; break; }
        cols = ay;
      } else {
        cols = w;
      }
      orthonormalize(cols, it % check === check - 1 ? 2 : 1);
      ritz = null;
    }
    if (!ritz) throw new RedeError(`topEigen: maxIterations must be at least 1, got ${maxIt}`);
    const values = ritz.values;
    const out = new Float32Array(k * d);
    for (let j = 0; j < k; j++) {
      const vec = cols[j];
      let big = 0;
      for (let i = 0; i < d; i++) if (Math.abs(vec[i]) > Math.abs(big)) big = vec[i];
      const s = (big < 0 ? -1 : 1) / Math.sqrt(dot(vec, vec));
      for (let i = 0; i < d; i++) out[j * d + i] = vec[i] * s;
    }
    return { values: values.slice(0, k), vectors: out, iterations: it, residual };
  } finally {
    e.release(mark);
  }
}

/**
 * Cyclic Jacobi for a symmetric a [n, n] (not modified): a = U·diag(values)·Uᵀ, values sorted descending,
 * U [n, n] row-major with eigenvector j in column j. Rotations zero one off-diagonal pair at a time until
 * the off-diagonal mass is below 1e-22 of the total.
 */
export function jacobiEigen(a: Float64Array, n: number, maxSweeps = 60): { values: Float64Array; vectors: Float64Array } {
  if (a.length !== n * n) throw new RedeError(`jacobiEigen: matrix has ${a.length} values, expected ${n}×${n}`);
  const m = Float64Array.from(a), u = new Float64Array(n * n);
  for (let i = 0; i < n; i++) u[i * n + i] = 1;
  let total = 0;
  for (let i = 0; i < n * n; i++) total += m[i] * m[i];
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off += 2 * m[i * n + j] ** 2;
    if (off <= 1e-22 * total || off === 0) break;
    for (let pp = 0; pp < n - 1; pp++) for (let q = pp + 1; q < n; q++) {
      const apq = m[pp * n + q];
      if (apq === 0) continue;
      // Rotation angle that zeroes m[p][q]: θ = (a_qq − a_pp) / (2·a_pq), t = sign(θ)/(|θ| + √(θ² + 1)).
      const theta = (m[q * n + q] - m[pp * n + pp]) / (2 * apq);
      const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
      const c = 1 / Math.sqrt(t * t + 1), s = t * c;
      for (let r = 0; r < n; r++) { // columns p, q
        const mp = m[r * n + pp], mq = m[r * n + q];
        m[r * n + pp] = c * mp - s * mq; m[r * n + q] = s * mp + c * mq;
      }
      for (let r = 0; r < n; r++) { // rows p, q
        const mp = m[pp * n + r], mq = m[q * n + r];
        m[pp * n + r] = c * mp - s * mq; m[q * n + r] = s * mp + c * mq;
      }
      for (let r = 0; r < n; r++) {
        const up = u[r * n + pp], uq = u[r * n + q];
        u[r * n + pp] = c * up - s * uq; u[r * n + q] = s * up + c * uq;
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => m[y * n + y] - m[x * n + x]);
  const values = Float64Array.from(order, (i) => m[i * n + i]);
  const vectors = new Float64Array(n * n);
  order.forEach((src, j) => { for (let r = 0; r < n; r++) vectors[r * n + j] = u[r * n + src]; });
  return { values, vectors };
}

/** z [n, k] = (x − μ)·Vₖᵀ: the first k principal coordinates of every row of x [n, d] (one GEMM). */
export function projectPca(e: Engine, pca: Pca, x: Float32Array, n: number, k = pca.k): Float32Array {
  const d = pca.dims;
  checkData('projectPca', x, n, d);
  if (!Number.isInteger(k) || k < 1 || k > pca.k) throw new RedeError(`projectPca: k must be an integer in [1, ${pca.k}], got ${k}`);
  const mark = e.mark();
  try {
    const xc = e.reserve(n * d * 4, 'pca input'), v = e.reserve(d * k * 4, 'pca components'), z = e.reserve(n * k * 4, 'pca output');
    const f = e.f32;
    for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) f[(xc >>> 2) + r * d + j] = x[r * d + j] - pca.mean[j];
    // Components are stored [k, d]: the GEMM reads them transposed (transB) to multiply by Vₖᵀ [d, k].
    e.write(v, pca.components.subarray(0, k * d));
    const scratch = e.reserve(e.k.gemm_scratch_bytes(n, k, d), 'pca gemm scratch');
    e.k.gemm_f32(0, 1, n, k, d, xc, d, v, d, z, k, 0, scratch);
    return e.read(z, n * k);
  } finally {
    e.release(mark);
  }
}

function checkData(where: string, x: Float32Array, n: number, d: number): void {
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(d) || d < 1 || x.length !== n * d) {
    throw new RedeError(`${where}: x has ${x.length} values, expected n × d = ${n} × ${d}`);
  }
}

function columnMeans(x: Float32Array, n: number, d: number): Float32Array {
  const s = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) s[j] += x[r * d + j];
  return Float32Array.from(s, (v) => v / n);
}

/** Columns of V·U: out[j] = Σ_r U[r, j]·cols[r] (U is [p, p] row-major). */
function rotate(cols: Float64Array[], u: Float64Array, p: number): Float64Array[] {
  const d = cols[0].length;
  return Array.from({ length: p }, (_, j) => {
    const out = new Float64Array(d);
    for (let r = 0; r < p; r++) { const c = u[r * p + j]; if (c !== 0) { const src = cols[r]; for (let i = 0; i < d; i++) out[i] += c * src[i]; } }
    return out;
  });
}

const dot = (a: Float64Array, b: Float64Array): number => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * b[i]; return s; };

/**
 * Modified Gram–Schmidt in place, `passes` times (two give orthogonality to machine precision); returns each
 * column's norm after its first orthogonalization. A column that collapses to zero becomes a unit vector.
 */
function orthonormalize(cols: Float64Array[], passes: number): Float64Array {
  const norms = new Float64Array(cols.length);
  for (let pass = 0; pass < passes; pass++) {
    cols.forEach((c, j) => {
      for (let i = 0; i < j; i++) { const r = dot(cols[i], c); for (let t = 0; t < c.length; t++) c[t] -= r * cols[i][t]; }
      let nrm = Math.sqrt(dot(c, c));
      if (pass === 0) norms[j] = nrm;
      if (!(nrm > 1e-300)) { c.fill(0); c[j % c.length] = 1; nrm = 1; }
      for (let t = 0; t < c.length; t++) c[t] /= nrm;
    });
  }
  return norms;
}
