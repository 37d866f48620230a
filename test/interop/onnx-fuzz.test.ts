// The ONNX reader refuses malformed files with a RedeError and takes memory bounded by the file: a 1,500-input
// slice of the onnx fuzz target (scripts/fuzz/onnx.ts; the 100,000-input run is in docs/interop.md), every
// truncation of an exported file, and hand-made hostile fields (lengths past the end, dims that claim more values
// than the bytes, external data, deep subgraphs, over-long varints).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../../src/api/model';
import { RedeError } from '../../src/engine/errors';
import { exportOnnx } from '../../src/interop/onnx/export';
import { importOnnx } from '../../src/interop/onnx/import';
import { Writer } from '../../src/interop/onnx/proto';
import { decodeModel } from '../../src/interop/onnx/schema';
import { formatReport, runFuzz, violations } from '../../scripts/fuzz/run';

const refuses = (b: Uint8Array, re: RegExp) => assert.throws(() => decodeModel(b, 'f.onnx'), (e: unknown) => e instanceof RedeError && re.test(e.message), String(re));

test('fuzz onnx: 1,500 mutated inputs, only RedeErrors, none over 1 s', async (t) => {
  const r = await runFuzz({ target: 'onnx', count: 1500, seed: 7 });
  t.diagnostic(formatReport(r));
  assert.ok(r.refused > 750 && r.accepted > 15, `${r.refused} refused, ${r.accepted} accepted`);
  assert.deepEqual(violations(r), [], formatReport(r));
});

test('every truncation of an exported file is refused with a RedeError (or, cut at a field boundary, read consistently)', async () => {
  const m = await Model.create({ input: [4, 4, 1], layers: [{ type: 'conv2d', filters: 2, kernel: 3, activation: 'relu' }, { type: 'flatten' }, { type: 'dense', units: 2 }] }, { seed: 1 });
  const b = exportOnnx(m);
  for (let cut = 0; cut < b.length; cut++) {
    try { await importOnnx(b.subarray(0, cut), { source: 'cut.onnx' }); } catch (e) { assert.ok(e instanceof RedeError, `cut at ${cut}: ${(e as Error).stack}`); }
  }
});

test('hostile fields: lengths past the end, dims beyond the data, external data, nesting, long varints, wrong wire types', () => {
  const model = (graph: Writer) => new Writer().varint(1, 7).message(7, graph).message(8, new Writer().string(1, '').varint(2, 13)).finish();
  // A length-delimited field that says 2^40 bytes: refused before anything is cut or allocated.
  refuses(Uint8Array.of(0x3a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20), /says \d+ bytes at byte 7, 0 left/);
  // dims [2^20, 2^20] of FLOAT with 4 bytes of raw_data.
  const t = new Writer().varint(1, 1 << 20).varint(1, 1 << 20).varint(2, 1).string(8, 'w').bytes(9, new Uint8Array(4));
  refuses(model(new Writer().message(5, t)), /raw_data has 4 bytes, dims \[1048576, 1048576\] of FLOAT need/);
  // The same dims with typed data (float_data): bounded by the tensor's own bytes.
  const t2 = new Writer().varint(1, 1 << 20).varint(1, 1 << 20).varint(2, 1).string(8, 'w').packedFloats(4, [1, 2]);
  refuses(model(new Writer().message(5, t2)), /hold more values than the \d+-byte tensor can/);
  refuses(model(new Writer().message(5, new Writer().varint(1, 1).varint(2, 1).varint(14, 1))), /external_data/);
  refuses(model(new Writer().message(5, new Writer().varint(1, 1).varint(2, 8))), /not read/);
  // Graphs nested in attributes, 20 deep.
  let g = new Writer();
  for (let i = 0; i < 20; i++) g = new Writer().message(1, new Writer().string(4, 'If').message(5, new Writer().string(1, 'then_branch').message(6, g).varint(20, 5)));
  refuses(model(g), /nested more than 8 deep/);
  refuses(Uint8Array.of(0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), /longer than 10 bytes/);
  refuses(Uint8Array.of(0x0b), /wire type 3/);
  refuses(Uint8Array.of(0x08, 0x07), /no graph field/);
  refuses(Uint8Array.of(0x3d, 1, 2, 3, 4), /must be length-delimited/);
  assert.throws(() => decodeModel('x' as never), RedeError);
});
