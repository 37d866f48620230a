// rede predict on a model that knows its class names (as one trained on Fashion-MNIST does): the names are
// printed; files are recognized by their bytes, so a text file named .png and a broken PNG are one-line errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main';
import { Model } from '../../src/api/model';
import { encodeIdx } from '../../src/data/idx';
import { FASHION_MNIST_CLASS_NAMES } from '../../src/data/fashion-mnist';
import { encodeGreyPng } from '../../src/viz/png';
import { Rng } from '../helpers/rand';

let dir = '', model: Model;
const pixels = Uint8Array.from({ length: 784 }, (_, i) => (i * 37) % 256);
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rede-predict-'));
  model = await Model.create({ input: [28, 28, 1], layers: [{ type: 'conv2d', filters: 2, kernel: 4, stride: 4 }, { type: 'flatten' }, { type: 'dense', units: 10, activation: 'softmax' }] }, { seed: 2 });
  const rng = new Rng(1);
  for (const en of model.entries) model.setWeight(en.key, rng.array(en.n));
  model.classNames = FASHION_MNIST_CLASS_NAMES;
  await model.save(join(dir, 'f.rede'));
  await writeFile(join(dir, 'item.png'), encodeGreyPng(pixels, 28, 28));
  await writeFile(join(dir, 'items-idx3-ubyte'), encodeIdx({ dtype: 'u8', dims: [3, 28, 28], data: Uint8Array.from({ length: 3 * 784 }, (_, i) => pixels[i % 784]) }));
  await writeFile(join(dir, 'notes.png'), 'hello, I am text\n');
  await writeFile(join(dir, 'broken.png'), Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x01, 0xfe, 0x33, 0x7f));
  await writeFile(join(dir, 'notes.txt'), 'hello');
});
after(() => rm(dir, { recursive: true, force: true }));

async function rede(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const code = await main(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { isTTY: false, write: (s: string) => (err += s) } });
  return { code, out, err };
}

test('predict prints class names, e.g. "Trouser (class 1, probability 0.97)", for a PNG and for an IDX file', async () => {
  const p = model.predict(Float32Array.from(pixels, (v) => v / 255)), best = model.predictClasses(Float32Array.from(pixels, (v) => v / 255))[0];
  const r = await rede('predict', '--model', join(dir, 'f.rede'), join(dir, 'item.png'));
  assert.equal(r.code, 0, r.err);
  const lines = r.out.trim().split('\n');
  assert.equal(lines[0], `${join(dir, 'item.png')}: ${FASHION_MNIST_CLASS_NAMES[best]} (class ${best}, probability ${p[best].toFixed(4)})`);
  assert.equal(lines.length, 11);
  assert.match(lines[2], /^ {2}1 {2}\d\.\d{4} {2}Trouser$/);
  const idx = await rede('predict', '--model', join(dir, 'f.rede'), join(dir, 'items-idx3-ubyte'));
  assert.equal(idx.code, 0, idx.err);
  const rows = idx.out.trim().split('\n');
  assert.match(rows[0], /3 images \(index, class, probability, name\)$/);
  assert.deepEqual(rows[1].split('\t'), ['0', String(best), p[best].toFixed(4), FASHION_MNIST_CLASS_NAMES[best]]);
});

test('predict decides by the bytes: text named .png, a broken PNG, text of another name: one-line errors', async () => {
  const cases: [string, RegExp][] = [
    ['notes.png', /^rede: .*notes\.png: not a PNG image \(starts with "hello, I am "\.\.\.\)\n$/],
    ['broken.png', /^rede: .*broken\.png: not a valid PNG: bad chunk type at byte 12 \(01 fe 33 7f\)\n$/],
    ['notes.txt', /^rede: .*notes\.txt: neither a PNG image nor an IDX file \(starts with "hello"\)\n$/],
  ];
  for (const [file, re] of cases) {
    const r = await rede('predict', '--model', join(dir, 'f.rede'), join(dir, file));
    assert.equal(r.code, 1, file);
    assert.match(r.err, re, file);
  }
});
