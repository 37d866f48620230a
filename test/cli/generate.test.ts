// rede generate: a saved generator's samples as one PNG grid; conditional generators get a one-hot class in
// their last --classes inputs; bad options and unfit models are refused before any work.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main';
import { Model } from '../../src/api/model';
import { generatorConfig } from '../../src/experiments/gan';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rede-gen-'));
  await (await Model.create(generatorConfig({ latent: 8, g: 4, d: 4 }, true), { seed: 1 })).save(join(dir, 'cgan.rede'));
  await (await Model.create({ input: [8], layers: [{ type: 'dense', units: 10 }] }, { seed: 1 })).save(join(dir, 'flat.rede'));
});
after(() => rm(dir, { recursive: true, force: true }));

async function rede(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const code = await main(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { isTTY: false, write: (s: string) => (err += s) } });
  return { code, out, err };
}
const size = async (p: string) => { const b = await readFile(p); return [b.readUInt32BE(16), b.readUInt32BE(20)]; };

test('generate: a 10 × 10 grid of a conditional generator, a row per class; one class; another size', async () => {
  const out = join(dir, 'grid.png');
  const r = await rede('generate', '--model', join(dir, 'cgan.rede'), '--classes', '10', '--out', out);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /wrote .*grid\.png: 100 samples of 28×28 from .*cgan\.rede, 10 per class/);
  assert.deepEqual(await size(out), [10 * 58 + 2, 10 * 58 + 2]);
  const one = await rede('generate', '--model', join(dir, 'cgan.rede'), '--classes', '10', '--class', '3', '--count', '12', '--cols', '6', '--scale', '1', '--out', out);
  assert.equal(one.code, 0, one.err);
  assert.match(one.out, /12 samples of 28×28 .*, class 3/);
  assert.deepEqual(await size(out), [6 * 30 + 2, 2 * 30 + 2]);
  // The same seed draws the same samples; another seed others.
  const a = await readFile(out);
  await rede('generate', '--model', join(dir, 'cgan.rede'), '--classes', '10', '--class', '3', '--count', '12', '--cols', '6', '--scale', '1', '--out', out);
  assert.deepEqual(await readFile(out), a);
  await rede('generate', '--model', join(dir, 'cgan.rede'), '--classes', '10', '--class', '3', '--count', '12', '--cols', '6', '--scale', '1', '--seed', '2', '--out', out);
  assert.notDeepEqual(await readFile(out), a);
  // Truncated noise: other samples than the plain draw, the same ones again for the same T, said in the report.
  const cut = ['generate', '--model', join(dir, 'cgan.rede'), '--classes', '10', '--class', '3', '--count', '12', '--cols', '6', '--scale', '1', '--truncation', '0.5', '--out', out];
  const t = await rede(...cut);
  assert.equal(t.code, 0, t.err);
  assert.match(t.out, /class 3, noise truncated to ±0\.5\n$/);
  const b = await readFile(out);
  assert.notDeepEqual(b, a);
  await rede(...cut);
  assert.deepEqual(await readFile(out), b);
});

test('generate refuses what it cannot draw, naming the option or the model', async () => {
  const out = join(dir, 'x.png');
  const cases: [string[], RegExp][] = [
    [['--out', out], /--model is required/],
    [['--model', join(dir, 'cgan.rede')], /--out is required/],
    [['--model', join(dir, 'cgan.rede'), '--out', out, '--class', '2'], /--class needs --classes/],
    [['--model', join(dir, 'cgan.rede'), '--out', out, '--classes', '10', '--class', '10'], /--class must be an integer in \[0, 9\], got 10/],
    [['--model', join(dir, 'cgan.rede'), '--out', out, '--count', '0'], /--count must be an integer in \[1, 10000\], got 0/],
    [['--model', join(dir, 'cgan.rede'), '--out', out, '--truncation', '0.1'], /--truncation must be .*0\.25.*, got 0\.1/],
    [['--model', join(dir, 'flat.rede'), '--out', out], /makes \[10\], expected grey images \[h, w, 1\]/],
    [['--model', join(dir, 'cgan.rede'), '--out', out, '--classes', '18'], /has 18 inputs, not enough for --classes 18 plus noise/],
    [['--model', join(dir, 'cgan.rede'), '--out', join(dir, 'missing', 'x.png')], /--out/],
  ];
  for (const [argv, want] of cases) {
    const r = await rede('generate', ...argv);
    assert.equal(r.code, 1, argv.join(' '));
    assert.match(r.err, want, argv.join(' '));
  }
});
