// Lowering an f32 inference graph (lower.ts: batch norm folded, ReLU and residual adds fused) to int8 ops.
// Every value lives in one domain, f32 or int8 (real = scale·(q − zero), per tensor); an op runs in int8 when
// the kernels have it and its values have parameters, else as the f32 op it was, and quantize / dequantize ops
// are inserted where the domains change (once per value). What runs in int8:
//   conv (any groups; depthwise direct) and dense with a linear or ReLU epilogue: int8 → int8, the ReLU a clamp;
//     a residual add fused into the conv is split off again: conv → int8 value at the add's input node (its
//     own parameters) → int8 add [→ ReLU]; a conv / dense that makes the model output, or has another
//     activation (softmax, tanh, …), writes f32 (acc + bias)·scale and applies the activation in f32
//   max / average / global average pooling: int8 → int8 with the input's parameters (max commutes with the
//     affine map; the mean is rounded half away from zero)
//   a two-input add: TFLite's int8 add
// Everything else (batch norm left unfolded, LRN, concat, softmax, other layers) runs in f32.
import { RedeError } from '../engine/errors';
import { numelOf } from '../layers/layer';
import type { ConvGeom } from '../ops/conv';
import { CONV_PATH_AUTO } from '../engine/generated/abi';
import { quantizeMultiplier } from '../ref/qmath';
import type { Lowered, Op, Value } from './lower';
import { qparamRecords, type QParams, type QOp } from './qops';

/** A conv / dense layer's int8 weights (its kernel's layout, batch norm folded), per-output-channel scales, f32 bias. */
export interface QWeights { q: Int8Array; scale: Float32Array; bias: Float32Array | null }

/** Where lowering gets its numbers: per graph node, the int8 parameters of its output (undefined: stays f32). */
export interface QSource {
  /** Node −1 is the model input. */
  params(node: number): QParams | undefined;
  weights(opName: string): QWeights;
}

const isQ = (a: { type: string }): boolean => a.type === 'linear' || a.type === 'relu';
const clampI32 = (v: number): number => Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, v));

export function lowerQuantized(g: Lowered, src: QSource): Lowered {
  const values: Value[] = [], nodeOf: number[] = [], ops: Op[] = [];
  /** Per original value: its f32 form and its int8 form (ids in the new graph, −1: none yet). */
  const f32 = new Map<number, number>(), i8 = new Map<number, { id: number; q: QParams }>();
  const add = (shape: Value['shape'], node: number, bytes: 'f32' | 'i8'): number => {
    const n = numelOf(shape);
    values.push({ id: values.length, shape, floats: bytes === 'f32' ? n : Math.ceil(n / 4) });
    nodeOf.push(node);
    return values.length - 1;
  };
  const orig = (v: number) => g.values[v];
  f32.set(0, add(orig(0).shape, -1, 'f32'));
  const paramsOfValue = (v: number): QParams | undefined => i8.get(v)?.q ?? src.params(g.nodeOf[v]);
  /** The int8 form of original value v (quantizing its f32 form when needed). */
  const asI8 = (v: number): { id: number; q: QParams } => {
    let r = i8.get(v);
    if (r) return r;
    const q = src.params(g.nodeOf[v]), from = f32.get(v);
    if (!q || from === undefined) throw new Error(`infer: value ${v} has no int8 parameters (lowerQuantized)`);
    const id = add(orig(v).shape, g.nodeOf[v], 'i8');
    ops.push({ kind: 'quantize', name: `quantize:${v}`, xs: [from], x: from, y: id, q, n: numelOf(orig(v).shape) });
    i8.set(v, r = { id, q });
    return r;
  };
  const asF32 = (v: number): number => {
    let id = f32.get(v);
    if (id !== undefined) return id;
    const r = i8.get(v)!;
    id = add(orig(v).shape, g.nodeOf[v], 'f32');
    ops.push({ kind: 'dequantize', name: `dequantize:${v}`, xs: [r.id], x: r.id, y: id, q: r.q, n: numelOf(orig(v).shape) });
    f32.set(v, id);
    return id;
  };
  const newI8 = (v: number, q: QParams, node = g.nodeOf[v]): number => { const id = add(orig(v).shape, node, 'i8'); i8.set(v, { id, q }); return id; };

  for (const op of g.ops) {
    if ((op.kind === 'conv' || op.kind === 'dense') && paramsOfValue(op.x)) {
      const out = op.y === g.output || !isQ(op.act);
      const yq = out ? undefined : src.params(g.nodeOf[op.y]);
      const preQ = op.res >= 0 ? src.params(op.pre) : undefined;
      const resOk = op.res < 0 || (preQ !== undefined && paramsOfValue(op.res) !== undefined && yq !== undefined);
      if ((out && op.res < 0) || (yq && resOk)) {
        const x = asI8(op.x), w = src.weights(op.name);
        const cout = op.kind === 'conv' ? op.geo.cout : op.n;
        const depthwise = op.kind === 'conv' && op.geo.groups > 1 && op.geo.groups === op.geo.cin;
        const k = op.kind === 'conv' ? op.geo.kh * op.geo.kw * op.geo.cin / op.geo.groups : op.k;
        const target = op.res >= 0 ? preQ! : yq; // the conv's own output: before the add when one follows
        const relu = op.act.type === 'relu' && op.res < 0;
        const qp = requantRecords(w, x.q, target, cout, k, depthwise ? 0 : x.q.zero);
        let y: number;
        if (out) y = add(orig(op.y).shape, g.nodeOf[op.y], 'f32');
        else y = op.res >= 0 ? add(orig(op.y).shape, op.pre, 'i8') : newI8(op.y, yq!);
        const zy = target?.zero ?? 0, lo = relu ? Math.max(-128, zy) : -128;
        const common = { name: op.name, xs: [x.id], x: x.id, y, w: w.q, qp, zx: x.q.zero, zy, lo, hi: 127, f32out: out, act: out ? op.act : { type: 'linear' as const, alpha: 0 } };
        ops.push(op.kind === 'conv' ? { kind: 'qconv', ...common, geo: op.geo } : { kind: 'qdense', ...common, k: op.k, n: op.n });
        if (out) { f32.set(op.y, y); continue; }
        if (op.res >= 0) {
          const r = asI8(op.res), yId = newI8(op.y, yq!);
          ops.push({ kind: 'qadd', name: `${op.name}:add`, xs: [y, r.id], x: y, y: yId, p: addDesc(preQ!, r.q, yq!, op.act.type === 'relu'), n: numelOf(orig(op.y).shape) });
        }
        continue;
      }
    }
    if ((op.kind === 'maxpool' || op.kind === 'avgpool' || op.kind === 'gap') && paramsOfValue(op.x)) {
      const x = asI8(op.x), y = newI8(op.y, x.q);
      const geo: ConvGeom = op.kind === 'gap' ? globalGeom(op.layer.inShapes[0]) : op.geo;
      ops.push({ kind: op.kind === 'maxpool' ? 'qmaxpool' : 'qavgpool', name: op.name, xs: [x.id], x: x.id, y, geo });
      if (op.relu) throw new Error('infer: a fused ReLU after pooling (lowerQuantized)'); // lower() fuses ReLUs only into batch norm and add
      continue;
    }
    if (op.kind === 'add' && op.xs.length === 2 && op.xs.every((v) => paramsOfValue(v)) && op.y !== g.output && src.params(g.nodeOf[op.y])) {
      const a = asI8(op.xs[0]), b = asI8(op.xs[1]), yq = src.params(g.nodeOf[op.y])!, y = newI8(op.y, yq);
      ops.push({ kind: 'qadd', name: op.name, xs: [a.id, b.id], x: a.id, y, p: addDesc(a.q, b.q, yq, op.relu), n: numelOf(orig(op.y).shape) });
      continue;
    }
    if (op.kind.startsWith('q') || op.kind === 'quantize' || op.kind === 'dequantize') throw new RedeError(`infer: graph '${op.name}' is already quantized`);
    // The f32 op as it was, on the f32 forms of its inputs.
    const y = add(orig(op.y).shape, g.nodeOf[op.y], 'f32');
    if (op.kind === 'conv' || op.kind === 'dense') {
      ops.push({ ...op, x: asF32(op.x), res: op.res >= 0 ? asF32(op.res) : -1, y });
    } else {
      const lop = op as Extract<Op, { layer: unknown }>;
      const xs = lop.xs.map(asF32);
      ops.push({ ...lop, xs, x: xs[0] ?? -1, y } as Op);
    }
    f32.set(op.y, y);
  }
  const output = asF32(g.output);
  return { values, ops, output, nodeOf, folded: g.folded };
}

/** A global average pool as one window over the map [h, w, c]. */
function globalGeom([h, w, c]: readonly number[]): ConvGeom {
  return { n: 1, h, w, cin: c, cout: c, kh: h, kw: w, oh: 1, ow: 1, strideH: 1, strideW: 1, dilationH: 1, dilationW: 1,
    padTop: 0, padBottom: 0, padLeft: 0, padRight: 0, groups: 1, tileRows: 0, path: CONV_PATH_AUTO };
}

/**
 * Per output channel j: bias_j = round(b_j / (sx·sw_j)) − zfold·Σ_p qw_pj (zfold = zx for the im2col / dense
 * paths, whose padding is zx; 0 for the direct depthwise kernel, which subtracts zx itself), scale sx·sw_j (the
 * f32 output's), and with output parameters the int8 multiplier sx·sw_j / sy as mult_j · 2^(shift − 31).
 */
function requantRecords(w: QWeights, x: QParams, y: QParams | undefined, cout: number, k: number, zfold: number): Int32Array {
  const bias = new Int32Array(cout), mult = new Int32Array(cout), shift = new Int32Array(cout), scale = new Float32Array(cout);
  for (let j = 0; j < cout; j++) {
    const s = x.scale * w.scale[j];
    let colsum = 0;
    for (let p = 0; p < k; p++) colsum += w.q[p * cout + j];
    bias[j] = clampI32(Math.round((w.bias ? w.bias[j] : 0) / s) - zfold * colsum);
    scale[j] = s;
  }
  if (y) {
    // One shift for the layer (its largest channel's), a 31-bit multiplier per channel: the kernel then
    // requantizes 4 channels per vector (assembly/qgemm.ts store_panel); a channel whose multiplier is 2^k times
    // smaller than the largest keeps 31 − k bits of it.
    const layer = Math.max(...Array.from(scale, (s) => quantizeMultiplier(s / y.scale).shift));
    for (let j = 0; j < cout; j++) {
      mult[j] = Math.min(2 ** 31 - 1, Math.round(scale[j] / y.scale * 2 ** (31 - layer)));
      shift[j] = layer;
    }
  }
  return qparamRecords(bias, mult, shift, scale);
}

/** TFLite's int8 add: inputs to 2^20 · (their scale / twice the larger), the sum to the output's scale. */
function addDesc(a: QParams, b: QParams, y: QParams, relu: boolean) {
  const left = 20, twice = 2 * Math.max(a.scale, b.scale);
  const A = quantizeMultiplier(a.scale / twice), B = quantizeMultiplier(b.scale / twice), Y = quantizeMultiplier(twice / (2 ** left * y.scale));
  return { za: a.zero, multA: A.mult, shiftA: A.shift, zb: b.zero, multB: B.mult, shiftB: B.shift, zy: y.zero, multY: Y.mult, shiftY: Y.shift,
    lo: relu ? Math.max(-128, y.zero) : -128, hi: 127, left };
}

export type { QOp, QParams };
