// Addresses at or above 2 GiB: every pointer conversion on the JavaScript side is unsigned (>>> 2), so a model
// whose arena starts past 2^31 trains to bitwise the weights of the same model on a fresh engine — on each engine
// variant, and with workers (whose group memory then starts past 2^31 too). On 96b79f7 signed shifts gave
// negative indices and training silently learned something else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine';
import { Model } from '../../src/api/model';
import type { ModelConfig } from '../../src/model/config';
import { closeWorkers, workerGroupOf } from '../../src/parallel/groups';
import { groupHooks } from '../../src/parallel/faults';
import { Rng } from '../helpers/rand';

const NET: ModelConfig = { input: [12], layers: [
  { type: 'dense', units: 16, activation: 'relu' }, { type: 'batchnorm' }, { type: 'dropout', rate: 0.2 }, { type: 'dense', units: 3 }] };
const rng = new Rng(8), n = 64, x = rng.array(n * 12, -1, 1), y = Int32Array.from({ length: n }, (_, i) => i % 3);
const GAP = 2 ** 31 + 2 ** 20;

async function train(e: Engine, workers: number): Promise<{ params: Float32Array; state: Float32Array; loss: number[]; groupParams: number }> {
  const m = await Model.create(NET, { engine: e, seed: 4 });
  m.compile({ optimizer: { type: 'adam', lr: 0.01 }, loss: 'sparse_categorical_crossentropy' });
  const h = await m.fit(x, y, { epochs: 5, batchSize: 16, workers, deterministic: workers > 1 });
  const groupParams = workerGroupOf(m.trainer!)?.bases[0].params ?? 0;
  await closeWorkers(m.trainer!);
  if (e.mark() > GAP) assert.ok(m.params > 2 ** 31 && m.inputAct > 2 ** 31, 'the model lives above 2 GiB');
  return { params: m.e.read(m.params, m.paramFloats), state: m.e.read(m.state, m.stateFloats), loss: h.history.loss, groupParams };
}

for (const variant of ['simd', 'relaxed-simd', 'ref'] as const) {
  test(`${variant}: a model above 2 GiB trains to the bits of the same model on a fresh engine`, async () => {
    const fresh = await train(await Engine.create({ variant }), 1);
    const high = await Engine.create({ variant });
    high.reserve(GAP, 'a gap below the model');
    const got = await train(high, 1);
    assert.deepEqual(got.params, fresh.params);
    assert.deepEqual(got.state, fresh.state);
    assert.deepEqual(got.loss, fresh.loss);
  });
}

test('workers: a group whose memory starts above 2 GiB trains to the bits of one that does not', async () => {
  const low = await train(await Engine.create(), 2);
  groupHooks.arenaOffset = GAP;
  try {
    const high = await train(await Engine.create(), 2);
    assert.ok(high.groupParams > 2 ** 31 && low.groupParams > 0 && low.groupParams < 2 ** 31, `group parameters at ${high.groupParams} (and ${low.groupParams})`);
    assert.deepEqual(high.params, low.params);
    assert.deepEqual(high.loss, low.loss);
  } finally {
    groupHooks.arenaOffset = 0;
  }
});
