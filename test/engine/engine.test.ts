import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine';
import { MemoryPlan } from '../../src/engine/plan';
import { gemm } from '../../src/ops/gemm';

test('engine picks relaxed SIMD in Node 20, and plain SIMD on request', async () => {
  const auto = await Engine.create();
  assert.equal(auto.variant, 'relaxed-simd');
  const plain = await Engine.create({ variant: 'simd' });
  assert.equal(plain.variant, 'simd');
});

test('shared-memory build instantiates on a shared memory', async () => {
  const e = await Engine.create({ shared: true });
  assert.ok(e.memory.buffer instanceof SharedArrayBuffer);
  const t = e.tensor([4], [1, 2, 3, 4]);
  assert.deepEqual([...e.read(t.ptr, 4)], [1, 2, 3, 4]);
});

test('a plan is laid out in one reservation, parts contiguous and aligned', async () => {
  const e = await Engine.create();
  const p = new MemoryPlan();
  p.f32('w', 10, 'parameters'); p.f32('dw', 10, 'gradients'); p.f32('b', 3, 'parameters'); p.f32('x', 100, 'activations');
  const l = e.allocate(p);
  assert.equal(l.ptr.w % 64, 0);
  assert.equal(l.ptr.b - l.ptr.w, 64);
  assert.ok(l.ptr.dw > l.ptr.b && l.ptr.x > l.ptr.dw);
  assert.equal(l.partBytes.parameters, 128);
  assert.ok(e.memory.buffer.byteLength >= l.base + l.total);
});

test('memory that cannot grow is a RedeError naming the need and the limit', async () => {
  const e = await Engine.create({ maxBytes: 4 * 65536 });
  assert.throws(() => e.reserve(10 * 65536, 'activations of conv1'), /activations of conv1.*limit is 262144 bytes/);
});

test('checked gemm names the shapes on mismatch, and refuses regions outside the arena', async () => {
  const e = await Engine.create();
  const a = e.tensor([2, 3]), b = e.tensor([4, 5]), c = e.tensor([2, 5]);
  assert.throws(() => gemm(e, a, b, c), /gemm\w*: op\(a\) \[2, 3\] · op\(b\) \[4, 5\] does not give c \[2, 5\]/);
  assert.throws(() => gemm(e, { shape: [2, 4], ptr: 1 << 30 }, b, c), /outside the arena/);
  assert.throws(() => gemm(e, { shape: [2, 4.5], ptr: a.ptr }, b, c), /positive integer dims/);
});

test('the shared-memory kernels derived from the non-shared binary are byte for byte the shared build asc wrote', async () => {
  const { wasmBytes } = await import('../../src/engine/wasm');
  const { readFileSync } = await import('node:fs');
  for (const v of ['simd', 'relaxed-simd'] as const) {
    const built = new Uint8Array(readFileSync(new URL(`../../build/wasm/rede-${v}-shared.wasm`, import.meta.url)));
    assert.deepEqual(wasmBytes(v, true), built, `${v}-shared`);
    assert.notDeepEqual(wasmBytes(v, false), built, `${v}: the non-shared binary must differ`);
  }
  assert.equal(WebAssembly.validate(wasmBytes('simd', true)), true); // relaxed SIMD validates only behind Node's flag
});
