// Data-parallel training computes what one thread computes: the all-reduced gradient of N workers equals
// the single-threaded trainer's (LeNet-5, float tolerance: only the summation order differs); for a residual
// net with batch norm (per-micro-shard statistics) it equals an in-thread loop over the same micro-shards;
// and deterministic mode gives bitwise-identical weights and BN state for 1, 2 and 3 workers over 20 steps
// (Adam with gradient clipping, dropout, augmentation done in the workers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../../src/api/model';
import { numelOf } from '../../src/layers/layer';
import { lenet5 } from '../../src/zoo/lenet5';
import { WorkerGroup } from '../../src/parallel/group';
import { closeWorkers } from '../../src/parallel/groups';
import { shareData } from '../../src/parallel/group-step';
import { ThreadStep } from '../../src/train/thread-step';
import { shardRange } from '../../src/parallel/shards';
import type { CompileOptions } from '../../src/train/trainer';
import type { Dataset } from '../../src/data/dataset';
import { assertClose } from '../helpers/close';
import { randomDataset, resnet } from './nets';

const SGD: CompileOptions = { optimizer: { type: 'sgd', lr: 0.05, momentum: 0.9 }, loss: 'sparse_categorical_crossentropy' };

async function compiled(config: Parameters<typeof Model.create>[0], o: CompileOptions, seed = 7): Promise<Model> {
  const m = await Model.create(config, { seed });
  return m.compile(o);
}

/** One single-threaded step on batch 0 (dataset order): the gradient, the weights after it, the loss. */
function referenceStep(m: Model, ds: Dataset, B: number, lr: number): { grad: Float32Array; weights: Float32Array; loss: number } {
  const t = m.trainer!, per = numelOf(m.inputShape);
  m.ensureCapacity(B);
  m.e.write(m.inputAct, ds.x.subarray(0, B * per));
  m.e.i32.set(ds.y.subarray(0, B), m.labels >>> 2);
  const { loss } = new ThreadStep(t.program, () => m.seed).runFilled(B, { step: 0, lrs: [lr] });
  return { grad: m.e.read(m.grads, m.paramFloats), weights: m.e.read(m.params, m.paramFloats), loss };
}

/** One group step on batch 0 of ds (no shuffle), then the group's gradient and weights. */
async function groupStep(m: Model, ds: Dataset, B: number, lr: number, workers: number, deterministic = false) {
  const t = m.trainer!;
  const g = await WorkerGroup.create(t.program, { workers, batchSize: B, deterministic });
  try {
    g.push([m], [t.optState]);
    await g.begin(shareData(t.program, ds, undefined), { batchSize: B, seed: m.seed, shuffle: false });
    const r = await g.step({ epoch: 0, batch: 0, length: B, step: 0, lrs: [lr], ts: [1] });
    await g.end();
    return { grad: g.gradient(), weights: g.weights(), loss: r.loss };
  } finally {
    await g.close();
  }
}

/** Entries only: the padding between tensors is never written. */
function entriesOf(m: Model, flat: Float32Array): Float32Array {
  const out: number[] = [];
  for (const en of m.entries) for (let i = 0; i < en.n; i++) out.push(flat[en.offset + i]);
  return Float32Array.from(out);
}

test('LeNet-5: the all-reduced gradient of 2 and 3 workers is the one-thread gradient', async () => {
  const B = 30, lr = 0.05, ds = randomDataset(B, [28, 28, 1], 10, 11);
  const ref = referenceStep(await compiled(lenet5(), SGD), ds, B, lr);
  for (const W of [2, 3]) {
    const m = await compiled(lenet5(), SGD);
    const got = await groupStep(m, ds, B, lr, W);
    assertClose(entriesOf(m, got.grad), entriesOf(m, ref.grad), `LeNet-5 gradient, ${W} workers`, { rtol: 2e-4, atol: 2e-6 });
    assertClose(entriesOf(m, got.weights), entriesOf(m, ref.weights), `LeNet-5 weights after one step, ${W} workers`, { rtol: 1e-5, atol: 1e-7 });
    assert.ok(Math.abs(got.loss - ref.loss) < 1e-5 * Math.abs(ref.loss), `loss ${got.loss} vs ${ref.loss}`);
  }
});

const RES = resnet({ input: [8, 8, 3], blocks: 1, width: 4, stages: 2, classes: 5, dropout: 0.25 });

/** The micro-shard gradient computed in this thread: shard j forward/backward, accumulating, loss scaled by 1/B. */
function microShardReference(m: Model, ds: Dataset, B: number, S: number, seed: number): Float32Array {
  const t = m.trainer!, k = m.e.k, per = numelOf(m.inputShape), cols = numelOf(m.outputShape);
  m.ensureCapacity(Math.ceil(B / S));
  const h = t.head(); // after planning: it names activation addresses
  for (let j = 0; j < S; j++) {
    const { from, to } = shardRange(B, S, j), r = to - from;
    if (r === 0) continue;
    m.e.write(m.inputAct, ds.x.subarray(from * per, to * per));
    m.e.i32.set(ds.y.subarray(from, to), m.labels >>> 2);
    const s = m.step(r, { training: true, step: 0, accumulate: j > 0, exampleOffset: from, seed });
    m.forwardStep(s);
    t.loss.run(m.e, { rows: r, cols, out: h.out, labels: m.labels, targets: m.targets, probs: m.probs, losses: m.losses, dout: h.dout, scale: 1 / B }); // the batch mean's gradient
    m.backwardStep(s, false, h.folded ? new Set([h.node]) : undefined);
  }
  return m.e.read(m.grads, m.paramFloats);
}

test('residual net with batch norm and dropout: micro-shard gradients of 1, 2 and 3 workers match the in-thread loop', async () => {
  const B = 20, S = 8, ds = randomDataset(B, [8, 8, 3], 5, 12);
  const refModel = await compiled(RES, SGD);
  const ref = microShardReference(refModel, ds, B, S, refModel.seed);
  const grads: Float32Array[] = [];
  for (const W of [1, 2, 3]) {
    const m = await compiled(RES, SGD);
    const got = await groupStep(m, ds, B, 0.05, W, true);
    assertClose(entriesOf(m, got.grad), entriesOf(m, ref), `ResNet+BN micro-shard gradient, ${W} workers`, { rtol: 2e-4, atol: 2e-6 });
    grads.push(got.grad);
  }
  assert.deepEqual(grads[1], grads[0], 'deterministic mode: 2 workers give the bits of 1');
  assert.deepEqual(grads[2], grads[0], 'deterministic mode: 3 workers give the bits of 1');
});

test('deterministic mode: 1, 2 and 3 workers give bitwise-identical weights and BN state after 20 steps', async () => {
  const n = 80, B = 16; // 5 batches × 4 epochs = 20 steps, batches cut into 8 micro-shards of 2
  const ds = randomDataset(n, [8, 8, 3], 5, 13);
  const o: CompileOptions = { optimizer: { type: 'adam', lr: 0.01, clipNorm: 0.5 }, loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] };
  const results: { params: Float32Array; state: Float32Array; loss: number[] }[] = [];
  for (const W of [1, 2, 3]) {
    const m = await compiled(RES, o, 21);
    const h = await m.fit(ds, undefined, { workers: W, deterministic: true, epochs: 4, batchSize: B, seed: 5, augment: { shift: 1, flip: true } });
    await closeWorkers(m.trainer!);
    assert.equal(m.trainer!.step, 20);
    assert.equal(m.trainer!.optimizer.t, 20);
    results.push({ params: m.e.read(m.params, m.paramFloats), state: m.e.read(m.state, m.stateFloats), loss: h.history.loss });
  }
  for (const i of [1, 2]) {
    assert.deepEqual(results[i].params, results[0].params, `weights: ${i + 1} workers vs 1`);
    assert.deepEqual(results[i].state, results[0].state, `BN running statistics: ${i + 1} workers vs 1`);
    assert.deepEqual(results[i].loss, results[0].loss, `per-epoch losses: ${i + 1} workers vs 1`);
  }
  assert.ok(results[0].state.some((v, i) => v !== 0 && v !== 1 && i >= 0), 'the running statistics were updated');
});
