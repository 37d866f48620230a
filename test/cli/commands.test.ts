// The commands built on the others' work: viz (filters and feature maps as PNG), experiment, train --plot and
// --workers, and summary at a zoo model's own input size.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main';
import { encodeIdx } from '../../src/data/idx';
import { mnistDigits } from '../../src/data/mnist';
import { decodePng } from '../../src/cli/png';
import { encodeGreyPng } from '../../src/viz/png';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rede-cmd-'));
  const d = await mnistDigits();
  const bytes = (x: Float32Array, n: number) => Uint8Array.from(x.subarray(0, n * 784), (v) => Math.round(v * 255));
  await writeFile(join(dir, 'train-images-idx3-ubyte'), encodeIdx({ dtype: 'u8', dims: [512, 28, 28], data: bytes(d.train.x, 512) }));
  await writeFile(join(dir, 'train-labels-idx1-ubyte'), encodeIdx({ dtype: 'u8', dims: [512], data: Uint8Array.from(d.train.y.subarray(0, 512)) }));
  await writeFile(join(dir, 't10k-images-idx3-ubyte'), encodeIdx({ dtype: 'u8', dims: [128, 28, 28], data: bytes(d.test.x, 128) }));
  await writeFile(join(dir, 't10k-labels-idx1-ubyte'), encodeIdx({ dtype: 'u8', dims: [128], data: Uint8Array.from(d.test.y.subarray(0, 128)) }));
  await writeFile(join(dir, 'digit.png'), encodeGreyPng(bytes(d.test.x, 1), 28, 28));
});
after(() => rm(dir, { recursive: true, force: true }));

async function rede(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const code = await main(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { isTTY: false, write: (s: string) => (err += s) } });
  return { code, out, err };
}

test('train --plot writes learning curves; train --workers 2 trains; viz writes filters and every layer as PNG', async () => {
  const model = join(dir, 'm.rede'), plot = join(dir, 'curves.svg');
  const r = await rede('train', '--data', dir, '--epochs', '2', '--batch-size', '64', '--workers', '2', '--out', model, '--plot', plot);
  assert.equal(r.code, 0, r.err);
  const svg = await readFile(plot, 'utf8');
  assert.match(svg, /^<svg/);
  assert.match(svg, /learning curves/);
  assert.match(svg, /held-out/);

  const out = join(dir, 'viz');
  const v = await rede('viz', '--model', model, '--image', join(dir, 'digit.png'), '--out', out);
  assert.equal(v.code, 0, v.err);
  const files = (await readdir(out)).sort();
  assert.ok(files.includes('filters-c1.png'), files.join(' '));
  assert.ok(files.includes('1-c1.png') && files.includes('8-logits.png'), files.join(' '));
  const c1 = decodePng(await readFile(join(out, '1-c1.png')));
  // 6 channels of 28×28 at scale 4 in a 3×2 grid with 1-pixel gaps.
  assert.deepEqual([c1.width, c1.height], [3 * 113 - 1, 2 * 113 - 1]);
  assert.match(v.out, /predicted class \d/);
});

test('train --plot refuses a non-SVG name, as one line', async () => {
  const r = await rede('train', '--data', dir, '--epochs', '1', '--plot', join(dir, 'x.png'));
  assert.equal(r.code, 1);
  assert.match(r.err, /^rede: train: --plot writes SVG/);
});

test('summary of a zoo model uses its own input size unless told otherwise', async () => {
  const r = await rede('summary', '--model', 'resnet50');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /input \[224, 224, 3\]/);
  assert.match(r.out, /Total params: 25,557,032/);
});

test('experiment runs a quick experiment and reports its checks; an unknown one is a one-line error', async () => {
  const out = join(dir, 'exp');
  const r = await rede('experiment', 'vanishing-gradient', '--quick', '--out', out);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /PASS: /);
  assert.doesNotMatch(r.out, /FAIL: /);
  assert.ok((await readdir(out)).some((f) => f.endsWith('.svg')));
  const bad = await rede('experiment', 'nope');
  assert.equal(bad.code, 1);
  assert.match(bad.err, /^rede: .*nope/);
});
