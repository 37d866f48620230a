import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Batcher } from '../../src/data/batcher';
import { makeDataset, type Dataset } from '../../src/data/dataset';
import {
  IDENTITY_PARAMS, inverseAffine, sampleAugment, warpAffine, type AugmentOptions, type AugmentParams,
} from '../../src/data/augment';
import { Rng } from '../helpers/rand';
import { assertClose } from '../helpers/close';

/** Example i is filled with values that identify it: x = i + pixel / 1000, y = i mod classes. */
function tagged(n: number, shape: [number, number, number] = [3, 2, 2], classes = 7): Dataset {
  const per = shape[0] * shape[1] * shape[2];
  const x = Float32Array.from({ length: n * per }, (_, k) => Math.floor(k / per) + (k % per) / 1000);
  return makeDataset(x, Int32Array.from({ length: n }, (_, i) => i % classes), shape, classes);
}

const exampleOf = (x: Float32Array, k: number, per: number) => Math.floor(x[k * per]);

test('each epoch visits a permutation; same seed → same order; epochs and seeds differ', () => {
  const ds = tagged(103);
  const b = new Batcher(ds, { batchSize: 10, seed: 5, lastBatch: 'keep' });
  assert.equal(b.batchesPerEpoch, 11);
  const x = new Float32Array(10 * 12), y = new Int32Array(10);
  const visit = (bt: Batcher, epoch: number) => {
    const seen: number[] = [];
    for (let i = 0; i < bt.batchesPerEpoch; i++) {
      const n = bt.fill(epoch, i, x, y);
      for (let k = 0; k < n; k++) {
        const ex = exampleOf(x, k, 12);
        assert.equal(y[k], ex % 7, 'label travels with its example');
        assert.equal(x[k * 12 + 5], Math.fround(ex + 0.005), 'pixels travel with their example');
        seen.push(ex);
      }
    }
    return seen;
  };
  const e0 = visit(b, 0);
  assert.deepEqual([...e0].sort((p, q) => p - q), Array.from({ length: 103 }, (_, i) => i));
  assert.deepEqual(visit(new Batcher(ds, { batchSize: 10, seed: 5, lastBatch: 'keep' }), 0), e0);
  assert.notDeepEqual(visit(b, 1), e0);
  assert.notDeepEqual(visit(new Batcher(ds, { batchSize: 10, seed: 6, lastBatch: 'keep' }), 0), e0);
  assert.deepEqual(visit(b, 0), e0, 'going back to an epoch gives its order again');
  assert.notDeepEqual(e0.slice(0, 20), e0.slice(0, 20).sort((p, q) => p - q), 'actually shuffled');
  const plain = new Batcher(ds, { batchSize: 10, seed: 5, shuffle: false });
  assert.deepEqual(visit(plain, 3), Array.from({ length: 100 }, (_, i) => i));
});

test('last partial batch: dropped by default, kept on request', () => {
  const ds = tagged(23);
  const drop = new Batcher(ds, { batchSize: 5, seed: 1 });
  assert.equal(drop.batchesPerEpoch, 4);
  assert.throws(() => drop.batchLength(4), /batch 4 is not in \[0, 4\)/);
  const keep = new Batcher(ds, { batchSize: 5, seed: 1, lastBatch: 'keep' });
  assert.equal(keep.batchesPerEpoch, 5);
  assert.equal(keep.batchLength(4), 3);
  assert.equal(keep.fill(0, 4, new Float32Array(60), new Int32Array(5)), 3);
});

test('shards written by workers equal the slices of the full batch (with augmentation too)', () => {
  const ds = tagged(50, [6, 5, 1]);
  for (const augment of [undefined, { rotation: 20, shift: 1.5, zoom: 0.2, flip: true }]) {
    const b = new Batcher(ds, { batchSize: 16, seed: 9, augment });
    const per = 30;
    const full = new Float32Array(16 * per), fullY = new Int32Array(16);
    b.fill(2, 1, full, fullY);
    for (const cuts of [[0, 5, 11, 16], [0, 16], [0, 1, 2, 16]]) {
      for (let s = 0; s + 1 < cuts.length; s++) {
        // Each worker has its own batcher and its own slot holding only its shard.
        const worker = new Batcher(ds, { batchSize: 16, seed: 9, augment });
        const n = cuts[s + 1] - cuts[s];
        const x = new Float32Array(n * per), y = new Int32Array(n);
        assert.equal(worker.fillShard(2, 1, cuts[s], cuts[s + 1], x, y), n);
        assert.deepEqual(x, full.subarray(cuts[s] * per, cuts[s + 1] * per));
        assert.deepEqual(y, fullY.subarray(cuts[s], cuts[s + 1]));
      }
    }
  }
});

test('batcher errors: bad sizes, short buffers, bad shards, bad data', () => {
  const ds = tagged(20);
  assert.throws(() => new Batcher(ds, { batchSize: 0, seed: 1 }), /batchSize must be an integer >= 1, got 0/);
  const b = new Batcher(ds, { batchSize: 4, seed: 1 });
  assert.throws(() => b.fill(0, 0, new Float32Array(47), new Int32Array(4)), /4 examples of 12 values need x of 48 and y of 4, got x 47 and y 4/);
  assert.throws(() => b.fillShard(0, 0, 3, 5, new Float32Array(48), new Int32Array(4)), /shard \[3, 5\) is not inside batch 0 of 4 examples/);
  assert.throws(() => b.fill(-1, 0, new Float32Array(48), new Int32Array(4)), /epoch must be an integer >= 0, got -1/);
  ds.y[3] = 9;
  assert.throws(() => new Batcher(ds, { batchSize: 4, seed: 1 }), /example 3 has label 9/);
  assert.throws(() => new Batcher(tagged(4), { batchSize: 2, seed: 1, augment: { zoom: [1.2, 0.8] } }), /zoom range must satisfy/);
});

// ------------------------------------------------------------------------------------ augmentation

function image(h: number, w: number, c: number, seed: number): Float32Array {
  return new Rng(seed).array(h * w * c, 0, 1);
}

function warp(src: Float32Array, h: number, w: number, c: number, p: AugmentParams, fill = 0): Float32Array {
  const dst = new Float32Array(src.length);
  warpAffine(src, 0, dst, 0, h, w, c, inverseAffine(p, h, w), fill);
  return dst;
}

test('identity parameters give the identity, exactly', () => {
  for (const [h, w, c] of [[28, 28, 1], [5, 7, 3], [1, 1, 1]]) {
    const src = image(h, w, c, h);
    assert.deepEqual(warp(src, h, w, c, IDENTITY_PARAMS), src);
  }
});

test('a shift by whole pixels moves pixels exactly, filling what comes in', () => {
  const h = 6, w = 7, c = 2, src = image(h, w, c, 3);
  const out = warp(src, h, w, c, { ...IDENTITY_PARAMS, dx: 2, dy: -1 }, -5);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) {
    const sy = y + 1, sx = x - 2;
    const expected = sy < h && sx >= 0 ? src[(sy * w + sx) * c + k] : -5;
    assert.equal(out[(y * w + x) * c + k], expected, `(${y}, ${x}, ${k})`);
  }
});

test('flip mirrors columns exactly, and flipping twice is the identity', () => {
  const h = 4, w = 5, c = 3, src = image(h, w, c, 4);
  const flip = { ...IDENTITY_PARAMS, flip: true };
  const once = warp(src, h, w, c, flip);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) {
    assert.equal(once[(y * w + x) * c + k], src[(y * w + (w - 1 - x)) * c + k]);
  }
  assert.deepEqual(warp(once, h, w, c, flip), src);
});

test('rotation by 90° permutes pixels (square image), zoom 2 samples between pixels', () => {
  const n = 5, src = image(n, n, 1, 5);
  const rot = warp(src, n, n, 1, { ...IDENTITY_PARAMS, angle: Math.PI / 2 });
  // Output (x, y) reads source c + R(−90°)(p − c): (sx, sy) = (cx + (y − cy), cy − (x − cx)).
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) assertClose([rot[y * n + x]], [src[(n - 1 - x) * n + y]], `(${y}, ${x})`, { atol: 1e-6 });
  const zoom = warp(src, n, n, 1, { ...IDENTITY_PARAMS, zoom: 2 });
  // The centre pixel stays; its right neighbour reads halfway between centre and the next source pixel.
  assert.equal(zoom[2 * n + 2], src[2 * n + 2]);
  assertClose([zoom[2 * n + 3]], [(src[2 * n + 2] + src[2 * n + 3]) / 2], 'zoom', { atol: 1e-6 });
});

test('augmentation is a function of (seed, epoch, index) and stays in range', () => {
  const opts: AugmentOptions = { zoom: [0.9, 1.2], rotation: 15, shift: [2, 3], flip: true };
  assert.deepEqual(sampleAugment(opts, 1, 2, 3), sampleAugment(opts, 1, 2, 3));
  assert.notDeepEqual(sampleAugment(opts, 1, 2, 3), sampleAugment(opts, 1, 3, 3));
  assert.notDeepEqual(sampleAugment(opts, 1, 2, 3), sampleAugment(opts, 1, 2, 4));
  let flips = 0;
  for (let i = 0; i < 400; i++) {
    const p = sampleAugment(opts, 7, 0, i);
    assert.ok(p.zoom >= 0.9 && p.zoom < 1.2 && Math.abs(p.angle) <= (15 * Math.PI) / 180 && Math.abs(p.dx) <= 2 && Math.abs(p.dy) <= 3);
    flips += p.flip ? 1 : 0;
  }
  assert.ok(flips > 150 && flips < 250, `flips ${flips}`);
  assert.deepEqual(sampleAugment({}, 7, 0, 1), IDENTITY_PARAMS);
});

test('augmentation cost per 28×28 example (reported, loosely bounded)', () => {
  const ds = makeDataset(new Rng(1).array(512 * 784, 0, 1), new Int32Array(512), [28, 28, 1], 1);
  const b = new Batcher(ds, { batchSize: 256, seed: 1, augment: { zoom: 0.1, rotation: 10, shift: 2, flip: true } });
  const x = new Float32Array(256 * 784), y = new Int32Array(256);
  b.fill(0, 0, x, y);
  const t = performance.now();
  let n = 0;
  for (let e = 1; e <= 5; e++) for (let i = 0; i < 2; i++) n += b.fill(e, i, x, y);
  const us = ((performance.now() - t) * 1000) / n;
  console.log(`augment: ${us.toFixed(1)} µs per 28×28 example`);
  assert.ok(us < 200, `${us} µs per example`);
});
