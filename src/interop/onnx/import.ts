// An ONNX conv net as a trainable rede model: the graph's nodes become layer configs (NHWC), its initializers the
// weights (OIHW → HWIO; Gemm/MatMul [out, in] or [in, out] → [in, out]). Every value of the graph carries how
// rede holds it:
//   'map'   a feature map: ONNX NCHW, rede [h, w, c]            'nhwc'  the same map after Transpose(0, 2, 3, 1)
//   'vec'   a vector [f]; `chw` when it came from an ONNX Flatten of a map, whose c, h, w order rede's flatten
//           keeps as h, w, c (a Gemm/MatMul reading it gets its rows permuted to match; elementwise ops pass it on)
// Supported: Conv, Gemm, MatMul (+ Add of a bias), BatchNormalization, Relu, LeakyRelu, Elu, Sigmoid, Tanh,
// Softmax, MaxPool, AveragePool, GlobalAveragePool, Add, Sum, Concat, Flatten, Reshape, LRN, Dropout, Identity,
// Transpose (to and from NHWC), Constant. An activation right after a conv or dense is fused into it. Ops outside
// the list are one error listing all of them, before anything is built. Outputs are rede's layout (NHWC maps).
import { RedeError, shapeStr } from '../../engine/errors';
import type { Engine } from '../../engine/engine';
import type { Model } from '../../api/model';
import type { LayerConfig, ModelConfig } from '../../model/config';
import type { WeightTensor } from '../../model/weights';
import { DT, dataTypeName, decodeModel, type AttrValue, type OnnxModel, type OnnxNode, type OnnxTensor } from './schema';

export const IMPORTED = ['Conv', 'Gemm', 'MatMul', 'BatchNormalization', 'Relu', 'LeakyRelu', 'Elu', 'Sigmoid', 'Tanh', 'Softmax', 'MaxPool',
  'AveragePool', 'GlobalAveragePool', 'Add', 'Sum', 'Concat', 'Flatten', 'Reshape', 'LRN', 'Dropout', 'Identity', 'Transpose', 'Constant'];

export interface OnnxImportOptions { source?: string; seed?: number; engine?: Engine }

/** A graph value as rede holds it: the layer that computes it ('input' for the model input), its rede shape. */
interface Value { layer: string; shape: number[]; kind: 'map' | 'nhwc' | 'vec'; chw?: [number, number, number]; pooled?: boolean }

/** The config and rede-layout weights an ONNX model becomes (no engine needed). */
export interface OnnxImported { config: ModelConfig; weights: Map<string, WeightTensor> }

const ACTS: Record<string, LayerConfig['type']> = { Relu: 'relu', LeakyRelu: 'leaky_relu', Elu: 'elu', Sigmoid: 'sigmoid', Tanh: 'tanh' };

export function onnxToConfig(m: OnnxModel, source = 'onnx'): OnnxImported {
  const g = m.graph;
  const opset = m.opsets.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version ?? 0;
  if (opset < 7) throw new RedeError(`${source}: opset ${opset || 'none'} of the default domain; rede reads opset 7 and later`);
  const unsupported = new Map<string, number>();
  for (const n of g.nodes) {
    const op = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType}` : n.opType;
    if (!IMPORTED.includes(op)) unsupported.set(op, (unsupported.get(op) ?? 0) + 1);
  }
  if (unsupported.size) {
    throw new RedeError(`${source}: unsupported ONNX ops: ${[...unsupported].map(([op, k]) => `${op.slice(0, 80)} (×${k})`).join(', ')} (rede imports ${IMPORTED.join(', ')})`);
  }
  const consts = new Map<string, OnnxTensor>();
  for (const t of g.initializers) consts.set(t.name, t);
  for (const n of g.nodes) {
    if (n.opType !== 'Constant') continue;
    const v = n.attrs.get('value');
    if (v?.type !== 'tensor' || n.outputs.length !== 1) throw new RedeError(`${source}: Constant '${n.name || n.outputs[0]}' must hold one tensor in 'value'`);
    consts.set(n.outputs[0], { ...v.t, name: n.outputs[0] });
  }
  const dataInputs = g.inputs.filter((v) => !consts.has(v.name));
  if (dataInputs.length !== 1) throw new RedeError(`${source}: the graph must have one data input, got ${dataInputs.length}${dataInputs.length ? ` (${dataInputs.map((v) => `'${v.name.slice(0, 60)}'`).join(', ')})` : ''}`);
  const inp = dataInputs[0];
  if (inp.elemType !== DT.FLOAT) throw new RedeError(`${source}: input '${inp.name}' is ${dataTypeName(inp.elemType)}, expected FLOAT`);
  const per = inp.dims.slice(1);
  if ((per.length !== 3 && per.length !== 1) || !per.every((d) => typeof d === 'number' && d > 0 && d <= 1 << 20)) {
    throw new RedeError(`${source}: input '${inp.name}' must be [N, C, H, W] or [N, features] with known sizes, got [${inp.dims.join(', ')}]`);
  }
  const dims = per as number[];
  // Read by Transpose(0, 3, 1, 2) only: the input is NHWC, rede's own layout.
  const readers = g.nodes.filter((n) => n.inputs.includes(inp.name));
  const nhwcIn = dims.length === 3 && readers.length > 0 && readers.every((n) => n.opType === 'Transpose' && sameInts(intsAttr(n, 'perm', []), [0, 3, 1, 2]));
  const inShape = dims.length === 1 ? dims : nhwcIn ? dims : [dims[1], dims[2], dims[0]];

  const values = new Map<string, Value>([[inp.name, { layer: 'input', shape: inShape, kind: dims.length === 1 ? 'vec' : nhwcIn ? 'nhwc' : 'map' }]]);
  const layers: (LayerConfig & { name: string })[] = [];
  const weights = new Map<string, WeightTensor>();
  const used = new Set<string>(['input']);
  const uses = new Map<string, number>();
  for (const n of g.nodes) for (const i of n.inputs) uses.set(i, (uses.get(i) ?? 0) + 1);
  for (const o of g.outputs) uses.set(o.name, (uses.get(o.name) ?? 0) + 1);
  /** The layer computing each value, for fusing an activation or a bias into it. */
  const producer = new Map<string, LayerConfig & { name: string }>();

  const nameFor = (n: OnnxNode): string => {
    let base = (n.name || n.outputs[0] || n.opType).slice(0, 200), name = base, k = 1;
    if (!base) base = name = n.opType;
    while (used.has(name)) name = `${base}_${k++}`;
    used.add(name);
    return name;
  };
  g.nodes.forEach((n, index) => {
    const where = `${source}: ${n.opType} '${(n.name || n.outputs[0] || `node ${index}`).slice(0, 120)}'`;
    if (n.opType === 'Constant') return;
    const need = (k: number): Value => {
      const name = n.inputs[k];
      const v = name === undefined ? undefined : values.get(name);
      if (!v) throw new RedeError(`${where}: input ${k} ${name === undefined ? 'is missing' : `'${name.slice(0, 80)}' is not computed by an earlier node (nodes must be in order; weights must be initializers)`}`);
      return v;
    };
    const konst = (k: number, what: string, optional = false): OnnxTensor | undefined => {
      const name = n.inputs[k];
      if (name === undefined || name === '') { if (optional) return undefined; throw new RedeError(`${where}: needs its ${what} (input ${k})`); }
      const t = consts.get(name);
      if (!t) throw new RedeError(`${where}: its ${what} '${name.slice(0, 80)}' must be an initializer or a Constant`);
      return t;
    };
    const out = (v: Value) => {
      if (n.outputs.length < 1 || !n.outputs[0]) throw new RedeError(`${where}: has no output`);
      for (const extra of n.outputs.slice(1)) if (extra && uses.has(extra)) throw new RedeError(`${where}: its output '${extra.slice(0, 80)}' is read, but rede computes only the first`);
      if (values.has(n.outputs[0]) || consts.has(n.outputs[0])) throw new RedeError(`${where}: output '${n.outputs[0].slice(0, 80)}' is computed twice`);
      values.set(n.outputs[0], v);
    };
    const layer = (cfg: LayerConfig, ins: Value[], shape: number[], kind: Value['kind'], chw?: Value['chw'], pooled = false) => {
      const name = nameFor(n);
      const c = { ...cfg, name, inputs: ins.map((v) => v.layer) } as LayerConfig & { name: string };
      layers.push(c);
      out({ layer: name, shape, kind, ...(chw ? { chw } : {}), ...(pooled ? { pooled } : {}) });
      producer.set(n.outputs[0], c);
      return c;
    };
    const map = (v: Value, what = 'a feature map (NCHW)') => {
      if (v.kind !== 'map') throw new RedeError(`${where}: input must be ${what}, got ${v.kind === 'nhwc' ? 'an NHWC (transposed) map' : `a vector ${shapeStr(v.shape)}`}`);
      return v;
    };
    const plain = (v: Value) => {
      if (v.kind === 'vec' && v.chw) throw new RedeError(`${where}: reads a flattened NCHW map (c, h, w order), which rede holds as h, w, c; only a Gemm/MatMul or an elementwise op may read it`);
      return v;
    };
    switch (n.opType) {
      case 'Conv': {
        const x = map(need(0)), w = konst(1, 'weight')!, b = konst(2, 'bias', true);
        const [h, wd, c] = x.shape;
        if (w.dims.length !== 4) throw new RedeError(`${where}: weight must be [out, in/groups, kh, kw], got ${shapeStr(w.dims)}`);
        const [co, cig, kh, kw] = w.dims, group = intAttr(n, 'group', 1);
        if (group < 1 || cig * group !== c) throw new RedeError(`${where}: weight ${shapeStr(w.dims)} with group ${group} does not fit ${c} input channels`);
        const ks = intsAttr(n, 'kernel_shape', [kh, kw]);
        if (!sameInts(ks, [kh, kw])) throw new RedeError(`${where}: kernel_shape ${shapeStr(ks)} differs from the weight's ${kh}×${kw}`);
        checkBias(where, b, co);
        const win = window(where, n, [h, wd], [kh, kw], true);
        const cfg = layer({ type: 'conv2d', filters: co, kernel: [kh, kw], stride: win.stride, padding: win.padding, dilation: win.dilation, groups: group, useBias: !!b }, [x], [...win.out, co], 'map');
        weights.set(`${cfg.name}/kernel`, { shape: [kh, kw, cig, co], data: oihwToHwio(floats(where, w), co, cig, kh, kw) });
        if (b) weights.set(`${cfg.name}/bias`, { shape: [co], data: floats(where, b) });
        break;
      }
      case 'Gemm': case 'MatMul': {
        const x = need(0), w = konst(1, 'weight')!;
        if (x.kind !== 'vec') throw new RedeError(`${where}: input must be a vector per example ([N, features]); flatten the map first`);
        if (w.dims.length !== 2) throw new RedeError(`${where}: B must be a 2-D initializer, got ${shapeStr(w.dims)}`);
        const gemm = n.opType === 'Gemm';
        if (gemm && intAttr(n, 'transA', 0) !== 0) throw new RedeError(`${where}: transA = 1 is not supported`);
        const transB = gemm ? intAttr(n, 'transB', 0) : 0, alpha = gemm ? floatAttr(n, 'alpha', 1) : 1, beta = gemm ? floatAttr(n, 'beta', 1) : 1;
        const [inF, outF] = transB ? [w.dims[1], w.dims[0]] : w.dims;
        if (inF !== x.shape[0]) throw new RedeError(`${where}: B ${shapeStr(w.dims)}${transB ? ' (transB)' : ''} takes ${inF} features, the input has ${x.shape[0]}`);
        const c = gemm ? konst(2, 'bias C', true) : undefined;
        if (c && !(numel(c.dims) === outF || numel(c.dims) === 1)) throw new RedeError(`${where}: C ${shapeStr(c.dims)} must be [${outF}] (or broadcast to it)`);
        const cfg = layer({ type: 'dense', units: outF, useBias: !!c }, [x], [outF], 'vec');
        weights.set(`${cfg.name}/kernel`, { shape: [inF, outF], data: denseKernel(floats(where, w), inF, outF, !!transB, alpha, x.chw) });
        if (c) {
          const cv = floats(where, c), bias = new Float32Array(outF);
          for (let u = 0; u < outF; u++) bias[u] = beta * cv[cv.length === 1 ? 0 : u];
          weights.set(`${cfg.name}/bias`, { shape: [outF], data: bias });
        }
        break;
      }
      case 'BatchNormalization': {
        const x = plain(need(0));
        if (x.kind === 'nhwc') throw new RedeError(`${where}: reads an NHWC (transposed) map; ONNX normalizes axis 1`);
        if (intAttr(n, 'training_mode', 0) !== 0) throw new RedeError(`${where}: training_mode = 1 is not an inference graph`);
        const c = x.shape[x.shape.length - 1];
        const [gamma, beta, mean, v] = ['scale', 'B', 'mean', 'var'].map((what, k) => {
          const t = konst(k + 1, what)!;
          if (numel(t.dims) !== c || t.dims.length !== 1) throw new RedeError(`${where}: ${what} must be [${c}], got ${shapeStr(t.dims)}`);
          return floats(where, t);
        });
        const eps = floatAttr(n, 'epsilon', 1e-5), mom = floatAttr(n, 'momentum', 0.9);
        if (!(eps > 0)) throw new RedeError(`${where}: epsilon must be > 0, got ${eps}`);
        if (!(mom >= 0 && mom <= 1)) throw new RedeError(`${where}: momentum must be in [0, 1], got ${mom}`);
        const cfg = layer({ type: 'batchnorm', epsilon: eps, momentum: Number((1 - mom).toPrecision(12)) }, [x], x.shape, x.kind);
        for (const [k, t] of [['gamma', gamma], ['beta', beta], ['moving_mean', mean], ['moving_variance', v]] as const) weights.set(`${cfg.name}/${k}`, { shape: [c], data: t });
        break;
      }
      case 'Relu': case 'LeakyRelu': case 'Elu': case 'Sigmoid': case 'Tanh': {
        const x = need(0), type = ACTS[n.opType];
        const alpha = n.opType === 'LeakyRelu' ? floatAttr(n, 'alpha', 0.01) : n.opType === 'Elu' ? floatAttr(n, 'alpha', 1) : undefined;
        const p = producer.get(n.inputs[0]) as (LayerConfig & { name: string; activation?: string; alpha?: number }) | undefined;
        // Fused into the conv or dense it follows (its only reader), as rede's own configs write it.
        if (p && (p.type === 'conv2d' || p.type === 'dense') && p.activation === undefined && uses.get(n.inputs[0]) === 1 && !(type === 'leaky_relu' && alpha! < 0)) {
          p.activation = type as 'relu';
          if (alpha !== undefined) p.alpha = alpha;
          out(x);
          producer.delete(n.inputs[0]);
          break;
        }
        layer({ type, ...(alpha !== undefined ? { alpha } : {}) } as LayerConfig, [x], x.shape, x.kind, x.chw, x.pooled);
        break;
      }
      case 'Softmax': {
        const x = plain(need(0)), rank = x.kind === 'vec' && !x.pooled ? 2 : 4;
        let axis = intAttr(n, 'axis', opset >= 13 ? -1 : 1);
        if (axis < 0) axis += rank;
        const ok = x.kind === 'vec' ? axis === 1 : x.kind === 'map' ? axis === 1 && (opset >= 13 || (x.shape[0] === 1 && x.shape[1] === 1)) : axis === 3 && opset >= 13;
        if (!ok) throw new RedeError(`${where}: softmax over axis ${axis} of a ${rank}-D ${x.kind === 'vec' ? 'tensor' : 'map'} (opset ${opset}); rede's softmax is over the channels (or features)`);
        layer({ type: 'softmax' }, [x], x.shape, x.kind);
        break;
      }
      case 'MaxPool': case 'AveragePool': {
        const x = map(need(0)), k = intsAttr(n, 'kernel_shape', []);
        if (k.length !== 2) throw new RedeError(`${where}: kernel_shape must be [kh, kw], got ${shapeStr(k)}`);
        if (intAttr(n, 'ceil_mode', 0) !== 0) throw new RedeError(`${where}: ceil_mode = 1 is not supported`);
        if (n.opType === 'MaxPool' && intAttr(n, 'storage_order', 0) !== 0) throw new RedeError(`${where}: storage_order = 1 is not supported`);
        const win = window(where, n, [x.shape[0], x.shape[1]], [k[0], k[1]], n.opType === 'MaxPool');
        if (n.opType === 'AveragePool' && intAttr(n, 'count_include_pad', 0) !== 0 && win.pads.some((p) => p > 0)) {
          throw new RedeError(`${where}: count_include_pad = 1 with padding is not supported (rede averages the pixels inside the image)`);
        }
        layer({ type: n.opType === 'MaxPool' ? 'maxpool2d' : 'avgpool2d', pool: [k[0], k[1]], stride: win.stride, padding: win.padding }, [x], [...win.out, x.shape[2]], 'map');
        break;
      }
      case 'GlobalAveragePool': {
        const x = map(need(0));
        // ONNX's result is [N, C, 1, 1]; rede's a vector [c] (a following Flatten or Reshape passes it on).
        layer({ type: 'globalavgpool2d' }, [x], [x.shape[2]], 'vec', undefined, true);
        break;
      }
      case 'Add': case 'Sum': {
        if (n.opType === 'Add' && n.inputs.length === 2 && consts.has(n.inputs[1]) !== consts.has(n.inputs[0])) {
          // MatMul + Add(bias): the bias of the dense layer before it.
          const [xi, bi] = consts.has(n.inputs[1]) ? [0, 1] : [1, 0];
          const x = need(xi), b = consts.get(n.inputs[bi])!, p = producer.get(n.inputs[xi]) as (LayerConfig & { useBias?: boolean; units?: number }) | undefined;
          if (!p || p.type !== 'dense' || p.useBias || uses.get(n.inputs[xi]) !== 1 || (p as { activation?: string }).activation !== undefined) {
            throw new RedeError(`${where}: adds a constant to '${n.inputs[xi].slice(0, 80)}'; rede takes a constant only as the bias of a MatMul/Gemm before it`);
          }
          const units = p.units!;
          if (!(numel(b.dims) === units || numel(b.dims) === 1)) throw new RedeError(`${where}: bias ${shapeStr(b.dims)} must be [${units}]`);
          const bv = floats(where, b);
          p.useBias = true;
          weights.set(`${p.name}/bias`, { shape: [units], data: Float32Array.from({ length: units }, (_, u) => bv[bv.length === 1 ? 0 : u]) });
          out(x);
          producer.set(n.outputs[0], p as LayerConfig & { name: string });
          producer.delete(n.inputs[xi]);
          break;
        }
        const xs = n.inputs.map((_, k) => plain(need(k)));
        if (xs.length === 1) { out(xs[0]); break; }
        if (!xs.every((v) => v.kind === xs[0].kind && sameInts(v.shape, xs[0].shape))) {
          throw new RedeError(`${where}: inputs must have the same shape (rede adds without broadcasting), got ${xs.map((v) => shapeStr(v.shape)).join(', ')}`);
        }
        layer({ type: 'add' }, xs, xs[0].shape, xs[0].kind);
        break;
      }
      case 'Concat': {
        const xs = n.inputs.map((_, k) => plain(need(k)));
        const kind = xs[0].kind, rank = kind === 'vec' ? 2 : 4;
        let axis = intAttr(n, 'axis', 1);
        if (axis < 0) axis += rank;
        if (!xs.every((v) => v.kind === kind) || axis !== (kind === 'nhwc' ? 3 : 1)) throw new RedeError(`${where}: concatenation along axis ${intAttr(n, 'axis', 1)}; rede concatenates channels (axis 1 of NCHW) or features`);
        if (xs.length === 1) { out(xs[0]); break; }
        const lead = xs[0].shape.slice(0, -1);
        if (!xs.every((v) => sameInts(v.shape.slice(0, -1), lead))) throw new RedeError(`${where}: inputs differ in size: ${xs.map((v) => shapeStr(v.shape)).join(', ')}`);
        layer({ type: 'concat' }, xs, [...lead, xs.reduce((s, v) => s + v.shape[v.shape.length - 1], 0)], kind);
        break;
      }
      case 'Flatten': case 'Reshape': {
        const x = need(0);
        let target: number[];
        if (n.opType === 'Flatten') {
          const axis = intAttr(n, 'axis', 1);
          if (axis !== 1) throw new RedeError(`${where}: axis ${axis}; rede flattens everything but the batch (axis 1)`);
          target = [numel(x.shape)];
        } else {
          const s = konst(1, 'shape')!;
          if (s.dataType !== DT.INT64 || s.dims.length !== 1 || s.data.length < 1 || s.data.length > 5) throw new RedeError(`${where}: shape must be an INT64 list of 1 to 5 sizes, got ${dataTypeName(s.dataType)} ${shapeStr(s.dims)}`);
          if (intAttr(n, 'allowzero', 0) !== 0) throw new RedeError(`${where}: allowzero = 1 is not supported`);
          target = reshapeTarget(where, [...s.data], numel(x.shape));
        }
        if (target.length === 1) {
          if (x.kind === 'vec') { out({ ...x, pooled: false }); break; } // [N, f] → [N, f]; also GlobalAveragePool's [N, C, 1, 1]
          const hw = x.shape[0] * x.shape[1];
          if (x.kind === 'map' && hw === 1) { layer({ type: 'flatten' }, [x], target, 'vec'); break; }
          // NCHW flattened: c, h, w order in ONNX; rede's flatten writes h, w, c, and remembers to permute the next dense's rows.
          layer({ type: 'flatten' }, [x], target, 'vec', x.kind === 'map' ? [x.shape[2], x.shape[0], x.shape[1]] : undefined);
          break;
        }
        if (target.length === 3 && (x.kind === 'nhwc' || (x.kind === 'vec' && !x.chw))) { layer({ type: 'reshape', shape: target }, [x], target, 'nhwc'); break; }
        throw new RedeError(`${where}: reshape of ${x.kind === 'map' ? 'an NCHW map' : 'this tensor'} ${shapeStr(x.shape)} to [N, ${target.join(', ')}] has no rede form (rede reshapes h, w, c order: transpose to NHWC first)`);
      }
      case 'Transpose': {
        const x = need(0), perm = intsAttr(n, 'perm', []);
        if (x.kind === 'map' && sameInts(perm, [0, 2, 3, 1])) out({ ...x, kind: 'nhwc' });
        else if (x.kind === 'nhwc' && sameInts(perm, [0, 3, 1, 2])) out({ ...x, kind: 'map' });
        else throw new RedeError(`${where}: perm ${shapeStr(perm)} of a ${x.kind}; rede transposes only between NCHW and NHWC`);
        break;
      }
      case 'LRN': {
        const x = map(need(0)), size = intAttr(n, 'size', 0);
        if (size < 1 || size % 2 === 0) throw new RedeError(`${where}: size must be an odd integer >= 1 (a window centred on the channel), got ${size}`);
        layer({ type: 'lrn', radius: (size - 1) / 2, alpha: floatAttr(n, 'alpha', 1e-4) / size, beta: floatAttr(n, 'beta', 0.75), bias: floatAttr(n, 'bias', 1) }, [x], x.shape, 'map');
        break;
      }
      case 'Dropout': {
        const x = need(0);
        let rate = floatAttr(n, 'ratio', 0.5);
        const r = konst(1, 'ratio', true);
        if (r) { if (numel(r.dims) !== 1) throw new RedeError(`${where}: ratio must be a scalar`); rate = floats(where, r)[0]; }
        const mode = konst(2, 'training_mode', true);
        if (mode && mode.data[0] !== 0) throw new RedeError(`${where}: training_mode true is not an inference graph`);
        if (!(rate >= 0 && rate < 1)) throw new RedeError(`${where}: ratio must be in [0, 1), got ${rate}`);
        layer({ type: 'dropout', rate }, [x], x.shape, x.kind, x.chw, x.pooled);
        break;
      }
      case 'Identity': out(need(0)); break;
    }
  });
  if (g.outputs.length < 1) throw new RedeError(`${source}: the graph has no outputs`);
  const outs = g.outputs.map((o) => {
    const v = values.get(o.name);
    if (!v) throw new RedeError(`${source}: output '${o.name.slice(0, 80)}' is not computed by any node`);
    if (v.layer === 'input') throw new RedeError(`${source}: output '${o.name.slice(0, 80)}' is the input itself`);
    return v.layer;
  });
  if (new Set(outs).size !== outs.length) throw new RedeError(`${source}: two outputs are the same rede layer`);
  if (layers.length === 0) throw new RedeError(`${source}: the graph computes nothing rede can train`);
  const config: ModelConfig = { name: (g.name || 'onnx').slice(0, 200), input: inShape, layers: layers.map(({ ...c }) => c) };
  // Each layer reads the previous one by default: drop `inputs` where it says just that.
  config.layers.forEach((c, i) => {
    const prev = i === 0 ? 'input' : config.layers[i - 1].name;
    if (c.inputs && c.inputs.length === 1 && c.inputs[0] === prev) delete c.inputs;
  });
  if (outs.length > 1) config.outputs = outs;
  else if (outs[0] !== config.layers[config.layers.length - 1].name) config.output = outs[0];
  return { config, weights };
}

/** An .onnx file as a rede Model with its weights, ready to predict, compile and fit. */
export async function importOnnx(bytes: Uint8Array, o: OnnxImportOptions = {}): Promise<Model> {
  const source = o.source ?? 'onnx';
  const { config, weights } = onnxToConfig(decodeModel(bytes, source), source);
  const { Model } = await import('../../api/model');
  let model: Model;
  try {
    model = await Model.create(config, { seed: o.seed ?? 0, ...(o.engine ? { engine: o.engine } : {}) });
    model.setWeights(weights);
  } catch (e) {
    if (e instanceof RedeError) throw new RedeError(`${source}: ${e.message}`);
    throw e;
  }
  return model;
}

// ------------------------------------------------------------------------------------------------ helpers

const numel = (d: readonly number[]) => d.reduce((a, b) => a * b, 1);
const sameInts = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);

function attr(n: OnnxNode, k: string): AttrValue | undefined { return n.attrs.get(k); }
function intAttr(n: OnnxNode, k: string, def: number): number {
  const a = attr(n, k);
  if (!a) return def;
  if (a.type !== 'int') throw new RedeError(`${n.opType} '${n.name}': attribute ${k} must be an INT, got ${a.type}`);
  return a.i;
}
function floatAttr(n: OnnxNode, k: string, def: number): number {
  const a = attr(n, k);
  if (!a) return def;
  if (a.type !== 'float') throw new RedeError(`${n.opType} '${n.name}': attribute ${k} must be a FLOAT, got ${a.type}`);
  if (!Number.isFinite(a.f)) throw new RedeError(`${n.opType} '${n.name}': attribute ${k} is ${a.f}`);
  return a.f;
}
function intsAttr(n: OnnxNode, k: string, def: number[]): number[] {
  const a = attr(n, k);
  if (!a) return def;
  if (a.type !== 'ints') throw new RedeError(`${n.opType} '${n.name}': attribute ${k} must be INTS, got ${a.type}`);
  return a.ints;
}

/** A float tensor's values as f32 (FLOAT or DOUBLE), each finite. */
function floats(where: string, t: OnnxTensor): Float32Array {
  if (t.dataType !== DT.FLOAT && t.dataType !== DT.DOUBLE) throw new RedeError(`${where}: '${t.name.slice(0, 80)}' is ${dataTypeName(t.dataType)}, expected FLOAT`);
  const out = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
  for (let i = 0; i < out.length; i++) if (!Number.isFinite(out[i])) throw new RedeError(`${where}: '${t.name.slice(0, 80)}' value ${i} is ${out[i]}`);
  return out;
}

function checkBias(where: string, b: OnnxTensor | undefined, co: number): void {
  if (b && (b.dims.length !== 1 || b.dims[0] !== co)) throw new RedeError(`${where}: bias must be [${co}], got ${shapeStr(b.dims)}`);
}

/** Strides, dilations and pads of a Conv or pool in rede's terms, and the output size ONNX gives. */
function window(where: string, n: OnnxNode, [h, w]: [number, number], [kh, kw]: [number, number], dilatable: boolean) {
  const stride = intsAttr(n, 'strides', [1, 1]), dilation = intsAttr(n, 'dilations', [1, 1]);
  if (stride.length !== 2 || !stride.every((s) => s >= 1 && s <= 1 << 16)) throw new RedeError(`${where}: strides must be two integers >= 1, got ${shapeStr(stride)}`);
  if (dilation.length !== 2 || !dilation.every((s) => s >= 1 && s <= 1 << 16)) throw new RedeError(`${where}: dilations must be two integers >= 1, got ${shapeStr(dilation)}`);
  if (!dilatable && (dilation[0] !== 1 || dilation[1] !== 1)) throw new RedeError(`${where}: dilations ${shapeStr(dilation)} are not supported`);
  if (!(kh >= 1 && kw >= 1 && kh <= 1 << 16 && kw <= 1 << 16)) throw new RedeError(`${where}: kernel ${kh}×${kw}`);
  const ekh = (kh - 1) * dilation[0] + 1, ekw = (kw - 1) * dilation[1] + 1;
  const autoPad = attr(n, 'auto_pad');
  const mode = autoPad ? (autoPad.type === 'string' ? autoPad.s : '?') : 'NOTSET';
  let pads: number[];
  if (mode === 'NOTSET') {
    pads = intsAttr(n, 'pads', [0, 0, 0, 0]); // [top, left, bottom, right]
    if (pads.length !== 4 || !pads.every((p) => p >= 0 && p <= 1 << 16)) throw new RedeError(`${where}: pads must be 4 integers >= 0 [top, left, bottom, right], got ${shapeStr(pads)}`);
  } else if (mode === 'VALID') pads = [0, 0, 0, 0];
  else if (mode === 'SAME_UPPER' || mode === 'SAME_LOWER') {
    const tot = (size: number, s: number, e: number) => Math.max((Math.ceil(size / s) - 1) * s + e - size, 0);
    const th = tot(h, stride[0], ekh), tw = tot(w, stride[1], ekw);
    const lo = (t: number) => (mode === 'SAME_UPPER' ? t >> 1 : t - (t >> 1));
    pads = [lo(th), lo(tw), th - lo(th), tw - lo(tw)];
  } else throw new RedeError(`${where}: auto_pad ${mode} (expected NOTSET, VALID, SAME_UPPER or SAME_LOWER)`);
  const [pt, pl, pb, pr] = pads;
  const oh = Math.floor((h + pt + pb - ekh) / stride[0]) + 1, ow = Math.floor((w + pl + pr - ekw) / stride[1]) + 1;
  if (!(oh >= 1 && ow >= 1)) throw new RedeError(`${where}: the ${kh}×${kw} window does not fit the padded ${h}×${w} input`);
  return { stride: [stride[0], stride[1]] as [number, number], dilation: [dilation[0], dilation[1]] as [number, number],
    padding: [pt, pb, pl, pr] as [number, number, number, number], pads, out: [oh, ow] as [number, number] };
}

/** ONNX's OIHW kernel [co, cig, kh, kw] in rede's HWIO [kh, kw, cig, co]. */
function oihwToHwio(src: Float32Array, co: number, ci: number, kh: number, kw: number): Float32Array {
  const out = new Float32Array(src.length);
  let i = 0;
  for (let o = 0; o < co; o++) for (let c = 0; c < ci; c++) for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) out[((y * kw + x) * ci + c) * co + o] = src[i++];
  return out;
}

/**
 * A Gemm/MatMul's B as rede's [in, out] kernel, times alpha. `chw` [C, H, W]: the input is an NCHW map flattened
 * in c, h, w order, which rede holds in h, w, c order; B's row for (c, y, x) becomes rede's row (y, x, c).
 */
function denseKernel(b: Float32Array, inF: number, outF: number, transB: boolean, alpha: number, chw?: [number, number, number]): Float32Array {
  const out = new Float32Array(inF * outF);
  const row = new Int32Array(inF);
  if (chw) {
    const [C, H, W] = chw;
    let j = 0;
    for (let c = 0; c < C; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) row[j++] = (y * W + x) * C + c;
  } else for (let j = 0; j < inF; j++) row[j] = j;
  for (let j = 0; j < inF; j++) for (let u = 0; u < outF; u++) out[row[j] * outF + u] = alpha * b[transB ? u * inF + j : j * outF + u];
  return out;
}

/** Reshape's shape (without its batch entry) for `count` values per example; 0 copies the batch, −1 is inferred once. */
function reshapeTarget(where: string, s: number[], count: number): number[] {
  if (s[0] !== 0 && s[0] !== -1 && !(s[0] >= 1)) throw new RedeError(`${where}: the first size must be the batch (0, -1 or N), got ${s[0]}`);
  const rest = s.slice(1);
  if (rest.length === 0) throw new RedeError(`${where}: reshape to rank 1 would merge the batch`);
  // With the batch given as -1, the others must be known.
  if (s[0] === -1 && rest.includes(-1)) throw new RedeError(`${where}: two -1 sizes`);
  if (rest.some((d) => d === 0 || d < -1)) throw new RedeError(`${where}: sizes must be >= 1 or one -1, got ${shapeStr(s)}`);
  const minus = rest.filter((d) => d === -1).length;
  if (minus > 1) throw new RedeError(`${where}: more than one -1 in ${shapeStr(s)}`);
  const known = numel(rest.filter((d) => d !== -1));
  const out = rest.map((d) => (d === -1 ? count / known : d));
  if (!out.every((d) => Number.isInteger(d) && d >= 1) || numel(out) !== count) throw new RedeError(`${where}: cannot reshape ${count} values per example to ${shapeStr(s)}`);
  return out;
}
