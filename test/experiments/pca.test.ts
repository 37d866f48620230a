// rede's PCA: covariance by GEMM against a direct sum, Jacobi against hand-checked and reconstructed
// matrices, subspace iteration against Jacobi on every engine variant, projection against a direct sum.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { covariance, fitPca, jacobiEigen, projectPca, topEigen } from '../../src/experiments/pca';
import { modelEngines } from '../helpers/model';

/** n×d data with very different variances per direction (a rotated, scaled Gaussian-ish cloud). */
function data(n: number, d: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const rnd = () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32 - 0.5; };
  const mix = Array.from({ length: d * d }, rnd);
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const z = Array.from({ length: d }, (_, j) => rnd() * (d - j) ** 1.5);
    for (let j = 0; j < d; j++) { let v = 3; for (let t = 0; t < d; t++) v += mix[j * d + t] * z[t]; x[i * d + j] = v; }
  }
  return x;
}

function directCov(x: Float32Array, n: number, d: number): Float64Array {
  const mu = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mu[j] += x[i * d + j] / n;
  const c = new Float64Array(d * d);
  for (let i = 0; i < n; i++) for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) c[a * d + b] += (x[i * d + a] - mu[a]) * (x[i * d + b] - mu[b]) / (n - 1);
  return c;
}

test('jacobiEigen: a 2×2 by hand, and A = U·Λ·Uᵀ with U orthogonal for a random symmetric 9×9', () => {
  const two = jacobiEigen(Float64Array.from([2, 1, 1, 2]), 2);
  assert.ok(Math.abs(two.values[0] - 3) < 1e-12 && Math.abs(two.values[1] - 1) < 1e-12, String(two.values));
  assert.ok(Math.abs(Math.abs(two.vectors[0]) - Math.SQRT1_2) < 1e-12);
  const n = 9, a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) { const v = Math.sin(i * 7 + j * 3) + (i === j ? 2 : 0); a[i * n + j] = v; a[j * n + i] = v; }
  const { values, vectors: u } = jacobiEigen(a, n);
  for (let i = 1; i < n; i++) assert.ok(values[i - 1] >= values[i], 'sorted descending');
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let back = 0, orth = 0;
    for (let k = 0; k < n; k++) { back += u[i * n + k] * values[k] * u[j * n + k]; orth += u[k * n + i] * u[k * n + j]; }
    assert.ok(Math.abs(back - a[i * n + j]) < 1e-10, `A[${i}][${j}]`);
    assert.ok(Math.abs(orth - (i === j ? 1 : 0)) < 1e-10, `UᵀU[${i}][${j}]`);
  }
  assert.throws(() => jacobiEigen(new Float64Array(5), 2), /5 values, expected 2×2/);
});

test('covariance (one GEMM) matches the direct sum; fitPca matches Jacobi on every engine', async () => {
  const n = 257, d = 13, k = 5, x = data(n, d, 7);
  const want = directCov(x, n, d);
  const ref = jacobiEigen(want, d);
  for (const { name, e } of await modelEngines()) {
    const used = e.mark();
    const { cov, mean } = covariance(e, x, n, d);
    for (let i = 0; i < d * d; i++) assert.ok(Math.abs(cov[i] - want[i]) <= 1e-4 * Math.abs(want[0]) + 1e-5 * Math.abs(want[i]), `${name}: cov[${i}] ${cov[i]} vs ${want[i]}`);
    assert.ok(Math.abs(mean[0] - x.filter((_, i) => i % d === 0).reduce((s, v) => s + v, 0) / n) < 1e-4);
    const pca = fitPca(e, x, n, d, k, { oversample: 4, seed: 3 });
    assert.equal(e.mark(), used, `${name}: fitPca returns its scratch to the arena`);
    assert.ok(pca.residual <= 1e-5, `${name}: residual ${pca.residual}`);
    for (let j = 0; j < k; j++) {
      assert.ok(Math.abs(pca.eigenvalues[j] - ref.values[j]) <= 1e-4 * ref.values[0], `${name}: λ${j} ${pca.eigenvalues[j]} vs ${ref.values[j]}`);
      let dot = 0, norm = 0;
      for (let i = 0; i < d; i++) { dot += pca.components[j * d + i] * ref.vectors[i * d + j]; norm += pca.components[j * d + i] ** 2; }
      assert.ok(Math.abs(norm - 1) < 1e-5, `${name}: component ${j} is unit length`);
      assert.ok(Math.abs(Math.abs(dot) - 1) < 1e-3, `${name}: component ${j} ∥ Jacobi's (|cos| = ${Math.abs(dot)})`);
      let big = 0;
      for (let i = 0; i < d; i++) if (Math.abs(pca.components[j * d + i]) > Math.abs(big)) big = pca.components[j * d + i];
      assert.ok(big > 0, 'sign convention: largest entry positive');
    }
    let total = 0;
    for (let i = 0; i < d; i++) total += want[i * d + i];
    assert.ok(Math.abs(pca.totalVariance - total) < 1e-4 * total);
  }
});

test('projectPca: (x − μ)·Vₖᵀ, and the same seed gives the same components', async () => {
  const [{ e }] = await modelEngines();
  const n = 64, d = 10, x = data(n, d, 11);
  const pca = fitPca(e, x, n, d, 4, { seed: 5 });
  const z = projectPca(e, pca, x, n, 3);
  assert.equal(z.length, n * 3);
  for (let r = 0; r < n; r++) for (let j = 0; j < 3; j++) {
    let s = 0;
    for (let i = 0; i < d; i++) s += (x[r * d + i] - pca.mean[i]) * pca.components[j * d + i];
    assert.ok(Math.abs(z[r * 3 + j] - s) < 1e-3 * (1 + Math.abs(s)), `z[${r}][${j}]`);
  }
  // Centred coordinates: each has mean ≈ 0 and variance ≈ its eigenvalue.
  for (let j = 0; j < 3; j++) {
    let m = 0, v = 0;
    for (let r = 0; r < n; r++) { m += z[r * 3 + j] / n; v += z[r * 3 + j] ** 2 / (n - 1); }
    assert.ok(Math.abs(m) < 1e-3 * Math.sqrt(pca.eigenvalues[0]) && Math.abs(v - pca.eigenvalues[j]) < 1e-3 * pca.eigenvalues[0], `coordinate ${j}`);
  }
  assert.deepEqual(fitPca(e, x, n, d, 4, { seed: 5 }).components, pca.components);
  assert.throws(() => projectPca(e, pca, x, n, 5), /k must be an integer in \[1, 4\]/);
  assert.throws(() => projectPca(e, pca, x.subarray(1), n), /expected n × d = 64 × 10/);
  assert.throws(() => fitPca(e, x, n, d, 11), /k must be an integer in \[1, 10\]/);
  assert.throws(() => topEigen(e, new Float32Array(3), 2, 1), /3 values, expected 2×2/);
});
