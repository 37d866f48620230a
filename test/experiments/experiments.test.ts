// The lecture's experiments in their quick settings: each must finish, write its report, plots and data,
// and show the direction of its effect (its checks). Needs Fashion-MNIST (apt-get install dataset-fashion-mnist).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXPERIMENTS, runExperiment } from '../../src/experiments/index';

const out = mkdtempSync(join(tmpdir(), 'rede-experiments-'));
test.after(() => rmSync(out, { recursive: true, force: true }));

async function quick(name: string) {
  const lines: string[] = [];
  const r = await runExperiment(name, { quick: true, outDir: out, seed: 1, log: (l) => lines.push(l) });
  assert.equal(r.name, name);
  assert.ok(lines.length > 0, 'progress is logged');
  for (const f of r.files) assert.ok(existsSync(f), `${f} written`);
  assert.ok(r.files.some((f) => f.endsWith(`${name}.md`)) && r.files.some((f) => f.endsWith('.svg')) && r.files.some((f) => f.endsWith(`${name}.json`)));
  const md = readFileSync(join(out, `${name}.md`), 'utf8');
  assert.ok(md.includes(r.table), 'the report holds the table');
  for (const f of r.files.filter((p) => p.endsWith('.svg'))) assert.match(readFileSync(f, 'utf8'), /^<svg [^>]*>[\s\S]*<\/svg>\n$/);
  assert.ok(r.checks.length >= 2);
  for (const c of r.checks) assert.ok(c.passed, `${name}: ${c.claim} (${c.detail})`);
  assert.ok(JSON.parse(readFileSync(join(out, `${name}.json`), 'utf8')).seed === 1);
  return r;
}

test('feature-extraction (quick): the CNN beats PCA + softmax regression', async () => {
  const r = await quick('feature-extraction');
  assert.match(r.table, /\| PCA k=10 +\| +10 \| softmax regression/);
  assert.match(r.table, /\| hand-made +\| +241 \|/);
  assert.match(r.table, /\| learned \(CNN\)/);
  assert.equal(r.table.split('\n').length, 2 + 2 + 8 + 2 + 1);
});

test('vanishing-gradient (quick): sigmoid\'s first/last gradient ratio is far below ReLU+BN\'s', async () => {
  const r = await quick('vanishing-gradient');
  assert.equal(r.table.split('\n').length, 2 + 2 * 2 * 6);
  assert.ok(r.checks.some((c) => /MLP-20: sigmoid/.test(c.claim)) && r.checks.some((c) => /CNN-20: sigmoid/.test(c.claim)));
});

test('overfitting (quick): all regularizers together beat none on test accuracy', async () => {
  const r = await quick('overfitting');
  assert.match(r.table, /\| none +\| +100\.0% \|/, 'the unregularized CNN memorizes its training images');
});

test('autoencoder-vs-pca (quick): the autoencoder beats PCA at a 2-number code; the convolutional one learns; grids and codes written', async () => {
  const r = await quick('autoencoder-vs-pca');
  assert.equal(r.table.split('\n').length, 2 + 2 * 3, 'two data sets × (two dense code sizes + the convolutional row)');
  assert.equal((r.table.match(/\| conv +\| +30 \|/g) ?? []).length, 2, 'a convolutional row at code 30 per data set');
  assert.ok(r.checks.some((c) => /convolutional autoencoder's test error falls/.test(c.claim)));
  for (const name of ['digits', 'fashion']) {
    const png = readFileSync(join(out, `autoencoder-${name}-reconstructions.png`));
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    // 8 images of 28×2 px + gutters across, four rows (originals, dense autoencoder, convolutional, PCA) down.
    assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [8 * 58 + 2, 4 * 58 + 2]);
  }
  const svg = readFileSync(join(out, 'autoencoder-codes.svg'), 'utf8');
  assert.ok((svg.match(/<circle /g) ?? []).length >= 4 * 500, 'every test image is a point in each of the four code planes');
});

test('gan (quick): GAN and conditional GAN train, their samples move toward the real images, grids written', async () => {
  const r = await quick('gan');
  assert.match(r.table, /\| digits +\| real \(held-out\) +\|/);
  assert.match(r.table, /\| digits +\| GAN +\|/);
  assert.match(r.table, /\| digits +\| conditional GAN +\|/);
  for (const v of ['gan', 'cgan']) for (const epoch of ['01', '02']) {
    const png = readFileSync(join(out, `gan-digits-${v}-epoch${epoch}.png`));
    assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [10 * 58 + 2, 10 * 58 + 2], 'a 10 × 10 grid of 2×-scaled samples');
  }
  const data = JSON.parse(readFileSync(join(out, 'gan.json'), 'utf8'));
  assert.equal(data.runs.length, 2);
  for (const run of data.runs) assert.deepEqual(run.epochs, [1, 2]);
});

test('runExperiment names the experiments it knows', async () => {
  assert.deepEqual(Object.keys(EXPERIMENTS), ['feature-extraction', 'vanishing-gradient', 'overfitting', 'gan', 'autoencoder-vs-pca', 'adding-problem', 'captioning']);
  await assert.rejects(runExperiment('nope'), /unknown experiment 'nope' \(expected feature-extraction, vanishing-gradient, overfitting, gan, autoencoder-vs-pca, adding-problem, captioning\)/);
  await assert.rejects(runExperiment('overfitting', { seed: 1.5 }), /seed must be an integer, got 1.5/);
});

test('adding-problem (quick): the gated cells beat the simple RNN at T = 30 and carry the gradient back to step 1', async () => {
  const r = await quick('adding-problem');
  assert.equal(r.table.split('\n').length, 2 + 2 * 3, 'two lengths × three cells');
  assert.ok(readFileSync(join(out, 'adding-problem.svg'), 'utf8').includes('‖∂L/∂h_t‖ over t, T = 30'));
  const data = JSON.parse(readFileSync(join(out, 'adding-problem.json'), 'utf8'));
  assert.equal(data.runs.length, 6);
  for (const run of data.runs) assert.equal(run.trainedGrads.length, run.T, 'one state gradient norm per step');
});
