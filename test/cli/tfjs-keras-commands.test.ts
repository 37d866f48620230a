// rede export --format tfjs|keras and rede import --in model.json|FILE.h5: files on disk, read back by tfjs
// (file:// in Node is tfjs-node's, so the test reads model.json and the .bin itself) and by rede.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as TF from '@tensorflow/tfjs';
import { main } from '../../src/cli/main';
import { Model } from '../../src/api/model';
import { lenet5 } from '../../src/zoo/index';
import { assertClose } from '../helpers/close';
import { Rng } from '../helpers/rand';
import { tfjs } from '../helpers/tfjs';

let dir = '';
before(async () => { dir = await mkdtemp(join(tmpdir(), 'rede-tfjs-cli-')); });
after(() => rm(dir, { recursive: true, force: true }));

async function rede(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const code = await main(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { isTTY: false, write: (s: string) => (err += s) } });
  return { code, out, err };
}

test('rede export --format tfjs / keras, rede import --in model.json / .h5: same predictions, bitwise weights', async () => {
  const m = await Model.create(lenet5(), { seed: 6 });
  const saved = join(dir, 'm.rede'), tdir = join(dir, 'tfjs'), h5 = join(dir, 'm.h5');
  await m.save(saved);
  const e = await rede('export', '--model', saved, '--format', 'tfjs', '--out', tdir);
  assert.equal(e.code, 0, e.err);
  assert.deepEqual((await readdir(tdir)).sort(), ['group1-shard1of1.bin', 'model.json']);
  const tf = await tfjs();
  const json = JSON.parse(await readFile(join(tdir, 'model.json'), 'utf8'));
  const bin = new Uint8Array(await readFile(join(tdir, 'group1-shard1of1.bin')));
  const tm = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: bin.slice().buffer }));
  const x = new Rng(1).array(2 * 784, 0, 1);
  assertClose((tm.predict(tf.tensor(x, [2, 28, 28, 1])) as TF.Tensor).dataSync(), m.predict(x), 'tfjs vs rede', { rtol: 1e-4, atol: 1e-4 });
  const k = await rede('export', '--model', saved, '--format', 'keras', '--out', h5);
  assert.equal(k.code, 0, k.err);
  for (const [from, out] of [[join(tdir, 'model.json'), join(dir, 'a.rede')], [h5, join(dir, 'b.rede')]]) {
    const i = await rede('import', '--in', from, '--out', out);
    assert.equal(i.code, 0, i.err);
    const back = await Model.load(out);
    for (const [name, t] of m.getWeights()) assert.deepEqual(back.getWeights().get(name)!.data, t.data, `${from}: ${name}`);
    assert.deepEqual(back.predict(x), m.predict(x));
  }
  const bad = async (argv: string[], re: RegExp) => { const b = await rede(...argv); assert.equal(b.code, 1, b.out); assert.match(b.err, re); };
  await bad(['export', '--model', saved, '--format', 'caffe', '--out', tdir], /export: unknown --format 'caffe' \(expected tfjs, keras, pytorch, safetensors\)/);
  await bad(['export', '--model', saved, '--format', 'keras', '--out', join(dir, 'x.json')], /--out must end in \.h5/);
  await bad(['import', '--in', join(dir, 'nope.json'), '--out', join(dir, 'c.rede')], /model\.json '.*nope\.json' could not be read \(ENOENT\)/);
  await bad(['import', '--in', saved, '--out', join(dir, 'c.rede')], /import: give --format/);
  await bad(['import', '--in', saved, '--format', 'tfjs', '--out', join(dir, 'c.rede')], /m\.rede: not (UTF-8 text|valid JSON)/);
});
