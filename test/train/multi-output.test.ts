// Several outputs, several losses (Keras's loss_weights): GoogLeNet with its two auxiliary classifiers trains
// with weights 1, 0.3, 0.3 as in the paper. The step's loss is the weighted sum of the heads' cross-entropies
// (checked against a plain TypeScript softmax cross-entropy of each head's logits), and the gradient is linear
// in the weights: the auxiliary heads' gradients reach the trunk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../../src/api/model';
import { GOOGLENET_AUX_WEIGHTS, googlenet } from '../../src/zoo/googlenet';
import { numelOf } from '../../src/layers/layer';
import { Rng } from '../helpers/rand';
import { assertClose } from '../helpers/close';

const INPUT = [96, 96, 3], CLASSES = 5, B = 2;
const config = googlenet(INPUT, CLASSES, { aux: true });

/** Mean softmax cross-entropy of `logits` [B, classes] against `labels`, in float64. */
function xent(logits: Float32Array, labels: Int32Array): number {
  let sum = 0;
  for (let r = 0; r < labels.length; r++) {
    const row = logits.subarray(r * CLASSES, (r + 1) * CLASSES), max = Math.max(...row);
    const lse = Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0)) + max;
    sum += lse - row[labels[r]];
  }
  return sum / labels.length;
}

async function setup(lossWeights: number[]) {
  const m = await Model.create(config, { seed: 3 });
  m.compile({ optimizer: { type: 'sgd', lr: 0.01 }, loss: 'sparse_categorical_crossentropy', lossWeights });
  const rng = new Rng(4), x = rng.array(B * numelOf(INPUT), 0, 1), y = Int32Array.from([1, 3]);
  const p = m.trainer!.program;
  p.ensureCapacity(B);
  /** One forward + losses + backward of the step program (no update); the loss and a copy of all gradients. */
  const gradients = () => {
    const s = p.slots(B);
    s.x.set(x); s.labels!.set(y);
    const { lossSum } = p.gradients(B, { step: 0, seed: 1 });
    return { loss: lossSum / B, grads: m.e.read(m.grads, m.paramFloats) };
  };
  return { m, x, y, gradients };
}

test('GoogLeNet with aux heads: three outputs; the step loss is 1·L(fc) + 0.3·L(aux1) + 0.3·L(aux2)', async () => {
  const { m, y, gradients } = await setup(GOOGLENET_AUX_WEIGHTS);
  assert.deepEqual(m.outputs.map((i) => m.layers[i].name), ['fc', 'aux1.fc2', 'aux2.fc2']);
  const { loss } = gradients();
  // The heads' logits of that training-mode forward are still in the arena.
  const heads = m.outputs.map((i) => xent(m.e.read(m.act[i], B * CLASSES), y));
  const want = heads[0] + 0.3 * heads[1] + 0.3 * heads[2];
  assert.ok(Math.abs(loss - want) < 1e-5 * want, `step loss ${loss}, weighted heads ${want} (${heads.join(', ')})`);
  assert.ok(heads[1] !== heads[0] && heads[2] !== heads[0], 'the heads are distinct classifiers');
});

test('GoogLeNet with aux heads: the gradient is linear in the loss weights, and the aux heads reach the trunk', async () => {
  const g = async (w: number[]) => (await setup(w)).gradients().grads;
  const [all, main, a1, a2] = [await g(GOOGLENET_AUX_WEIGHTS), await g([1, 0, 0]), await g([0, 1, 0]), await g([0, 0, 1])];
  const { m } = await setup([1, 0, 0]);
  const conv1 = m.entries.find((en) => en.layer.name === 'conv1.conv' && en.name === 'w')!;
  const slice = (f: Float32Array) => f.subarray(conv1.offset, conv1.offset + conv1.n);
  // The trunk's first conv gets gradient from every head...
  for (const [name, gr] of [['aux1', a1], ['aux2', a2]] as const) {
    const norm = Math.hypot(...slice(gr));
    assert.ok(norm > 1e-6, `${name}'s gradient reaches conv1 (norm ${norm})`);
  }
  // ...and the weighted step's gradient is the weighted sum of the heads' own.
  const combined = Float32Array.from(all, (_, i) => main[i] + 0.3 * a1[i] + 0.3 * a2[i]);
  assertClose(all, combined, 'gradient of 1·L + 0.3·L1 + 0.3·L2', { rtol: 1e-3, atol: 1e-6 });
  // The auxiliary classifiers get no gradient from the main loss alone.
  const fc2 = m.entries.find((en) => en.layer.name === 'aux1.fc2' && en.name === 'w')!;
  assert.ok(main.subarray(fc2.offset, fc2.offset + fc2.n).every((v) => v === 0), 'aux1.fc2 has no gradient under weights [1, 0, 0]');
});

test('GoogLeNet with aux heads: fit takes a step with the paper\'s weights; evaluate reads the main head', async () => {
  const { m, x, y } = await setup(GOOGLENET_AUX_WEIGHTS);
  const before = m.e.read(m.params, m.paramFloats);
  const h = await m.fit(x, y, { epochs: 1, batchSize: B, shuffle: false });
  assert.ok(Number.isFinite(h.history.loss[0]), `loss ${h.history.loss[0]}`);
  assert.notDeepEqual(m.e.read(m.params, m.paramFloats), before, 'one step changed the weights');
  assert.equal(m.predict(x).length, B * CLASSES, 'predict returns the main output');
  assert.ok(Number.isFinite(m.evaluate(x, y).loss));
});
