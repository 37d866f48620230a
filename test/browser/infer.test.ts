// examples/infer.html in Chromium: rede/infer as built (scripts/build-infer.mjs) classifies a digit image with an
// int8 model trained and quantized here (a small conv net on 3,000 embedded digits, seeded). The page runs the
// model in a Worker; cross-origin isolated it makes the shared-memory kernels of the one file it fetches and predicts on 2 threads,
// without isolation the plain ones on 1. Either way it must fetch exactly one .wasm, name the test digit's
// label, and give the probabilities Node's InferenceModel gives for the same pixels. No console errors.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch, openPage, root, serve, waitFor, type Browser } from './browser';
import { buildInfer } from '../../scripts/build-infer.mjs';
import { Model } from '../../src/api/model';
import { quantize } from '../../src/quant/quantize';
import { mnistDigits } from '../../src/data/mnist';
import { encodeGreyPng } from '../../src/viz/png';

const dir = join(root, 'build/browser-test/infer');
let browser: Browser;
let label = -1, want: Float32Array;

before(async () => {
  rmSync(dir, { recursive: true, force: true });
  await buildInfer({ out: join(dir, 'dist/infer') });
  mkdirSync(join(dir, 'examples'), { recursive: true });
  for (const f of ['infer.html', 'infer-page.js', 'infer-worker.js']) copyFileSync(join(root, 'examples', f), join(dir, 'examples', f));
  const { train, test: held } = await mnistDigits();
  const n = 3000, px = 28 * 28;
  const m = await Model.create({ input: [28, 28, 1], layers: [
    { type: 'conv2d', filters: 8, kernel: 3, activation: 'relu' }, { type: 'maxpool2d', pool: 2 },
    { type: 'conv2d', filters: 16, kernel: 3, activation: 'relu' }, { type: 'maxpool2d', pool: 2 },
    { type: 'flatten' }, { type: 'dense', units: 10, activation: 'softmax' }] }, { seed: 1 });
  m.compile({ optimizer: { type: 'adam', lr: 0.003 }, loss: 'sparse_categorical_crossentropy' });
  await m.fit(train.x.subarray(0, n * px), train.y.subarray(0, n), { epochs: 2, batchSize: 32, seed: 1 });
  const qm = quantize(m, train.x.subarray(0, 200 * px));
  writeFileSync(join(dir, 'examples/model.int8.rede'), qm.toBytes());
  const inf = await qm.compile();
  // The first test digit the int8 model gets right, as the page will see it: grey bytes, (r + g + b) / (3·255).
  for (let i = 0; i < 50; i++) {
    const bytes = Uint8Array.from(held.x.subarray(i * px, (i + 1) * px), (v) => Math.round(v * 255));
    const x = Float32Array.from(bytes, (v) => (v + v + v) / (3 * 255));
    const p = inf.predict(x);
    if (inf.predictClasses(x)[0] !== held.y[i]) continue;
    label = held.y[i]; want = p;
    writeFileSync(join(dir, 'examples/digit.png'), encodeGreyPng(bytes, 28, 28));
    break;
  }
  assert.ok(label >= 0, 'the int8 model classifies none of the first 50 test digits correctly');
  browser = await launch();
});
after(async () => { await browser?.close(); });

interface Result { class: number; probabilities: number[]; file: string; variant: string; shared: boolean; threads: number; bytes: number }

for (const coop of [true, false]) {
  test(`examples/infer.html classifies a digit with an int8 model: ${coop ? 'isolated, shared-memory kernels, 2 threads' : 'not isolated, 1 thread'}`, async () => {
    const srv = await serve(dir, coop);
    const { page, console: log } = await openPage(browser);
    const wasm: string[] = [];
    page.on('request', (r) => { if (r.url().endsWith('.wasm')) wasm.push(r.url().split('/').pop()!); });
    try {
      await page.goto(`${srv.url}examples/infer.html?model=model.int8.rede&image=digit.png`);
      const done = await waitFor<string>(page, "window.redeInfer?.error ? 'error: ' + window.redeInfer.error : window.redeInfer?.done ? 'done' : ''", 'the page to classify', 120_000, log);
      assert.equal(done, 'done');
      const r = await page.evaluate('window.redeInfer.result') as Result;
      assert.equal(r.class, label);
      assert.equal(r.threads, coop ? 2 : 1);
      assert.equal(r.shared, coop);
      assert.deepEqual(wasm, [r.file], `fetched ${wasm.join(', ')}`);
      assert.match(r.file, /^rede-infer-(relaxed-)?simd\.wasm$/); // shared or not: the same file
      assert.ok(r.probabilities.every((v, i) => Math.abs(v - want[i]) <= 1e-6), `${r.probabilities} vs ${Array.from(want)}`);
      assert.match(await page.locator('#result').textContent() ?? '', new RegExp(`^class ${label} \\(`));
      console.log(`# ${r.file} (${r.bytes} bytes), ${r.threads} thread(s): class ${r.class}`);
      assert.deepEqual(log.errors, [], log.all.join('\n'));
    } finally {
      await page.close();
      await srv.close();
    }
  });
}
