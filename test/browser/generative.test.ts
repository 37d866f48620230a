// The generative page (demo/generative.html) in real Chromium. Served with COOP/COEP: the autoencoder and the
// GAN train on 2 worker threads; the code plane shows the held-out digits coloured by class; moving the pointer
// over the plane decodes a different image (while training, and while paused); the GAN's grid changes between
// two reads. Served without them: it trains on the main thread. No console errors either way. Screenshots go
// to artifacts/browser/ (and, with REDE_UPDATE_SCREENSHOT=1, the isolated one to docs/img/generative.png).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { buildForTest, launch, openPage, root, serve, waitFor, type Browser } from './browser';

const artifacts = join(root, 'artifacts/browser');
const QUERY = 'generative.html?autostart=1&train=2000&plane=500';
// Turns (one autoencoder step and one GAN iteration each) before the pointer checks: enough for a plane whose
// classes separate. Refreshing the committed screenshot trains longer, for a clearer picture (run it with a
// larger --test-timeout).
const TURNS = process.env.REDE_UPDATE_SCREENSHOT ? 1500 : 250;

let dir = '', browser: Browser;
before(async () => {
  dir = (await buildForTest('generative')).dir;
  await mkdir(artifacts, { recursive: true });
  browser = await launch();
});
after(async () => { await browser?.close(); });

interface GenState {
  phase: string; threaded: boolean; workers: number; turn: number; aeStep: number; aeLoss: number; aeFirstLoss: number;
  ganStep: number; dLoss: number; gLoss: number; planeVersion: number; planePoints: number;
  decoded: { code: [number, number]; pixels: number[] } | null; gridVersion: number; error: string | null;
}
const genState = (page: Page) => page.evaluate('window.redeGenerative.state') as Promise<GenState>;

/** Keeps a copy of a canvas's RGBA bytes in the page, as window.__kept[key] (big arrays stay there: moving them out is slow). */
const keep = (page: Page, id: string, key: string) => page.evaluate(`(() => { const c = document.getElementById('${id}');
  (window.__kept ??= {})['${key}'] = c.getContext('2d').getImageData(0, 0, c.width, c.height).data.slice(); return window.__kept['${key}'].length; })()`) as Promise<number>;
/** How many bytes of two kept copies differ. */
const bytesChanged = (page: Page, a: string, b: string) => page.evaluate(`(() => { const x = window.__kept['${a}'], y = window.__kept['${b}'];
  if (x.length !== y.length) return -1; let n = 0; for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) n++; return n; })()`) as Promise<number>;

/** Moves the pointer to the canvas point of a code. */
async function pointAt(page: Page, code: [number, number]): Promise<void> {
  const box = (await page.locator('#plane').boundingBox())!;
  const e = await page.evaluate('window.redeGenerative.state.extent') as { x0: number; x1: number; y0: number; y1: number };
  await page.mouse.move(box.x + ((code[0] - e.x0) / (e.x1 - e.x0)) * box.width, box.y + ((e.y1 - code[1]) / (e.y1 - e.y0)) * box.height, { steps: 4 });
}

/** The mean code of each class's shown digits. */
async function classMeans(page: Page): Promise<[number, number][]> {
  return page.evaluate(`(() => { const c = window.redeGenerative.planeCodes, s = window.redeGenerative.state, n = s.planePoints;
    const labels = window.redeGenerative.labels, m = Array.from({ length: 10 }, () => [0, 0, 0]);
    for (let i = 0; i < n; i++) { const k = labels[i]; m[k][0] += c[2 * i]; m[k][1] += c[2 * i + 1]; m[k][2]++; }
    return m.map(([x, y, k]) => [x / k, y / k]); })()`) as Promise<[number, number][]>;
}

const meanAbsDiff = (a: number[], b: number[]) => a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0) / a.length;

test('with COOP/COEP: both models train on 2 workers; the plane, the pointer decoding and the GAN grid work', async () => {
  const srv = await serve(dir, true);
  const { page, console: log } = await openPage(browser);
  try {
    await page.goto(`${srv.url}${QUERY}&workers=2&maxSteps=${TURNS}`);
    const t0 = Date.now();
    await waitFor(page, `(() => { const s = window.redeGenerative?.state; return s && (s.error || (s.turn >= 60 && s.gridVersion >= 3)); })()`, '60 turns', 120_000, log);
    let s = await genState(page);
    assert.equal(s.error, null);
    assert.equal(await page.evaluate('crossOriginIsolated'), true);
    assert.equal(s.threaded, true);
    assert.equal(s.workers, 2);
    assert.match((await page.textContent('#threading'))!, /split across 2 worker threads/);

    // The GAN grid changes between two reads while it trains.
    assert.equal(await keep(page, 'gan-grid', 'gridA'), 224 * 224 * 4);
    const versionA = s.gridVersion;
    await waitFor(page, `window.redeGenerative.state.gridVersion >= ${versionA + 2} || window.redeGenerative.state.error`, 'two more GAN grids', 60_000, log);
    await keep(page, 'gan-grid', 'gridB');
    const changed = await bytesChanged(page, 'gridA', 'gridB');
    assert.ok(changed > 1000, `only ${changed} grid bytes changed between two reads`);

    // A pointer move while training is decoded when the step in flight ends.
    await page.waitForFunction('window.redeGenerative.state.planeVersion >= 2');
    await pointAt(page, [0, 0]);
    await waitFor(page, 'window.redeGenerative.state.decoded', 'a decoded image while training', 10_000, log);

    // Let the autoencoder learn a plane, then pause through the page's button.
    await waitFor(page, `window.redeGenerative.state.phase === 'paused' || window.redeGenerative.state.error`, `${TURNS} turns`, 400 * TURNS, log);
    s = await genState(page);
    console.log(`# isolated: ${TURNS} turns in ${((Date.now() - t0) / 1000).toFixed(1)} s on ${s.workers} workers; reconstruction loss ${s.aeFirstLoss.toFixed(3)} → ${s.aeLoss.toFixed(3)}`);
    assert.equal(s.error, null);
    assert.equal(s.turn, TURNS);
    assert.equal(s.aeStep, TURNS);
    assert.equal(s.ganStep, TURNS);
    assert.ok(s.aeLoss < 0.6 * s.aeFirstLoss, `reconstruction loss ${s.aeFirstLoss} → ${s.aeLoss}`);
    assert.ok(Number.isFinite(s.dLoss) && Number.isFinite(s.gLoss), `GAN losses ${s.dLoss}, ${s.gLoss}`);

    // The code plane renders: one dot per shown digit, in the classes' colours (most of the ten present).
    assert.equal(s.planePoints, 500);
    const seen = await page.evaluate(`(() => { const c = document.getElementById('plane'), d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      return window.redeGenerative.colours.map(([r, g, b]) => { let n = 0;
        for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - r) + Math.abs(d[i + 1] - g) + Math.abs(d[i + 2] - b) < 40) n++; return n; }); })()`) as number[];
    assert.ok(seen.filter((n) => n > 20).length >= 8, `pixels near each class colour: ${seen.join(' ')}`);

    // Moving the pointer changes the decoded image: from the mean code of the 0s to that of the 1s.
    const means = await classMeans(page);
    await pointAt(page, means[0]);
    await page.waitForFunction(`window.redeGenerative.state.decoded && Math.abs(window.redeGenerative.state.decoded.code[0] - ${means[0][0]}) < 0.1 * Math.abs(window.redeGenerative.state.extent.x1 - window.redeGenerative.state.extent.x0)`);
    const zero = (await genState(page)).decoded!;
    await keep(page, 'decoded', 'zero');
    await pointAt(page, means[1]);
    await page.waitForFunction(`Math.abs(window.redeGenerative.state.decoded.code[0] - ${zero.code[0]}) + Math.abs(window.redeGenerative.state.decoded.code[1] - ${zero.code[1]}) > 0`);
    const one = (await genState(page)).decoded!;
    await keep(page, 'decoded', 'one');
    assert.equal(one.pixels.length, 784);
    assert.ok(one.pixels.every((v) => v >= 0 && v <= 1));
    const diff = meanAbsDiff(zero.pixels, one.pixels);
    assert.ok(diff > 0.05, `decoded images at the 0s' and the 1s' mean codes differ by only ${diff} per pixel`);
    assert.ok(await bytesChanged(page, 'zero', 'one') > 100, 'the decoded canvas changed');
    // A 0 has more ink than a 1.
    const ink = (p: number[]) => p.reduce((a, b) => a + b, 0);
    assert.ok(ink(zero.pixels) > ink(one.pixels), `ink at the 0s' code ${ink(zero.pixels).toFixed(1)}, at the 1s' ${ink(one.pixels).toFixed(1)}`);

    await pointAt(page, means[7]);
    await page.waitForTimeout(200);
    await page.screenshot({ path: join(artifacts, 'generative-isolated.png'), fullPage: true });
    if (process.env.REDE_UPDATE_SCREENSHOT) await copyFile(join(artifacts, 'generative-isolated.png'), join(root, 'docs/img/generative.png'));
    assert.deepEqual(log.errors, [], log.all.join('\n'));
    assert.deepEqual(log.warnings, [], log.all.join('\n'));
  } finally {
    await page.close();
    await srv.close();
  }
});

test('without COOP/COEP: the page says it is single-threaded and both models train on the main thread', async () => {
  const srv = await serve(dir, false);
  const { page, console: log } = await openPage(browser);
  try {
    await page.goto(`${srv.url}${QUERY}&maxSteps=50`);
    await waitFor(page, `(() => { const s = window.redeGenerative?.state; return s && (s.error || s.phase === 'paused'); })()`, '50 turns', 120_000, log);
    const s = await genState(page);
    assert.equal(s.error, null);
    assert.equal(await page.evaluate('crossOriginIsolated'), false);
    assert.equal(s.threaded, false);
    assert.equal(s.workers, 1);
    assert.match((await page.textContent('#threading'))!, /^Single-threaded/);
    assert.equal(s.aeStep, 50);
    assert.equal(s.ganStep, 50);
    assert.ok(s.aeLoss < s.aeFirstLoss, `reconstruction loss ${s.aeFirstLoss} → ${s.aeLoss}`);
    assert.ok(s.gridVersion >= 5 && s.planeVersion >= 2);
    assert.deepEqual(log.errors, [], log.all.join('\n'));
    await page.screenshot({ path: join(artifacts, 'generative-single-threaded.png'), fullPage: true });
  } finally {
    await page.close();
    await srv.close();
  }
});
