// The generated-image measures against cases with known answers: the classifier score of one-hot and of
// uniform predictions, and the Fréchet distance of Gaussians whose distance has a closed form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifierScore, frechetDistance, gaussianOf, scoreFactors, sqrtPsd } from '../../src/experiments/sample-quality';
import { Rng } from '../helpers/rand';

test('classifier score: confident and evenly spread predictions score the class count, uniform ones 1', () => {
  const n = 40, C = 10, hot = new Float32Array(n * C), flat = new Float32Array(n * C).fill(1 / C);
  for (let i = 0; i < n; i++) hot[i * C + (i % C)] = 1;
  assert.ok(Math.abs(classifierScore(hot, n, C) - C) < 1e-9);
  assert.ok(Math.abs(classifierScore(flat, n, C) - 1) < 1e-6);
  // Confident but all one class (mode collapse): 1 as well.
  const collapsed = new Float32Array(n * C);
  for (let i = 0; i < n; i++) collapsed[i * C + 3] = 1;
  assert.ok(Math.abs(classifierScore(collapsed, n, C) - 1) < 1e-9);
  // Two classes used evenly, confidently: 2.
  const two = new Float32Array(n * C);
  for (let i = 0; i < n; i++) two[i * C + (i % 2)] = 1;
  assert.ok(Math.abs(classifierScore(two, n, C) - 2) < 1e-9);
  assert.throws(() => classifierScore(hot, n + 1, C), /classifierScore: probs has 400 values, expected 41 × 10/);
});

test('score factors: spread / doubt is the classifier score (its KL definition written out); one-hot rows have doubt 1 and their class counts as wins', () => {
  const rng = new Rng(5), n = 300, C = 7, probs = new Float32Array(n * C);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let c = 0; c < C; c++) sum += (probs[i * C + c] = rng.uniform(0, 1) ** 4);
    for (let c = 0; c < C; c++) probs[i * C + c] /= sum;
  }
  // the score's definition, written out: exp(mean KL(p(y|x) ‖ p(y)))
  const marginal = new Float64Array(C);
  for (let i = 0; i < n * C; i++) marginal[i % C] += probs[i] / n;
  let kl = 0;
  for (let i = 0; i < n * C; i++) kl += probs[i] * Math.log(probs[i] / marginal[i % C]) / n;
  const f = scoreFactors(probs, n, C);
  assert.ok(Math.abs(f.spread / f.doubt - Math.exp(kl)) < 1e-9 * Math.exp(kl), `${f.spread} / ${f.doubt} vs ${Math.exp(kl)}`);
  assert.ok(Math.abs(classifierScore(probs, n, C) - Math.exp(kl)) < 1e-9 * Math.exp(kl));
  assert.ok(f.spread <= C && f.doubt >= 1 && f.wins.reduce((a, b) => a + b, 0) === n);
  const hot = new Float32Array(4 * 3);
  [0, 2, 2, 1].forEach((c, i) => { hot[i * 3 + c] = 1; });
  assert.deepEqual(scoreFactors(hot, 4, 3), { spread: Math.exp(-(0.25 * Math.log(0.25) * 2 + 0.5 * Math.log(0.5))), doubt: 1, wins: [1, 1, 2] });
  assert.throws(() => scoreFactors(hot, 5, 3), /scoreFactors: probs has 12 values, expected 5 × 3/);
});

test('sqrtPsd squares back to the matrix', () => {
  const rng = new Rng(3), d = 6, b = new Float64Array(d * d).map(() => rng.uniform(-1, 1)), a = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) for (let k = 0; k < d; k++) a[i * d + j] += b[i * d + k] * b[j * d + k];
  const r = sqrtPsd(a, d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += r[i * d + k] * r[k * d + j];
    assert.ok(Math.abs(s - a[i * d + j]) < 1e-9, `(${i}, ${j}): ${s} vs ${a[i * d + j]}`);
  }
});

test('Fréchet distance: 0 for the same Gaussian; the closed form for diagonal covariances; symmetric', () => {
  const d = 3, diag = (v: number[]) => { const c = new Float64Array(d * d); v.forEach((x, i) => { c[i * d + i] = x; }); return c; };
  const g1 = { mean: Float64Array.of(0, 1, 2), cov: diag([1, 4, 9]) }, g2 = { mean: Float64Array.of(1, 1, 0), cov: diag([4, 1, 1]) };
  assert.ok(frechetDistance(g1, g1, d) < 1e-9);
  // Σ (μ₁ − μ₂)² + Σ (σ₁ − σ₂)² for diagonal covariances: 1 + 0 + 4 + (1 + 1 + 4) = 11.
  assert.ok(Math.abs(frechetDistance(g1, g2, d) - 11) < 1e-9);
  assert.ok(Math.abs(frechetDistance(g2, g1, d) - 11) < 1e-9);
  // From samples: two large samples of one distribution are close; a shifted one is ‖shift‖² away.
  const rng = new Rng(9), n = 4000, f = (shift: number) => new Float32Array(n * d).map((_, i) => rng.normal() * (1 + (i % d)) + (i % d === 0 ? shift : 0));
  const a = gaussianOf(f(0), n, d), b = gaussianOf(f(0), n, d), c = gaussianOf(f(2), n, d);
  assert.ok(frechetDistance(a, b, d) < 0.1, `same distribution: ${frechetDistance(a, b, d)}`);
  assert.ok(Math.abs(frechetDistance(a, c, d) - 4) < 0.4, `shifted by 2: ${frechetDistance(a, c, d)}`);
  assert.throws(() => frechetDistance(g1, { mean: new Float64Array(2), cov: new Float64Array(4) }, d), /expected two Gaussians of dimension 3/);
});
