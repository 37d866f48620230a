// The GAN's networks (src/experiments/gan.ts): D's optional hidden dense layer sits between its convolutions and
// its logits, and D without it is as before; the InfoGAN code reader and its steps; top-k training's selection; the rate decay; the real-image shift; overrides checked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../../src/api/model';
import { Engine } from '../../src/engine/engine';
import { codeReaderConfig, discriminatorConfig, gan, generatorConfig, mostReal, rateFactor, shiftImage, tuned } from '../../src/experiments/gan';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

test('gan discriminator: dHidden adds dense dHidden → leaky ReLU before the logit; without it D is unchanged', async () => {
  const e = await Engine.create(), sizes = { latent: 4, g: 4, d: 4 };
  const plain = discriminatorConfig(sizes, false, 0), hidden = discriminatorConfig({ ...sizes, dHidden: 6 }, false, 0);
  assert.deepEqual(plain.layers.map((l) => l.type), ['conv2d', 'leaky_relu', 'conv2d', 'leaky_relu', 'flatten', 'dense']);
  assert.deepEqual(hidden.layers.map((l) => l.type), ['conv2d', 'leaky_relu', 'conv2d', 'leaky_relu', 'flatten', 'dense', 'leaky_relu', 'dense']);
  const [a, b] = await Promise.all([plain, hidden].map((c) => Model.create(c, { engine: e, seed: 1 })));
  const flat = 7 * 7 * 8, convs = (16 * 4 + 4) + (16 * 4 * 8 + 8);
  assert.equal(a.paramCount, convs + flat + 1);
  assert.equal(b.paramCount, convs + flat * 6 + 6 + 6 + 1);
  assert.equal(b.predict(new Float32Array(2 * 784)).length, 2); // one logit per image
});

test('gan generator: gMid adds a stride-1 5×5 conv2d_transpose → BN → ReLU at 7×7; without it G is unchanged; both make 28×28 images', async () => {
  const e = await Engine.create(), sizes = { latent: 4, g: 4, d: 4 };
  const plain = generatorConfig(sizes, false), mid = generatorConfig({ ...sizes, gMid: 3 }, false);
  const ups = ['conv2d_transpose', 'batchnorm', 'relu', 'conv2d_transpose', 'sigmoid'];
  assert.deepEqual(plain.layers.map((l) => l.type), ['dense', 'batchnorm', 'relu', 'reshape', ...ups]);
  assert.deepEqual(mid.layers.map((l) => l.type), ['dense', 'batchnorm', 'relu', 'reshape', 'conv2d_transpose', 'batchnorm', 'relu', ...ups]);
  const [a, b] = await Promise.all([plain, mid].map((c) => Model.create(c, { engine: e, seed: 1 })));
  // The middle layer: 25·8·3 weights (no bias) and BN's 2·3 trained; the next conv2d_transpose reads 3 channels instead of 8.
  assert.equal(b.paramCount - a.paramCount, 25 * 8 * 3 + 2 * 3 + 16 * 4 * (3 - 8));
  assert.equal(b.predict(new Float32Array(2 * 4)).length, 2 * 784);
});

test('gan code reader (InfoGAN Q): image → K code logits; info without the code is refused before any work', async () => {
  const e = await Engine.create(), q = await Model.create(codeReaderConfig({ latent: 4, g: 4, d: 4 }), { engine: e, seed: 1 });
  assert.equal(q.predict(new Float32Array(3 * 784)).length, 3 * 10);
  await assert.rejects(gan({ outDir: mkdtempSync(join(tmpdir(), 'rede-gan-')) }, { variants: ['gan'], info: 1e-3, code: false, nets: {} }),
    /gan: 'info' \(0\.001\) needs the unconditional GAN with 'code'.*got variant gan with code false/);
  await assert.rejects(gan({}, { variants: ['cgan'], info: 1e-3, nets: {} }), /got variant cgan/);
});

test('gan with a code and InfoGAN steps: Q learns to read the code from G\'s images (its loss falls far below ln K)', async () => {
  const out = mkdtempSync(join(tmpdir(), 'rede-gan-'));
  try {
    await gan({ quick: true, outDir: out, seed: 1 }, { variants: ['gan'], epochs: 2, code: true, info: 1e-3, nets: {} });
    const run = JSON.parse(readFileSync(join(out, 'gan.json'), 'utf8')).runs[0];
    assert.equal(run.qLoss.length, 2);
    assert.ok(run.qLoss[0] > 0 && run.qLoss[1] < 0.2 * Math.log(10), `Q loss per epoch ${run.qLoss}`);
    // the generator takes noise + the one-hot code: `rede generate --classes 10` draws from it
    assert.ok(existsSync(join(out, 'gan-digits-gan-generator.rede')));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('gan settings: a top-level override reaches every variant, over a variant\'s own default; nets given are taken as they are', () => {
  const base = { epochs: 20, lrG: 2e-4, nets: { gan: { epochs: 30, lrG: 8e-4, dropout: 0 } } } as unknown as Parameters<typeof tuned>[0];
  const t = tuned(base, { epochs: 60 });
  assert.equal(t.epochs, 60);
  assert.deepEqual(t.nets.gan, { lrG: 8e-4, dropout: 0 }); // the GAN's own epochs gave way, its other defaults stay
  assert.deepEqual(tuned(base, { nets: { gan: { epochs: 5 } } }).nets, { gan: { epochs: 5 } });
  assert.deepEqual(tuned(base, {}).nets, base.nets);
});

test('gan top-k training: mostReal keeps the noise rows whose images D rates highest, in that order; bad settings are refused', async () => {
  const e = await Engine.create(), s = { latent: 4, g: 4, d: 4 };
  const G = await Model.create(generatorConfig(s, false), { engine: e, seed: 1 }), D = await Model.create(discriminatorConfig(s, false, 0), { engine: e, seed: 2 });
  const n = 8, z = Float32Array.from({ length: n * 4 }, (_, i) => Math.sin(1.7 * i + 0.3) * 2);
  const logits = D.predict(G.forward(z, { training: true, step: 0 }), { batchSize: n }); // batch statistics of all n rows, as mostReal sees them
  const best = Array.from({ length: n }, (_, i) => i).sort((a, b) => logits[b] - logits[a]).slice(0, 3);
  assert.ok(logits[best[0]] > logits[best[2]], `the logits differ: ${Array.from(logits)}`);
  const kept = mostReal(G, D, z, 3, 0);
  assert.deepEqual(Array.from(kept), best.flatMap((r) => Array.from(z.subarray(r * 4, (r + 1) * 4))));
  assert.throws(() => mostReal(G, D, z, 9, 0), /mostReal: keep must be an integer in \[1, 8\], got 9/);
  await assert.rejects(gan({}, { variants: ['cgan'], topK: 0.5, nets: {} }), /gan: 'topK' \(0\.5\) is for the unconditional GAN without 'code'.*got variant cgan/);
  await assert.rejects(gan({}, { variants: ['gan'], topK: 0, nets: {} }), /gan \(gan\): topK must be a finite number > 0 and ≤ 1, got 0/);
  await assert.rejects(gan({}, { variants: ['gan'], realTarget: 0.2, nets: {} }), /gan \(gan\): realTarget must be a finite number > 0\.5 and ≤ 1, got 0\.2/);
  await assert.rejects(gan({}, { variants: ['gan'], nets: { gan: { shiftReal: 1.5 } } }), /gan \(gan\): shiftReal must be an integer ≥ 0 and ≤ 27, got 1\.5/);
});

test('gan overrides: a misspelt setting, in the settings or in a variant\'s nets entry, is refused before any work', async () => {
  await assert.rejects(gan({}, { topk: 0.5 } as never), /gan: unknown option 'topk' \(did you mean 'topK'\?\)/);
  await assert.rejects(gan({}, { nets: { gan: { lrg: 1e-3 } } } as never), /gan nets\.gan: unknown option 'lrg' \(did you mean 'lrG'\?\)/);
  await assert.rejects(gan({}, { nets: { dcgan: {} } } as never), /gan: nets has an entry 'dcgan', expected 'gan' or 'cgan'/);
});

test('gan rate decay: constant, then linear to 0 over the last fraction of the steps', () => {
  assert.deepEqual([0, 49, 50, 75, 99].map((t) => rateFactor(t, 100, 0.5)), [1, 1, 1, 0.5, 0.02]);
  assert.deepEqual([0, 50, 99].map((t) => rateFactor(t, 100, 0)), [1, 1, 1]);
  assert.deepEqual([0, 50].map((t) => rateFactor(t, 100, 1)), [1, 0.5]);
});

test('gan real-image shift: every pixel moves by (dx, dy), zeros come in, nothing wraps', () => {
  const src = Float32Array.from({ length: 784 }, (_, i) => i + 1), dst = new Float32Array(784);
  for (const [dx, dy] of [[0, 0], [2, -1], [-3, 2], [27, 0], [0, -27]]) {
    shiftImage(src, dst, dx, dy);
    for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) {
      const sx = x - dx, sy = y - dy, want = sx >= 0 && sx < 28 && sy >= 0 && sy < 28 ? src[sy * 28 + sx] : 0;
      if (dst[y * 28 + x] !== want) assert.fail(`shift (${dx}, ${dy}) at (${x}, ${y}): ${dst[y * 28 + x]}, expected ${want}`);
    }
  }
});
