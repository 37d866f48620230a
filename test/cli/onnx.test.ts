// rede export --format onnx and rede import --format onnx: the .onnx file onnxruntime-web runs, the .rede file
// that comes back (the same predictions, bitwise), an int8 model out as QDQ, and the commands' errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main';
import { Model } from '../../src/api/model';
import { quantize } from '../../src/quant/index';
import { lenet5 } from '../../src/zoo/index';
import { assertClose } from '../helpers/close';
import { Rng } from '../helpers/rand';
import { ortRun } from '../interop/onnx-helpers';

let dir = '';
before(async () => { dir = await mkdtemp(join(tmpdir(), 'rede-onnx-cli-')); });
after(() => rm(dir, { recursive: true, force: true }));

async function rede(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const code = await main(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { isTTY: false, write: (s: string) => (err += s) } });
  return { code, out, err };
}

test('rede export --format onnx (f32 and int8) and rede import --format onnx', async () => {
  const m = await Model.create(lenet5(), { seed: 4 });
  const saved = join(dir, 'm.rede'), file = join(dir, 'm.onnx'), nhwc = join(dir, 'nhwc.onnx'), back = join(dir, 'back.rede'), q = join(dir, 'q.rede'), qf = join(dir, 'q.onnx');
  await m.save(saved);
  const e = await rede('export', '--format', 'onnx', '--model', saved, '--out', file);
  assert.equal(e.code, 0, e.err);
  assert.match(e.out, /^wrote .*m\.onnx \(ONNX opset 13, 61,706 parameters, input NCHW, [\d,]+ bytes\)\n$/);
  const x = new Rng(3).array(2 * 784, 0, 1);
  // One channel: NCHW and NHWC hold the same numbers.
  assertClose((await ortRun(new Uint8Array(await readFile(file)), x, [2, 1, 28, 28])).get('logits')!, m.predict(x), 'onnxruntime-web', { rtol: 1e-4, atol: 1e-4 });
  const l = await rede('export', '--format=onnx', '--model', saved, '--out', nhwc, '--input-layout', 'nhwc');
  assert.equal(l.code, 0, l.err);
  assertClose((await ortRun(new Uint8Array(await readFile(nhwc)), x, [2, 28, 28, 1])).get('logits')!, m.predict(x), 'nhwc', { rtol: 1e-4, atol: 1e-4 });
  const i = await rede('import', '--format', 'onnx', '--model', file, '--out', back);
  assert.equal(i.code, 0, i.err);
  assert.match(i.out, /^saved .*back\.rede \(8 layers, 61,706 parameters from .*m\.onnx\)\n$/);
  assert.deepEqual((await Model.load(back)).predict(x), m.predict(x));
  await quantize(m, x).save(q);
  const qe = await rede('export', '--format', 'onnx', '--model', q, '--out', qf);
  assert.equal(qe.code, 0, qe.err);
  assert.match(qe.out, /int8 QDQ/);
  assert.equal((await ortRun(new Uint8Array(await readFile(qf)), x, [2, 1, 28, 28])).get('output')!.length, 20);

  const bad = async (argv: string[], re: RegExp) => { const b = await rede(...argv); assert.equal(b.code, 1, b.out); assert.match(b.err, re); };
  await bad(['export', '--format', 'onnx', '--model', saved], /--model FILE\.rede and --out FILE\.onnx are required/);
  await bad(['export', '--format', 'onnx', '--model', saved, '--out', file, '--input-layout', 'hwc'], /--input-layout must be nchw or nhwc, got 'hwc'/);
  await bad(['export', '--format', 'onnx', '--model', join(dir, 'none.rede'), '--out', file], /none\.rede/);
  await bad(['import', '--format', 'onnx', '--model', join(dir, 'none.onnx'), '--out', back], /model '.*none\.onnx' could not be read \(ENOENT\)/);
  await writeFile(join(dir, 'junk.onnx'), 'not a model at all');
  await bad(['import', '--format', 'onnx', '--model', join(dir, 'junk.onnx'), '--out', back], /^rede: .*junk\.onnx/);
  await bad(['import', '--format', 'onnx', '--model', file, '--out', dir], /is a directory/);
  await bad(['import', '--format', 'onnx', '--weights', file], /unknown option '--weights'/i);
});
