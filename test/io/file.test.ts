import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, readFile, readdir, rm } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  encodeRedeFile, decodeRedeFile, saveRedeFile, loadRedeFile, crc32, MAX_HEADER_BYTES, type RedeFile,
} from '../../src/io/file';
import { writeFileAtomic } from '../../src/io/atomic';
import { Rng } from '../helpers/rand';

const rng = new Rng(3);
const sample: RedeFile = {
  header: {
    config: { layers: [{ type: 'conv2d', filters: 8 }, { type: 'dense', units: 10 }], input: [28, 28, 1] },
    optimizer: { name: 'adam', lr: 1e-3, beta1: 0.9, step: 120 },
    training: { epoch: 3, step: 120, seed: 7, loss: 0.25 },
    note: '-'.repeat(100), // slack that withHeader removes so edited headers keep their length
  },
  tensors: {
    'conv1/kernel': rng.array(3 * 3 * 1 * 8),
    'conv1/bias': rng.array(8),
    'dense/kernel': rng.array(17),
    'empty': new Float32Array(0),
    'optimizer/m/conv1/kernel': Float32Array.of(NaN, -0, Infinity, 1e-45, ...rng.array(68)),
  },
  shapes: { 'conv1/kernel': [3, 3, 1, 8], 'empty': [0, 4] },
};

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'rede-io-'));
  try { await fn(dir); } finally { await rm(dir, { recursive: true, force: true }); }
}

function assertSame(back: ReturnType<typeof decodeRedeFile>): void {
  assert.deepEqual(back.header, sample.header);
  assert.deepEqual(Object.keys(back.tensors), Object.keys(sample.tensors));
  for (const [name, t] of Object.entries(sample.tensors)) {
    assert.deepEqual(new Uint8Array(back.tensors[name].buffer, back.tensors[name].byteOffset, t.byteLength), new Uint8Array(t.buffer, t.byteOffset, t.byteLength), name);
  }
  assert.deepEqual(back.shapes['conv1/kernel'], [3, 3, 1, 8]);
  assert.deepEqual(back.shapes['conv1/bias'], [8]);
  assert.deepEqual(back.shapes.empty, [0, 4]);
}

test('round trip, bit for bit (NaN, −0, denormals), in bytes and through a file; layout is 64-byte aligned', async () => {
  const bytes = encodeRedeFile(sample);
  assertSame(decodeRedeFile(bytes));
  assert.deepEqual(Array.from(bytes.subarray(0, 8)), [0x89, 0x52, 0x45, 0x44, 0x45, 0x0d, 0x0a, 0x1a]);
  const back = decodeRedeFile(bytes);
  const dataStart = bytes.length - (back.table['optimizer/m/conv1/kernel'].offset + 72 * 4);
  assert.equal(dataStart % 64, 0);
  for (const e of Object.values(back.table)) assert.equal(e.offset % 64, 0);
  // Little-endian f32 at its offset.
  const e = back.table['conv1/bias'];
  assert.equal(new DataView(bytes.buffer).getFloat32(dataStart + e.offset + 4, true), sample.tensors['conv1/bias'][1]);
  await withDir(async (dir) => {
    const path = join(dir, 'model.rede');
    await saveRedeFile(path, sample);
    assertSame(await loadRedeFile(path));
    assert.deepEqual(new Uint8Array(await readFile(path)), bytes);
    assert.deepEqual(await readdir(dir), ['model.rede'], 'no temporary file left');
  });
  assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926); // the standard check value
});

/** Rewrite the header of a valid file with `edit` (keeping the header length and CRC consistent). */
function withHeader(edit: (h: any) => void): Uint8Array {
  const bytes = encodeRedeFile(sample);
  const view = new DataView(bytes.buffer);
  const len = view.getUint32(12, true);
  const h = JSON.parse(new TextDecoder().decode(bytes.subarray(20, 20 + len)));
  delete h.note;
  edit(h);
  let json = new TextEncoder().encode(JSON.stringify(h));
  if (json.length > len) throw new Error('test header edit grew the header');
  json = new TextEncoder().encode(JSON.stringify(h) + ' '.repeat(len - json.length)); // same length: data stays put
  const out = bytes.slice();
  out.set(json, 20);
  new DataView(out.buffer).setUint32(16, crc32(json), true);
  return out;
}

test('truncated, corrupted and malformed files give errors naming the file and the field', () => {
  const good = encodeRedeFile(sample);
  const setU32 = (at: number, v: number) => { const b = good.slice(); new DataView(b.buffer).setUint32(at, v, true); return b; };
  const flip = (at: number) => { const b = good.slice(); b[at] ^= 0x10; return b; };
  const cases: [Uint8Array, RegExp][] = [
    [good.subarray(0, 5), /^RedeError: m\.rede: truncated: 5 bytes is too short for the magic/],
    [new TextEncoder().encode('{"not": "a rede file"}'), /m\.rede: bad magic: not a rede file \(expected 89 52 45 44 45 0d 0a 1a, found 7b 22/],
    [good.subarray(0, 14), /truncated: 14 bytes is too short for the 20-byte prefix/],
    [setU32(8, 2), /format version 2 was written by a newer rede; this one reads version 1/],
    [setU32(12, MAX_HEADER_BYTES + 1), /header length field is 67108865 bytes, over the 67108864-byte limit/],
    [setU32(12, 1_000_000), /truncated: header length field says 1000000 bytes, but the file is \d+ bytes/],
    [flip(30), /m\.rede: header is corrupted \(CRC-32 0x[0-9a-f]{8}, prefix says 0x[0-9a-f]{8}\)/],
    [good.subarray(0, good.length - 4), /m\.rede: truncated: the data section ends at byte \d+ \(dataBytes \d+\), but the file is \d+ bytes/],
    [Uint8Array.from([...good, 0]), /m\.rede: 1 trailing bytes after the data section/],
    [flip(good.length - 3), /m\.rede: tensor 'optimizer\/m\/conv1\/kernel' is corrupted \(CRC-32 of its 288 bytes/],
    [withHeader((h) => { h.tensors['conv1/bias'].offset = 1 << 20; }), /tensor 'conv1\/bias' field 'offset': bytes \[1048576, 1048608\) are outside the \d+-byte data section/],
    [withHeader((h) => { h.tensors['conv1/bias'].offset = 4; }), /tensor 'conv1\/bias' field 'offset': expected a non-negative multiple of 64, found 4/],
    [withHeader((h) => { h.tensors['conv1/bias'].offset = h.tensors['conv1/kernel'].offset; }), /tensor '.*' field 'offset': bytes from 0 overlap tensor/],
    [withHeader((h) => { h.tensors['conv1/bias'].shape = [9]; }), /tensor 'conv1\/bias' field 'bytes': 32 does not match shape \[9\] \(36 bytes\)/],
    [withHeader((h) => { h.tensors['conv1/bias'].shape = [1e12, 1e12]; }), /tensor 'conv1\/bias' field 'shape': expected an array of integers in \[0, 2\^31\)/],
    [withHeader((h) => { h.tensors['conv1/bias'].dtype = 'f16'; }), /tensor 'conv1\/bias' field 'dtype': "f16" is not supported, expected "f32"/],
    [withHeader((h) => { h.tensors['conv1/bias'].crc32 = -1; }), /tensor 'conv1\/bias' field 'crc32': expected an unsigned 32-bit integer/],
    [withHeader((h) => { h.dataBytes = 'lots'; }), /header field 'dataBytes' must be an integer >= 0, found "lots"/],
    [withHeader((h) => { h.tensors = [1]; }), /header field 'tensors' must be an object/],
    [withHeader((h) => { Object.defineProperty(h.tensors, '__proto__', { value: h.tensors.empty, enumerable: true }); }), /tensor name "__proto__" is not allowed/],
  ];
  for (const [bytes, re] of cases) assert.throws(() => decodeRedeFile(bytes, 'm.rede'), (e: Error) => re.test(String(e)), String(re));
  // A header that is not JSON at all (CRC made consistent so the parser is reached).
  const bad = good.slice();
  bad[20] = 0x7d; // '}' first
  new DataView(bad.buffer).setUint32(16, crc32(bad.subarray(20, 20 + new DataView(bad.buffer).getUint32(12, true))), true);
  assert.throws(() => decodeRedeFile(bad, 'm.rede'), /m\.rede: header is not valid UTF-8 JSON/);
});

test('encode refuses bad input', () => {
  assert.throws(() => encodeRedeFile({ header: { tensors: 1 }, tensors: {} }), /header field 'tensors' is reserved/);
  assert.throws(() => encodeRedeFile({ header: {}, tensors: { a: new Float32Array(6) }, shapes: { a: [4, 2] } }), /tensor 'a' has 6 values, its shape \[4, 2\] does not/);
  assert.throws(() => encodeRedeFile({ header: {}, tensors: {}, shapes: { a: [1] } }), /a shape is given for 'a', which is not among the tensors/);
  assert.throws(() => encodeRedeFile({ header: {}, tensors: { '': new Float32Array(1) } }), /tensor name "" is not allowed/);
});

test('loadRedeFile checks before allocating: a header claiming huge tensors in a small file is refused', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'lying.rede');
    await writeFile(path, withHeader((h) => { h.dataBytes = 2 ** 40; }));
    await assert.rejects(loadRedeFile(path), new RegExp(`${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: truncated: the data section ends at byte \\d+ \\(dataBytes 1099511627776\\)`));
    await writeFile(path, encodeRedeFile(sample).subarray(0, 100));
    await assert.rejects(loadRedeFile(path), /lying\.rede: truncated: header length field says \d+ bytes, but the file is 100 bytes/);
    await assert.rejects(loadRedeFile(join(dir, 'absent.rede')), /absent\.rede: cannot open/);
  });
});

test('a failed write (rename fails) leaves the old file intact and no temporary file', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'model.rede');
    await saveRedeFile(path, sample);
    const before = await readFile(path);
    const newer: RedeFile = { header: { training: { epoch: 4 } }, tensors: { w: new Float32Array(1000) } };
    await assert.rejects(
      saveRedeFile(path, newer, { beforeRename: () => { throw new Error('simulated crash before rename'); } }),
      /model\.rede: atomic write failed, the file is unchanged \(simulated crash before rename\)/,
    );
    assert.deepEqual(await readFile(path), before);
    assert.deepEqual(await readdir(dir), ['model.rede']);
    // A rename that fails for real: the target is a non-empty directory.
    const blocked = join(dir, 'blocked');
    await writeFileAtomic(join(dir, 'x'), Uint8Array.of(1));
    await (await import('node:fs/promises')).mkdir(join(blocked, 'inside'), { recursive: true });
    await assert.rejects(writeFileAtomic(blocked, Uint8Array.of(1, 2)), /blocked: atomic write failed/);
    assert.deepEqual((await readdir(dir)).sort(), ['blocked', 'model.rede', 'x']);
  });
});

test('a process killed between write and rename leaves the old file intact', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'model.rede');
    await saveRedeFile(path, sample);
    const before = await readFile(path);
    const atomic = new URL('../../src/io/atomic.ts', import.meta.url).pathname;
    const script = `import { writeFileAtomic } from ${JSON.stringify(atomic)};
      await writeFileAtomic(${JSON.stringify(path)}, new Uint8Array(4096).fill(7), { beforeRename: () => process.kill(process.pid, 'SIGKILL') });`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(r.signal, 'SIGKILL', r.stderr);
    assert.deepEqual(await readFile(path), before);
    assertSame(await loadRedeFile(path));
    const left = (await readdir(dir)).filter((f) => f !== 'model.rede');
    assert.equal(left.length, 1, 'the complete temporary file stays behind after a hard kill');
    assert.match(left[0], /^\.model\.rede\.tmp-\d+-/);
  });
});
