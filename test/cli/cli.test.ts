// rede's command line, in process through main() with captured streams, plus one real process for the
// exit status and the one-line error. Data: 1,200 embedded digits written out as an IDX directory.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { main } from '../../src/cli/main';
import { optimizerSpec, augmentFor } from '../../src/cli/commands/train';
import { encodeIdx } from '../../src/data/idx';
import { mnistDigits } from '../../src/data/mnist';
import type { Dataset } from '../../src/data/dataset';
import { Model } from '../../src/api/model';
import { softmaxRows } from '../../src/cli/commands/predict';

let dir = '';
let test200: Dataset;

const bytesOf = (ds: Dataset, n: number) => Uint8Array.from(ds.x.subarray(0, n * 784), (v) => Math.round(v * 255));

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rede-cli-'));
  const digits = await mnistDigits();
  test200 = { ...digits.test, x: digits.test.x.subarray(0, 200 * 784), y: digits.test.y.subarray(0, 200) };
  const write = (name: string, ds: Dataset, n: number) => Promise.all([
    writeFile(join(dir, `${name}-images-idx3-ubyte`), encodeIdx({ dtype: 'u8', dims: [n, 28, 28], data: bytesOf(ds, n) })),
    writeFile(join(dir, `${name}-labels-idx1-ubyte`), encodeIdx({ dtype: 'u8', dims: [n], data: Uint8Array.from(ds.y.subarray(0, n)) })),
  ]);
  await write('train', digits.train, 1000);
  await write('t10k', digits.test, 200);
});
after(() => rm(dir, { recursive: true, force: true }));

async function rede(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const code = await main(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { isTTY: false, write: (s: string) => (err += s) } });
  return { code, out, err };
}

test('summary of lenet5 prints its layers and 61,706 parameters', async () => {
  const r = await rede('summary', '--model', 'lenet5');
  assert.equal(r.code, 0);
  assert.match(r.out, /Total params: 61,706/);
  assert.match(r.out, /c3 \(conv2d\)\s+\[10, 10, 16\]\s+2,416/);
  const rgb = await rede('summary', '--model', 'lenet5', '--input', '32,32,3', '--classes', '100');
  assert.match(rgb.out, /logits \(dense\)\s+\[100\]/);
});

test('summary reads a model config JSON', async () => {
  const path = join(dir, 'mlp.json');
  await writeFile(path, JSON.stringify({ name: 'mlp', input: [4], layers: [{ type: 'dense', units: 3, activation: 'relu' }, { type: 'dense', units: 2 }] }));
  const r = await rede('summary', '--model', path);
  assert.equal(r.code, 0);
  assert.match(r.out, /Model: mlp/);
  assert.match(r.out, /Total params: 23\nTrainable params: 23\nNon-trainable params: 0\n/);
});

test('train → eval → predict on an IDX directory', async () => {
  const out = join(dir, 'm.rede');
  const t = await rede('train', '--model', 'lenet5', '--data', dir, '--epochs', '3', '--batch-size', '32', '--optimizer', 'momentum',
    '--lr', '0.02', '--seed', '3', '--out', out);
  assert.equal(t.code, 0, t.err);
  assert.match(t.err, /lenet5 \(61,706 parameters, engine [\w-]+\) on .*train: 1,000 training examples; sgd momentum 0\.9 lr 0\.02 cosine, batch 32, 3 epochs, seed 3/);
  const epochs = t.err.split('\n').filter((l) => l.startsWith('epoch '));
  assert.equal(epochs.length, 3);
  assert.match(epochs[2], /^epoch 3\/3  loss \d\.\d{4}  acc \d\.\d{4}  val_loss \d\.\d{4}  val_acc \d\.\d{4}  [\d.]+ s  [\d,]+ ex\/s$/);
  assert.ok(!t.err.includes('\r'), 'no live bar when stderr is not a terminal');
  const acc = Number(/test accuracy (\d\.\d{4})/.exec(t.out)![1]);
  assert.ok(acc > 0.7, `1,000 digits × 3 epochs should pass 0.7, got ${acc}`);
  assert.ok(existsSync(out));

  // eval reproduces train's held-out number from the saved file.
  const e = await rede('eval', '--model', out, '--data', dir);
  assert.equal(e.code, 0, e.err);
  assert.match(e.out, new RegExp(`^accuracy ${acc.toFixed(4)}  loss \\d\\.\\d{4}  \\(200 examples of .*test\\)\\n$`));

  // predict on one PNG agrees with the library on the same pixels.
  const model = await Model.load(out);
  const x = test200.x.subarray(0, 784);
  const expected = softmaxRows(model.predict(x), 10);
  const png = join(dir, 'digit.png');
  await writeFile(png, greyPng(28, 28, Uint8Array.from(x, (v) => Math.round(v * 255))));
  const p = await rede('predict', '--model', out, png);
  assert.equal(p.code, 0, p.err);
  const best = expected.indexOf(Math.max(...expected));
  assert.match(p.out, new RegExp(`digit\\.png: class ${best} \\(probability ${expected[best].toFixed(4)}\\)`));
  const probs = p.out.trim().split('\n').slice(1).map((l) => Number(l.trim().split(/\s+/)[1]));
  assert.equal(probs.length, 10);
  probs.forEach((v, c) => assert.ok(Math.abs(v - expected[c]) < 1e-4, `class ${c}: ${v} vs ${expected[c]}`));
  assert.equal(p.err, '', 'a dark background gets no --invert note');

  // …and on the IDX images file: one line per image.
  const idx = await rede('predict', '--model', out, join(dir, 't10k-images-idx3-ubyte'));
  const lines = idx.out.trim().split('\n');
  assert.equal(lines.length, 201);
  assert.equal(lines[1].split('\t')[1], String(best));

  // A 56×56 dark-on-light copy: resized, and the note suggests --invert.
  const big = new Uint8Array(56 * 56);
  for (let y = 0; y < 56; y++) for (let xx = 0; xx < 56; xx++) big[y * 56 + xx] = 255 - Math.round(x[(y >> 1) * 28 + (xx >> 1)] * 255);
  await writeFile(png, greyPng(56, 56, big));
  const inv = await rede('predict', '--model', out, '--invert', png);
  assert.match(inv.out, /class \d/);
  const note = await rede('predict', '--model', out, png);
  assert.match(note.err, /light background.*--invert/);
});

test('train with --validation-split and --subset validates on the held-out part', async () => {
  const r = await rede('train', '--data', dir, '--subset', '300', '--validation-split', '0.2', '--epochs', '1', '--optimizer', 'adam', '--schedule', 'constant');
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /240 training examples, 60 held out for validation; adam lr 0\.001, batch 32/);
  assert.match(r.err, /epoch 1\/1 .* val_acc /);
  assert.match(r.out, /test accuracy/);
});

test('on a terminal, train draws the live bar on stderr and keeps stdout clean', async () => {
  let out = '', err = '';
  const code = await main(['train', '--data', dir, '--subset', '200', '--epochs', '1', '--batch-size', '20'], {
    stdout: { write: (s: string) => (out += s) }, stderr: { isTTY: true, columns: 200, write: (s: string) => (err += s) },
  });
  assert.equal(code, 0, err);
  assert.match(err, /\repoch 1\/1 \[={24}\] 10\/10  ETA 0:00  loss \d\.\d{4}  acc \d\.\d{4}  [\d,]+ ex\/s\x1b\[K/);
  assert.match(err, /\r\x1b\[Kepoch 1\/1  loss .* val_acc \d\.\d{4}/);
  assert.ok(!out.includes('\r') && /^test accuracy/.test(out));
});

test('optimizer names map to optimizer configs', () => {
  assert.deepEqual(optimizerSpec('sgd', undefined, undefined), { type: 'sgd', lr: 0.1 });
  assert.deepEqual(optimizerSpec('momentum', 0.05, undefined), { type: 'sgd', lr: 0.05, momentum: 0.9 });
  assert.deepEqual(optimizerSpec('nesterov', undefined, 0.8), { type: 'sgd', lr: 0.02, momentum: 0.8, nesterov: true });
  assert.deepEqual(optimizerSpec('rmsprop', undefined, undefined), { type: 'rmsprop', lr: 0.001, momentum: 0 });
  assert.deepEqual(optimizerSpec('adamw', 0.003, undefined), { type: 'adamw', lr: 0.003 });
  assert.equal(augmentFor('mnist').flip, undefined);
  assert.equal(augmentFor('fashion-mnist').flip, true);
});

test('bad input is one line `rede: …` and status 1', async () => {
  const cases: [string[], RegExp][] = [
    [['frobnicate'], /^rede: unknown command 'frobnicate' \(expected train, eval, predict, summary, viz, experiment, generate, bench, export, import, quantize\)\n$/],
    [['train', '--bogus'], /^rede: train: unknown option '--bogus' \(see 'rede train --help'\)\n$/],
    [['train', '--epochs', '0'], /^rede: train: --epochs must be a positive integer, got 0\n$/],
    [['train', '--epochs', '-1'], /^rede: train: --epochs must be a positive integer, got -1\n$/],
    [['train', '--epochs=-1'], /^rede: train: --epochs must be a positive integer, got -1\n$/],
    [['train', '--lr', '-0.1'], /^rede: train: --lr must be a positive number, got -0\.1\n$/],
    [['train', '--lr', '-.5e-3'], /^rede: train: --lr must be a positive number, got -\.5e-3\n$/],
    [['train', '--lr', 'fast'], /^rede: train: --lr must be a positive number, got 'fast'\n$/],
    [['train', '--momentum', '1.5'], /^rede: train: --momentum must be a number in \[0, 1\], got 1\.5\n$/],
    [['train', '--validation-split', '0'], /^rede: train: --validation-split must be a number in \(0, 0\.9\], got 0\n$/],
    [['train', '--seed', '-3'], /^rede: train: --seed must be a non-negative integer, got -3\n$/],
    [['train', '--epochs'], /^rede: train: option '--epochs <value>' argument missing \(see 'rede train --help'\)\n$/],
    [['train', '--data', '-1'], /^rede: train: --data '-1' is neither/],
    [['train', '--optimizer', 'lbfgs'], /^rede: train: unknown optimizer 'lbfgs' \(expected sgd, momentum, nesterov, rmsprop, adam, adamw\)\n$/],
    [['train', '--data', '/no/such/dir'], /^rede: train: --data '\/no\/such\/dir' is neither 'mnist', 'fashion-mnist' nor a directory of IDX files\n$/],
    [['train', '--data', dir, '--subset', '5000'], /^rede: train: --subset 5000 is more than the 1,000 examples of /],
    [['train', '--data', dir, '--model', 'resnet9000'], /^rede: train: unknown model 'resnet9000' \(expected one of lenet5/],
    [['eval', '--data', dir], /^rede: eval: --model FILE\.rede is required/],
    [['eval', '--model', join(dir, 'missing.rede'), '--data', dir], /^rede: .*missing\.rede/],
    [['predict', '--model', join(dir, 'missing.rede')], /^rede: predict: give at least one image/],
    [['summary', '--model', 'lenet5', '--input', '28,x,1'], /^rede: summary: --input must be a positive integer, got 'x'\n$/],
  ];
  for (const [argv, re] of cases) {
    const r = await rede(...argv);
    assert.equal(r.code, 1, argv.join(' '));
    assert.equal(r.out, '');
    assert.match(r.err, re, argv.join(' '));
    assert.equal(r.err.split('\n').length, 2, `one line: ${r.err}`);
  }
});

test('help goes to stdout with status 0; no command prints usage to stderr with status 1', async () => {
  const h = await rede('train', '--help');
  assert.equal(h.code, 0);
  assert.match(h.out, /^usage: rede train/);
  assert.match((await rede('--help')).out, /train .*\n.*eval/);
  const none = await rede();
  assert.equal(none.code, 1);
  assert.match(none.err, /^usage: rede <command>/);
});

test('as a process: a RedeError exits 1 with one line and no stack', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'eval', '--model', join(dir, 'nope.rede'), '--data', dir], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^rede: [^\n]*nope\.rede[^\n]*\n$/);
});

/** A minimal 8-bit greyscale PNG (filter 0, no CRC check needed by rede's decoder, but written anyway). */
function greyPng(w: number, h: number, px: Uint8Array): Uint8Array {
  const raw = new Uint8Array(h * (w + 1));
  for (let y = 0; y < h; y++) raw.set(px.subarray(y * w, (y + 1) * w), y * (w + 1) + 1);
  const chunk = (type: string, body: Uint8Array) => {
    const c = Buffer.alloc(12 + body.length);
    c.writeUInt32BE(body.length, 0); c.write(type, 4, 'latin1'); c.set(body, 8);
    return c; // CRC left 0: rede does not check it
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4); ihdr[8] = 8; ihdr[9] = 0;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}
