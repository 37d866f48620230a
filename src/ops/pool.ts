// Checked pooling calls over tensors (NHWC). Shapes: x, dx [n, h, w, c]; y, dy, argmax [n, oh, ow, c] (argmax
// holds i32 flat indices into x); global pooling: y, dy [n, c].
// Padding follows TensorFlow: 'valid' uses only whole windows; 'same' gives oh = ceil(h / stride) and pads
// max(0, (oh − 1)·stride + k − h) rows, the odd one at the bottom (columns likewise, the odd one at the right).
// Padded cells never win a max and are not counted by an average: a 'same' average divides by the number of real
// cells in its window (TensorFlow's behaviour, not count_include_pad).
import type { Engine } from '../engine/engine';
import { RedeError, checkInt, shapeStr } from '../engine/errors';
import { numel, type Tensor } from '../engine/tensor';
import { POOL_DESC_BYTES, writePoolDesc, type PoolDesc } from '../engine/generated/abi';

export type PoolPadding = 'valid' | 'same' | readonly [top: number, bottom: number, left: number, right: number];

export interface Pool2dOptions {
  /** Window: a number or [kh, kw]. */
  size: number | readonly [number, number];
  /** A number or [sh, sw]; default: the window size (Keras). */
  strides?: number | readonly [number, number];
  /** Default 'valid'. Explicit pads must each be smaller than the window along their axis. */
  padding?: PoolPadding;
}

/** A pooling geometry, fully resolved. */
export interface Pool2dGeom {
  readonly n: number; readonly h: number; readonly w: number; readonly c: number;
  readonly kh: number; readonly kw: number; readonly sh: number; readonly sw: number;
  readonly padTop: number; readonly padBottom: number; readonly padLeft: number; readonly padRight: number;
  readonly oh: number; readonly ow: number;
}

/** Largest tensor the kernels address with i32 element indices (argmax included): 2^29 floats. */
const MAX_FLOATS = 2 ** 29;

function pairOf(where: string, what: string, v: number | readonly [number, number]): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : Array.isArray(v) && v.length === 2 ? [v[0], v[1]] : [NaN, NaN];
  checkInt(where, `${what}[0]`, p[0]);
  checkInt(where, `${what}[1]`, p[1]);
  return p;
}

function checkNhwc(where: string, name: string, t: Tensor): void {
  if (t.shape.length !== 4 || !t.shape.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new RedeError(`${where}: ${name} must be NHWC [n, h, w, c] with positive integer dims, got ${shapeStr(t.shape)}`);
  }
  if (numel(t.shape) > MAX_FLOATS) throw new RedeError(`${where}: ${name} ${shapeStr(t.shape)} has more than 2^29 elements`);
}

function checkShape(where: string, name: string, t: Tensor, expected: readonly number[], why: string): void {
  if (t.shape.length !== expected.length || t.shape.some((d, i) => d !== expected[i])) {
    throw new RedeError(`${where}: ${name} must be ${shapeStr(expected)} (${why}), got ${shapeStr(t.shape)}`);
  }
}

/** Throws unless the two byte ranges are disjoint. */
function checkDisjoint(where: string, a: string, pa: number, bytesA: number, b: string, pb: number, bytesB: number): void {
  if (pa < pb + bytesB && pb < pa + bytesA) throw new RedeError(`${where}: ${a} (byte ${pa}, +${bytesA}) and ${b} (byte ${pb}, +${bytesB}) overlap`);
}

/** Resolves window, strides and padding against an NHWC input shape; throws RedeError naming what is wrong. */
export function pool2dGeom(where: string, xShape: readonly number[], o: Pool2dOptions): Pool2dGeom {
  if (xShape.length !== 4 || !xShape.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new RedeError(`${where}: input must be NHWC [n, h, w, c] with positive integer dims, got ${shapeStr(xShape)}`);
  }
  const [n, h, w, c] = xShape;
  const [kh, kw] = pairOf(where, 'size', o.size);
  const [sh, sw] = pairOf(where, 'strides', o.strides ?? o.size);
  const padding = o.padding ?? 'valid';
  let padTop = 0, padBottom = 0, padLeft = 0, padRight = 0;
  if (padding === 'same') {
    const th = Math.max((Math.ceil(h / sh) - 1) * sh + kh - h, 0), tw = Math.max((Math.ceil(w / sw) - 1) * sw + kw - w, 0);
    padTop = th >> 1; padBottom = th - padTop; padLeft = tw >> 1; padRight = tw - padLeft;
  } else if (Array.isArray(padding) && padding.length === 4) {
    [padTop, padBottom, padLeft, padRight] = padding;
    for (const [name, p, k] of [['top', padTop, kh], ['bottom', padBottom, kh], ['left', padLeft, kw], ['right', padRight, kw]] as const) {
      checkInt(where, `padding ${name}`, p, 0);
      if (p >= k) throw new RedeError(`${where}: padding ${name} ${p} must be smaller than the window (${kh}×${kw}), or a window could hold only padding`);
    }
  } else if (padding !== 'valid') {
    throw new RedeError(`${where}: padding must be 'valid', 'same' or [top, bottom, left, right], got ${JSON.stringify(padding)}`);
  }
  const oh = Math.floor((h + padTop + padBottom - kh) / sh) + 1, ow = Math.floor((w + padLeft + padRight - kw) / sw) + 1;
  if (oh < 1 || ow < 1) {
    throw new RedeError(`${where}: window ${kh}×${kw} does not fit input ${shapeStr(xShape)} with padding ${JSON.stringify(padding)}`);
  }
  return { n, h, w, c, kh, kw, sh, sw, padTop, padBottom, padLeft, padRight, oh, ow };
}

const outShape = (g: Pool2dGeom): number[] => [g.n, g.oh, g.ow, g.c];

/** The kernels' descriptor fields of a geometry (slot order: scripts/abi.mjs). */
export const poolDesc = (g: Pool2dGeom): PoolDesc => ({ n: g.n, h: g.h, w: g.w, c: g.c, kh: g.kh, kw: g.kw,
  strideH: g.sh, strideW: g.sw, padTop: g.padTop, padLeft: g.padLeft, oh: g.oh, ow: g.ow });

/** Writes g's descriptor into a transient reservation, runs call on it, releases it. */
function withDesc(e: Engine, where: string, g: Pool2dGeom, call: (desc: number) => void): void {
  const mark = e.mark();
  try {
    const desc = e.reserve(POOL_DESC_BYTES, `${where} descriptor`);
    writePoolDesc(e, desc, poolDesc(g));
    call(desc);
  } finally {
    e.release(mark);
  }
}
const geomStr = (g: Pool2dGeom): string =>
  `window ${g.kh}×${g.kw}, strides ${g.sh}×${g.sw}, pads [${g.padTop}, ${g.padBottom}, ${g.padLeft}, ${g.padRight}]`;

/** y = max over each window; argmax (i32, shape of y) = flat index into x of each maximum (for the backward). */
export function maxPool2dForward(e: Engine, x: Tensor, y: Tensor, argmax: Tensor, o: Pool2dOptions): Pool2dGeom {
  const where = 'maxpool2d_forward_f32';
  checkNhwc(where, 'x', x);
  const g = pool2dGeom(where, x.shape, o);
  checkShape(where, 'y', y, outShape(g), `x ${shapeStr(x.shape)}, ${geomStr(g)}`);
  checkShape(where, 'argmax', argmax, outShape(g), 'the shape of y');
  const xb = numel(x.shape) * 4, yb = numel(y.shape) * 4;
  e.checkRegion(where, 'x', x.ptr, xb); e.checkRegion(where, 'y', y.ptr, yb); e.checkRegion(where, 'argmax', argmax.ptr, yb);
  checkDisjoint(where, 'x', x.ptr, xb, 'y', y.ptr, yb);
  checkDisjoint(where, 'x', x.ptr, xb, 'argmax', argmax.ptr, yb);
  checkDisjoint(where, 'y', y.ptr, yb, 'argmax', argmax.ptr, yb);
  withDesc(e, where, g, (desc) => e.k.maxpool2d_forward_f32(desc, x.ptr, y.ptr, argmax.ptr));
  return g;
}

/** dx = (accumulate ? dx : 0) + dy scattered through argmax (from maxPool2d with the same geometry). */
export function maxPool2dBackward(e: Engine, dy: Tensor, argmax: Tensor, dx: Tensor, o: Pool2dOptions & { accumulate?: boolean }): void {
  const where = 'maxpool2d_backward_f32';
  checkNhwc(where, 'dx', dx);
  const g = pool2dGeom(where, dx.shape, o);
  checkShape(where, 'dy', dy, outShape(g), `dx ${shapeStr(dx.shape)}, ${geomStr(g)}`);
  checkShape(where, 'argmax', argmax, outShape(g), 'the shape of dy');
  const xb = numel(dx.shape) * 4, yb = numel(dy.shape) * 4;
  e.checkRegion(where, 'dy', dy.ptr, yb); e.checkRegion(where, 'argmax', argmax.ptr, yb); e.checkRegion(where, 'dx', dx.ptr, xb);
  checkDisjoint(where, 'dx', dx.ptr, xb, 'dy', dy.ptr, yb);
  checkDisjoint(where, 'dx', dx.ptr, xb, 'argmax', argmax.ptr, yb);
  withDesc(e, where, g, (desc) => e.k.maxpool2d_backward_f32(desc, argmax.ptr, dy.ptr, dx.ptr, o.accumulate ? 1 : 0));
}

/** y = mean of each window's real (unpadded) cells. */
export function avgPool2dForward(e: Engine, x: Tensor, y: Tensor, o: Pool2dOptions): Pool2dGeom {
  const where = 'avgpool2d_forward_f32';
  checkNhwc(where, 'x', x);
  const g = pool2dGeom(where, x.shape, o);
  checkShape(where, 'y', y, outShape(g), `x ${shapeStr(x.shape)}, ${geomStr(g)}`);
  const xb = numel(x.shape) * 4, yb = numel(y.shape) * 4;
  e.checkRegion(where, 'x', x.ptr, xb); e.checkRegion(where, 'y', y.ptr, yb);
  checkDisjoint(where, 'x', x.ptr, xb, 'y', y.ptr, yb);
  withDesc(e, where, g, (desc) => e.k.avgpool2d_forward_f32(desc, x.ptr, y.ptr));
  return g;
}

/** dx = (accumulate ? dx : 0) + each window's dy / (its real cell count), over its real cells. */
export function avgPool2dBackward(e: Engine, dy: Tensor, dx: Tensor, o: Pool2dOptions & { accumulate?: boolean }): void {
  const where = 'avgpool2d_backward_f32';
  checkNhwc(where, 'dx', dx);
  const g = pool2dGeom(where, dx.shape, o);
  checkShape(where, 'dy', dy, outShape(g), `dx ${shapeStr(dx.shape)}, ${geomStr(g)}`);
  const xb = numel(dx.shape) * 4, yb = numel(dy.shape) * 4;
  e.checkRegion(where, 'dy', dy.ptr, yb); e.checkRegion(where, 'dx', dx.ptr, xb);
  checkDisjoint(where, 'dx', dx.ptr, xb, 'dy', dy.ptr, yb);
  withDesc(e, where, g, (desc) => e.k.avgpool2d_backward_f32(desc, dy.ptr, dx.ptr, o.accumulate ? 1 : 0));
}

/** y [n, c] = mean of x [n, h, w, c] over h and w. */
export function globalAvgPoolForward(e: Engine, x: Tensor, y: Tensor): void {
  const where = 'global_avgpool_forward_f32';
  checkNhwc(where, 'x', x);
  const [n, h, w, c] = x.shape;
  checkShape(where, 'y', y, [n, c], `x ${shapeStr(x.shape)}`);
  e.checkRegion(where, 'x', x.ptr, n * h * w * c * 4); e.checkRegion(where, 'y', y.ptr, n * c * 4);
  checkDisjoint(where, 'x', x.ptr, n * h * w * c * 4, 'y', y.ptr, n * c * 4);
  e.k.global_avgpool_forward_f32(n, h * w, c, x.ptr, y.ptr);
}

/** dx [n, h, w, c] = (accumulate ? dx : 0) + dy [n, c] / (h·w) at every position. */
export function globalAvgPoolBackward(e: Engine, dy: Tensor, dx: Tensor, o: { accumulate?: boolean } = {}): void {
  const where = 'global_avgpool_backward_f32';
  checkNhwc(where, 'dx', dx);
  const [n, h, w, c] = dx.shape;
  checkShape(where, 'dy', dy, [n, c], `dx ${shapeStr(dx.shape)}`);
  e.checkRegion(where, 'dy', dy.ptr, n * c * 4); e.checkRegion(where, 'dx', dx.ptr, n * h * w * c * 4);
  checkDisjoint(where, 'dx', dx.ptr, n * h * w * c * 4, 'dy', dy.ptr, n * c * 4);
  e.k.global_avgpool_backward_f32(n, h * w, c, dy.ptr, dx.ptr, o.accumulate ? 1 : 0);
}
