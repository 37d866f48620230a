// The one epoch loop over the step contract, with workers as on one thread: the progress a user sees per batch
// is computed from the step results (so a bar with workers shows what the epoch line says, and deterministic mode
// gives the same per-batch numbers for 1 and 2 workers); after a worker fit the model's gradient is the last
// step's summed gradient, as after a one-thread fit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../../src/api/model';
import { closeWorkers } from '../../src/parallel/groups';
import { Progress, ProgressLogger } from '../../src/train/progress';
import type { Logs } from '../../src/train/callbacks';
import { assertClose } from '../helpers/close';
import { quadrantDataset, SMALL_NET } from '../parallel/nets';

const NET = SMALL_NET;
const ds = quadrantDataset(96, 8, 3);

async function compiled(): Promise<Model> {
  const m = await Model.create(NET, { seed: 1 });
  return m.compile({ optimizer: { type: 'sgd', lr: 0.1, momentum: 0.9 }, loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
}

for (const workers of [1, 2]) {
  test(`progress with ${workers} worker${workers > 1 ? 's' : ''}: the bar's last loss, accuracy and ex/s per epoch are the epoch line's`, async () => {
    const m = await compiled();
    let text = '';
    const tty = { isTTY: true, columns: 200, write: (s: string) => { text += s; } };
    await m.fit(ds, undefined, { workers, epochs: 3, batchSize: 16, callbacks: [new ProgressLogger(new Progress(tty), 3)] });
    await closeWorkers(m.trainer!);
    const bars = [...text.matchAll(/\r(epoch (\d)\/3 \[[^\]]*\] +6\/6 .*?)\x1b\[K/g)];
    const lines = [...text.matchAll(/(epoch (\d)\/3  loss .*)\n/g)];
    assert.equal(lines.length, 3, text);
    for (const line of lines) {
      const bar = bars.filter((b) => b[2] === line[2]).pop();
      assert.ok(bar, `epoch ${line[2]}: the bar was drawn at its last batch`);
      const num = (s: string, key: RegExp) => s.match(key)?.[1];
      for (const key of [/loss (\S+)/, /acc (\S+)/, /([\d,]+) ex\/s/]) {
        assert.equal(num(bar[1], key), num(line[1], key), `epoch ${line[2]}: ${key} in '${bar[1]}' vs '${line[1]}'`);
      }
    }
    // The running accuracy moves within an epoch (it is not a stale read of the main thread's memory).
    const accs = new Set(bars.map((b) => b[1].match(/acc (\S+)/)![1]));
    assert.ok(accs.size > 1, `accuracy changes from batch to batch: ${[...accs].join(', ')}`);
  });
}

test('deterministic mode: 1 and 2 workers report bitwise the same per-batch running numbers', async () => {
  const runs: Logs[][] = [];
  for (const workers of [1, 2]) {
    const m = await compiled(), logs: Logs[] = [];
    await m.fit(ds, undefined, { workers, deterministic: true, epochs: 2, batchSize: 16, callbacks: [{ onBatchEnd: (_s, l) => { logs.push({ loss: l.loss, mean_loss: l.mean_loss, accuracy: l.accuracy, examples: l.examples }); } }] });
    await closeWorkers(m.trainer!);
    runs.push(logs);
  }
  assert.equal(runs[0].length, 12);
  assert.deepEqual(runs[1], runs[0]);
});

test('getGrad after a worker fit is the last step\'s summed gradient, as after a one-thread fit', async () => {
  const one = ds.y.length; // one batch of the whole set: one step
  const grads: Float32Array[] = [];
  for (const workers of [1, 2]) {
    const m = await compiled();
    await m.fit(ds, undefined, { workers, epochs: 1, batchSize: one, shuffle: false });
    await closeWorkers(m.trainer!);
    grads.push(Float32Array.from([...m.getGrad('conv/kernel'), ...m.getGrad('out/kernel'), ...m.getGrad('out/bias')]));
  }
  assert.ok(grads[0].some((v) => v !== 0), 'the one-thread gradient is not zero');
  assertClose(grads[1], grads[0], 'gradient after a 2-worker fit vs one thread', { rtol: 2e-4, atol: 2e-6 });
});

test("fit's verbose: silent off a terminal by default; 2 prints a line per epoch; 1 on a terminal draws the bar", async () => {
  const m = await compiled();
  const err = process.stderr, writes: string[] = [];
  const orig = err.write.bind(err), tty = err.isTTY;
  (err as { write: unknown }).write = (s: string) => { writes.push(String(s)); return true; };
  try {
    (err as { isTTY: boolean }).isTTY = false;
    await m.fit(ds, undefined, { epochs: 1, batchSize: 16 });
    assert.equal(writes.join(''), '', 'silent by default when stderr is not a terminal');
    await m.fit(ds, undefined, { epochs: 2, batchSize: 16, verbose: 2 });
    assert.equal(writes.join('').match(/^epoch \d\/2  loss \d\.\d{4}  acc \d\.\d{4}/gm)?.length, 2, writes.join(''));
    writes.length = 0;
    (err as { isTTY: boolean }).isTTY = true;
    await m.fit(ds, undefined, { epochs: 1, batchSize: 16 });
    assert.match(writes.join(''), /\repoch 1\/1 \[=+\] 6\/6 .*loss/, 'a live bar on a terminal by default');
  } finally {
    (err as { write: unknown }).write = orig;
    (err as { isTTY: boolean | undefined }).isTTY = tty;
  }
});
