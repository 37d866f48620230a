// The demo's backend switch in real Chromium: with ?backend=tfjs the page trains LeNet-5 on TensorFlow.js —
// WebGL (Chromium's software renderer, when headless Chromium offers WebGL) or tfjs's cpu backend (its wasm
// backend has no conv gradients, so the page skips it for training) — and says which tfjs backend and device
// it used; then the switch moves the same model (weights, optimizer state, step count) to rede's wasm engine,
// which trains on, and the page shows the examples/s of both. No console errors.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildForTest, launch, openPage, serve, waitFor, type Browser } from './browser';

const QUERY = '?backend=tfjs&autostart=1&batch=8&lr=0.02&train=64&heldout=16&evalEvery=2&maxSteps=3';

let dir = '', browser: Browser;
before(async () => {
  dir = (await buildForTest('backend')).dir;
  browser = await launch();
});
after(async () => { await browser?.close(); });

interface State {
  phase: string; step: number; backend: string; tfjsBackend: string | null; device: string; speeds: Record<string, number>;
  lossEma: number; evals: { step: number; loss: number; accuracy: number }[]; error: string | null;
}
const paused = (steps: number) => `(() => { const s = window.redeDemo?.state; if (!s) return ''; if (s.error) return 'error: ' + s.error;
  return s.phase === 'paused' && s.step >= ${steps} ? 'paused' : ''; })()`;

test('?backend=tfjs trains a few steps on tfjs and says which tfjs backend ran; the switch moves the model to rede wasm, which trains on', async () => {
  const srv = await serve(dir, false);
  const { page, console: log } = await openPage(browser);
  try {
    await page.goto(`${srv.url}${QUERY}`);
    assert.equal(await waitFor<string>(page, paused(3), 'three tfjs steps', 240_000, log), 'paused');
    const s = await page.evaluate('window.redeDemo.state') as State;
    assert.ok(s.tfjsBackend === 'webgl' || s.tfjsBackend === 'cpu' || s.tfjsBackend === 'webgpu', `tfjs backend ${s.tfjsBackend}`);
    assert.equal(s.backend, `tfjs ${s.tfjsBackend}`);
    const note = await page.locator('#threading').textContent();
    assert.match(note ?? '', new RegExp(`TensorFlow\\.js trains here: tfjs ${s.tfjsBackend} backend on (CPU|GPU)`));
    assert.match(await page.locator('#s-engine').textContent() ?? '', new RegExp(`backend: tfjs ${s.tfjsBackend} on `));
    assert.ok(Number.isFinite(s.lossEma) && s.lossEma > 0, `training loss ${s.lossEma}`);
    assert.ok(s.evals.length >= 1 && s.evals.every((e) => Number.isFinite(e.loss)), 'held-out evaluation ran through tfjs');
    assert.ok(s.speeds[s.backend] > 0, `examples/s of ${s.backend}: ${JSON.stringify(s.speeds)}`);
    assert.equal(await page.evaluate('window.redeDemo.model.trainer.optimizer.t'), 3);
    console.log(`# tfjs in Chromium: ${s.backend} on ${s.device}, ${s.speeds[s.backend].toFixed(1)} examples/s`);

    // Switch to rede's engine while paused (it takes effect on resume, between fits), three more steps.
    await page.selectOption('#backend', 'wasm');
    await page.evaluate('window.redeDemo.opts.maxSteps = 6');
    await page.click('#start');
    assert.equal(await waitFor<string>(page, paused(6), 'three wasm steps', 120_000, log), 'paused');
    const w = await page.evaluate('window.redeDemo.state') as State;
    assert.match(w.backend, /^wasm /);
    assert.equal(await page.evaluate('window.redeDemo.model.backend'), 'wasm');
    // The optimizer's step count (its state and the weights travel with it in the .rede bytes) goes on.
    assert.equal(await page.evaluate('window.redeDemo.model.trainer.optimizer.t'), 6, 'the model moved: 3 steps on tfjs + 3 on wasm');
    assert.ok(w.speeds['rede wasm × 1'] > 0 && w.speeds[s.backend] > 0, JSON.stringify(w.speeds));
    assert.match(await page.locator('#s-backends').textContent() ?? '', new RegExp(`examples/s by backend: ${s.backend.replace('.', '\\.')} \\d[\\d,]* · rede wasm × 1 \\d[\\d,]*`));
    console.log(`# then rede wasm × 1: ${w.speeds['rede wasm × 1'].toFixed(1)} examples/s`);
    assert.deepEqual(log.errors, [], log.all.join('\n'));
  } finally {
    await page.close();
    await srv.close();
  }
});
