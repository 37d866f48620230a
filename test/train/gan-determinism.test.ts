// A GAN's alternating steps (D on real and generated images; G through the frozen D) as a user writes them with
// trainStep: in deterministic mode the loss curves and the final weights do not depend on the number of workers,
// and the discriminator's weights do not move during the generator's steps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../../src/api/model';
import { trainStep } from '../../src/api/train-step';
import type { ModelConfig } from '../../src/model/config';
import { Rng } from '../helpers/rand';

const Z = 6, B = 8, PX = 16 * 16;
const G: ModelConfig = { name: 'g', input: [Z], layers: [
  { type: 'dense', units: 4 * 4 * 4, useBias: false }, { type: 'batchnorm' }, { type: 'relu' }, { type: 'reshape', shape: [4, 4, 4] },
  { type: 'conv2d_transpose', filters: 4, kernel: 4, stride: 2, padding: 'same', useBias: false }, { type: 'batchnorm' }, { type: 'relu' },
  { type: 'conv2d_transpose', filters: 1, kernel: 4, stride: 2, padding: 'same' }, { type: 'sigmoid' }] };
const D: ModelConfig = { name: 'd', input: [16, 16, 1], layers: [
  { type: 'conv2d', filters: 4, kernel: 4, stride: 2, padding: 'same' }, { type: 'leaky_relu', alpha: 0.2 },
  { type: 'flatten' }, { type: 'dropout', rate: 0.3 }, { type: 'dense', units: 1 }] };

async function run(workers: number) {
  const rng = new Rng(7), real = rng.array(4 * B * PX, 0, 1);
  const g = await Model.create(G, { seed: 1 }), d = await Model.create(D, { seed: 2 });
  const adam = { type: 'adam' as const, lr: 2e-3, beta1: 0.5 };
  const dStep = await trainStep({ nets: [{ net: d, optimizer: adam }], loss: 'binary_crossentropy', batchSize: 2 * B, workers, deterministic: true, seed: 3 });
  const gStep = await trainStep({ nets: [{ net: g, optimizer: adam }, { net: d, trainable: false }], loss: 'binary_crossentropy', batchSize: B, workers, deterministic: true, seed: 4 });
  const xd = new Float32Array(2 * B * PX), yd = Float32Array.from({ length: 2 * B }, (_, i) => (i < B ? 0.9 : 0)), ones = new Float32Array(B).fill(1);
  const curves = { d: [] as number[], g: [] as number[] };
  let dMovedInG = false;
  try {
    for (let t = 0; t < 4; t++) {
      xd.set(real.subarray(t * B * PX, (t + 1) * B * PX));
      xd.set(g.forward(rng.array(B * Z, -1, 1), { training: true, step: t }), B * PX);
      curves.d.push((await dStep.run(xd, yd)).loss);
      const before = d.e.read(d.params, d.paramFloats);
      curves.g.push((await gStep.run(rng.array(B * Z, -1, 1), ones)).loss);
      if (!before.every((v, i) => Object.is(v, d.e.f32[(d.params >>> 2) + i]))) dMovedInG = true;
    }
  } finally {
    await dStep.close();
    await gStep.close();
  }
  return { curves, dMovedInG, g: g.e.read(g.params, g.paramFloats), d: d.e.read(d.params, d.paramFloats) };
}

test('GAN steps in deterministic mode: 1 and 2 workers give the same curves and weights bitwise; D is frozen in the G step', async () => {
  const one = await run(1), two = await run(2);
  assert.equal(one.dMovedInG, false, "the discriminator's weights do not change in the generator's step (1 worker)");
  assert.equal(two.dMovedInG, false, "the discriminator's weights do not change in the generator's step (2 workers)");
  assert.ok(one.curves.d.every(Number.isFinite) && one.curves.g.every(Number.isFinite));
  assert.deepEqual(two.curves, one.curves, 'loss curves');
  assert.deepEqual(two.g, one.g, 'generator weights');
  assert.deepEqual(two.d, one.d, 'discriminator weights');
});
