// Convolution kernels (assembly/conv.ts) against the direct reference (src/ref/conv.ts), by finite
// differences, and against @tensorflow/tfjs; plus the checked wrappers' errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Engine } from '../../src/engine/engine';
import { numel, type Tensor } from '../../src/engine/tensor';
import type { Kernels } from '../../src/engine/generated/kernels';
import {
  convGeom, writeConvDesc, CONV_DESC_BYTES, xShape, yShape, wShape, colShape,
  conv2dForward, conv2dBackwardData, conv2dBackwardFilter, im2col, col2im,
  type ConvGeom, type ConvGeomOptions, type ConvPadding,
} from '../../src/ops/conv';
import { testEngines } from '../helpers/engines';
import { Rng } from '../helpers/rand';
import { assertClose } from '../helpers/close';
import { gradcheck } from '../helpers/gradcheck';
import { tfjs } from '../helpers/tfjs';
import type * as TF from '@tensorflow/tfjs';

const SENTINEL = 12345.5;
const GUARD = 16; // floats after every output that no kernel may touch

/** An output tensor followed by GUARD sentinel floats. */
function guarded(e: Engine, shape: number[], init?: Float32Array): Tensor {
  const n = numel(shape);
  const t = e.tensor([n + GUARD]);
  e.f32.fill(SENTINEL, t.ptr >>> 2, (t.ptr >>> 2) + n + GUARD);
  if (init) e.write(t.ptr, init);
  return { shape, ptr: t.ptr };
}

function assertGuard(e: Engine, t: Tensor, what: string): void {
  const tail = e.read(t.ptr + numel(t.shape) * 4, GUARD);
  assert.ok(tail.every((v) => v === SENTINEL), `${what}: wrote past the end of its output`);
}

function refDesc(e: Engine, g: ConvGeom): number {
  const d = e.reserve(CONV_DESC_BYTES, 'desc');
  writeConvDesc(e, d, g);
  return d;
}

/** Every kernel on g, wasm (through the checked wrappers) against the reference, outputs guarded. */
function checkAgainstRef(e: Engine, ref: Kernels, g: ConvGeom, rng: Rng, what: string): void {
  const mark = e.mark();
  const k = g.kh * g.kw * (g.cin / g.groups);
  const tol = { rtol: 1e-4, atol: 2e-6 * k + 1e-5 };
  const x = e.tensor(xShape(g), rng.array(numel(xShape(g))));
  const w = e.tensor(wShape(g), rng.array(numel(wShape(g))));
  const bias = e.tensor([g.cout], rng.array(g.cout));
  const dy = e.tensor(yShape(g), rng.array(numel(yShape(g))));
  const desc = refDesc(e, g);
  const ny = numel(yShape(g)), nx = numel(xShape(g)), nw = numel(wShape(g)), ncol = numel(colShape(g));

  for (const act of [0, 1] as const) {
    const withBias = act === 1 || rng.next() < 0.5;
    const y = guarded(e, yShape(g)), yr = guarded(e, yShape(g));
    conv2dForward(e, g, x, w, withBias ? bias : null, y, act);
    ref.conv2d_forward_f32(desc, x.ptr, w.ptr, withBias ? bias.ptr : 0, yr.ptr, act, 0);
    assertClose(e.read(y.ptr, ny), e.read(yr.ptr, ny), `${what} forward act=${act} bias=${withBias}`, tol);
    assertGuard(e, y, `${what} forward`);
  }

  const dx = guarded(e, xShape(g), rng.array(nx)), dxr = guarded(e, xShape(g));
  conv2dBackwardData(e, g, dy, w, dx);
  ref.conv2d_backward_data_f32(desc, dy.ptr, w.ptr, dxr.ptr, 0);
  assertClose(e.read(dx.ptr, nx), e.read(dxr.ptr, nx), `${what} backward-data`, { rtol: 1e-4, atol: 2e-6 * g.kh * g.kw * g.cout + 1e-5 });
  assertGuard(e, dx, `${what} backward-data`);

  const p = g.n * g.oh * g.ow;
  const dwTol = { rtol: 1e-4, atol: 2e-6 * p + 1e-5 };
  for (const acc of [false, true]) {
    const dw0 = rng.array(nw);
    const dw = guarded(e, wShape(g), dw0), dwr = guarded(e, wShape(g), dw0);
    conv2dBackwardFilter(e, g, x, dy, dw, acc);
    ref.conv2d_backward_filter_f32(desc, x.ptr, dy.ptr, dwr.ptr, acc ? 1 : 0, 0);
    assertClose(e.read(dw.ptr, nw), e.read(dwr.ptr, nw), `${what} backward-filter accumulate=${acc}`, dwTol);
    assertGuard(e, dw, `${what} backward-filter`);
  }

  const col = guarded(e, colShape(g)), colr = guarded(e, colShape(g));
  im2col(e, g, x, col);
  ref.im2col_f32(desc, x.ptr, colr.ptr);
  assert.deepEqual(e.read(col.ptr, ncol), e.read(colr.ptr, ncol), `${what} im2col`);
  assertGuard(e, col, `${what} im2col`);
  const dcol = e.tensor(colShape(g), rng.array(ncol));
  const dx2 = guarded(e, xShape(g), rng.array(nx)), dx2r = guarded(e, xShape(g));
  col2im(e, g, dcol, dx2);
  ref.col2im_f32(desc, dcol.ptr, dx2r.ptr);
  assertClose(e.read(dx2.ptr, nx), e.read(dx2r.ptr, nx), `${what} col2im`, { rtol: 1e-5, atol: 1e-5 });
  assertGuard(e, dx2, `${what} col2im`);
  e.release(mark);
}

const describe = (o: ConvGeomOptions, g: ConvGeom): string =>
  `[n=${g.n} ${g.h}×${g.w}×${g.cin} → ${g.oh}×${g.ow}×${g.cout} k=${g.kh}×${g.kw} s=${g.strideH}×${g.strideW} ` +
  `pad=${JSON.stringify(o.padding ?? 'valid')} (${g.padTop},${g.padBottom},${g.padLeft},${g.padRight}) ` +
  `d=${g.dilationH}×${g.dilationW} groups=${g.groups} tileRows=${g.tileRows}]`;

/** Group kinds of the sweep: dense, two groups, depthwise with multiplier 1 and 2. */
const GROUPINGS = ['dense', 'groups2', 'depthwise1', 'depthwise2'] as const;
const CHANNELS = [1, 3, 5, 17];

function sweepCase(rng: Rng, k: number, stride: number, padding: ConvPadding, i: number): ConvGeomOptions {
  const kind = GROUPINGS[i % GROUPINGS.length];
  const dilation = k > 1 && i % 3 === 0 ? 2 : 1;
  let cin = CHANNELS[rng.int(0, CHANNELS.length)], cout = CHANNELS[rng.int(0, CHANNELS.length)], groups = 1;
  if (kind === 'groups2') { cin *= 2; cout *= 2; groups = 2; }
  if (kind === 'depthwise1') { cin = Math.max(cin, 2); cout = cin; groups = cin; }
  if (kind === 'depthwise2') { cin = Math.max(cin, 2); cout = 2 * cin; groups = cin; }
  const span = (k - 1) * dilation + 1;
  const h = span + rng.int(0, 6), w = span + rng.int(0, 6);
  // small tiles that split images mid-row (the kernel must carry (b, oy, ox) across tiles), or the default
  const tileRows = i % 2 ? rng.int(1, 8) : 0;
  return { n: i % 3 === 1 ? 3 : 1, h, w, cin, cout, kh: k, kw: k, stride, padding, dilation, groups, tileRows };
}

test('conv kernels match the reference: kernel 1/2/3/5/7 × stride 1/2/3 × valid/same/asymmetric, groups, dilation, tiles', async () => {
  const rng = new Rng(11);
  for (const { name, e, ref } of await testEngines()) {
    let i = 0;
    for (const k of [1, 2, 3, 5, 7]) for (const stride of [1, 2, 3]) {
      for (const padding of ['valid', 'same', [k - 1, 0, 1, k]] as ConvPadding[]) {
        const o = sweepCase(rng, k, stride, padding, i++);
        const g = convGeom(o);
        checkAgainstRef(e, ref, g, rng, `${name} ${describe(o, g)}`);
      }
    }
  }
});

test('conv kernels match the reference on the special paths: 1×1, depthwise SIMD tails and multipliers, odd channels', async () => {
  const rng = new Rng(12);
  const cases: ConvGeomOptions[] = [
    // 1×1 stride 1 unpadded: x is the col matrix (dense and grouped; tiles splitting an image)
    { n: 3, h: 5, w: 7, cin: 17, cout: 9, kh: 1, kw: 1 },
    { n: 3, h: 5, w: 7, cin: 6, cout: 10, kh: 1, kw: 1, groups: 2, tileRows: 7 },
    { n: 1, h: 4, w: 4, cin: 1, cout: 1, kh: 1, kw: 1, tileRows: 3 },
    // 1×1 but not pointwise: stride 2, and padding
    { n: 2, h: 7, w: 6, cin: 5, cout: 3, kh: 1, kw: 1, stride: 2 },
    { n: 1, h: 3, w: 3, cin: 3, cout: 4, kh: 1, kw: 1, padding: 1 },
    // depthwise: 8-wide, 4-wide and scalar channel tails; multipliers 1, 2, 4 (SIMD over q), 5; 'same' + stride
    { n: 2, h: 9, w: 8, cin: 29, cout: 29, kh: 3, kw: 3, groups: 29, padding: 'same' },
    { n: 1, h: 8, w: 9, cin: 8, cout: 16, kh: 3, kw: 2, groups: 8, stride: [2, 1], padding: 'same' },
    { n: 1, h: 6, w: 6, cin: 3, cout: 12, kh: 3, kw: 3, groups: 3, padding: [0, 2, 1, 1] },
    { n: 1, h: 6, w: 7, cin: 2, cout: 10, kh: 2, kw: 3, groups: 2, dilation: [2, 1], padding: 'same' },
    // groups = cin = 1 is dense, not depthwise
    { n: 1, h: 5, w: 5, cin: 1, cout: 3, kh: 3, kw: 3, groups: 1, padding: 'same' },
    // rectangular everything; dilation and stride together; tile of one row
    { n: 2, h: 11, w: 7, cin: 3, cout: 5, kh: 3, kw: 5, stride: [2, 3], dilation: [2, 1], padding: [2, 1, 0, 3], tileRows: 1 },
    // AlexNet-like grouped 5×5 with 'same'
    { n: 1, h: 9, w: 9, cin: 8, cout: 12, kh: 5, kw: 5, groups: 2, padding: 'same', tileRows: 13 },
    // more channels than one SIMD copy unroll, tiles from the default rule
    { n: 2, h: 6, w: 6, cin: 40, cout: 33, kh: 3, kw: 3, padding: 'same' },
  ];
  for (const { name, e, ref } of await testEngines()) {
    for (const o of cases) {
      const g = convGeom(o);
      checkAgainstRef(e, ref, g, rng, `${name} ${describe(o, g)}`);
    }
  }
});

test('direct small-channel kernels (cin ≤ 4) and the GEMM path both match the reference: tile, block and row remainders', async () => {
  const rng = new Rng(14);
  // cout around the 8-channel panel and its 4-lane halves; P = oh·ow around the 4-pixel tile; w around the
  // 16-pixel row tile of backward-data; odd h (its row pairs); dilation (pairs iy, iy + dh); strides; padding
  // wider than the kernel; windows that stop short of the bottom/right edge; in-place x (valid, no padding).
  const couts = [1, 3, 4, 6, 8, 9, 16, 17];
  const cases: ConvGeomOptions[] = [];
  for (let i = 0; i < 24; i++) {
    const cin = 1 + (i % 4), k = [1, 2, 3, 5][(i >> 2) % 4], stride = i % 5 === 4 ? 2 : i % 7 === 6 ? 3 : 1;
    const dilation = k > 1 && i % 6 === 1 ? 2 : 1;
    const padding = (['valid', 'same', [k + 1, 0, 1, k + 2], 1] as ConvPadding[])[i % 4];
    const span = (k - 1) * dilation + 1;
    cases.push({ n: 1 + (i % 3), h: span + rng.int(0, 9), w: [15, 16, 17, 1, 33][i % 5] + span, cin, cout: couts[i % couts.length],
      kh: k, kw: i % 9 === 8 ? Math.max(1, k - 1) : k, stride, padding, dilation });
  }
  cases.push({ n: 2, h: 28, w: 28, cin: 1, cout: 6, kh: 5, kw: 5, padding: 'same' }); // LeNet-5's c1
  // cin = 1 forward along rows (8-pixel tiles, the last overlapping): row stride 2, dilated columns, 5 channels;
  // a row of exactly 8; 2 channels without padding
  cases.push({ n: 2, h: 13, w: 19, cin: 1, cout: 5, kh: 3, kw: 4, stride: [2, 1], dilation: [1, 2], padding: 'same' });
  cases.push({ n: 1, h: 5, w: 8, cin: 1, cout: 4, kh: 3, kw: 3, padding: 'same' });
  cases.push({ n: 1, h: 6, w: 12, cin: 1, cout: 2, kh: 2, kw: 3 });
  cases.push({ n: 1, h: 9, w: 7, cin: 3, cout: 5, kh: 3, kw: 3, stride: [1, 2], padding: [0, 2, 1, 0], dilation: [2, 1] });
  cases.push({ n: 1, h: 3, w: 3, cin: 4, cout: 2, kh: 3, kw: 3 }); // one output pixel
  for (const { name, e, ref } of await testEngines()) {
    for (const o of cases) {
      for (const path of ['direct', 'gemm'] as const) {
        const g = convGeom({ ...o, path });
        checkAgainstRef(e, ref, g, rng, `${name} path=${path} ${describe(o, g)}`);
      }
    }
  }
});

test('direct kernels for wider inputs (conv_direct.ts: groups 1, dilation 1, cin > 4) and the GEMM path both match the reference', async () => {
  const rng = new Rng(15);
  // cout around the 8-channel panel and its 4-lane halves; P = oh·ow around the 4-pixel tile; kw·cin around the
  // 4-tap filter tile (its remainder reads past the last tap); strides (the data gradient then runs on GEMM);
  // padding wider than the kernel (dỹ is then cropped) and windows that stop short of the bottom/right edge.
  const cins = [5, 6, 8, 16, 17, 24], couts = [1, 3, 7, 8, 9, 16, 20];
  const cases: ConvGeomOptions[] = [];
  for (let i = 0; i < 18; i++) {
    const k = [1, 2, 3, 5][i % 4], stride = i % 5 === 4 ? 2 : i % 7 === 6 ? 3 : 1;
    const padding = (['same', 'valid', [k + 1, 0, 1, k + 2], 1] as ConvPadding[])[(i >> 1) % 4];
    cases.push({ n: 1 + (i % 3), h: k + rng.int(0, 7), w: [3, 4, 5, 9][i % 4] + k, cin: cins[i % cins.length], cout: couts[i % couts.length],
      kh: k, kw: i % 9 === 8 ? Math.max(1, k - 1) : k, stride, padding });
  }
  cases.push({ n: 2, h: 8, w: 8, cin: 16, cout: 16, kh: 3, kw: 3, padding: 'same' }); // ResNet-20's stage 1, smaller
  cases.push({ n: 1, h: 6, w: 6, cin: 16, cout: 32, kh: 3, kw: 3, stride: 2, padding: 'same' }); // a stage transition
  cases.push({ n: 1, h: 3, w: 3, cin: 8, cout: 5, kh: 3, kw: 3 }); // one output pixel
  for (const { name, e, ref } of await testEngines()) {
    for (const o of cases) {
      for (const path of ['direct', 'gemm'] as const) {
        const g = convGeom({ ...o, path });
        checkAgainstRef(e, ref, g, rng, `${name} path=${path} ${describe(o, g)}`);
      }
    }
  }
});

/** Finite differences of dx and dw for each conv geometry, on every test engine (seeds seedBase + i). */
async function gradcheckConvs(cases: readonly ConvGeomOptions[], seedBase: number): Promise<void> {
  for (const { name, e } of await testEngines()) {
    for (const [i, o] of cases.entries()) {
      const mark = e.mark();
      const g = convGeom(o), rng = new Rng(seedBase + i);
      const x = e.tensor(xShape(g), rng.array(numel(xShape(g))));
      const w = e.tensor(wShape(g), rng.array(numel(wShape(g))));
      const y = e.tensor(yShape(g)), dy = e.tensor(yShape(g));
      const dx = e.tensor(xShape(g)), dw = e.tensor(wShape(g));
      gradcheck({
        e, seed: i,
        inputs: [{ name: `${name} dx ${describe(o, g)}`, ptr: x.ptr, n: numel(xShape(g)), grad: dx.ptr },
          { name: `${name} dw ${describe(o, g)}`, ptr: w.ptr, n: numel(wShape(g)), grad: dw.ptr }],
        y: { ptr: y.ptr, n: numel(yShape(g)) }, dy: dy.ptr,
        forward: () => conv2dForward(e, g, x, w, null, y),
        backward: () => { conv2dBackwardData(e, g, dy, w, dx); conv2dBackwardFilter(e, g, x, dy, dw); },
      });
      e.release(mark);
    }
  }
}

test('direct gradients (small-channel and wider kernels) agree with finite differences', async () => {
  await gradcheckConvs([
    { n: 2, h: 7, w: 6, cin: 1, cout: 6, kh: 5, kw: 5, padding: 'same', path: 'direct' },
    { n: 1, h: 6, w: 9, cin: 3, cout: 9, kh: 3, kw: 2, dilation: [2, 1], padding: [1, 2, 0, 1], path: 'direct' },
    { n: 1, h: 7, w: 7, cin: 2, cout: 4, kh: 3, kw: 3, stride: 2, padding: 1, path: 'direct' },
    // conv_direct.ts: more input channels (dilation 1)
    { n: 2, h: 5, w: 6, cin: 9, cout: 10, kh: 3, kw: 3, padding: 'same', path: 'direct' },
    { n: 1, h: 6, w: 5, cin: 6, cout: 3, kh: 2, kw: 3, stride: [2, 1], padding: [0, 1, 2, 0], path: 'direct' },
  ], 200);
});

test('conv gradients agree with finite differences through the wasm kernels', async () => {
  await gradcheckConvs([
    { n: 2, h: 6, w: 5, cin: 3, cout: 4, kh: 3, kw: 2, stride: [2, 1], padding: 'same', tileRows: 5 },
    { n: 1, h: 7, w: 7, cin: 4, cout: 6, kh: 3, kw: 3, dilation: 2, padding: [1, 2, 2, 0], groups: 2 },
    { n: 1, h: 5, w: 6, cin: 3, cout: 6, kh: 3, kw: 3, groups: 3, stride: 2, padding: 'same' },
    { n: 2, h: 3, w: 4, cin: 5, cout: 3, kh: 1, kw: 1, tileRows: 4 },
  ], 100);
});

test('conv forward, dx and dw agree with @tensorflow/tfjs (conv2d, depthwiseConv2d, grouped by split)', async () => {
  const tf = await tfjs();
  const rng = new Rng(13);
  const { e } = (await testEngines())[0];
  for (let trial = 0; trial < 24; trial++) {
    const kind = ['dense', 'dense', 'groups2', 'depthwise'][trial % 4];
    const k = [1, 2, 3, 5][rng.int(0, 4)], kw = rng.next() < 0.3 ? [1, 2, 3][rng.int(0, 3)] : k;
    const stride = rng.int(1, 4);
    // tfjs refuses dilation > 1 together with stride > 1
    const dilation = stride === 1 && trial % 3 === 0 ? 2 : 1;
    const padding: ConvPadding = (['valid', 'same', [1, 2, 0, 1]] as ConvPadding[])[trial % 3];
    let cin = rng.int(1, 7), cout = rng.int(1, 7), groups = 1;
    if (kind === 'groups2') { cin *= 2; cout *= 2; groups = 2; }
    if (kind === 'depthwise') { groups = cin; cout = cin * rng.int(1, 3); }
    const h = (k - 1) * dilation + 1 + rng.int(0, 7), w = (kw - 1) * dilation + 1 + rng.int(0, 7);
    const o: ConvGeomOptions = { n: rng.int(1, 4), h, w, cin, cout, kh: k, kw, stride, padding, dilation, groups };
    const g = convGeom(o);
    const what = `tfjs ${describe(o, g)}`;

    const mark = e.mark();
    const xs = rng.array(numel(xShape(g))), ws = rng.array(numel(wShape(g))), dys = rng.array(numel(yShape(g)));
    const x = e.tensor(xShape(g), xs), wt = e.tensor(wShape(g), ws), dy = e.tensor(yShape(g), dys);
    const y = e.tensor(yShape(g)), dx = e.tensor(xShape(g)), dw = e.tensor(wShape(g));
    conv2dForward(e, g, x, wt, null, y);
    conv2dBackwardData(e, g, dy, wt, dx);
    conv2dBackwardFilter(e, g, x, dy, dw);

    const pad = typeof padding === 'string' ? padding
      : [[0, 0], [g.padTop, g.padBottom], [g.padLeft, g.padRight], [0, 0]] as [[number, number], [number, number], [number, number], [number, number]];
    const conv = (xt: TF.Tensor, wt4: TF.Tensor): TF.Tensor => {
      if (kind === 'depthwise') {
        return tf.depthwiseConv2d(xt as TF.Tensor4D, wt4.reshape([k, kw, cin, cout / cin]) as TF.Tensor4D, stride, pad, 'NHWC', dilation);
      }
      if (groups === 1) return tf.conv2d(xt as TF.Tensor4D, wt4 as TF.Tensor4D, stride, pad, 'NHWC', dilation);
      const cinG = cin / groups, coutG = cout / groups;
      const ys = Array.from({ length: groups }, (_, gi) => tf.conv2d(
        tf.slice(xt, [0, 0, 0, gi * cinG], [-1, -1, -1, cinG]) as TF.Tensor4D,
        tf.slice(wt4, [0, 0, 0, gi * coutG], [-1, -1, -1, coutG]) as TF.Tensor4D, stride, pad, 'NHWC', dilation));
      return tf.concat(ys, 3);
    };
    const TX = tf.tensor4d(xs, xShape(g) as [number, number, number, number]);
    const TW = tf.tensor4d(ws, wShape(g) as [number, number, number, number]);
    const TDY = tf.tensor4d(dys, yShape(g) as [number, number, number, number]);
    const ty = conv(TX, TW);
    assert.deepEqual(ty.shape, yShape(g), `${what}: output shape`);
    const kk = g.kh * g.kw * (g.cin / g.groups);
    assertClose(e.read(y.ptr, numel(yShape(g))), ty.dataSync(), `${what} forward`, { rtol: 1e-4, atol: 1e-6 * kk });
    // tfjs has no gradients for dilation > 1 (the reference and finite differences cover those)
    if (dilation === 1) {
      const [tdx, tdw] = tf.grads((a: TF.Tensor, b: TF.Tensor) => tf.sum(tf.mul(conv(a, b), TDY)))([TX, TW]);
      assertClose(e.read(dx.ptr, numel(xShape(g))), tdx.dataSync(), `${what} dx`, { rtol: 1e-4, atol: 1e-6 * g.kh * g.kw * g.cout });
      assertClose(e.read(dw.ptr, numel(wShape(g))), tdw.dataSync(), `${what} dw`, { rtol: 1e-4, atol: 1e-6 * g.n * g.oh * g.ow });
      tf.dispose([tdx, tdw]);
    }
    tf.dispose([TX, TW, TDY, ty]);
    e.release(mark);
  }
});

test('convGeom resolves TensorFlow padding and output sizes', () => {
  // 'same' with an even kernel / stride > 1 puts the extra pixel bottom/right
  let g = convGeom({ n: 1, h: 5, w: 6, cin: 1, cout: 1, kh: 2, kw: 4, padding: 'same' });
  assert.deepEqual([g.oh, g.ow, g.padTop, g.padBottom, g.padLeft, g.padRight], [5, 6, 0, 1, 1, 2]);
  g = convGeom({ n: 1, h: 224, w: 224, cin: 3, cout: 64, kh: 7, kw: 7, stride: 2, padding: 'same' });
  assert.deepEqual([g.oh, g.ow, g.padTop, g.padBottom], [112, 112, 2, 3]);
  g = convGeom({ n: 1, h: 227, w: 227, cin: 3, cout: 96, kh: 11, kw: 11, stride: 4 });
  assert.deepEqual([g.oh, g.ow], [55, 55]);
  g = convGeom({ n: 1, h: 10, w: 10, cin: 1, cout: 1, kh: 3, kw: 3, dilation: [2, 3], padding: [1, 0, 2, 2] });
  assert.deepEqual([g.oh, g.ow], [7, 8]);
});

test('scratch is bounded: tiles, not the whole col matrix', async () => {
  const { e } = (await testEngines())[0];
  const bytesFor = (o: ConvGeomOptions): number => {
    const mark = e.mark();
    const d = refDesc(e, convGeom(o));
    const b = e.k.conv2d_scratch_bytes(d);
    e.release(mark);
    return b;
  };
  const big = { n: 8, h: 56, w: 56, cin: 64, cout: 64, kh: 3, kw: 3, padding: 'same' as const, path: 'gemm' as const };
  const full = 8 * 56 * 56 * 9 * 64 * 4;
  assert.ok(bytesFor(big) < 8 << 20 && bytesFor(big) < full / 5, `scratch ${bytesFor(big)} bytes for a ${full}-byte col matrix`);
  assert.ok(bytesFor({ ...big, tileRows: 10 }) < bytesFor(big));
  // the direct kernels hold one padded image (and one image's dy panels), whatever the batch
  const direct = { ...big, path: 'direct' as const }, image = 58 * 58 * 64 * 4;
  assert.ok(bytesFor(direct) < 3 * image, `direct scratch ${bytesFor(direct)} bytes for a ${image}-byte padded image`);
  assert.equal(bytesFor({ ...direct, n: 64 }), bytesFor(direct));
  // AUTO's rule (directWins), seen through the scratch it plans: ResNet-20's stage 1 runs every pass direct,
  // stage 3 (cout 64) every pass on GEMM
  const stage1 = { n: 64, h: 32, w: 32, cin: 16, cout: 16, kh: 3, kw: 3, padding: 'same' as const };
  assert.equal(bytesFor(stage1), bytesFor({ ...stage1, path: 'direct' }));
  const stage3 = { ...stage1, h: 8, w: 8, cin: 64, cout: 64 };
  assert.equal(bytesFor(stage3), bytesFor({ ...stage3, path: 'gemm' }));
  assert.notEqual(bytesFor(stage3), bytesFor({ ...stage3, path: 'direct' }));
  assert.equal(bytesFor({ ...big, groups: 64 }), 0, 'depthwise needs no scratch');
});

test('conv wrappers refuse bad input with RedeErrors naming conv2d and the shapes', async () => {
  const { e } = (await testEngines())[0];
  const mark = e.mark();
  const g = convGeom({ n: 2, h: 5, w: 5, cin: 3, cout: 4, kh: 3, kw: 3 });
  const x = e.tensor(xShape(g)), w = e.tensor(wShape(g)), y = e.tensor(yShape(g)), dy = e.tensor(yShape(g));
  const throwsRede = (f: () => void, re: RegExp): void => assert.throws(f, (err: Error) => err.name === 'RedeError' && re.test(err.message));
  throwsRede(() => conv2dForward(e, g, { shape: [2, 5, 5, 4], ptr: x.ptr }, w, null, y), /^conv2d: x has shape \[2, 5, 5, 4\], expected \[n, h, w, cin\] = \[2, 5, 5, 3\]/);
  throwsRede(() => conv2dForward(e, g, x, { shape: [3, 3, 4, 3], ptr: w.ptr }, null, y), /^conv2d: w has shape \[3, 3, 4, 3\], expected \[kh, kw, cin\/groups, cout\] = \[3, 3, 3, 4\]/);
  throwsRede(() => conv2dForward(e, g, x, w, e.tensor([3]), y), /^conv2d: bias has shape \[3\], expected \[cout\] = \[4\]/);
  throwsRede(() => conv2dForward(e, g, x, w, null, { shape: [2, 5, 5, 4], ptr: y.ptr }), /^conv2d: y has shape \[2, 5, 5, 4\], expected \[n, oh, ow, cout\] = \[2, 3, 3, 4\]/);
  throwsRede(() => conv2dBackwardData(e, g, dy, w, { shape: [2, 5, 5, 3], ptr: dy.ptr }), /^conv2d backward-data: output dx .* overlaps dy/);
  throwsRede(() => conv2dBackwardFilter(e, g, x, { shape: [2, 3, 3], ptr: dy.ptr }, w), /^conv2d backward-filter: dy has shape \[2, 3, 3\], expected/);
  throwsRede(() => conv2dForward(e, g, x, w, null, { shape: yShape(g), ptr: 1 << 30 }), /^conv2d: y at byte .* outside the arena/);
  throwsRede(() => conv2dForward(e, g, x, w, null, y, 'tanh' as 'relu'), /^conv2d: act must be/);
  throwsRede(() => im2col(e, g, x, e.tensor([18, 26])), /^conv2d im2col: col has shape \[18, 26\], expected \[groups, n·oh·ow, kh·kw·cin\/groups\] = \[18, 27\]/);
  throwsRede(() => convGeom({ n: 1, h: 5, w: 5, cin: 3, cout: 4, kh: 3, kw: 3, groups: 2 }), /^conv2d: groups = 2 must divide cin = 3 and cout = 4/);
  throwsRede(() => convGeom({ n: 1, h: 4, w: 9, cin: 1, cout: 1, kh: 5, kw: 3 }), /^conv2d: kernel 5×3 .* larger than the padded input 4×9/);
  throwsRede(() => convGeom({ n: 1, h: 4, w: 4, cin: 1, cout: 1, kh: 3, kw: 3, dilation: 2, padding: [0, 0, 1, 0] }), /^conv2d: kernel 3×3 \(dilation 2×2: spans 5×5\) is larger than the padded input 4×5/);
  throwsRede(() => convGeom({ n: 1, h: 5.5, w: 4, cin: 1, cout: 1, kh: 3, kw: 3 }), /^conv2d: h must be an integer >= 1, got 5.5/);
  throwsRede(() => convGeom({ n: 1, h: 5, w: 4, cin: 0, cout: 1, kh: 3, kw: 3 }), /^conv2d: cin must be an integer >= 1, got 0/);
  throwsRede(() => convGeom({ n: 1, h: 5, w: 5, cin: 1, cout: 1, kh: 3, kw: 3, stride: [1, 1.5] }), /^conv2d: strideW must be an integer/);
  throwsRede(() => convGeom({ n: 1, h: 5, w: 5, cin: 1, cout: 1, kh: 3, kw: 3, padding: [1, -1, 0, 0] }), /^conv2d: padBottom must be an integer >= 0/);
  throwsRede(() => convGeom({ n: 1, h: 5, w: 5, cin: 5, cout: 1, kh: 3, kw: 3, dilation: 2, path: 'direct' }),
    /^conv2d: path 'direct' needs groups = 1 and either cin <= 4 or dilation 1, got groups = 1, cin = 5, dilation 2×2/);
  throwsRede(() => convGeom({ n: 1, h: 5, w: 5, cin: 4, cout: 4, kh: 3, kw: 3, groups: 2, path: 'direct' }), /^conv2d: path 'direct' needs groups = 1/);
  throwsRede(() => convGeom({ n: 1, h: 5, w: 5, cin: 1, cout: 1, kh: 3, kw: 3, path: 'fast' as 'auto' }), /^conv2d: path must be 'auto', 'gemm' or 'direct', got "fast"/);
  throwsRede(() => conv2dForward(e, { ...g, oh: 4 }, x, w, null, y), /^conv2d: geometry says oh×ow = 4×3, but its fields give 3×3/);
  throwsRede(() => conv2dBackwardData(e, { ...g, groups: 2 }, dy, w, x), /^conv2d backward-data: invalid geometry: groups = 2 must divide cin = 3/);
  e.release(mark);
});
