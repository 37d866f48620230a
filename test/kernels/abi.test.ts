// The ABI shared by the kernels and TypeScript is generated from one source (scripts/abi.mjs): the committed
// AssemblyScript face and the TypeScript face must be exactly what the generator writes from it now, and
// each descriptor's writer and reader must round-trip every slot through its own type (i32 or f32).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testEngines } from '../helpers/engines';
import * as abi from '../../src/engine/generated/abi';

const root = new URL('../../', import.meta.url).pathname;

test('assembly/abi.ts and src/engine/generated/abi.ts are what scripts/gen-abi.mjs writes from scripts/abi.mjs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rede-abi-'));
  try {
    const asOut = join(dir, 'abi.as.ts'), tsOut = join(dir, 'abi.ts');
    execFileSync(process.execPath, [join(root, 'scripts', 'gen-abi.mjs')], { env: { ...process.env, ABI_AS_OUT: asOut, ABI_TS_OUT: tsOut }, stdio: 'ignore' });
    assert.equal(readFileSync(join(root, 'assembly', 'abi.ts'), 'utf8'), readFileSync(asOut, 'utf8'), 'assembly/abi.ts is stale or edited by hand: run npm run build:wasm');
    assert.equal(readFileSync(join(root, 'src', 'engine', 'generated', 'abi.ts'), 'utf8'), readFileSync(tsOut, 'utf8'), 'src/engine/generated/abi.ts is stale: run npm run build:wasm');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every descriptor slot index in assembly/abi.ts is the position the TypeScript writer uses', async () => {
  const asText = readFileSync(join(root, 'assembly', 'abi.ts'), 'utf8');
  const [{ e }] = await testEngines();
  const writers: [string, number, (at: number, d: Record<string, number>) => void, (at: number) => Record<string, number>][] = [
    ['CONV', abi.CONV_DESC_BYTES, (at, d) => abi.writeConvDesc(e, at, d as unknown as abi.ConvDesc), (at) => ({ ...abi.readConvDesc(e, at) })],
    ['POOL', abi.POOL_DESC_BYTES, (at, d) => abi.writePoolDesc(e, at, d as unknown as abi.PoolDesc), (at) => ({ ...abi.readPoolDesc(e, at) })],
    ['UPSAMPLE', abi.UPSAMPLE_DESC_BYTES, (at, d) => abi.writeUpsampleDesc(e, at, d as unknown as abi.UpsampleDesc), (at) => ({ ...abi.readUpsampleDesc(e, at) })],
    ['BATCHNORM', abi.BATCHNORM_DESC_BYTES, (at, d) => abi.writeBatchnormDesc(e, at, d as unknown as abi.BatchnormDesc), (at) => ({ ...abi.readBatchnormDesc(e, at) })],
    ['LRN', abi.LRN_DESC_BYTES, (at, d) => abi.writeLrnDesc(e, at, d as unknown as abi.LrnDesc), (at) => ({ ...abi.readLrnDesc(e, at) })],
    ['SGD', abi.SGD_DESC_BYTES, (at, d) => abi.writeSgdDesc(e, at, d as unknown as abi.SgdDesc), (at) => ({ ...abi.readSgdDesc(e, at) })],
    ['RMSPROP', abi.RMSPROP_DESC_BYTES, (at, d) => abi.writeRmspropDesc(e, at, d as unknown as abi.RmspropDesc), (at) => ({ ...abi.readRmspropDesc(e, at) })],
    ['ADAM', abi.ADAM_DESC_BYTES, (at, d) => abi.writeAdamDesc(e, at, d as unknown as abi.AdamDesc), (at) => ({ ...abi.readAdamDesc(e, at) })],
  ];
  for (const [P, bytes, write, read] of writers) {
    // The AssemblyScript side's view of this descriptor: field → (slot, type), and its size.
    const slots = [...asText.matchAll(new RegExp(`^export const ${P}_(\\w+): i32 = (\\d+); // (i32|f32)$`, 'gm'))];
    assert.ok(slots.length > 0, `${P}: no slots in assembly/abi.ts`);
    assert.equal(Number(new RegExp(`^export const ${P}_DESC_BYTES: i32 = (\\d+);$`, 'm').exec(asText)?.[1]), bytes, `${P}: size`);
    assert.equal(slots.length * 4, bytes, `${P}: slots × 4 bytes`);
    const mark = e.mark(), at = e.reserve(bytes);
    // Field i gets a value only it has (and exact in f32); then read each slot back the way a kernel does.
    const fields = Object.keys(read(at));
    const values = Object.fromEntries(fields.map((f, i) => [f, 100 + i]));
    write(at, values);
    for (const [, name, slot, type] of slots) {
      const field = fields.find((f) => f.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase() === name);
      assert.ok(field, `${P}_${name}: no such field in the TypeScript descriptor (${fields.join(', ')})`);
      const got = type === 'i32' ? e.i32[(at >>> 2) + Number(slot)] : e.f32[(at >>> 2) + Number(slot)];
      assert.equal(got, values[field], `${P}_${name}: slot ${slot} (${type}) holds ${got}, the writer put ${field} = ${values[field]} elsewhere`);
    }
    assert.deepEqual(read(at), values, `${P}: reader`);
    e.release(mark);
  }
});

test('the GEMM tile and the optimizer step block agree across the boundary', async () => {
  const asText = readFileSync(join(root, 'assembly', 'abi.ts'), 'utf8');
  for (const [name, value] of [['GEMM_MR', abi.GEMM_MR], ['GEMM_NR', abi.GEMM_NR], ['OPTIM_STEP_BYTES', abi.OPTIM_STEP_BYTES]] as const) {
    assert.equal(Number(new RegExp(`^export const ${name}: i32 = (\\d+);$`, 'm').exec(asText)?.[1]), value, name);
  }
  // gemm_packed_b_bytes is ceil(n/NR) panels of k×NR floats, in the wasm build and the reference.
  for (const { name, e, ref } of await testEngines()) {
    for (const n of [1, abi.GEMM_NR - 1, abi.GEMM_NR, abi.GEMM_NR + 1]) {
      const want = Math.ceil(n / abi.GEMM_NR) * abi.GEMM_NR * 3 * 4;
      assert.equal(e.k.gemm_packed_b_bytes(3, n), want, `${name} wasm, n = ${n}`);
      assert.equal(ref.gemm_packed_b_bytes(3, n), want, `${name} ref, n = ${n}`);
    }
    // The step block lies below the arena, where no planned memory can overlap it.
    assert.ok(e.k.optim_step_block() + abi.OPTIM_STEP_BYTES <= e.k.heap_base(), `${name}: step block below heap_base`);
    assert.ok(ref.optim_step_block() + abi.OPTIM_STEP_BYTES <= ref.heap_base(), `${name}: ref step block below heap_base`);
  }
});
