// int8 conv helpers and element-wise ops against their references, exactly: im2col (padding, stride, dilation,
// groups, zero point), depthwise conv (channel multipliers, edges), max/avg pooling ('same' windows clipped at
// the edge, channel counts around the 16-lane step), TFLite's add, quantize (ties, NaN, out of range) and
// dequantize; sentinels past every output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testEngines, type TestEngine } from '../helpers/engines';
import { Rng } from '../helpers/rand';
import {
  CONV_DESC_BYTES, POOL_DESC_BYTES, QADD_DESC_BYTES, QPARAM_BYTES, writeConvDesc, writePoolDesc, writeQaddDesc, type ConvDesc,
} from '../../src/engine/generated/abi';
import { quantizeMultiplier } from '../../src/ref/qmath';

const GUARD = 32, SENTINEL = 0x5a;

function putI8(e: TestEngine['e'], rng: Rng, n: number): number {
  const p = e.reserve(n), a = new Int8Array(e.memory.buffer, p, n);
  for (let i = 0; i < n; i++) a[i] = rng.next() < 0.05 ? -128 : rng.int(-128, 128);
  return p;
}
/** Two outputs (wasm, reference) of `bytes` each, plus guards, filled with the sentinel. */
function outputs(e: TestEngine['e'], bytes: number): [number, number] {
  const a = e.reserve(bytes + GUARD), b = e.reserve(bytes + GUARD);
  e.u8.fill(SENTINEL, a, a + bytes + GUARD); e.u8.fill(SENTINEL, b, b + bytes + GUARD);
  return [a, b];
}
function same(e: TestEngine['e'], a: number, b: number, bytes: number, what: string): void {
  assert.deepEqual(e.u8.slice(a, a + bytes + GUARD), e.u8.slice(b, b + bytes + GUARD), what);
  assert.ok(e.u8.slice(a + bytes, a + bytes + GUARD).every((v) => v === SENTINEL), `${what}: wrote past the output`);
}
function geom(rng: Rng, depthwise: boolean): ConvDesc {
  const kh = rng.int(1, 4), kw = rng.int(1, 4), sh = rng.int(1, 3), sw = rng.int(1, 3), dh = rng.int(1, 3), dw = rng.int(1, 3);
  const groups = depthwise ? rng.int(1, 6) : [1, 1, 2, 3][rng.int(0, 4)];
  const cin = depthwise ? groups : groups * rng.int(1, 5), cout = depthwise ? cin * rng.int(1, 3) : groups * rng.int(1, 4);
  const h = rng.int(1, 8) + (kh - 1) * dh, w = rng.int(1, 8) + (kw - 1) * dw;
  const padTop = rng.int(0, kh), padLeft = rng.int(0, kw), padB = rng.int(0, kh), padR = rng.int(0, kw);
  const oh = Math.floor((h + padTop + padB - (kh - 1) * dh - 1) / sh) + 1, ow = Math.floor((w + padLeft + padR - (kw - 1) * dw - 1) / sw) + 1;
  return { n: rng.int(1, 3), h, w, cin, oh, ow, cout, kh, kw, strideH: sh, strideW: sw, padTop, padLeft, dilationH: dh, dilationW: dw, groups, tileRows: 0, path: 0 };
}

test('im2col_s8 and dwconv_s8 equal their references', async () => {
  const rng = new Rng(11);
  for (const te of await testEngines()) {
    const { name, e, ref } = te;
    for (let t = 0; t < 150; t++) {
      const dwise = t % 2 === 1, g = geom(rng, dwise), mark = e.mark();
      const d = e.reserve(CONV_DESC_BYTES); writeConvDesc(e, d, g);
      const x = putI8(e, rng, g.n * g.h * g.w * g.cin), zx = rng.int(-128, 128), what = `${name} ${JSON.stringify(g)}`;
      if (!dwise) {
        const bytes = g.groups * g.n * g.oh * g.ow * g.kh * g.kw * (g.cin / g.groups), [c, cr] = outputs(e, bytes);
        e.k.im2col_s8(d, x, c, zx); ref.im2col_s8(d, x, cr, zx);
        same(e, c, cr, bytes, `im2col_s8 ${what}`);
      } else {
        const w = putI8(e, rng, g.kh * g.kw * g.cout), q = e.reserve(g.cout * QPARAM_BYTES), qi = new Int32Array(e.memory.buffer, q, g.cout * 4);
        for (let j = 0; j < g.cout; j++) { qi[4 * j] = rng.int(-5000, 5000); qi[4 * j + 1] = rng.int(2 ** 30, 2 ** 31); qi[4 * j + 2] = rng.int(-12, 1); }
        const zy = rng.int(-128, 128), lo = rng.next() < 0.5 ? zy : -128, bytes = g.n * g.oh * g.ow * g.cout, [y, yr] = outputs(e, bytes);
        e.k.dwconv_s8(d, x, w, q, zx, zy, lo, 127, y); ref.dwconv_s8(d, x, w, q, zx, zy, lo, 127, yr);
        same(e, y, yr, bytes, `dwconv_s8 ${what}`);
      }
      e.release(mark);
    }
  }
});

test('maxpool_s8 and avgpool_s8 equal their references (edge windows, 16-lane step)', async () => {
  const rng = new Rng(12);
  for (const { name, e, ref } of await testEngines()) {
    for (let t = 0; t < 120; t++) {
      const kh = rng.int(1, 4), kw = rng.int(1, 4), sh = rng.int(1, 3), sw = rng.int(1, 3), c = [1, 3, 15, 16, 17, 33][rng.int(0, 6)];
      const h = rng.int(kh, 9), w = rng.int(kw, 9), same_ = rng.next() < 0.5;
      const oh = same_ ? Math.ceil(h / sh) : Math.floor((h - kh) / sh) + 1, ow = same_ ? Math.ceil(w / sw) : Math.floor((w - kw) / sw) + 1;
      const padTop = same_ ? Math.floor(Math.max(0, (oh - 1) * sh + kh - h) / 2) : 0, padLeft = same_ ? Math.floor(Math.max(0, (ow - 1) * sw + kw - w) / 2) : 0;
      const pd = { n: rng.int(1, 3), h, w, c, kh, kw, strideH: sh, strideW: sw, padTop, padLeft, oh, ow }, mark = e.mark();
      const d = e.reserve(POOL_DESC_BYTES); writePoolDesc(e, d, pd);
      const x = putI8(e, rng, pd.n * h * w * c), bytes = pd.n * oh * ow * c;
      for (const k of ['maxpool_s8', 'avgpool_s8'] as const) {
        const [y, yr] = outputs(e, bytes);
        e.k[k](d, x, y); ref[k](d, x, yr);
        same(e, y, yr, bytes, `${name} ${k} ${JSON.stringify(pd)}`);
      }
      e.release(mark);
    }
  }
});

test('add_s8 equals the reference over random scales; quantize/dequantize: ties to even, NaN, range', async () => {
  const rng = new Rng(13);
  for (const { name, e, ref } of await testEngines()) {
    for (let t = 0; t < 60; t++) {
      const sa = rng.uniform(0.001, 0.1), sb = rng.uniform(0.001, 0.1), sy = rng.uniform(0.002, 0.2), left = 20, twice = 2 * Math.max(sa, sb);
      const A = quantizeMultiplier(sa / twice), B = quantizeMultiplier(sb / twice), Y = quantizeMultiplier(twice / (2 ** left * sy));
      const zy = rng.int(-128, 128), mark = e.mark(), p = e.reserve(QADD_DESC_BYTES);
      writeQaddDesc(e, p, { za: rng.int(-128, 128), multA: A.mult, shiftA: A.shift, zb: rng.int(-128, 128), multB: B.mult, shiftB: B.shift,
        zy, multY: Y.mult, shiftY: Y.shift, lo: rng.next() < 0.5 ? zy : -128, hi: 127, left });
      const n = rng.int(1, 70), a = putI8(e, rng, n), b = putI8(e, rng, n), [y, yr] = outputs(e, n);
      e.k.add_s8(p, n, a, b, y); ref.add_s8(p, n, a, b, yr);
      same(e, y, yr, n, `${name} add_s8 n=${n}`);
      e.release(mark);
    }
    const mark = e.mark(), vals = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 127.5, -128.5, 1e9, -1e9, NaN, Infinity, -Infinity, 0.49999997, 3.0000002];
    while (vals.length < 67) vals.push(rng.uniform(-200, 200));
    const x = e.tensor([vals.length], Float32Array.from(vals));
    for (const [inv, zero] of [[1, 0], [1, -3], [0.37, 17], [25.3, -128]]) {
      const [y, yr] = outputs(e, vals.length);
      e.k.quantize_f32_s8(vals.length, x.ptr, y, inv, zero); ref.quantize_f32_s8(vals.length, x.ptr, yr, inv, zero);
      same(e, y, yr, vals.length, `${name} quantize_f32_s8 inv=${inv} zero=${zero}`);
      if (inv === 1 && zero === 0) {
        assert.deepEqual([...new Int8Array(e.memory.buffer, y, 15)], [0, 2, 2, 0, -2, -2, 127, -128, 127, -128, 0, 127, -128, 0, 3], 'ties to even, NaN → zero, saturation');
      }
      const f = e.reserve(vals.length * 4), fr = e.reserve(vals.length * 4);
      e.k.dequantize_s8_f32(vals.length, y, f, 0.37, zero); ref.dequantize_s8_f32(vals.length, y, fr, 0.37, zero);
      assert.deepEqual(e.read(f, vals.length), e.read(fr, vals.length), `${name} dequantize_s8_f32`);
    }
    e.release(mark);
  }
});
