// trainStep: chained networks each with its own optimizer train the same on one thread and across workers
// (each network's optimizer keeps its own step block in the shared memory), and a frozen link keeps its
// weights bitwise while gradients pass through it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../../src/api/model';
import { trainStep } from '../../src/api/train-step';
import { assertClose } from '../helpers/close';
import { Rng } from '../helpers/rand';

const rng = new Rng(2), B = 24, x = rng.array(B * 10, 0, 1);
const y = Int32Array.from({ length: B }, (_, i) => (x[i * 10] > 0.5 ? 1 : 0) + (x[i * 10 + 1] > 0.5 ? 2 : 0));

async function pair() {
  const a = await Model.create({ input: [10], layers: [{ type: 'dense', units: 12, activation: 'relu' }] }, { seed: 1 });
  const b = await Model.create({ input: [12], layers: [{ type: 'dense', units: 4 }] }, { seed: 2 });
  return { a, b };
}

test('two networks, Adam and SGD with different rates: 1 thread and 2 workers train alike, and the loss falls', async () => {
  const runs = [];
  for (const workers of [1, 2]) {
    const { a, b } = await pair();
    const s = await trainStep({ nets: [{ net: a, optimizer: { type: 'adam', lr: 0.01 } }, { net: b, optimizer: { type: 'sgd', lr: 0.3, momentum: 0.9 } }], loss: 'sparse_categorical_crossentropy', batchSize: B, workers });
    const losses: number[] = [];
    for (let i = 0; i < 30; i++) losses.push((await s.run(x, y)).loss);
    await s.close();
    assert.ok(losses[29] < 0.5 * losses[0], `${workers} workers: loss ${losses[0]} → ${losses[29]}`);
    runs.push({ a: a.e.read(a.params, a.paramFloats), b: b.e.read(b.params, b.paramFloats), losses });
  }
  assertClose(runs[1].a, runs[0].a, 'first network after 30 steps, 2 workers vs 1 thread', { rtol: 1e-3, atol: 1e-5 });
  assertClose(runs[1].b, runs[0].b, 'second network after 30 steps, 2 workers vs 1 thread', { rtol: 1e-3, atol: 1e-5 });
});

test('a frozen link keeps its weights bitwise (1 thread and 2 workers) while the network before it learns through it', async () => {
  for (const workers of [1, 2]) {
    const { a, b } = await pair();
    const b0 = b.e.read(b.params, b.paramFloats), a0 = a.e.read(a.params, a.paramFloats);
    const s = await trainStep({ nets: [a, { net: b, trainable: false }], optimizer: 'adam', loss: 'sparse_categorical_crossentropy', batchSize: B, workers });
    for (let i = 0; i < 5; i++) await s.run(x, y);
    await s.close();
    assert.deepEqual(b.e.read(b.params, b.paramFloats), b0, `${workers} workers: the frozen network did not change`);
    assert.notDeepEqual(a.e.read(a.params, a.paramFloats), a0, `${workers} workers: the trainable one did`);
  }
});

test('trainStep refuses bad input before any work', async () => {
  const { a, b } = await pair();
  await assert.rejects(trainStep({ nets: [a, b], loss: 'mse', batchSize: 4 }), /network 0 is trainable but has no optimizer/);
  await assert.rejects(trainStep({ nets: [b, a], optimizer: 'sgd', loss: 'mse', batchSize: 4 }), /network 0 .* output \[4\]\) cannot feed network 1 .*input \[10\]/);
  await assert.rejects(trainStep({ nets: [a, b], optimizer: 'sgd', loss: 'mse', batchSize: 4, worker: 2 } as never), /trainStep: unknown option 'worker'/);
  const s = await trainStep({ nets: [a, b], optimizer: 'sgd', loss: 'sparse_categorical_crossentropy', batchSize: 4 });
  await assert.rejects(s.run(x, y), /a batch of 24 examples, the session was made for at most 4/);
  await assert.rejects(s.run(x.subarray(0, 40), Int32Array.from([0, 1, 2, 9])), /label of example 3 is 9, expected an integer in \[0, 4\)/);
  await assert.rejects(s.run(x.subarray(0, 40), new Float32Array(16)), /needs integer labels/);
  await s.close();
});
