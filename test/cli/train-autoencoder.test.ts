// rede train --target input: an autoencoder from a config file, trained on reconstruction (binary
// cross-entropy on logits, or mse), saved, and measured on the test split; the reconstructions beat the
// mean image. Bad combinations (a loss for the other target, an output smaller than the input, --augment)
// are refused before any training.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main';
import { Model } from '../../src/api/model';
import { mnistDigits } from '../../src/data/mnist';
import type { ModelConfig } from '../../src/model/config';

let dir = '';
const AE: ModelConfig = { name: 'ae', input: [28, 28, 1], layers: [
  { type: 'flatten' }, { type: 'dense', units: 64, activation: 'relu' }, { type: 'dense', units: 8 },
  { type: 'dense', units: 64, activation: 'relu' }, { type: 'dense', units: 784 }] };
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rede-ae-'));
  await writeFile(join(dir, 'ae.json'), JSON.stringify(AE));
});
after(() => rm(dir, { recursive: true, force: true }));

async function rede(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const code = await main(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { isTTY: false, write: (s: string) => (err += s) } });
  return { code, out, err };
}

const TRAIN = () => ['train', '--model', join(dir, 'ae.json'), '--subset', '2000', '--epochs', '3', '--batch-size', '50', '--optimizer', 'adam', '--lr', '0.003', '--seed', '3'];

/** Σ over pixels of the squared reconstruction error, averaged over images. */
function perImageError(a: Float32Array, b: Float32Array, n: number): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s / n;
}

test('--loss binary_crossentropy --target input trains an autoencoder whose reconstructions beat the mean image', async () => {
  const out = join(dir, 'ae.rede');
  const r = await rede([...TRAIN(), '--loss', 'binary_crossentropy', '--target', 'input', '--out', out, '--plot', join(dir, 'ae.svg')]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /target: the input, binary_crossentropy; adam lr 0\.003/);
  const m = /test binary_crossentropy (\d+\.\d+) {2}\(reconstructing 2,000 examples/.exec(r.out);
  assert.ok(m, r.out);
  const model = await Model.load(out);
  const { train, test: held } = await mnistDigits(), n = held.y.length;
  const recon = model.predict(held.x, { batchSize: 500 }).map((v) => 1 / (1 + Math.exp(-v)));
  const mean = new Float32Array(784);
  for (let i = 0; i < 2000; i++) for (let j = 0; j < 784; j++) mean[j] += train.x[i * 784 + j] / 2000;
  const meanImage = new Float32Array(n * 784);
  for (let i = 0; i < n; i++) meanImage.set(mean, i * 784);
  const ae = perImageError(recon, held.x, n), base = perImageError(meanImage, held.x, n);
  assert.ok(ae < 0.8 * base, `reconstruction error per image ${ae.toFixed(2)}, the mean image's ${base.toFixed(2)}`);
});

test('--loss mse --target input: the printed test loss is the saved model\'s mse on the test split', async () => {
  const out = join(dir, 'ae-mse.rede');
  const r = await rede([...TRAIN(), '--epochs', '1', '--loss', 'mse', '--target', 'input', '--out', out]);
  assert.equal(r.code, 0, r.err);
  const printed = Number(/test mse (\d+\.\d+)/.exec(r.out)![1]);
  const model = await Model.load(out);
  model.compile({ optimizer: 'adam', loss: 'mse' });
  const { test: held } = await mnistDigits();
  assert.ok(Math.abs(model.evaluate(held.x, held.x).loss - printed) < 1e-5);
});

test('bad combinations are refused before training, naming the options', async () => {
  const cases: [string[], RegExp][] = [
    [['--loss', 'mse'], /^rede: train: --loss 'mse' with --target labels: expected sparse_categorical_crossentropy \(--loss mse goes with --target input\)\n$/],
    [['--target', 'input', '--loss', 'sparse_categorical_crossentropy'], /^rede: train: --loss 'sparse_categorical_crossentropy' with --target input: expected mse or binary_crossentropy \(--loss sparse_categorical_crossentropy goes with --target labels\)\n$/],
    [['--target', 'pixels'], /^rede: train: unknown --target 'pixels' \(expected labels or input\)\n$/],
    [['--target', 'input', '--augment'], /^rede: train: --augment changes the input but not the target; it is not available with --target input\n$/],
  ];
  for (const [extra, re] of cases) {
    const r = await rede([...TRAIN(), ...extra]);
    assert.equal(r.code, 1, extra.join(' '));
    assert.match(r.err, re);
  }
  const r = await rede(['train', '--model', 'lenet5', '--target', 'input', '--epochs', '1', '--subset', '100']);
  assert.equal(r.code, 1);
  assert.match(r.err, /^rede: train: --target input needs an output as large as the input, got output \[10\] \(10 values\) for input \[28, 28, 1\] \(784\)\n$/);
});
