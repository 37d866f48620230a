// The GAN's networks (src/experiments/gan.ts): D's optional hidden dense layer sits between its convolutions and
// its logits, and D without it is as before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../../src/api/model';
import { Engine } from '../../src/engine/engine';
import { discriminatorConfig } from '../../src/experiments/gan';

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
