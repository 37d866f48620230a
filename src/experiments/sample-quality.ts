// Measures of generated images made with a classifier trained on the real data (the Inception Score and the
// Fréchet Inception Distance, with rede's own classifier in Inception's place):
//   classifier score  exp( E_x[ KL( p(y|x) ‖ p(y) ) ] ),  p(y) = E_x[p(y|x)]       (Salimans et al. 2016)
//     — high when each sample is confidently one class and the classes are evenly used; at most the class count.
//   Fréchet distance  ‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2·(Σ₁^½ Σ₂ Σ₁^½)^½)                    (Heusel et al. 2017)
//     — between Gaussians fitted to the classifier's penultimate features of two image sets; 0 for equal ones.
// The matrix square roots come from symmetric eigendecompositions (cyclic Jacobi), in f64.
import { RedeError } from '../engine/errors';
import { jacobiEigen } from './pca';

/** probs [n, classes] rows of p(y|x) → exp(mean KL(p(y|x) ‖ p(y))), computed as its two factors' ratio (scoreFactors). */
export function classifierScore(probs: Float32Array, n: number, classes: number): number {
  if (!(n > 0) || probs.length !== n * classes) throw new RedeError(`classifierScore: probs has ${probs.length} values, expected ${n} × ${classes}`);
  const f = scoreFactors(probs, n, classes);
  return f.spread / f.doubt;
}

/**
 * The classifier score's two factors: since E[KL(p(y|x) ‖ p(y))] = H(p(y)) − E[H(p(y|x))], the score is
 * exp H(p(y)) (how evenly the classes are used, at most the class count) divided by exp E[H(p(y|x))] (how
 * unsure each sample leaves the classifier, at least 1). Also how many samples each class wins (argmax).
 */
export function scoreFactors(probs: Float32Array, n: number, classes: number): { spread: number; doubt: number; wins: number[] } {
  if (!(n > 0) || probs.length !== n * classes) throw new RedeError(`scoreFactors: probs has ${probs.length} values, expected ${n} × ${classes}`);
  const marginal = new Float64Array(classes), wins = new Array<number>(classes).fill(0);
  let conditional = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 0; c < classes; c++) {
      const p = probs[i * classes + c];
      marginal[c] += p / n;
      if (p > 0) conditional -= p * Math.log(p) / n;
      if (p > probs[i * classes + best]) best = c;
    }
    wins[best]++;
  }
  let h = 0;
  for (const m of marginal) if (m > 0) h -= m * Math.log(m);
  return { spread: Math.exp(h), doubt: Math.exp(conditional), wins };
}

/** Mean [d] and covariance [d, d] (divided by n − 1) of feature rows [n, d], in f64. */
export function gaussianOf(features: Float32Array, n: number, d: number): { mean: Float64Array; cov: Float64Array } {
  if (!(n >= 2) || features.length !== n * d) throw new RedeError(`gaussianOf: features has ${features.length} values, expected n × ${d} with n ≥ 2 (n = ${n})`);
  const mean = new Float64Array(d), cov = new Float64Array(d * d), c = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += features[i * d + j] / n;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) c[j] = features[i * d + j] - mean[j];
    for (let j = 0; j < d; j++) for (let k = j; k < d; k++) cov[j * d + k] += c[j] * c[k];
  }
  for (let j = 0; j < d; j++) for (let k = j; k < d; k++) { cov[j * d + k] /= n - 1; cov[k * d + j] = cov[j * d + k]; }
  return { mean, cov };
}

/** The symmetric positive semi-definite square root of a [d, d] (negative rounding-error eigenvalues → 0). */
export function sqrtPsd(a: Float64Array, d: number): Float64Array {
  const { values, vectors } = jacobiEigen(a, d);
  const out = new Float64Array(d * d);
  for (let j = 0; j < d; j++) {
    const s = Math.sqrt(Math.max(0, values[j]));
    if (s === 0) continue;
    for (let r = 0; r < d; r++) {
      const vr = vectors[r * d + j] * s;
      for (let c = 0; c < d; c++) out[r * d + c] += vr * vectors[c * d + j];
    }
  }
  return out;
}

function matmul(a: Float64Array, b: Float64Array, d: number): Float64Array {
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let k = 0; k < d; k++) {
    const v = a[i * d + k];
    if (v !== 0) for (let j = 0; j < d; j++) out[i * d + j] += v * b[k * d + j];
  }
  return out;
}

/** The Fréchet distance between two Gaussians N(μ₁, Σ₁) and N(μ₂, Σ₂) of dimension d. */
export function frechetDistance(g1: { mean: Float64Array; cov: Float64Array }, g2: { mean: Float64Array; cov: Float64Array }, d: number): number {
  if (g1.mean.length !== d || g2.mean.length !== d || g1.cov.length !== d * d || g2.cov.length !== d * d) {
    throw new RedeError(`frechetDistance: expected two Gaussians of dimension ${d}, got means of ${g1.mean.length} and ${g2.mean.length}`);
  }
  let dist = 0;
  for (let j = 0; j < d; j++) dist += (g1.mean[j] - g2.mean[j]) ** 2;
  const r1 = sqrtPsd(g1.cov, d);
  const m = matmul(matmul(r1, g2.cov, d), r1, d);
  for (let i = 0; i < d; i++) for (let j = i + 1; j < d; j++) { const s = (m[i * d + j] + m[j * d + i]) / 2; m[i * d + j] = s; m[j * d + i] = s; }
  const root = sqrtPsd(m, d);
  for (let j = 0; j < d; j++) dist += g1.cov[j * d + j] + g2.cov[j * d + j] - 2 * root[j * d + j];
  return Math.max(0, dist);
}
