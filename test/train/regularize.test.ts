// Gradient clipping by norm gives the norm asked for, on one thread and with workers; per-layer L1/L2 adds
// l2·w + l1·sign(w) to the weights' gradient (not the biases'), only in the layers that ask for it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../../src/api/model';
import type { ModelConfig } from '../../src/model/config';
import { closeWorkers } from '../../src/parallel/groups';
import { assertClose } from '../helpers/close';
import { Rng } from '../helpers/rand';

const rng = new Rng(11), B = 16;
const x = rng.array(B * 6, -1, 1), y = Int32Array.from({ length: B }, (_, i) => i % 3);
const net = (reg: { l1?: number; l2?: number } = {}): ModelConfig => ({
  input: [6], layers: [{ type: 'dense', name: 'h', units: 8, activation: 'relu', ...reg }, { type: 'dense', name: 'out', units: 3 }],
});

for (const workers of [1, 2]) {
  test(`clipNorm with ${workers} worker${workers > 1 ? 's' : ''}: one SGD step (lr 1) moves the weights by exactly the clip norm`, async () => {
    const norms: number[] = [];
    for (const clipNorm of [undefined, 0.05]) {
      const m = await Model.create(net(), { seed: 3 });
      m.compile({ optimizer: { type: 'sgd', lr: 1, clipNorm }, loss: 'sparse_categorical_crossentropy' });
      const w0 = m.e.read(m.params, m.paramFloats);
      await m.fit(x, y, { batchSize: B, epochs: 1, shuffle: false, workers });
      await closeWorkers(m.trainer!);
      const w1 = m.e.read(m.params, m.paramFloats);
      norms.push(Math.hypot(...w1.map((v, i) => v - w0[i])));
    }
    assert.ok(norms[0] > 0.05 * 1.5, `the unclipped step (‖g‖ = ${norms[0]}) is larger than the clip`);
    assert.ok(Math.abs(norms[1] - 0.05) < 1e-4 * 0.05 + 1e-7, `clipped step norm ${norms[1]}, asked 0.05`);
  });
}

test('L1 and L2 per layer: the step differs by −lr·(l2·w + l1·sign(w)) on that layer\'s weights only', async () => {
  const lr = 0.1, l1 = 0.01, l2 = 0.2;
  const step = async (config: ModelConfig) => {
    const m = await Model.create(config, { seed: 5 });
    m.compile({ optimizer: { type: 'sgd', lr }, loss: 'sparse_categorical_crossentropy' });
    const w0 = { hw: m.getWeight('h/kernel'), hb: m.getWeight('h/bias'), ow: m.getWeight('out/kernel') };
    await m.fit(x, y, { batchSize: B, epochs: 1, shuffle: false });
    return { w0, hw: m.getWeight('h/kernel'), hb: m.getWeight('h/bias'), ow: m.getWeight('out/kernel') };
  };
  const plain = await step(net()), reg = await step(net({ l1, l2 }));
  const expected = Float32Array.from(plain.w0.hw, (w, i) => plain.hw[i] - lr * (l2 * w + l1 * Math.sign(w)));
  assertClose(reg.hw, expected, "regularized layer's weights", { rtol: 1e-5, atol: 1e-7 });
  assert.notDeepEqual(reg.hw, plain.hw, 'the regularization changed the step');
  assert.deepEqual(reg.hb, plain.hb, 'biases are not regularized');
  assert.deepEqual(reg.ow, plain.ow, 'a layer without l1/l2 is not regularized');
});

for (const workers of [1, 2]) {
  test(`onNonFinite 'skip' with ${workers} worker${workers > 1 ? 's' : ''}: non-finite batches are skipped (weights kept bitwise), counted, and an all-skipped epoch logs loss NaN`, async () => {
    const m = await Model.create(net(), { seed: 3 });
    m.compile({ optimizer: { type: 'sgd', lr: 0.1 }, loss: 'sparse_categorical_crossentropy' });
    const w = m.getWeight('out/bias');
    w[0] = Infinity; // every logit row has +∞ − … : the loss is not finite for any batch
    m.setWeight('out/bias', w);
    const before = m.e.read(m.params, m.paramFloats);
    const h = await m.fit(x, y, { batchSize: 4, epochs: 2, shuffle: false, workers, onNonFinite: 'skip' });
    await closeWorkers(m.trainer!);
    assert.deepEqual(h.history.skipped, [4, 4], 'every batch of both epochs was skipped and counted');
    assert.ok(h.history.loss.every(Number.isNaN), `epoch losses ${h.history.loss}`);
    assert.deepEqual(m.e.read(m.params, m.paramFloats), before, 'no skipped step touched the weights');
    assert.equal(m.trainer!.step, 8, 'skipped steps still count as steps (the schedule moves on)');
  });
}
