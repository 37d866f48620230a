// Without shared memory (a page that is not cross-origin isolated), fit with workers trains on one thread,
// with a one-line warning, and gives exactly the single-threaded result. With it, 2 workers learn a task.
// Also the pure arithmetic of micro-shards and reduction chunks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../../src/api/model';
import { canShareMemory } from '../../src/parallel/fallback';
import { closeWorkers, resolveWorkers } from '../../src/parallel/groups';
import { blockCount, blockRange, liveShards, shardRange, workerChunk, workerShards } from '../../src/parallel/shards';
import { quadrantDataset, SMALL_NET } from './nets';

const NET = SMALL_NET;
const ds = quadrantDataset(128, 8, 4);

async function trained(workers: number): Promise<{ m: Model; loss: number[] }> {
  const m = await Model.create(NET, { seed: 2 });
  m.compile({ optimizer: { type: 'sgd', lr: 0.2, momentum: 0.9 }, loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  const h = await m.fit(ds, undefined, { workers, batchSize: 16, epochs: 3, seed: 3 });
  return { m, loss: h.history.loss };
}

test('not cross-origin isolated: fit falls back to one thread with a one-line warning', async () => {
  const g = globalThis as { crossOriginIsolated?: boolean };
  const warn = console.warn, lines: string[] = [];
  g.crossOriginIsolated = false;
  console.warn = (...a: unknown[]) => { lines.push(a.join(' ')); };
  let fallback;
  try {
    assert.equal(canShareMemory(), false);
    fallback = await trained(2);
  } finally {
    delete g.crossOriginIsolated;
    console.warn = warn;
  }
  assert.equal(lines.length, 1);
  assert.match(lines[0], /^rede: fit asked for 2 workers, but SharedArrayBuffer is unavailable here .*; training on one thread$/);
  assert.ok(!lines[0].includes('\n'));
  const single = await trained(1);
  assert.deepEqual(fallback.m.e.read(fallback.m.params, fallback.m.paramFloats), single.m.e.read(single.m.params, single.m.paramFloats));
  assert.deepEqual(fallback.loss, single.loss);
});

test('2 workers learn: the loss falls and the accuracy rises', async () => {
  assert.equal(canShareMemory(), true);
  const { m, loss } = await trained(2);
  await closeWorkers(m.trainer!);
  assert.ok(loss[2] < 0.6 * loss[0], `loss ${loss.map((l) => l.toFixed(3)).join(' → ')}`);
  assert.ok(m.evaluate(ds, undefined).accuracy > 0.8);
});

test('micro-shards: a prefix of non-empty shards covering the batch; workers split shards and blocks', () => {
  for (const [B, S] of [[16, 8], [20, 8], [5, 8], [1, 3], [7, 7], [64, 3]]) {
    let at = 0;
    for (let j = 0; j < S; j++) {
      const r = shardRange(B, S, j);
      assert.equal(r.from, at);
      assert.ok(r.to - r.from <= Math.ceil(B / S));
      assert.equal(r.to > r.from, j < liveShards(B, S), `B ${B} S ${S} shard ${j}`);
      at = r.to;
    }
    assert.equal(at, B);
  }
  for (const [W, S] of [[1, 8], [2, 8], [3, 8], [3, 3]]) {
    const owned = Array.from({ length: W }, (_, w) => workerShards(w, W, S));
    assert.equal(owned[0].from, 0); assert.equal(owned[W - 1].to, S);
    for (let w = 1; w < W; w++) assert.equal(owned[w].from, owned[w - 1].to);
  }
  for (const P of [16, 48, 1024, 61744]) {
    const NB = blockCount(P);
    let at = 0;
    for (let b = 0; b < NB; b++) {
      const r = blockRange(P, NB, b);
      assert.equal(r.from, at); assert.equal(r.from % 16, 0); assert.ok(r.to > r.from);
      at = r.to;
    }
    assert.equal(at, P);
    for (const W of [1, 2, 3]) {
      const chunks = Array.from({ length: W }, (_, w) => workerChunk(w, W, P, NB).floats).filter((c) => c.to > c.from);
      assert.equal(chunks[0].from, 0); assert.equal(chunks[chunks.length - 1].to, P);
      for (let i = 1; i < chunks.length; i++) assert.equal(chunks[i].from, chunks[i - 1].to);
    }
  }
});

test('worker count: auto is one per core, never more than the examples of a batch or the micro-shards', async () => {
  assert.equal(await resolveWorkers(4, { batchSize: 2, examples: 100, deterministic: false }), 2);
  assert.equal(await resolveWorkers(4, { batchSize: 64, examples: 3, deterministic: false }), 3);
  assert.equal(await resolveWorkers(12, { batchSize: 64, examples: 1000, deterministic: true }), 8);
  assert.ok((await resolveWorkers('auto', { batchSize: 64, examples: 1000, deterministic: false })) >= 1);
  await assert.rejects(resolveWorkers(0, { batchSize: 64, examples: 1000, deterministic: false }), /workers must be a positive integer or 'auto', got 0/);
});
