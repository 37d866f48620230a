// CSVLogger over a real fit: a header from the first epoch's keys, one row per epoch with the History's own
// numbers, rows on disk as each epoch ends, append (same header) or start over, NA and quoting, checked options.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Model } from '../../src/api/model';
import { CSVLogger } from '../../src/train/csv-logger';
import { CSVLogger as fromIndex, GradientMonitor, ProgressLogger } from '../../src/index';
import type { Callback } from '../../src/train/callbacks';
import { RedeError } from '../../src/engine/errors';
import { quadrantDataset, SMALL_NET } from '../parallel/nets';

let dir = '';
before(async () => { dir = await mkdtemp(join(tmpdir(), 'rede-csv-')); });
after(() => rm(dir, { recursive: true, force: true }));

const ds = quadrantDataset(96, 8, 3);
const val = quadrantDataset(32, 8, 4);

async function fit(callbacks: Callback[], epochs = 3) {
  const m = await Model.create(SMALL_NET, { seed: 1 });
  m.compile({ optimizer: { type: 'sgd', lr: 0.1, momentum: 0.9 }, loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  return m.fit(ds, undefined, { epochs, batchSize: 16, validationData: val, callbacks });
}

const rows = (text: string) => text.trimEnd().split('\n').map((l) => l.split(','));

test('the library exports CSVLogger, GradientMonitor and ProgressLogger', () => {
  assert.equal(fromIndex, CSVLogger);
  assert.equal(typeof GradientMonitor, 'function');
  assert.equal(typeof ProgressLogger, 'function');
});

test('CSVLogger writes a header and one row per epoch, the History\'s numbers, each row on disk when its epoch ends', async () => {
  const path = join(dir, 'log.csv');
  await writeFile(path, 'stale,file\n1,2\n');
  const seen: string[] = [];
  // Runs after the logger in each epoch: the file already has that epoch's row.
  const probe: Callback = { onEpochEnd: async () => { seen.push(await readFile(path, 'utf8')); } };
  const h = await fit([new CSVLogger(path), probe]);
  const table = rows(await readFile(path, 'utf8'));
  assert.deepEqual(table[0], ['epoch', 'loss', 'examples_per_s', 'seconds', 'lr', 'accuracy', 'val_loss', 'val_accuracy']);
  assert.equal(table.length, 4, 'the stale rows are gone: a new run starts the file over');
  for (let e = 0; e < 3; e++) {
    assert.equal(table[e + 1][0], String(e));
    for (const [c, key] of table[0].entries()) if (key !== 'epoch') assert.equal(Number(table[e + 1][c]), h.history[key][e], `epoch ${e} ${key}`);
    assert.equal(rows(seen[e]).length, e + 2, `after epoch ${e}`);
  }
  // Training improves the logged loss: the rows are this fit's, in order.
  assert.ok(Number(table[3][1]) < Number(table[1][1]));
});

test('append keeps the rows of an earlier run with the same columns, and refuses a file with other columns', async () => {
  const path = join(dir, 'resume.csv');
  await fit([new CSVLogger(path)], 2);
  await fit([new CSVLogger(path, { append: true })], 1);
  const table = rows(await readFile(path, 'utf8'));
  assert.deepEqual(table.map((r) => r[0]), ['epoch', '0', '1', '0'], 'one header, then every row');

  const other = join(dir, 'other.csv');
  await writeFile(other, 'epoch,loss\n0,1.5');
  await assert.rejects(fit([new CSVLogger(other, { append: true })], 1),
    (e: unknown) => e instanceof RedeError && /^CSVLogger: '.*other\.csv' has the columns epoch,loss; this fit logs epoch,loss,examples_per_s,/.test(e.message));
  assert.equal(await readFile(other, 'utf8'), 'epoch,loss\n0,1.5\n', 'only the cut-off last line was ended');
});

test('a key missing from a later epoch is NA, a new one is left out; fields with the separator are quoted', async () => {
  const path = join(dir, 'na.csv');
  const log = new CSVLogger(path, { separator: ';' });
  await log.onTrainBegin();
  await log.onEpochEnd(0, { loss: 0.5, 'a;b': 1 });
  await log.onEpochEnd(1, { loss: 0.25, extra: 3 });
  assert.equal(await readFile(path, 'utf8'), 'epoch;loss;"a;b"\n0;0.5;1\n1;0.25;NA\n');
});

test('CSVLogger checks its options and says when it cannot write', async () => {
  assert.throws(() => new CSVLogger(join(dir, 'x.csv'), { seperator: ';' } as object), /^RedeError: CSVLogger: unknown option 'seperator' \(did you mean 'separator'\?\)/);
  assert.throws(() => new CSVLogger(join(dir, 'x.csv'), { separator: '""' }), /CSVLogger: separator must be one character/);
  assert.throws(() => new CSVLogger(''), /CSVLogger: path must be a file name, got ""/);
  await assert.rejects(fit([new CSVLogger(join(dir, 'no', 'such', 'dir.csv'))], 1), /^RedeError: CSVLogger: could not create '.*dir\.csv' \(ENOENT/);
});
