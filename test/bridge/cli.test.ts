// rede train --backend tfjs: the same command line trains on TensorFlow.js (here @tensorflow/tfjs, cpu), says
// which backend and device ran, and saves a .rede the wasm engine loads; bad flag combinations are refused first.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main';
import { encodeIdx } from '../../src/data/idx';
import { mnistDigits } from '../../src/data/mnist';
import { Model } from '../../src/api/model';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rede-backend-'));
  const d = await mnistDigits();
  const bytes = (x: Float32Array, n: number) => Uint8Array.from(x.subarray(0, n * 784), (v) => Math.round(v * 255));
  await writeFile(join(dir, 'train-images-idx3-ubyte'), encodeIdx({ dtype: 'u8', dims: [16, 28, 28], data: bytes(d.train.x, 16) }));
  await writeFile(join(dir, 'train-labels-idx1-ubyte'), encodeIdx({ dtype: 'u8', dims: [16], data: Uint8Array.from(d.train.y.subarray(0, 16)) }));
  await writeFile(join(dir, 't10k-images-idx3-ubyte'), encodeIdx({ dtype: 'u8', dims: [40, 28, 28], data: bytes(d.test.x, 40) }));
  await writeFile(join(dir, 't10k-labels-idx1-ubyte'), encodeIdx({ dtype: 'u8', dims: [40], data: Uint8Array.from(d.test.y.subarray(0, 40)) }));
});
after(() => rm(dir, { recursive: true, force: true }));

async function rede(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const code = await main(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { isTTY: false, write: (s: string) => { err += s; } } });
  return { code, out, err };
}

test('rede train --backend tfjs trains LeNet-5 on tfjs, prints the backend and device, saves a file the wasm engine loads', async () => {
  const out = join(dir, 'tfjs.rede');
  const r = await rede(['train', '--data', dir, '--epochs', '1', '--batch-size', '8', '--seed', '2', '--backend', 'tfjs', '--tfjs-backend', 'cpu', '--out', out]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /^backend: tfjs \d+\.\d+\.\d+ \(@tensorflow\/tfjs, backend cpu\) on CPU \(plain JavaScript\)$/m);
  assert.match(r.err, /lenet5 \(61,706 parameters, engine tfjs cpu\)/);
  assert.match(r.out, new RegExp(`^saved ${out}\\ntest accuracy \\d\\.\\d{4}  loss \\d+\\.\\d{4}  \\(40 examples`));
  const m = await Model.load(out);
  assert.equal(m.backend, 'wasm');
  assert.equal(m.trainer!.step, 2);
});

test('rede train refuses an unknown --backend, --tfjs-backend without tfjs, and workers on tfjs, before reading data', async () => {
  for (const [extra, re] of [
    [['--backend', 'cuda'], /^rede: train: unknown --backend 'cuda' \(expected wasm or tfjs\)\n$/],
    [['--tfjs-backend', 'cpu'], /^rede: train: --tfjs-backend needs --backend tfjs\n$/],
    [['--backend', 'tfjs', '--workers', '2'], /^rede: train: --workers and --deterministic are the wasm engine's; --backend tfjs runs on one tfjs device\n$/],
  ] as [string[], RegExp][]) {
    const r = await rede(['train', '--data', join(dir, 'missing'), ...extra]);
    assert.equal(r.code, 1, extra.join(' '));
    assert.match(r.err, re);
  }
});
