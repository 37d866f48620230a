// Workers do not outlive their use, nor hang a fit: a worker stuck in a loop fails the step after
// stepTimeoutMs naming it and the step, and every worker is stopped; models trained with workers and dropped
// release their threads; the heap stays flat over thousands of parallel steps; a script that trained in
// parallel exits by itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Model } from '../../src/api/model';
import type { ModelConfig } from '../../src/model/config';
import { groupFor } from '../../src/parallel/groups';
import { scheduleFault } from '../../src/parallel/faults';
import { quadrantDataset } from './nets';

const NET: ModelConfig = {
  name: 'small', input: [8, 8, 1], layers: [
    { type: 'conv2d', name: 'conv', filters: 4, kernel: 3, padding: 'same', activation: 'relu' },
    { type: 'flatten', name: 'flat' }, { type: 'dense', name: 'out', units: 4 },
  ],
};

test('a worker stuck in a loop: fit rejects after stepTimeoutMs naming the worker and the step; every worker is stopped', async () => {
  const m = await Model.create(NET, { seed: 1 });
  m.compile({ optimizer: { type: 'sgd', lr: 0.1 }, loss: 'sparse_categorical_crossentropy' });
  const ds = quadrantDataset(64, 8, 3), B = 16;
  const g = await groupFor(m.trainer!, m.trainer!.program, { workers: 2, batchSize: B, deterministic: false });
  scheduleFault(g, 1, 2, 'hang');
  const t0 = performance.now();
  await assert.rejects(m.fit(ds, undefined, { workers: 2, batchSize: B, epochs: 2, stepTimeoutMs: 1500 }),
    /parallel: worker 1 did not finish step 2 within 1500 ms \(stepTimeoutMs\); every worker was stopped/);
  const ms = performance.now() - t0;
  assert.ok(ms < 5000, `rejected after ${ms.toFixed(0)} ms`);
  assert.deepEqual(g.exited, [true, true], 'both workers were terminated, the looping one included');
  const h = await m.fit(ds, undefined, { workers: 2, batchSize: B, epochs: 1 });
  assert.ok(Number.isFinite(h.history.loss[0]), 'the next fit trains on a new group');
});

test('soak: 2,000 parallel steps keep the heap flat; 4 dropped models give their threads back', () => {
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', 'scripts/soak.ts', '--steps', '2000', '--models', '4', '--json'], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const s = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.ok(s.heap_bytes_per_step <= 100, `heap grew ${s.heap_bytes_per_step} bytes a step`);
  assert.ok(s.threads_with_dropped_models > s.threads_baseline, 'the dropped models did start workers');
  assert.ok(s.threads_after_gc <= s.threads_baseline + 2, `threads ${s.threads_baseline} → ${s.threads_after_gc}`);
});

test('a script that fits with workers and never closes them exits by itself', () => {
  const code = `import { Model } from './src/api/model';
const m = await Model.create(${JSON.stringify(NET)}, { seed: 1 });
m.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy' });
await m.fit(new Float32Array(32 * 64), new Int32Array(32), { workers: 2, batchSize: 16 });
console.log('trained');`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.signal, null, 'it exited before the timeout');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /trained/);
});
