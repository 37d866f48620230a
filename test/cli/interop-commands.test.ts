// rede export --pytorch / --safetensors and rede import --pytorch as commands: the files they write, the model
// they bring back (bitwise the same predictions), and their errors. (PyTorch itself: test/interop/pytorch.test.ts.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main';
import { Model } from '../../src/api/model';
import { modelFromSafetensors } from '../../src/interop/safetensors';
import { lenet5 } from '../../src/zoo/index';
import { Rng } from '../helpers/rand';

let dir = '';
before(async () => { dir = await mkdtemp(join(tmpdir(), 'rede-interop-cli-')); });
after(() => rm(dir, { recursive: true, force: true }));

async function rede(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const code = await main(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { isTTY: false, write: (s: string) => (err += s) } });
  return { code, out, err };
}

test('rede export --pytorch, rede import --pytorch and rede export --safetensors', async () => {
  const m = await Model.create(lenet5(), { seed: 4 });
  const saved = join(dir, 'm.rede'), torchDir = join(dir, 'torch'), back = join(dir, 'back.rede'), st = join(dir, 'm.safetensors');
  await m.save(saved);
  const e = await rede('export', '--pytorch', '--model', saved, '--out', torchDir);
  assert.equal(e.code, 0, e.err);
  assert.match(e.out, /model\.py, .*weights\.safetensors \(61,706 parameters\) and .*config\.json/);
  assert.match(await readFile(join(torchDir, 'model.py'), 'utf8'), /class RedeModel\(nn\.Module\):/);
  const i = await rede('import', '--pytorch', '--weights', join(torchDir, 'weights.safetensors'), '--config', join(torchDir, 'config.json'), '--out', back);
  assert.equal(i.code, 0, i.err);
  const x = new Rng(3).array(3 * 784, 0, 1);
  assert.deepEqual((await Model.load(back)).predict(x), m.predict(x));
  const s = await rede('export', '--safetensors', '--model', saved, '--out', st);
  assert.equal(s.code, 0, s.err);
  assert.deepEqual((await modelFromSafetensors(new Uint8Array(await readFile(st)))).predict(x), m.predict(x));

  const bad = async (argv: string[], re: RegExp) => { const b = await rede(...argv); assert.equal(b.code, 1, b.out); assert.match(b.err, re); };
  await bad(['export', '--model', saved, '--out', torchDir], /export: give one of --format tfjs\|keras\|pytorch\|safetensors, --pytorch or --safetensors/);
  await bad(['export', '--pytorch', '--model', saved], /export: --model FILE\.rede and --out are required/);
  await bad(['import', '--weights', 'w', '--config', 'c', '--out', back], /import: give --format tfjs\|keras\|pytorch \(or --pytorch\)/);
  await bad(['import', '--pytorch', '--weights', join(dir, 'nope.safetensors'), '--config', join(torchDir, 'config.json'), '--out', back], /weights '.*nope\.safetensors' could not be read \(ENOENT\)/);
  await bad(['import', '--pytorch', '--weights', saved, '--config', join(torchDir, 'config.json'), '--out', back], /m\.rede: the header length is \d+ bytes, but/);
});
