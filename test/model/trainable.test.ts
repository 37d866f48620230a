// Per-layer trainable: false (Keras's layer.trainable): fit leaves a frozen layer's parameters bitwise as they
// were, on one thread and on two workers (deterministic mode: the same bits either way), with gradient
// clipping over the trainable parameters only — checked against the same model split into two networks
// chained in trainStep with the first frozen (the per-network freeze). summary() counts a frozen layer's
// parameters as non-trainable. A trainable that is not a boolean is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../../src/api/model';
import { trainStep } from '../../src/api/train-step';
import { Engine } from '../../src/engine/engine';
import type { LayerConfig, ModelConfig } from '../../src/model/config';
import { summaryRows } from '../../src/model/summary';
import { Rng } from '../helpers/rand';

const N = 64, IN = 12, CLASSES = 4;
const first: LayerConfig = { type: 'dense', units: 16, activation: 'relu', name: 'frozen' };
const rest: LayerConfig[] = [{ type: 'dense', units: 8, activation: 'tanh', name: 'mid' }, { type: 'dense', units: CLASSES, name: 'out' }];
const config = (trainable: boolean): ModelConfig => ({ name: 'm', input: [IN], layers: [{ ...first, trainable }, ...rest] });

function data(): { x: Float32Array; y: Int32Array } {
  const rng = new Rng(5);
  return { x: rng.array(N * IN, -2, 2), y: Int32Array.from({ length: N }, (_, i) => i % CLASSES) };
}

const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

async function fitted(trainable: boolean, o: { workers?: number; deterministic?: boolean; clipNorm?: number; sgd?: boolean } = {}) {
  const m = await Model.create(config(trainable), { seed: 3 });
  const before = { frozen: m.getWeight('frozen/kernel'), bias: m.getWeight('frozen/bias'), mid: m.getWeight('mid/kernel') };
  m.compile({ optimizer: o.sgd ? { type: 'sgd', lr: 0.5, clipNorm: o.clipNorm } : { type: 'adam', lr: 0.05, clipNorm: o.clipNorm }, loss: 'sparse_categorical_crossentropy' });
  const { x, y } = data();
  const h = await m.fit(x, y, { epochs: 3, batchSize: 16, seed: 1, shuffle: false, workers: o.workers, deterministic: o.deterministic, verbose: 0 });
  return { m, before, loss: h.history.loss };
}

test('fit leaves a frozen layer bitwise unchanged and trains the others', async () => {
  const { m, before, loss } = await fitted(false);
  assert.ok(same(m.getWeight('frozen/kernel'), before.frozen), 'frozen kernel moved');
  assert.ok(same(m.getWeight('frozen/bias'), before.bias), 'frozen bias moved');
  assert.ok(!same(m.getWeight('mid/kernel'), before.mid), 'the trainable layer did not move');
  assert.ok(loss.at(-1)! < loss[0], `loss ${loss.join(' → ')}`);
  // And the same model with the layer trainable moves it.
  const t = await fitted(true);
  assert.ok(!same(t.m.getWeight('frozen/kernel'), t.before.frozen));
});

test('on two workers (deterministic): frozen stays frozen, clipping leaves it out, and the bits equal one worker\'s', async () => {
  const o = { clipNorm: 0.05, sgd: true }; // SGD: the step scales with the clipped gradient
  const thread = await fitted(false, o);
  const one = await fitted(false, { ...o, workers: 1, deterministic: true });
  const two = await fitted(false, { ...o, workers: 2, deterministic: true });
  assert.ok(same(two.m.getWeight('frozen/kernel'), two.before.frozen), 'frozen kernel moved on 2 workers');
  for (const name of ['mid/kernel', 'mid/bias', 'out/kernel', 'out/bias']) {
    assert.ok(same(one.m.getWeight(name), two.m.getWeight(name)), `${name} differs between 1 and 2 workers`);
    // The workers' clipping (per reduction block) agrees with the one-thread path's.
    const p = thread.m.getWeight(name), q = two.m.getWeight(name), diff = p.reduce((d, v, i) => Math.max(d, Math.abs(v - q[i])), 0);
    assert.ok(diff < 1e-5, `${name}: one thread vs 2 workers differ by ${diff}`);
  }
  assert.deepEqual(one.loss, two.loss);
});

test('per-layer freezing and clipping equal freezing the first of two chained networks', async () => {
  const clipNorm = 0.05, { x, y } = data();
  // SGD: its step scales with the clipped gradient (Adam's would hardly notice the clipping).
  const { m } = await fitted(false, { clipNorm, sgd: true });
  // The same model as two networks: [frozen] → [mid, out], the first frozen for trainStep.
  const e = await Engine.create();
  const a = await Model.create({ name: 'a', input: [IN], layers: [first] }, { engine: e, seed: 3 });
  const b = await Model.create({ name: 'b', input: [16], layers: rest }, { engine: e, seed: 3 });
  const whole = await Model.create(config(false), { seed: 3 });
  for (const [net, names] of [[a, ['frozen/kernel', 'frozen/bias']], [b, ['mid/kernel', 'mid/bias', 'out/kernel', 'out/bias']]] as const) {
    for (const name of names) net.setWeight(name, whole.getWeight(name));
  }
  const step = await trainStep({ nets: [{ net: a, trainable: false }, { net: b, optimizer: { type: 'sgd', lr: 0.5, clipNorm } }], loss: 'sparse_categorical_crossentropy', batchSize: 16, seed: 1 });
  // fit's batches (shuffle: false): the examples in order, 3 epochs.
  try {
    for (let epoch = 0; epoch < 3; epoch++) {
      for (let s = 0; s < N / 16; s++) await step.run(x.subarray(s * 16 * IN, (s + 1) * 16 * IN), y.subarray(s * 16, (s + 1) * 16));
    }
  } finally {
      await step.close();
  }
  for (const name of ['mid/kernel', 'out/kernel', 'out/bias']) {
    const p = m.getWeight(name), q = b.getWeight(name);
    const diff = p.reduce((d, v, i) => Math.max(d, Math.abs(v - q[i])), 0);
    assert.ok(diff < 1e-5, `${name}: per-layer vs per-network freezing differ by ${diff}`);
  }
});

test('summary counts a frozen layer\'s parameters as non-trainable; a non-boolean trainable is refused', async () => {
  const m = await Model.create(config(false), { seed: 1 });
  const rows = summaryRows(m), f = rows.find((r) => r.name === 'frozen')!, mid = rows.find((r) => r.name === 'mid')!;
  assert.deepEqual([f.trainable, f.nonTrainable, f.params], [0, IN * 16 + 16, IN * 16 + 16]);
  assert.deepEqual([mid.trainable, mid.nonTrainable], [16 * 8 + 8, 0]);
  assert.match(m.summary(), new RegExp(`Non-trainable params: ${IN * 16 + 16}\\b`));
  await assert.rejects(Model.create({ input: [IN], layers: [{ type: 'dense', units: 2, trainable: 'no' as never }] }),
    /^RedeError: 'dense' 'dense_0': trainable must be true or false, got 'no'$/);
});
