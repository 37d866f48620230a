// rede train's outputs: every write target checked before any data is read; the model saved first, so a plot
// or CSV that fails late (its directory changed during training) still leaves it saved, with status 1 naming
// what failed; a failed --out falls back to a temporary directory. Also: --csv rows, a --batch-size larger than
// the data, and the hint when the loss stops being finite.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { main } from '../../src/cli/main';
import { encodeIdx } from '../../src/data/idx';
import { mnistDigits } from '../../src/data/mnist';
import { Model } from '../../src/api/model';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rede-out-'));
  const d = await mnistDigits();
  const bytes = (x: Float32Array, n: number) => Uint8Array.from(x.subarray(0, n * 784), (v) => Math.round(v * 255));
  await writeFile(join(dir, 'train-images-idx3-ubyte'), encodeIdx({ dtype: 'u8', dims: [300, 28, 28], data: bytes(d.train.x, 300) }));
  await writeFile(join(dir, 'train-labels-idx1-ubyte'), encodeIdx({ dtype: 'u8', dims: [300], data: Uint8Array.from(d.train.y.subarray(0, 300)) }));
  await writeFile(join(dir, 't10k-images-idx3-ubyte'), encodeIdx({ dtype: 'u8', dims: [100, 28, 28], data: bytes(d.test.x, 100) }));
  await writeFile(join(dir, 't10k-labels-idx1-ubyte'), encodeIdx({ dtype: 'u8', dims: [100], data: Uint8Array.from(d.test.y.subarray(0, 100)) }));
  await writeFile(join(dir, 'a-file'), 'not a directory');
});
after(() => rm(dir, { recursive: true, force: true }));

/** Runs rede in process; `onErr` sees each stderr write as it happens (during training: the epoch lines). */
async function rede(argv: string[], onErr: (s: string) => void = () => {}): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const code = await main(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { isTTY: false, write: (s: string) => { err += s; onErr(s); } } });
  return { code, out, err };
}

const TRAIN = () => ['train', '--data', dir, '--epochs', '2', '--batch-size', '50', '--seed', '2'];

test('every output path is checked before any work, the message naming the option and the path', async () => {
  const cases: [string[], RegExp][] = [
    [['--out', join(dir, 'nope', 'm.rede')], /^rede: train: --out '.*nope\/m\.rede': directory '.*nope' does not exist\n$/],
    [['--out', dir], /^rede: train: --out '.*' is a directory; give a file name\n$/],
    [['--out', `${join(dir, 'new')}/`], /^rede: train: --out '.*new\/' is a directory; give a file name\n$/],
    [['--plot', join(dir, 'a-file', 'c.svg')], /^rede: train: --plot '.*a-file\/c\.svg': '.*a-file' is not a directory\n$/],
    [['--csv', join(dir, 'gone', 'log.csv')], /^rede: train: --csv '.*gone\/log\.csv': directory '.*gone' does not exist\n$/],
    [['--csv', ''], /^rede: train: --csv is empty; give a file name\n$/],
    [['--plot', join(dir, 'x.svg'), '--csv', join(dir, 'x.svg')], /^rede: train: --plot and --csv both write '.*x\.svg'\n$/],
  ];
  for (const [extra, re] of cases) {
    const r = await rede([...TRAIN(), ...extra]);
    assert.equal(r.code, 1, extra.join(' '));
    assert.match(r.err, re, extra.join(' '));
    assert.equal(r.out, '');
  }
});

test('a plot that cannot be written after training: the model is saved first, status 1 says what was saved and what failed', async () => {
  const out = join(dir, 'kept.rede'), plot = join(dir, 'curves.svg');
  // After the check passed: the plot's name becomes a directory while the model trains.
  const r = await rede([...TRAIN(), '--out', out, '--plot', plot], (s) => { if (s.startsWith('epoch 1/')) mkdirSync(plot); });
  assert.equal(r.code, 1);
  assert.match(r.out, new RegExp(`^saved ${out}\\ntest accuracy `));
  assert.match(r.err.split('\n').at(-2)!, new RegExp(`^rede: train: --plot '${plot}' could not be written \\(.+\\); the trained model was saved to '${out}'$`));
  const m = await Model.load(out);
  assert.equal(m.paramCount, 61706);
  rmSync(plot, { recursive: true });
});

test('an --out directory removed during training: the model is saved to a temporary directory instead, and said so', async () => {
  const outDir = join(dir, 'models'), out = join(outDir, 'm.rede');
  mkdirSync(outDir);
  const r = await rede([...TRAIN(), '--out', out], (s) => { if (s.startsWith('epoch 1/')) rmSync(outDir, { recursive: true }); });
  assert.equal(r.code, 1);
  const saved = /^saved (\S+) \(instead of (\S+)\)$/m.exec(r.out);
  assert.ok(saved, r.out);
  assert.equal(saved[2], out);
  assert.match(r.err, new RegExp(`rede: train: --out '${out}' could not be written \\(.+\\); the trained model was saved to '${saved[1]}'\\n$`));
  assert.equal((await Model.load(saved[1])).paramCount, 61706);
  rmSync(dirname(saved[1]), { recursive: true });
});

test('--csv logs a row per epoch; a CSV that fails mid-run does not stop training or the save', async () => {
  const csv = join(dir, 'log.csv');
  const r = await rede([...TRAIN(), '--csv', csv]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, new RegExp(`^logged ${csv}$`, 'm'));
  const lines = (await readFile(csv, 'utf8')).trimEnd().split('\n');
  assert.equal(lines[0], 'epoch,loss,examples_per_s,seconds,lr,accuracy,val_loss,val_accuracy');
  assert.deepEqual(lines.slice(1).map((l) => l.split(',')[0]), ['0', '1']);
  // The epoch line printed for epoch 2 and the CSV's row for epoch 1 (from 0) carry the same loss.
  const printed = /^epoch 2\/2  loss (\d\.\d{4})/m.exec(r.err)![1];
  assert.equal(Number(lines[2].split(',')[1]).toFixed(4), printed);

  const logDir = join(dir, 'logs'), out = join(dir, 'csv-kept.rede');
  mkdirSync(logDir);
  const f = await rede([...TRAIN(), '--csv', join(logDir, 'log.csv'), '--out', out], (s) => { if (s.startsWith('epoch 1/')) rmSync(logDir, { recursive: true }); });
  assert.equal(f.code, 1);
  assert.equal(f.err.split('\n').filter((l) => l.startsWith('epoch ')).length, 2, 'training went on');
  assert.match(f.err, new RegExp(`rede: train: --csv '.*log\\.csv' could not be written \\(CSVLogger: could not write .*\\); the trained model was saved to '${out}'\\n$`));
  assert.ok(existsSync(out));
});

test('--batch-size larger than the data trains on the whole set per step, with a one-line notice', async () => {
  const r = await rede(['train', '--data', dir, '--epochs', '1', '--batch-size', '100000']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /^train: --batch-size 100,000 is more than the 300 training examples; using 300\n/);
  assert.match(r.err, /batch 300, 1 epochs/);
});

test('a loss that stops being finite names the epoch and batch and suggests a lower --lr or --clip-norm', async () => {
  const r = await rede(['train', '--data', dir, '--epochs', '2', '--optimizer', 'sgd', '--lr', '1e30', '--out', join(dir, 'never.rede')]);
  assert.equal(r.code, 1);
  assert.match(r.err, /rede: train: the loss became (NaN|Infinity) at epoch 1 batch \d+ \(of 10\); try a lower --lr \(currently 1e\+30, cosine-scheduled\), or clip gradients with --clip-norm \(e\.g\. --clip-norm 1\); nothing was saved\n$/);
  assert.ok(!existsSync(join(dir, 'never.rede')));
  const clipped = await rede(['train', '--data', dir, '--epochs', '2', '--optimizer', 'sgd', '--lr', '1e30', '--clip-norm', '1', '--schedule', 'constant']);
  assert.equal(clipped.code, 1);
  assert.match(clipped.err, /sgd lr 1e\+30 clip-norm 1, batch 32/);
  assert.match(clipped.err, /try a lower --lr \(currently 1e\+30\), or a smaller --clip-norm \(currently 1\); nothing was saved\n$/);
});
