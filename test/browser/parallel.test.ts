// Data-parallel training in a real browser (src/parallel in Chromium, through the shipped browser bundles
// rede.js + rede-worker.js). A page served with COOP/COEP trains LeNet-5 for 20 steps with 2 workers: the
// workers share one wasm memory, the loss falls, and the per-step losses track Node's single-threaded fit
// on the same digits (only the rounding of the 2-slice gradient sum differs). The same page without the
// headers trains on the fallback: one thread, rede's one-line warning, the same losses as Node's.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildForTest, launch, openPage, serve, waitFor, type Browser } from './browser';
import { mnistDigits } from '../../src/data/mnist';
import { subset } from '../../src/data/dataset';
import { Model } from '../../src/api/model';
import { lenet5 } from '../../src/zoo/lenet5';

const STEPS = 20, BATCH = 32, LR = 0.02;

// The page under test: plain JS over the bundles, as a user of rede's browser build would write it.
const PAGE = `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>rede parallel</title>
<script type="module">
import { Model, zoo, data, canShareMemory, workerGroupOf } from './rede.js';
import { loadDigits } from './digits.js';
try {
  const digits = await loadDigits('digits.bin');
  const train = data.subset(digits.train, 0, ${STEPS * BATCH});
  const m = await Model.create(zoo.lenet5(), { seed: 1 });
  m.compile({ optimizer: { type: 'sgd', lr: ${LR}, momentum: 0.9 }, loss: 'sparse_categorical_crossentropy' });
  const before = m.getWeight('c1/kernel');
  const losses = [];
  await m.fit(train, { epochs: 1, batchSize: ${BATCH}, workers: 2, seed: 1, callbacks: [{ onBatchEnd: (step, logs) => { losses.push(logs.loss); } }] });
  const g = workerGroupOf(m.trainer);
  const after = m.getWeight('c1/kernel');
  window.result = {
    losses, isolated: crossOriginIsolated, canShare: canShareMemory(), variant: m.e.variant,
    groupWorkers: g ? g.spec.workers : 0,
    groupMemoryShared: g ? g.e.memory.buffer instanceof SharedArrayBuffer : false,
    weightsMoved: after.some((v, i) => v !== before[i]),
  };
} catch (e) {
  window.result = { error: String(e && e.stack || e) };
}
</script>`;

interface Result {
  error?: string; losses: number[]; isolated: boolean; canShare: boolean; variant: string;
  groupWorkers: number; groupMemoryShared: boolean; weightsMoved: boolean;
}

let dir = '', browser: Browser, nodeLosses: number[] = [];
before(async () => {
  dir = (await buildForTest('parallel')).dir;
  browser = await launch();
  // Node, one thread, the same digits, seed and settings: the reference losses.
  const train = subset((await mnistDigits()).train, 0, STEPS * BATCH);
  const m = await Model.create(lenet5(), { seed: 1 });
  m.compile({ optimizer: { type: 'sgd', lr: LR, momentum: 0.9 }, loss: 'sparse_categorical_crossentropy' });
  await m.fit(train, { epochs: 1, batchSize: BATCH, seed: 1, callbacks: [{ onBatchEnd: (_s, logs) => { nodeLosses.push(logs.loss); } }] });
});
after(async () => { await browser?.close(); });

async function run(coop: boolean) {
  const srv = await serve(dir, coop, { '/parallel.html': PAGE });
  const { page, console: log } = await openPage(browser);
  try {
    await page.goto(`${srv.url}parallel.html`);
    const r = await waitFor<Result>(page, 'window.result', `${STEPS} steps of fit`, 60_000, log);
    assert.equal(r.error, undefined, `${r.error}\n${log.all.join('\n')}`);
    return { r, log };
  } finally {
    await page.close();
    await srv.close();
  }
}

const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
const falls = (l: number[]) => assert.ok(mean(l.slice(-5)) < 0.8 * mean(l.slice(0, 5)), `loss ${l.map((v) => v.toFixed(3)).join(' ')}`);

test('with COOP/COEP: 2 workers over one shared memory train 20 steps, the loss falls, as in Node', async () => {
  const { r, log } = await run(true);
  assert.equal(r.isolated, true);
  assert.equal(r.canShare, true);
  assert.equal(r.groupWorkers, 2, 'fit ran on a group of 2 workers');
  assert.equal(r.groupMemoryShared, true);
  assert.equal(r.weightsMoved, true, 'the model got the trained weights back from the group');
  assert.equal(r.losses.length, STEPS);
  falls(r.losses);
  // Splitting a batch across 2 gradient slices changes only the rounding of the sum; measured here: equal at
  // steps 1-2, ≤ 3e-6 relative through step 12, then the differences grow (ReLU kinks, momentum) to ~1e-2.
  r.losses.forEach((v, i) => {
    const rel = Math.abs(v - nodeLosses[i]) / nodeLosses[i];
    assert.ok(rel <= (i < 10 ? 1e-5 : 5e-2), `step ${i + 1}: browser (2 workers) ${v}, Node (1 thread) ${nodeLosses[i]}, relative difference ${rel}`);
  });
  assert.deepEqual(log.errors, [], log.all.join('\n'));
  assert.deepEqual(log.warnings, [], 'no fallback warning');
  console.log(`# isolated page (${r.variant}): loss ${r.losses[0].toFixed(3)} → ${r.losses.at(-1)!.toFixed(3)} over ${STEPS} steps on 2 workers`);
});

test('without COOP/COEP: the same page trains on one thread, with one warning, exactly as Node', async () => {
  const { r, log } = await run(false);
  assert.equal(r.isolated, false);
  assert.equal(r.canShare, false);
  assert.equal(r.groupWorkers, 0, 'no worker group was made');
  assert.equal(r.weightsMoved, true);
  assert.equal(r.losses.length, STEPS);
  falls(r.losses);
  r.losses.forEach((v, i) => assert.ok(Math.abs(v - nodeLosses[i]) <= 1e-5 * Math.max(1, nodeLosses[i]),
    `step ${i + 1}: browser (fallback) ${v}, Node ${nodeLosses[i]}`));
  assert.equal(log.warnings.length, 1, log.all.join('\n'));
  assert.match(log.warnings[0], /^rede: fit asked for 2 workers, but SharedArrayBuffer is unavailable here \(a page needs Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp\); training on one thread$/);
  assert.deepEqual(log.errors, [], log.all.join('\n'));
});
