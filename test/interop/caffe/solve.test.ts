// Solver.fromFile(...).train() and `rede train --solver`: Caffe's loop (tests at 0, every test_interval and at
// the end; display lines with Caffe's rate; snapshots every `snapshot` iterations), the net's Data source read
// as an IDX directory, determinism under random_seed, and the CLI's errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../../src/cli/main';
import { encodeIdx } from '../../../src/data/idx';
import { mnistDigits } from '../../../src/data/mnist';
import { Model } from '../../../src/api/model';
import { Solver } from '../../../src/interop/caffe/solve';

let dir = '';
const TRAIN = 512, TEST = 200;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rede-caffe-'));
  const d = await mnistDigits(), data = join(dir, 'digits');
  const bytes = (x: Float32Array, n: number) => Uint8Array.from(x.subarray(0, n * 784), (v) => Math.round(v * 255));
  await import('node:fs/promises').then((fs) => fs.mkdir(data));
  await writeFile(join(data, 'train-images-idx3-ubyte'), encodeIdx({ dtype: 'u8', dims: [TRAIN, 28, 28], data: bytes(d.train.x, TRAIN) }));
  await writeFile(join(data, 'train-labels-idx1-ubyte'), encodeIdx({ dtype: 'u8', dims: [TRAIN], data: Uint8Array.from(d.train.y.subarray(0, TRAIN)) }));
  await writeFile(join(data, 't10k-images-idx3-ubyte'), encodeIdx({ dtype: 'u8', dims: [TEST, 28, 28], data: bytes(d.test.x, TEST) }));
  await writeFile(join(data, 't10k-labels-idx1-ubyte'), encodeIdx({ dtype: 'u8', dims: [TEST], data: Uint8Array.from(d.test.y.subarray(0, TEST)) }));
  // Caffe's LeNet net with its LMDB sources pointed at the IDX directory, and a short solver beside it.
  const net = (await readFile('examples/caffe/lenet_train_test.prototxt', 'utf8')).replace(/examples\/mnist\/mnist_(train|test)_lmdb/g, data);
  await writeFile(join(dir, 'lenet_train_test.prototxt'), net);
  await writeFile(join(dir, 'solver.prototxt'), `net: "examples/mnist/lenet_train_test.prototxt"  # found in the solver's directory
test_iter: 1 test_interval: 20 base_lr: 0.01 momentum: 0.9 weight_decay: 0.0005
lr_policy: "step" gamma: 0.5 stepsize: 15 display: 10 max_iter: 40 snapshot: 20
snapshot_prefix: "${join(dir, 'snap', 'lenet')}" random_seed: 3 solver_mode: CPU\n`);
});
after(() => rm(dir, { recursive: true, force: true }));

async function rede(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const code = await main(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { isTTY: false, write: (s: string) => (err += s) } });
  return { code, out, err };
}

test('caffe solve: Caffe\'s loop — tests, display lines with the step policy\'s rate, snapshots — and random_seed fixes the run', async () => {
  const solver = await Solver.fromFile(join(dir, 'solver.prototxt'));
  assert.equal(solver.netPath, join(dir, 'lenet_train_test.prototxt'));
  const data = await solver.loadData();
  assert.match(data.why, /a directory, read as IDX files/);
  assert.equal(data.train.y.length, TRAIN);
  assert.ok(Math.abs(data.train.x.reduce((a, v) => Math.max(a, v), 0) - 255 / 256) < 1e-6, 'scale 0.00390625 of byte 255');
  const lines: string[] = [];
  const run = await solver.train(data, { log: (l) => lines.push(l) });
  assert.deepEqual(run.tests.map((t) => [t.iter, t.examples]), [[0, 100], [20, 100], [40, 100]]); // test_iter 1 × test batch 100
  assert.deepEqual(run.losses.map((l) => [l.iter, l.lr]), [[0, 0.01], [10, 0.01], [20, 0.005], [30, 0.0025]]); // 0.01·0.5^floor(iter/15)
  assert.ok(run.tests[2].loss < run.tests[0].loss, `test loss ${run.tests[0].loss} → ${run.tests[2].loss}`);
  const snaps = [20, 40].map((i) => join(dir, 'snap', `lenet_iter_${i}.rede`));
  assert.deepEqual(run.snapshots, snaps);
  assert.match(lines.join('\n'), /^Iteration 0, Testing net: accuracy = [\d.]+, loss = [\d.]+ \(100 examples\)\nIteration 0, loss = [\d.]+, lr = 0\.01\n/);
  assert.match(lines.at(-1)!, /^Optimization Done/);
  // The last snapshot is the trained model; the same seed gives the same weights bit for bit.
  const saved = await Model.load(snaps[1]);
  const x = data.test!.x.subarray(0, 10 * 784);
  assert.deepEqual(saved.predict(x), run.model.predict(x));
  const again = await solver.train(data, { snapshotPrefix: null });
  assert.deepEqual(again.model.e.read(again.model.params, again.model.paramFloats), run.model.e.read(run.model.params, run.model.paramFloats));
  assert.deepEqual(again.snapshots, []);
  const other = await solver.train(data, { snapshotPrefix: null, seed: 4, maxIter: 5 });
  assert.deepEqual(other.tests.map((t) => t.iter), [0]); // 5 iterations: no test at 20, and 5 is no multiple of 20
});

test('caffe solve: AdaGrad and AdaDelta solvers train LeNet (the test loss falls in 20 iterations)', async () => {
  const net = await readFile(join(dir, 'lenet_train_test.prototxt'), 'utf8');
  for (const type of ['type: "AdaGrad" base_lr: 0.01 delta: 1e-8', 'type: "AdaDelta" base_lr: 1 momentum: 0.95 delta: 1e-6']) {
    const solver = Solver.fromText(`${type} lr_policy: "fixed" max_iter: 20 test_iter: 1 test_interval: 20 weight_decay: 0.0005`, net, { netSource: 'lenet' });
    const run = await solver.train(await solver.loadData(), { snapshotPrefix: null });
    assert.deepEqual(run.tests.map((t) => t.iter), [0, 20]);
    assert.ok(run.tests[1].loss < run.tests[0].loss * 0.8, `${type}: test loss ${run.tests[0].loss} → ${run.tests[1].loss}`);
  }
});

test('rede train --solver: runs the solver and reports the test accuracy; its flags and errors', async () => {
  const out = join(dir, 'cli.rede');
  const r = await rede('train', '--solver', join(dir, 'solver.prototxt'), '--max-iter', '10', '--snapshot-prefix', '', '--out', out, '--seed', '2');
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /solver\.prototxt: net .*lenet_train_test\.prototxt \(LeNet\), SGD lr 0\.01 lr_policy step, 10 iterations of batch 64; data .* \(a directory, read as IDX files\)/);
  assert.doesNotMatch(r.err, /note:/); // LeNet maps with nothing left out (lr_mult, decay_mult, xavier, constant)
  assert.match(r.err, /Iteration 0, Testing net: accuracy/);
  assert.match(r.out, /^saved .*cli\.rede\ntest accuracy [\d.]+ {2}loss [\d.]+ {2}\(200 examples of .* test; [\d.]+ s\)\n$/);
  assert.ok(existsSync(out) && !existsSync(join(dir, 'snap', 'lenet_iter_10.rede')));
  const json = join(dir, 'solver.json');
  await writeFile(json, JSON.stringify({ net: join(dir, 'lenet_train_test.prototxt'), base_lr: 0.01, lr_policy: 'fixed', max_iter: 2, type: 'Adam', momentum: 0.9 }));
  const j = await rede('train', '--solver', json, '--data', 'mnist');
  assert.equal(j.code, 0, j.err);
  assert.match(j.err, /Adam lr 0\.01 lr_policy fixed, 2 iterations of batch 64; data mnist/);
  assert.match(j.out, /test accuracy .*2,000 examples of mnist digits test/);

  const bad = async (argv: string[], re: RegExp) => { const b = await rede('train', ...argv); assert.equal(b.code, 1); assert.match(b.err, re); };
  await bad(['--solver', join(dir, 'solver.prototxt'), '--epochs', '2'], /^rede: train: --solver sets the model, optimizer and schedule; it does not go with --epochs\n$/);
  await bad(['--max-iter', '3'], /train: --max-iter goes with --solver/);
  await bad(['--solver', join(dir, 'nope.prototxt')], /^rede: solver '.*nope\.prototxt' could not be read \(ENOENT\)\n$/);
  await writeFile(join(dir, 'broken.prototxt'), 'net: "x"\nbase_lr 0.1\n');
  await bad(['--solver', join(dir, 'broken.prototxt')], /broken\.prototxt:2:9: expected ':' or '\{' after the field name 'base_lr', got the number 0\.1/);
  await writeFile(join(dir, 'nonet.prototxt'), 'net: "missing.prototxt" base_lr: 0.1 lr_policy: "fixed" max_iter: 1');
  await bad(['--solver', join(dir, 'nonet.prototxt')], /solver net 'missing\.prototxt' was found neither from the current directory nor in/);
});
