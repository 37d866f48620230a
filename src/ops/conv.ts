// Checked conv kernel calls over tensors. convGeom resolves and validates a convolution's geometry once;
// writeConvDesc (generated from scripts/abi.mjs) is the one place that writes the kernels' i32 descriptor.
// Shapes: x, dx [n, h, w, cin]; y, dy [n, oh, ow, cout]; w, dw [kh, kw, cin/groups, cout]; bias [cout];
// col [groups, n·oh·ow, kh·kw·cin/groups] ([n·oh·ow, kh·kw·cin] also accepted when groups = 1).
import type { Engine } from '../engine/engine';
import { RedeError, checkInt, shapeStr } from '../engine/errors';
import { numel, type Tensor } from '../engine/tensor';
import { CONV_DESC_BYTES, CONV_PATH_AUTO, CONV_PATH_DIRECT, CONV_PATH_GEMM, CONV_SMALL_CIN_MAX, writeConvDesc } from '../engine/generated/abi';

export type ConvPadding = 'same' | 'valid' | number | readonly [top: number, bottom: number, left: number, right: number];
export type ConvAct = 'none' | 'relu' | 0 | 1;
/** Which kernels run: 'auto' lets the kernel choose (measured rule, assembly/conv.ts); 'gemm' im2col + GEMM;
 *  'direct' the kernels without a col matrix: for groups 1 and cin ≤ 4 the small-input-channel ones
 *  (assembly/conv_small.ts), for groups 1, dilation 1 and more channels assembly/conv_direct.ts; backward-data
 *  only at stride 1, else GEMM. */
export type ConvPath = 'auto' | 'gemm' | 'direct';
const PATHS: Record<ConvPath, number> = { auto: CONV_PATH_AUTO, gemm: CONV_PATH_GEMM, direct: CONV_PATH_DIRECT };
const PATH_NAMES: Record<number, ConvPath> = Object.fromEntries(Object.entries(PATHS).map(([k, v]) => [v, k as ConvPath]));

export interface ConvGeomOptions {
  n: number; h: number; w: number; cin: number; cout: number; kh: number; kw: number;
  /** A number, or [strideH, strideW]. Default 1. */
  stride?: number | readonly [number, number];
  /** 'valid' (default), 'same' (TensorFlow's: the odd pixel of padding goes bottom/right), a number for every
   *  side, or [top, bottom, left, right]. */
  padding?: ConvPadding;
  /** A number, or [dilationH, dilationW]. Default 1. */
  dilation?: number | readonly [number, number];
  /** Default 1; cin and cout must be divisible by it. groups == cin (> 1) runs the direct depthwise kernel. */
  groups?: number;
  /** Output pixels per GEMM tile; 0 (default) lets the kernel choose. Bounds scratch; results do not change. */
  tileRows?: number;
  /** Default 'auto'. The paths agree to rounding; benchmarks and tests pin one to compare them. */
  path?: ConvPath;
}

/** Every field of a convolution resolved, incl. the output size oh × ow. */
export interface ConvGeom {
  readonly n: number; readonly h: number; readonly w: number; readonly cin: number; readonly cout: number;
  readonly kh: number; readonly kw: number; readonly oh: number; readonly ow: number;
  readonly strideH: number; readonly strideW: number; readonly dilationH: number; readonly dilationW: number;
  readonly padTop: number; readonly padBottom: number; readonly padLeft: number; readonly padRight: number;
  readonly groups: number; readonly tileRows: number;
  /** The descriptor's CONV_PATH_* number (ConvPath resolved). */
  readonly path: number;
}

const WHERE = 'conv2d';
/** Largest tensor the kernels' i32 sizes address: 2^29 floats (2 GiB). */
const MAX_FLOATS = 2 ** 29;

const pair = (v: number | readonly [number, number] | undefined, what: string): [number, number] => {
  if (v === undefined) return [1, 1];
  if (typeof v === 'number') return [v, v];
  if (!Array.isArray(v) || v.length !== 2) throw new RedeError(`${WHERE}: ${what} must be a number or [h, w], got ${JSON.stringify(v)}`);
  return [v[0], v[1]];
};

/** One side's 'same' padding total: enough that oh = ceil(h / stride) outputs fit. */
const samePad = (size: number, stride: number, effK: number): number =>
  Math.max((Math.ceil(size / stride) - 1) * stride + effK - size, 0);

/** Resolves strides, dilations and padding into a geometry; throws RedeError naming the fields on bad input. */
export function convGeom(o: ConvGeomOptions): ConvGeom {
  for (const k of ['n', 'h', 'w', 'cin', 'cout', 'kh', 'kw'] as const) checkInt(WHERE, k, o[k]);
  const [strideH, strideW] = pair(o.stride, 'stride');
  const [dilationH, dilationW] = pair(o.dilation, 'dilation');
  checkInt(WHERE, 'strideH', strideH); checkInt(WHERE, 'strideW', strideW);
  checkInt(WHERE, 'dilationH', dilationH); checkInt(WHERE, 'dilationW', dilationW);
  const groups = o.groups ?? 1, tileRows = o.tileRows ?? 0;
  checkInt(WHERE, 'groups', groups);
  checkInt(WHERE, 'tileRows', tileRows, 0);
  const pathName = o.path ?? 'auto';
  if (!Object.hasOwn(PATHS, pathName)) throw new RedeError(`${WHERE}: path must be 'auto', 'gemm' or 'direct', got ${JSON.stringify(o.path)}`);
  if (pathName === 'direct' && (groups !== 1 || (o.cin > CONV_SMALL_CIN_MAX && (dilationH !== 1 || dilationW !== 1)))) {
    throw new RedeError(`${WHERE}: path 'direct' needs groups = 1 and either cin <= ${CONV_SMALL_CIN_MAX} or dilation 1, got groups = ${groups}, cin = ${o.cin}, dilation ${dilationH}×${dilationW}`);
  }
  const path = PATHS[pathName];
  if (o.cin % groups || o.cout % groups) {
    throw new RedeError(`${WHERE}: groups = ${groups} must divide cin = ${o.cin} and cout = ${o.cout}`);
  }
  const effKh = (o.kh - 1) * dilationH + 1, effKw = (o.kw - 1) * dilationW + 1;
  const p = o.padding ?? 'valid';
  let pads: [number, number, number, number];
  if (p === 'valid') pads = [0, 0, 0, 0];
  else if (p === 'same') {
    const th = samePad(o.h, strideH, effKh), tw = samePad(o.w, strideW, effKw);
    pads = [th >> 1, th - (th >> 1), tw >> 1, tw - (tw >> 1)];
  } else if (typeof p === 'number') pads = [p, p, p, p];
  else if (Array.isArray(p) && p.length === 4) pads = [p[0], p[1], p[2], p[3]];
  else throw new RedeError(`${WHERE}: padding must be 'same', 'valid', a number or [top, bottom, left, right], got ${JSON.stringify(p)}`);
  const [padTop, padBottom, padLeft, padRight] = pads;
  checkInt(WHERE, 'padTop', padTop, 0); checkInt(WHERE, 'padBottom', padBottom, 0);
  checkInt(WHERE, 'padLeft', padLeft, 0); checkInt(WHERE, 'padRight', padRight, 0);
  const ph = o.h + padTop + padBottom, pw = o.w + padLeft + padRight;
  if (effKh > ph || effKw > pw) {
    throw new RedeError(`${WHERE}: kernel ${o.kh}×${o.kw} (dilation ${dilationH}×${dilationW}: spans ${effKh}×${effKw}) is larger than the padded input ${ph}×${pw} (h×w ${o.h}×${o.w}, padding [${pads.join(', ')}])`);
  }
  const oh = Math.floor((ph - effKh) / strideH) + 1, ow = Math.floor((pw - effKw) / strideW) + 1;
  const g: ConvGeom = { n: o.n, h: o.h, w: o.w, cin: o.cin, cout: o.cout, kh: o.kh, kw: o.kw, oh, ow, strideH, strideW,
    dilationH, dilationW, padTop, padBottom, padLeft, padRight, groups, tileRows, path };
  checkSizes(g);
  return g;
}

function checkSizes(g: ConvGeom): void {
  const k = g.kh * g.kw * (g.cin / g.groups);
  const big = [['x', g.n * g.h * g.w * g.cin], ['y', g.n * g.oh * g.ow * g.cout], ['w', k * g.cout],
    ['col tile', g.tileRows * k]] as const;
  for (const [name, floats] of big) {
    if (floats > MAX_FLOATS) throw new RedeError(`${WHERE}: ${name} would hold ${floats} floats; at most ${MAX_FLOATS} are supported`);
  }
}

/** Re-derives oh/ow from a geometry's fields: a hand-built or stale geometry must not reach the kernels. */
function checkGeom(where: string, g: ConvGeom): void {
  let ok: ConvGeom;
  try {
    ok = convGeom({ n: g.n, h: g.h, w: g.w, cin: g.cin, cout: g.cout, kh: g.kh, kw: g.kw, stride: [g.strideH, g.strideW],
      dilation: [g.dilationH, g.dilationW], padding: [g.padTop, g.padBottom, g.padLeft, g.padRight], groups: g.groups, tileRows: g.tileRows,
      path: PATH_NAMES[g.path] });
  } catch (err) {
    throw new RedeError(`${where}: invalid geometry: ${(err as Error).message.replace(/^conv2d: /, '')}`);
  }
  if (ok.oh !== g.oh || ok.ow !== g.ow) {
    throw new RedeError(`${where}: geometry says oh×ow = ${g.oh}×${g.ow}, but its fields give ${ok.oh}×${ok.ow}; build it with convGeom`);
  }
}

/** The kernels' descriptor: its bytes, and its one writer (a ConvGeom is a ConvDesc), both generated from
 *  scripts/abi.mjs. writeConvDesc(e, ptr, geom) takes the engine's views. */
export { CONV_DESC_BYTES, writeConvDesc } from '../engine/generated/abi';

export const xShape = (g: ConvGeom): number[] => [g.n, g.h, g.w, g.cin];
export const yShape = (g: ConvGeom): number[] => [g.n, g.oh, g.ow, g.cout];
export const wShape = (g: ConvGeom): number[] => [g.kh, g.kw, g.cin / g.groups, g.cout];
export const colShape = (g: ConvGeom): number[] => [g.groups, g.n * g.oh * g.ow, g.kh * g.kw * (g.cin / g.groups)];

function expectShape(where: string, name: string, t: Tensor, expected: readonly number[], dims: string): void {
  const s = t.shape;
  if (s.length !== expected.length || s.some((d, i) => d !== expected[i])) {
    throw new RedeError(`${where}: ${name} has shape ${shapeStr(s)}, expected ${dims} = ${shapeStr(expected)}`);
  }
}

/** Checks shape and arena region of each tensor, and that no output overlaps any other tensor. */
function checkTensors(e: Engine, where: string, ins: [string, Tensor, number[], string][], outs: [string, Tensor, number[], string][]): void {
  const all = [...ins, ...outs];
  for (const [name, t, shape, dims] of all) {
    expectShape(where, name, t, shape, dims);
    e.checkRegion(where, name, t.ptr, numel(shape) * 4);
  }
  for (const [oName, o, oShape] of outs) {
    for (const [name, t, shape] of all) {
      if (t === o && name === oName) continue;
      if (o.ptr < t.ptr + numel(shape) * 4 && t.ptr < o.ptr + numel(oShape) * 4) {
        throw new RedeError(`${where}: output ${oName} (byte ${o.ptr}, ${shapeStr(oShape)}) overlaps ${name} (byte ${t.ptr}, ${shapeStr(shape)})`);
      }
    }
  }
}

/** Reserves the descriptor and (for the conv kernels) their scratch, runs call, releases both. */
function withDesc(e: Engine, where: string, g: ConvGeom, call: (desc: number, scratch: number) => void, scratch = true): void {
  const mark = e.mark();
  try {
    const desc = e.reserve(CONV_DESC_BYTES, `${where} descriptor`);
    writeConvDesc(e, desc, g);
    const bytes = scratch ? e.k.conv2d_scratch_bytes(desc) : 0;
    call(desc, e.reserve(bytes, `${where} scratch`));
  } finally {
    e.release(mark);
  }
}

/** Scratch bytes the conv kernels need for geometry g: they own the tiling, so they tell it from a descriptor. */
export function convScratchBytes(e: Engine, g: ConvGeom): number {
  checkGeom(WHERE, g);
  let bytes = 0;
  withDesc(e, WHERE, g, (desc) => { bytes = e.k.conv2d_scratch_bytes(desc); }, false);
  return bytes;
}

const xDims = '[n, h, w, cin]', yDims = '[n, oh, ow, cout]', wDims = '[kh, kw, cin/groups, cout]';

/** y = conv(x, w) (+ bias) then act ('relu' or 1: max(0, ·)). x [n, h, w, cin], w [kh, kw, cin/groups, cout]. */
export function conv2dForward(e: Engine, g: ConvGeom, x: Tensor, w: Tensor, bias: Tensor | null, y: Tensor, act: ConvAct = 'none'): void {
  const where = WHERE;
  checkGeom(where, g);
  if (act !== 'none' && act !== 'relu' && act !== 0 && act !== 1) throw new RedeError(`${where}: act must be 'none', 'relu', 0 or 1, got ${JSON.stringify(act)}`);
  const ins: [string, Tensor, number[], string][] = [['x', x, xShape(g), xDims], ['w', w, wShape(g), wDims]];
  if (bias) ins.push(['bias', bias, [g.cout], '[cout]']);
  checkTensors(e, where, ins, [['y', y, yShape(g), yDims]]);
  const relu = act === 'relu' || act === 1 ? 1 : 0;
  withDesc(e, where, g, (desc, scratch) => e.k.conv2d_forward_f32(desc, x.ptr, w.ptr, bias ? bias.ptr : 0, y.ptr, relu, scratch));
}

/** dx = ∂(Σ y·dy)/∂x (overwritten). dy [n, oh, ow, cout], w [kh, kw, cin/groups, cout], dx [n, h, w, cin]. */
export function conv2dBackwardData(e: Engine, g: ConvGeom, dy: Tensor, w: Tensor, dx: Tensor): void {
  const where = `${WHERE} backward-data`;
  checkGeom(where, g);
  checkTensors(e, where, [['dy', dy, yShape(g), yDims], ['w', w, wShape(g), wDims]], [['dx', dx, xShape(g), xDims]]);
  withDesc(e, where, g, (desc, scratch) => e.k.conv2d_backward_data_f32(desc, dy.ptr, w.ptr, dx.ptr, scratch));
}

/** dw (+)= ∂(Σ y·dy)/∂w; accumulate adds to dw (micro-batches), else overwrites. The bias gradient is bias_grad's. */
export function conv2dBackwardFilter(e: Engine, g: ConvGeom, x: Tensor, dy: Tensor, dw: Tensor, accumulate = false): void {
  const where = `${WHERE} backward-filter`;
  checkGeom(where, g);
  checkTensors(e, where, [['x', x, xShape(g), xDims], ['dy', dy, yShape(g), yDims]], [['dw', dw, wShape(g), wDims]]);
  withDesc(e, where, g, (desc, scratch) => e.k.conv2d_backward_filter_f32(desc, x.ptr, dy.ptr, dw.ptr, accumulate ? 1 : 0, scratch));
}

function colExpected(where: string, g: ConvGeom, col: Tensor): number[] {
  const s = colShape(g);
  if (numel(s) > MAX_FLOATS) throw new RedeError(`${where}: col ${shapeStr(s)} would hold ${numel(s)} floats; at most ${MAX_FLOATS} are supported`);
  return g.groups === 1 && col.shape.length === 2 ? s.slice(1) : s;
}

/** col [groups, n·oh·ow, kh·kw·cin/groups] = im2col(x): every output pixel's receptive field, 0 in padding. */
export function im2col(e: Engine, g: ConvGeom, x: Tensor, col: Tensor): void {
  const where = `${WHERE} im2col`;
  checkGeom(where, g);
  checkTensors(e, where, [['x', x, xShape(g), xDims]], [['col', col, colExpected(where, g, col), '[groups, n·oh·ow, kh·kw·cin/groups]']]);
  withDesc(e, where, g, (desc) => e.k.im2col_f32(desc, x.ptr, col.ptr), false);
}

/** dx = col2im(col): each col entry added back onto the x element it came from (im2col's adjoint); overwrites dx. */
export function col2im(e: Engine, g: ConvGeom, col: Tensor, dx: Tensor): void {
  const where = `${WHERE} col2im`;
  checkGeom(where, g);
  checkTensors(e, where, [['col', col, colExpected(where, g, col), '[groups, n·oh·ow, kh·kw·cin/groups]']], [['dx', dx, xShape(g), xDims]]);
  withDesc(e, where, g, (desc) => e.k.col2im_f32(desc, col.ptr, dx.ptr), false);
}
