// Winograd F(2×2, 3×3) (assembly/winograd.ts, used by the inference path): the input and output transforms against
// the reference (src/ref/winograd.ts) on each wasm build over image sizes, paddings, channels and tile-row ranges,
// with and without the fused bias, residual and ReLU, with sentinels past every buffer and around the rows a call
// must not write; and the whole algorithm (filter
// transform, input transform, 16 GEMMs, output transform) against the direct definition of the convolution
// (the reference conv2d_forward_f32), which shares no code with it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { convGeom, writeConvDesc, CONV_DESC_BYTES, type ConvGeom, type ConvPadding } from '../../src/ops/conv';
import { WINOGRAD_TMP_BYTES } from '../../src/engine/generated/abi';
import { winogradFilter, winogradApplies } from '../../src/infer/winograd';
import type { Engine } from '../../src/engine/engine';
import { testEngines } from '../helpers/engines';
import { Rng } from '../helpers/rand';
import { assertClose } from '../helpers/close';

const SENTINEL = 12345.5;

function descOf(e: Engine, g: ConvGeom): number {
  const d = e.reserve(CONV_DESC_BYTES, 'desc');
  writeConvDesc(e, d, g);
  return d;
}

/** n floats at a fresh address, followed by 8 sentinels; filled with `data` or sentinels. */
function buffer(e: Engine, n: number, data?: Float32Array): number {
  const t = e.tensor([n + 8]);
  e.f32.fill(SENTINEL, t.ptr >>> 2, (t.ptr >>> 2) + n + 8);
  if (data) e.write(t.ptr, data);
  return t.ptr;
}

const sentinelsAt = (e: Engine, ptr: number, n: number) => [...e.read(ptr, n)].every((v) => v === SENTINEL);

const CASES: { h: number; w: number; padding: ConvPadding }[] = [
  { h: 1, w: 1, padding: 'same' }, { h: 2, w: 3, padding: 'same' }, { h: 4, w: 4, padding: 'valid' }, { h: 5, w: 7, padding: 'same' },
  { h: 7, w: 7, padding: 'same' }, { h: 8, w: 6, padding: 'same' }, { h: 9, w: 5, padding: 'valid' }, { h: 6, w: 9, padding: 2 },
  { h: 6, w: 5, padding: [0, 2, 1, 0] },
];

test('winograd transforms match the reference over sizes, paddings, channels and tile rows; nothing written outside their rows', async () => {
  const rng = new Rng(61);
  for (const { name, e, ref } of await testEngines()) {
    for (const c of CASES) for (const cin of [4, 8, 12]) for (const cout of [4, 16]) {
      const g = convGeom({ n: 1, h: c.h, w: c.w, cin, cout, kh: 3, kw: 3, padding: c.padding });
      const tilesH = Math.ceil(g.oh / 2), tilesW = Math.ceil(g.ow / 2);
      for (const [ty0, ty1] of [[0, tilesH], [0, 1], [tilesH - 1, tilesH], [Math.floor(tilesH / 2), tilesH]]) {
        const what = `${name} ${c.h}×${c.w} pad ${JSON.stringify(c.padding)} cin ${cin} cout ${cout} tile rows [${ty0}, ${ty1})`;
        const mark = e.mark(), d = descOf(e, g), tiles = (ty1 - ty0) * tilesW;
        const x = buffer(e, c.h * c.w * cin, rng.array(c.h * c.w * cin)), tmp = e.reserve(WINOGRAD_TMP_BYTES, 'tmp');
        const v = buffer(e, 16 * tiles * cin), vr = buffer(e, 16 * tiles * cin);
        e.k.winograd_input_f32(d, x, ty0, ty1, v, tmp);
        ref.winograd_input_f32(d, x, ty0, ty1, vr, tmp);
        assertClose(e.read(v, 16 * tiles * cin), e.read(vr, 16 * tiles * cin), `${what}: input transform`, { rtol: 1e-6, atol: 1e-6 });
        assert.ok(sentinelsAt(e, v + 16 * tiles * cin * 4, 8), `${what}: input transform wrote past v`);
        const m = buffer(e, 16 * tiles * cout, rng.array(16 * tiles * cout)), ylen = g.oh * g.ow * cout;
        const y = buffer(e, ylen), yr = buffer(e, ylen);
        // bias, residual and ReLU on every other case; none on the rest
        const fused = (ty0 + cin + cout) % 2 === 0, bias = fused ? buffer(e, cout, rng.array(cout)) : 0, res = fused ? buffer(e, ylen, rng.array(ylen)) : 0;
        e.k.winograd_output_f32(d, m, ty0, ty1, y, bias, res, fused ? 1 : 0);
        ref.winograd_output_f32(d, m, ty0, ty1, yr, bias, res, fused ? 1 : 0);
        const r0 = 2 * ty0 * g.ow * cout, r1 = Math.min(g.oh, 2 * ty1) * g.ow * cout;
        assertClose(e.read(y + r0 * 4, r1 - r0), e.read(yr + r0 * 4, r1 - r0), `${what}: output transform`, { rtol: 1e-6, atol: 1e-5 });
        assert.ok(sentinelsAt(e, y, r0) && sentinelsAt(e, y + r1 * 4, ylen - r1 + 8), `${what}: output transform wrote outside its rows`);
        e.release(mark);
      }
    }
  }
});

test('winograd F(2×2, 3×3) — filter transform, input transform, 16 GEMMs, output transform — equals the direct convolution', async () => {
  const rng = new Rng(62);
  for (const { name, e, ref } of await testEngines()) {
    for (const c of CASES) for (const [cin, cout] of [[4, 4], [8, 12], [36, 20]]) {
      const g = convGeom({ n: 1, h: c.h, w: c.w, cin, cout, kh: 3, kw: 3, padding: c.padding });
      const tilesW = Math.ceil(g.ow / 2), tiles = Math.ceil(g.oh / 2) * tilesW, what = `${name} ${c.h}×${c.w} pad ${JSON.stringify(c.padding)} ${cin}→${cout}`;
      const mark = e.mark(), d = descOf(e, g), wf = rng.array(9 * cin * cout), xf = rng.array(c.h * c.w * cin);
      const x = buffer(e, xf.length, xf), w = buffer(e, wf.length, wf), yDirect = buffer(e, g.oh * g.ow * cout);
      ref.conv2d_forward_f32(d, x, w, 0, yDirect, 0, 0);
      const u = winogradFilter(wf, cin, cout), uBytes = e.k.gemm_packed_b_bytes(cin, cout), packed = e.reserve(16 * uBytes, 'U');
      const stage = e.reserve(cin * cout * 4, 'stage');
      u.forEach((ux, xi) => { e.write(stage, ux); e.k.gemm_pack_b(0, cin, cout, stage, cout, packed + xi * uBytes); });
      const v = e.reserve(16 * tiles * cin * 4, 'v'), m = e.reserve(16 * tiles * cout * 4, 'm'), tmp = e.reserve(WINOGRAD_TMP_BYTES, 'tmp');
      const scratch = e.reserve(e.k.gemm_f32_packed_b_scratch_bytes(tiles, cout, cin), 'gemm'), y = buffer(e, g.oh * g.ow * cout);
      e.k.winograd_input_f32(d, x, 0, Math.ceil(g.oh / 2), v, tmp);
      for (let xi = 0; xi < 16; xi++) e.k.gemm_f32_packed_b(0, tiles, cout, cin, v + xi * tiles * cin * 4, cin, packed + xi * uBytes, m + xi * tiles * cout * 4, cout, 0, scratch);
      e.k.winograd_output_f32(d, m, 0, Math.ceil(g.oh / 2), y, 0, 0, 0);
      assertClose(e.read(y, g.oh * g.ow * cout), e.read(yDirect, g.oh * g.ow * cout), what, { rtol: 1e-4, atol: 1e-4 });
      assert.ok(sentinelsAt(e, y + g.oh * g.ow * cout * 4, 8), `${what}: wrote past y`);
      e.release(mark);
    }
  }
});

test('winograd applies to stride-1 3×3 convs with whole vectors of ≥ 16 input channels and a tile row per thread, nothing else', () => {
  const base = { n: 1, h: 14, w: 14, cin: 64, cout: 64, kh: 3, kw: 3, padding: 'same' as const };
  assert.ok(winogradApplies(convGeom(base), 1) && winogradApplies(convGeom(base), 7));
  assert.ok(!winogradApplies(convGeom(base), 8), '7 tile rows cannot be shared by 8 threads');
  assert.ok(!winogradApplies(convGeom({ ...base, stride: 2 }), 1), 'stride 2');
  assert.ok(!winogradApplies(convGeom({ ...base, kh: 5, kw: 5 }), 1), '5×5');
  assert.ok(!winogradApplies(convGeom({ ...base, dilation: 2 }), 1), 'dilation 2');
  assert.ok(!winogradApplies(convGeom({ ...base, groups: 2 }), 1), 'groups 2');
  assert.ok(winogradApplies(convGeom({ ...base, cin: 16 }), 1) && !winogradApplies(convGeom({ ...base, cin: 12 }), 1), 'cin 16 takes it, 12 does not');
  assert.ok(!winogradApplies(convGeom({ ...base, cin: 34 }), 1) && !winogradApplies(convGeom({ ...base, cout: 66 }), 1), 'channels not in whole vectors');
  assert.ok(!winogradApplies(convGeom({ ...base, path: 'gemm' }), 1), 'a path pinned by the layer');
});
