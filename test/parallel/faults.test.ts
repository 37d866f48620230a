// Faults: a worker that throws inside a step, calls process.exit, is terminated, or hits a wasm trap makes
// fit reject with that worker's error (and stack) within a second; every worker is terminated; nothing
// hangs; and the next fit on the same model trains. Memory too small for N workers is refused before
// training starts, naming the size needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine';
import { Model } from '../../src/api/model';
import { closeWorkers, groupFor } from '../../src/parallel/groups';
import { scheduleFault } from '../../src/parallel/faults';
import type { WorkerGroup } from '../../src/parallel/group';
import { lenet5 } from '../../src/zoo/lenet5';
import { quadrantDataset, SMALL_NET } from './nets';

const NET = SMALL_NET;
const B = 16, ds = quadrantDataset(96, 8, 3); // 6 steps per epoch

type Fault = 'throw' | 'exit' | 'trap' | 'terminate';
const expected: Record<Fault, RegExp> = {
  throw: /worker 1 failed at step 2: injected fault: worker 1 throws at step 2/,
  exit: /worker 1 exited \(code 3\) during step 2/,
  trap: /worker 1 failed at step 2: .*(memory access out of bounds|RuntimeError)/,
  terminate: /worker 1 exited \(code 1\) during step 2/,
};

for (const fault of ['throw', 'exit', 'trap', 'terminate'] as const) {
  test(`a worker that ${fault === 'terminate' ? 'is terminated' : fault === 'trap' ? 'hits a wasm trap' : fault === 'exit' ? 'calls process.exit' : 'throws'} rejects fit within a second; the next fit trains`, async () => {
    const m = await Model.create(NET, { seed: 1 });
    m.compile({ optimizer: { type: 'sgd', lr: 0.1 }, loss: 'sparse_categorical_crossentropy' });
    const before = m.e.read(m.params, m.paramFloats);
    // fit finds this group cached for the same settings and uses it.
    const g: WorkerGroup = await groupFor(m.trainer!, m.trainer!.program, { workers: 2, batchSize: B, deterministic: false });
    let faultAt = 0;
    if (fault === 'terminate') faultAt = -1; else scheduleFault(g, 1, 2, fault);
    const onBatchEnd = (step: number) => {
      if (step !== 2) return; // two steps done; step 2 is next
      faultAt = performance.now();
      if (fault === 'terminate') void g.workers[1].terminate();
    };
    await assert.rejects(m.fit(ds, undefined, { workers: 2, batchSize: B, epochs: 3, callbacks: [{ onBatchEnd }] }), (err: Error) => {
      const ms = performance.now() - faultAt;
      assert.match(err.message, expected[fault]);
      assert.ok(ms < 1000, `rejected ${ms.toFixed(0)} ms after the fault`);
      if (fault === 'throw') assert.match(err.stack ?? '', /worker 1 stack[\s\S]*injectFault[\s\S]*step\.ts/, 'the worker\'s stack comes back');
      if (fault === 'trap') assert.match(err.stack ?? '', /wasm|fill_f32/, 'the trap\'s wasm frames come back');
      return true;
    });
    assert.ok(g.dead, 'the failed group is discarded');
    assert.deepEqual(g.exited, [true, true], 'every worker was terminated');
    assert.deepEqual(m.e.read(m.params, m.paramFloats), before, 'the model keeps the weights of the last completed epoch');
    const h = await m.fit(ds, undefined, { workers: 2, batchSize: B, epochs: 2 });
    assert.ok(h.history.loss.every(Number.isFinite));
    assert.notDeepEqual(m.e.read(m.params, m.paramFloats), before, 'the new fit trained');
    await closeWorkers(m.trainer!);
  });
}

test('memory that cannot hold N workers is refused before training, with the size needed', async () => {
  const e = await Engine.create({ maxBytes: 16 * 2 ** 20 });
  const m = await Model.create(lenet5(), { engine: e, seed: 1 });
  m.compile({ optimizer: { type: 'sgd', lr: 0.1 }, loss: 'sparse_categorical_crossentropy' });
  const before = m.e.read(m.params, m.paramFloats);
  const x = new Float32Array(256 * 784), y = new Int32Array(256);
  const t0 = performance.now();
  await assert.rejects(m.fit(x, y, { workers: 8, batchSize: 256 }),
    /parallel: 8 workers need (\d+) bytes of wasm memory \(\d+ for parameters, 8 gradient slices, optimizer state and control; 8 × \d+ for each worker's activations at 32 examples\), but memory is limited to 16777216 bytes/);
  assert.ok(performance.now() - t0 < 1000, 'refused before any worker started');
  assert.deepEqual(m.e.read(m.params, m.paramFloats), before);
  // The same model trains with as many workers as fit.
  const h = await m.fit(x.subarray(0, 64 * 784), y.subarray(0, 64), { workers: 2, batchSize: 32, epochs: 1 });
  assert.ok(Number.isFinite(h.history.loss[0]));
  await closeWorkers(m.trainer!);
});
