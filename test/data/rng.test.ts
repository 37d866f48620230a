import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hash4, uniform01, normalAt, truncatedNormalAt, CounterRng, permutation, intBelow } from '../../src/data/rng';
import { glorotUniform, glorotNormal, heUniform, heNormal, fans } from '../../src/init';

function moments(a: ArrayLike<number>): { mean: number; variance: number } {
  let s = 0, q = 0;
  for (let i = 0; i < a.length; i++) { s += a[i]; q += a[i] * a[i]; }
  const mean = s / a.length;
  return { mean, variance: q / a.length - mean * mean };
}

test('hash4 is a pure function of its four words, and each word matters', () => {
  assert.equal(hash4(1, 2, 3, 4), hash4(1, 2, 3, 4));
  const base = hash4(1, 2, 3, 4);
  for (const other of [hash4(0, 2, 3, 4), hash4(1, 0, 3, 4), hash4(1, 2, 0, 4), hash4(1, 2, 3, 0), hash4(1, 3, 2, 4)]) {
    assert.notEqual(other, base);
  }
  assert.ok(Number.isInteger(base) && base >= 0 && base < 2 ** 32);
});

test('uniform draws: mean 1/2, variance 1/12, every bit balanced, no visible correlation between counters', () => {
  const n = 100_000, u = new Float64Array(n);
  const bits = new Array(32).fill(0);
  for (let i = 0; i < n; i++) {
    const h = hash4(7, 0, i, 0);
    u[i] = h / 2 ** 32;
    for (let b = 0; b < 32; b++) bits[b] += (h >>> b) & 1;
  }
  const { mean, variance } = moments(u);
  assert.ok(Math.abs(mean - 0.5) < 0.005, `mean ${mean}`);
  assert.ok(Math.abs(variance - 1 / 12) < 0.002, `variance ${variance}`);
  for (let b = 0; b < 32; b++) assert.ok(Math.abs(bits[b] / n - 0.5) < 0.01, `bit ${b}: ${bits[b] / n}`);
  let lag = 0;
  for (let i = 1; i < n; i++) lag += (u[i] - 0.5) * (u[i - 1] - 0.5);
  assert.ok(Math.abs(lag / n / (1 / 12)) < 0.02, `lag-1 correlation ${lag / n * 12}`);
  assert.ok(uniform01(1, 2, 3, 4) < 1 && intBelow(10, 1, 2) < 10);
});

test('normals: mean 0, variance 1, tails plausible; CounterRng streams are reproducible and distinct', () => {
  const n = 50_000, z = Float64Array.from({ length: n }, (_, i) => normalAt(3, i));
  const { mean, variance } = moments(z);
  assert.ok(Math.abs(mean) < 0.02 && Math.abs(variance - 1) < 0.03, `mean ${mean}, variance ${variance}`);
  const beyond2 = z.filter((v) => Math.abs(v) > 2).length / n;
  assert.ok(Math.abs(beyond2 - 0.0455) < 0.006, `P(|z| > 2) = ${beyond2}`);
  const a = new CounterRng(9, 1), b = new CounterRng(9, 1), c = new CounterRng(9, 2);
  const da = Array.from({ length: 5 }, () => a.next());
  assert.deepEqual(Array.from({ length: 5 }, () => b.next()), da);
  assert.notDeepEqual(Array.from({ length: 5 }, () => c.next()), da);
  assert.equal(new CounterRng(9, 1).at(3).next(), da[3]);
  const g = new CounterRng(4), nz = Float64Array.from({ length: 20000 }, () => g.normal(2, 3));
  const m = moments(nz);
  assert.ok(Math.abs(m.mean - 2) < 0.1 && Math.abs(m.variance - 9) < 0.4, `${m.mean} ${m.variance}`);
});

test('truncated normals stay inside ±tau, keep normalAt\'s draw when it is inside, and have the truncated variance', () => {
  // Var of N(0, 1) cut to [-t, t]: 1 - 2 t φ(t) / (2 Φ(t) - 1); t = 1: 0.2911, t = 2: 0.7737.
  for (const [tau, variance] of [[1, 0.2911], [2, 0.7737]]) {
    const n = 40_000, z = Float64Array.from({ length: n }, (_, i) => truncatedNormalAt(tau, 5, 1, i));
    assert.ok(z.every((v) => Math.abs(v) <= tau), `tau ${tau}: a draw outside`);
    const m = moments(z);
    assert.ok(Math.abs(m.mean) < 0.01 && Math.abs(m.variance - variance) < 0.01, `tau ${tau}: mean ${m.mean}, variance ${m.variance}, expected ${variance}`);
    let same = 0, inside = 0;
    for (let i = 0; i < 2000; i++) if (Math.abs(normalAt(5, 1, i)) <= tau) { inside++; same += truncatedNormalAt(tau, 5, 1, i) === normalAt(5, 1, i) ? 1 : 0; }
    assert.equal(same, inside);
  }
  for (let i = 0; i < 100; i++) assert.equal(truncatedNormalAt(Infinity, 5, 1, i), normalAt(5, 1, i)); // no cut: normalAt
  assert.throws(() => truncatedNormalAt(0.2, 1), /tau must be ≥ 0.25, got 0.2/);
  assert.throws(() => truncatedNormalAt(NaN, 1), /tau must be ≥ 0.25, got NaN/);
});

test('permutation is a permutation, a pure function of its seed words', () => {
  const p = permutation(new Int32Array(1000), 1, 2, 3);
  assert.deepEqual(Array.from(p).sort((x, y) => x - y), Array.from({ length: 1000 }, (_, i) => i));
  assert.deepEqual(permutation(new Int32Array(1000), 1, 2, 3), p);
  assert.notDeepEqual(permutation(new Int32Array(1000), 1, 3, 3), p);
  // Position of element 0 is roughly uniform: over 2000 seeds, each tenth of 10 slots gets ~10%.
  const where = new Array(10).fill(0);
  for (let s = 0; s < 2000; s++) where[permutation(new Int32Array(10), s).indexOf(0)]++;
  for (const w of where) assert.ok(w > 140 && w < 260, `slot counts ${where}`);
});

test('initializers: mean ≈ 0 and variance ≈ the formula; bounds for the uniforms; seeded', () => {
  const fanIn = 300, fanOut = 100, n = 60_000;
  const cases = [
    { f: glorotUniform, variance: 2 / (fanIn + fanOut), limit: Math.sqrt(6 / (fanIn + fanOut)) },
    { f: glorotNormal, variance: 2 / (fanIn + fanOut), limit: Infinity },
    { f: heUniform, variance: 2 / fanIn, limit: Math.sqrt(6 / fanIn) },
    { f: heNormal, variance: 2 / fanIn, limit: Infinity },
  ];
  for (const { f, variance, limit } of cases) {
    const w = f(new Float32Array(n), fanIn, fanOut, 11, 2);
    const m = moments(w);
    assert.ok(Math.abs(m.mean) < 4 * Math.sqrt(variance / n), `${f.name} mean ${m.mean}`);
    assert.ok(Math.abs(m.variance / variance - 1) < 0.03, `${f.name} variance ${m.variance}, expected ${variance}`);
    assert.ok(w.every((v) => Math.abs(v) <= limit), `${f.name} within ±${limit}`);
    assert.deepEqual(f(new Float32Array(n), fanIn, fanOut, 11, 2), w, `${f.name} reproducible`);
    assert.notDeepEqual(f(new Float32Array(100), fanIn, fanOut, 11, 3), w.subarray(0, 100), `${f.name} streams differ`);
    assert.throws(() => f(new Float32Array(3), 0, fanOut, 1), new RegExp(`${f.name}: fanIn and fanOut must be positive, got fanIn=0`));
  }
  // Element i does not depend on the array's length: initializing in pieces gives the same numbers.
  assert.deepEqual(heNormal(new Float32Array(10), 5, 5, 1).subarray(0, 4), heNormal(new Float32Array(4), 5, 5, 1));
  assert.deepEqual(fans([3, 3, 16, 32]), { fanIn: 144, fanOut: 288 });
  assert.deepEqual(fans([784, 10]), { fanIn: 784, fanOut: 10 });
});
