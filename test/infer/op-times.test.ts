// InferenceModel.opTimes (bench/infer-ops.ts): one median per op of the batch-1 plan, in plan order, read with
// the clock given; it leaves predict() unchanged and is refused on several threads and with bad rounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../../src/api/model';
import { InferenceModel } from '../../src/infer/model';
import { quantize } from '../../src/quant/index';
import { resnet20 } from '../../src/zoo/small';
import { Rng } from '../helpers/rand';

test('opTimes: a median per op of the f32 and int8 plans, from the clock given; refused on 2 threads', async () => {
  const config = resnet20([8, 8, 3]), m = await Model.create(config, { seed: 1 }), x = new Rng(2).array(8 * 8 * 3, 0, 1);
  const f = await InferenceModel.from(m, { batchSize: 1 }), q = await quantize(m, x).compile({ batchSize: 1 });
  for (const inf of [f, q]) {
    const before = inf.predict(x);
    let ticks = 0;
    const times = inf.opTimes(x, 3, () => ticks++); // each read one tick later: every op's median is 1
    assert.deepEqual(times.map((t) => t.name), inf.summary.ops.map((o) => o.name), 'one entry per op, in plan order');
    assert.ok(times.every((t) => t.ms === 1), 'medians from the clock given');
    assert.ok(inf.opTimes(x, 1).every((t) => t.ms >= 0 && Number.isFinite(t.ms)), 'wall clock by default');
    assert.deepEqual(inf.predict(x), before, 'predict unchanged');
    assert.throws(() => inf.opTimes(x, 0), /rounds must be a positive integer, got 0/);
  }
  assert.ok(q.opTimes(x, 1).some((t) => t.name.endsWith(':add')), 'the int8 plan lists its residual adds');
  const two = await InferenceModel.from(m, { workers: 2, batchSize: 1 });
  try { assert.throws(() => two.opTimes(x, 1), /opTimes needs a model compiled with workers: 1, got 2/); } finally { await two.close(); }
});
