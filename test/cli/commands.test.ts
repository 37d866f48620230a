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
  // 6 channels of 28×28, enlarged ×3 to 84 px (the first whole factor reaching 64), in a 3×2 grid 4 px apart,
  // 4 px margins, a 13-px title strip and an 11-px caption under each row.
  assert.deepEqual([c1.width, c1.height], [4 + 3 * 84 + 2 * 4 + 4, 4 + 13 + 2 * (84 + 11) + 4 + 4]);
  // Every tile of every layer is at least 64 px a side: the logits' 10 units are 64×64 tiles in a 4×3 grid.
  const logits = decodePng(await readFile(join(out, '8-logits.png')));
  assert.deepEqual([logits.width, logits.height], [4 + 4 * 64 + 3 * 4 + 4, 4 + 13 + 3 * (64 + 11) + 2 * 4 + 4]);
  const named = await rede('viz', '--model', model, '--image', join(dir, 'digit.png'), '--out', out, '--labels', 'zero,one,two,three,four,five,six,seven,eight,nine', '--min-size', '100');
  assert.equal(named.code, 0, named.err);
  assert.match(named.out, /predicted (zero|one|two|three|four|five|six|seven|eight|nine)\n$/);
  assert.equal(decodePng(await readFile(join(out, '1-c1.png'))).width, 4 + 3 * 112 + 2 * 4 + 4, '28 × 4 = 112 >= 100');
  const badLabels = await rede('viz', '--model', model, '--image', join(dir, 'digit.png'), '--out', out, '--labels', 'a,b');
  assert.match(badLabels.err, /^rede: viz: --labels names 2 classes, the model has 10 outputs\n$/);
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
  // Keras' three totals: batch norm's running mean and variance are the non-trainable part (2 × 26,560 channels).
  assert.match(r.out, /^Total params: 25,610,152\nTrainable params: 25,557,032\nNon-trainable params: 53,120\n/m);
  for (const [name, params] of [['vgg11', '132,863,336'], ['vgg13', '133,047,848'], ['vgg16', '138,357,544'], ['vgg19', '143,667,240']]) {
    const v = await rede('summary', '--model', name);
    assert.equal(v.code, 0, v.err);
    assert.match(v.out, new RegExp(`^Model: ${name}   input \\[224, 224, 3\\]`));
    assert.match(v.out, new RegExp(`^Total params: ${params}\nTrainable params: ${params}\nNon-trainable params: 0\n`, 'm'));
  }
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
