import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeIdx, parseIdx, readIdxFile, loadIdxDataset, type IdxArray } from '../../src/data/idx';
import { fashionMnist } from '../../src/data/fashion-mnist';
import { Rng } from '../helpers/rand';

const arrays: IdxArray[] = [
  { dtype: 'u8', dims: [3, 2, 5], data: Uint8Array.from({ length: 30 }, (_, i) => (i * 37) % 256) },
  { dtype: 'i8', dims: [4], data: Int8Array.of(-128, -1, 0, 127) },
  { dtype: 'i16', dims: [2, 2], data: Int16Array.of(-32768, -2, 258, 32767) },
  { dtype: 'i32', dims: [3], data: Int32Array.of(-(2 ** 31), 16909060, 2 ** 31 - 1) },
  { dtype: 'f32', dims: [1, 3], data: Float32Array.of(-1.5, 3.25e-20, Infinity) },
  { dtype: 'f64', dims: [2], data: Float64Array.of(Math.PI, -0) },
];

test('parseIdx inverts encodeIdx for every dtype, big-endian on the wire', () => {
  for (const a of arrays) {
    const bytes = encodeIdx(a);
    const back = parseIdx(bytes, 'x');
    assert.equal(back.dtype, a.dtype);
    assert.deepEqual(back.dims, a.dims);
    assert.deepEqual(Array.from(back.data), Array.from(a.data), a.dtype);
  }
  // 16909060 = 0x01020304 must appear in that byte order after the 4 + 4 header bytes.
  const i32 = encodeIdx(arrays[3]);
  assert.deepEqual(Array.from(i32.subarray(12, 16)), [1, 2, 3, 4]);
  assert.deepEqual(Array.from(i32.subarray(0, 8)), [0, 0, 0x0c, 1, 0, 0, 0, 3]);
});

test('parseIdx errors name the file, what was expected and what was found', () => {
  const good = encodeIdx(arrays[0]);
  const cases: [Uint8Array, RegExp][] = [
    [good.subarray(0, 3), /^RedeError: f\.idx: truncated: expected at least 4 bytes \(IDX magic\), found 3/],
    [Uint8Array.of(1, 0, 8, 1, 0, 0, 0, 0), /f\.idx: bad magic: expected 00 00 <dtype.*found 01 00 08 01/],
    [Uint8Array.of(0, 0, 0x0a, 1, 0, 0, 0, 0), /bad magic.*found 00 00 0a 01/],
    [Uint8Array.of(0, 0, 8, 0), /bad magic.*ndims ≥ 1.*found 00 00 08 00/],
    [gzipSync(good), /bad magic.*found 1f 8b.*gzipped/],
    [good.subarray(0, 10), /f\.idx: truncated: 3 dimensions need a 16-byte header, found 10 bytes/],
    [good.subarray(0, good.length - 1), /f\.idx: truncated: dims \[3, 2, 5\] × 1 byte\(s\) \(u8\) = 30 data bytes expected, found 29/],
    [Uint8Array.from([...good, 0]), /f\.idx: trailing bytes: dims \[3, 2, 5\].*30 data bytes expected, found 31/],
    [encodeIdx(arrays[3]).subarray(0, 19), /truncated: dims \[3\] × 4 byte\(s\) \(i32\) = 12 data bytes expected, found 11/],
  ];
  for (const [bytes, re] of cases) assert.throws(() => parseIdx(bytes, 'f.idx'), (e: Error) => re.test(String(e)), String(re));
  // Huge dims are refused from the header alone, nothing allocated.
  assert.throws(() => parseIdx(Uint8Array.of(0, 0, 8, 2, 255, 255, 255, 255, 255, 255, 255, 255), 'big'), /truncated: dims \[4294967295, 4294967295\]/);
});

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'rede-idx-'));
  try { await fn(dir); } finally { await rm(dir, { recursive: true, force: true }); }
}

function synthetic(n: number, h: number, w: number, seed: number) {
  const r = new Rng(seed);
  const images: IdxArray = { dtype: 'u8', dims: [n, h, w], data: Uint8Array.from({ length: n * h * w }, () => r.int(0, 256)) };
  const labels: IdxArray = { dtype: 'u8', dims: [n], data: Uint8Array.from({ length: n }, () => r.int(0, 10)) };
  return { images, labels };
}

test('readIdxFile reads raw and gzipped files alike (gzip found by magic, not by name)', async () => {
  await withDir(async (dir) => {
    const a = arrays[0], bytes = encodeIdx(a);
    await writeFile(join(dir, 'raw'), bytes);
    await writeFile(join(dir, 'zipped-without-suffix'), gzipSync(bytes));
    for (const f of ['raw', 'zipped-without-suffix']) {
      const back = await readIdxFile(join(dir, f));
      assert.deepEqual(Array.from(back.data), Array.from(a.data), f);
    }
    await writeFile(join(dir, 'bad.gz'), gzipSync(bytes).subarray(0, 20));
    await assert.rejects(readIdxFile(join(dir, 'bad.gz')), /bad\.gz: gzip data is corrupt or truncated/);
    await assert.rejects(readIdxFile(join(dir, 'missing')), /missing: cannot read IDX file/);
    await writeFile(join(dir, 'short.gz'), gzipSync(bytes.subarray(0, bytes.length - 2)));
    await assert.rejects(readIdxFile(join(dir, 'short.gz')), /short\.gz: truncated: dims \[3, 2, 5\]/);
  });
});

test('loadIdxDataset finds MNIST file names in a directory (raw or .gz) and builds a [0, 1] NHWC dataset', async () => {
  await withDir(async (dir) => {
    const tr = synthetic(7, 4, 3, 1), te = synthetic(5, 4, 3, 2);
    await writeFile(join(dir, 'train-images-idx3-ubyte.gz'), gzipSync(encodeIdx(tr.images)));
    await writeFile(join(dir, 'train-labels-idx1-ubyte'), encodeIdx(tr.labels));
    await writeFile(join(dir, 't10k-images.idx3-ubyte'), encodeIdx(te.images));
    await writeFile(join(dir, 't10k-labels.idx1-ubyte.gz'), gzipSync(encodeIdx(te.labels)));
    const train = await loadIdxDataset(dir, { classes: 10 });
    assert.deepEqual(train.shape, [4, 3, 1]);
    assert.equal(train.classes, 10);
    assert.deepEqual(Array.from(train.y), Array.from(tr.labels.data));
    assert.deepEqual(Array.from(train.x), Array.from(tr.images.data, (b) => Math.fround(b / 255)));
    const test = await loadIdxDataset(dir, { split: 'test', scale: false });
    assert.deepEqual(Array.from(test.x), Array.from(te.images.data));
    const pair = await loadIdxDataset({ images: join(dir, 't10k-images.idx3-ubyte'), labels: join(dir, 't10k-labels.idx1-ubyte.gz') });
    assert.deepEqual(Array.from(pair.y), Array.from(te.labels.data));
  });
});

test('loadIdxDataset refuses mismatched or out-of-range files, naming them', async () => {
  await withDir(async (dir) => {
    const a = synthetic(6, 2, 2, 3), b = synthetic(5, 2, 2, 4);
    const p = (f: string) => join(dir, f);
    await writeFile(p('img'), encodeIdx(a.images));
    await writeFile(p('lab5'), encodeIdx(b.labels));
    await writeFile(p('lab6'), encodeIdx({ dtype: 'u8', dims: [6], data: Uint8Array.of(0, 1, 2, 3, 4, 12) }));
    await writeFile(p('flat'), encodeIdx({ dtype: 'u8', dims: [24], data: new Uint8Array(24) }));
    await assert.rejects(loadIdxDataset({ images: p('img'), labels: p('lab5') }), /lab5: 5 labels for the 6 images of .*img/);
    await assert.rejects(loadIdxDataset({ images: p('img'), labels: p('lab6') }, { classes: 10 }), /example 5 has label 12, expected an integer in \[0, 10\)/);
    await assert.rejects(loadIdxDataset({ images: p('flat'), labels: p('lab6') }), /flat: images must have dims \[N, H, W\] or \[N, H, W, C\], found \[24\]/);
    await assert.rejects(loadIdxDataset(dir), /no train file found: looked for train-images-idx3-ubyte, train-images-idx3-ubyte\.gz/);
  });
});

test('fashionMnist on a missing directory says how to install it', async () => {
  await assert.rejects(fashionMnist('/nonexistent/fashion'), /Fashion-MNIST not found: .*apt-get install dataset-fashion-mnist/);
});
