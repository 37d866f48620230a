// safetensors: bytes written and read back bitwise, every dtype readable, a model saved and loaded bitwise, and
// hostile files refused before anything is copied (header length past the file, ranges outside the data,
// sizes that disagree with shapes, gaps and overlaps).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../../src/api/model';
import { RedeError } from '../../src/engine/errors';
import { decodeSafetensors, encodeSafetensors, modelFromSafetensors, modelToSafetensors, toFloat32 } from '../../src/interop/safetensors';
import { lenet5 } from '../../src/zoo/index';
import { Rng } from '../helpers/rand';

/** A file around any header object and data (for hostile cases). */
function file(header: unknown, data = new Uint8Array(0), pad = 0): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header) + ' '.repeat(pad));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8); out.set(data, 8 + json.length);
  return out;
}
const bad = (b: Uint8Array, re: RegExp) => assert.throws(() => decodeSafetensors(b, 'f.safetensors'), (e: unknown) => e instanceof RedeError && re.test(e.message));

test('safetensors: F32 tensors and metadata round-trip bitwise; the data starts 8-aligned', () => {
  const a = Float32Array.of(1, -0, NaN, Infinity, 1e-45, 3.5), b = new Float32Array(0);
  const bytes = encodeSafetensors({ a: { shape: [2, 3], data: a }, empty: { shape: [0, 4], data: b } }, { note: 'hi' });
  const n = new DataView(bytes.buffer).getUint32(0, true);
  assert.equal((8 + n) % 8, 0);
  const { tensors, metadata } = decodeSafetensors(bytes);
  assert.deepEqual(metadata, { note: 'hi' });
  assert.deepEqual(tensors.get('a')!.shape, [2, 3]);
  assert.deepEqual(new Uint8Array(toFloat32(tensors.get('a')!).buffer), new Uint8Array(a.buffer));
  assert.deepEqual(tensors.get('empty')!.shape, [0, 4]);
});

test('safetensors: every dtype reads as numbers (F64, F16, BF16, integers, BOOL)', () => {
  const raw = (dtype: string, shape: number[], bytes: number[]) => ({ dtype, shape, bytes: Uint8Array.from(bytes) }) as never;
  const f = decodeSafetensors(encodeSafetensors({
    f64: raw('F64', [1], [...new Uint8Array(Float64Array.of(-2.5).buffer)]),
    f16: raw('F16', [3], [0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00]), // 1, −2, 2^−24
    bf16: raw('BF16', [1], [0xc0, 0x3f]), // 1.5
    i64: raw('I64', [], [...new Uint8Array(BigInt64Array.of(-7n).buffer)]),
    i8: raw('I8', [2], [0xff, 0x05]), u8: raw('U8', [1], [200]), b: raw('BOOL', [2], [1, 0]),
    i16: raw('I16', [1], [0xfe, 0xff]), i32: raw('I32', [1], [0xfd, 0xff, 0xff, 0xff]),
  })).tensors;
  const v = (k: string) => [...toFloat32(f.get(k)!)];
  assert.deepEqual([v('f64'), v('f16'), v('bf16'), v('i64'), v('i8'), v('u8'), v('b'), v('i16'), v('i32')],
    [[-2.5], [1, -2, 2 ** -24], [1.5], [-7], [-1, 5], [200], [1, 0], [-2], [-3]]);
});

test('safetensors as a rede save format: a model saved and loaded predicts bitwise the same', async () => {
  const m = await Model.create(lenet5(), { seed: 3 });
  const x = new Rng(1).array(2 * 784, 0, 1);
  for (const layout of ['rede', 'pytorch'] as const) {
    const back = await modelFromSafetensors(modelToSafetensors(m, { layout }), { source: 'm.safetensors' });
    assert.deepEqual(back.predict(x), m.predict(x), layout);
    assert.deepEqual(back.getWeights(), m.getWeights());
  }
  await assert.rejects(modelFromSafetensors(encodeSafetensors({ a: { shape: [1], data: Float32Array.of(1) } }), { source: 's' }), /s: not a rede model \(metadata format undefined\)/);
  const wrong = encodeSafetensors({ 'c1/kernel': { shape: [1], data: Float32Array.of(1) } }, { format: 'rede-model', config: JSON.stringify(lenet5()), layout: 'rede' });
  await assert.rejects(modelFromSafetensors(wrong, { source: 'w' }), /^RedeError: w: /);
});

test('safetensors: hostile files are refused, naming the file and what is wrong, before any copy', () => {
  const ok = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  bad(new Uint8Array(5), /^f\.safetensors: a safetensors file starts with an 8-byte header length, got 5 bytes$/);
  const huge = file(ok, new Uint8Array(8));
  new DataView(huge.buffer).setUint32(4, 1, true); // header length ≥ 2^32
  bad(huge, /the header length is \d+ bytes, but the limit is 100000000/);
  const past = file(ok, new Uint8Array(8));
  new DataView(past.buffer).setUint32(0, 10_000, true);
  bad(past, /the header length is 10000 bytes, but the file has \d+ after the length/);
  bad(file([1]), /the header must be a JSON object \(starting with '\{'\), got byte 0x5b/);
  const broken = file(ok, new Uint8Array(8)); broken[10] = 0xff;
  bad(broken, /the header is not valid UTF-8 JSON/);
  bad(file({ a: { dtype: 'F33', shape: [2], data_offsets: [0, 8] } }, new Uint8Array(8)), /tensor 'a': dtype must be one of F64, F32/);
  bad(file({ a: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, new Uint8Array(8)), /tensor 'a': shape must be a list of at most 16 integers ≥ 0, got \[-2\]/);
  bad(file({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 9] } }, new Uint8Array(8)), /data_offsets must be \[begin, end\] with 0 ≤ begin ≤ end ≤ 8 \(the data's size\), got \[0,9\]/);
  bad(file({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)), /tensor 'a': F32 \[3\] needs 12 bytes, data_offsets give 8/);
  bad(file({ a: { dtype: 'F32', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 8] } }, new Uint8Array(8)), /needs more than any file holds/);
  bad(file({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8)), /tensor 'a' starts at byte 4 of the data, expected 0 \(tensors must tile the data/);
  bad(file({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8)), /tensor 'b' starts at byte 4 of the data, expected 8/);
  bad(file({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(8)), /the tensors cover 4 bytes of data, the file has 8/);
  bad(file({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8], extra: 1 } }, new Uint8Array(8)), /unknown key 'extra'/);
  bad(file({ __metadata__: { k: 1 } }), /__metadata__ 'k' must be a string, got 1/);
  assert.deepEqual([...decodeSafetensors(file(ok, new Uint8Array(8), 3)).tensors.keys()], ['a']); // trailing spaces in the header
});
