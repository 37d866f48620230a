// An int8 rede model (src/quant: QuantizedModel) as an ONNX QDQ graph (opset 13) that onnxruntime fuses into its
// int8 kernels (QLinearConv, QLinearMatMul, QLinearAdd, …). The graph is the f32 inference graph rede quantizes
// (src/infer/lower.ts: batch norm folded, ReLU and residual adds fused), with:
//   weights   DequantizeLinear(int8 q, per-output-channel scale, zero 0): rede's very integers, OIHW / [in, out]
//   biases    DequantizeLinear(int32 round(b / (s_x·s_w,j)), s_x·s_w,j, 0), as rede's int8 conv rounds them
//   values    QuantizeLinear → DequantizeLinear with rede's (scale, zero) on every value rede holds in int8: the
//             input, each calibrated node's output, a residual conv's output before its add, a pool's output
//             (the pool's input parameters, as rede's int8 pools keep them)
// So onnxruntime computes on the same int8 numbers; only its rounding of the requantization differs (rede: the
// gemmlowp fixed-point multiplier; onnxruntime: f32 scale), which moves an output by at most a step or so.
// The model output stays f32, as in rede. Layout as export.ts: input NCHW [N, C, H, W].
import { RedeError } from '../../engine/errors';
import { buildGraph } from '../../model/graph';
import { lowerGraph, type Lowered, type WeightSource } from '../../infer/lower';
import type { QuantizedModel } from '../../quant/model';
import type { QParams } from '../../infer/qops';
import { DT, encodeModel, type AttrValue, type OnnxModel, type OnnxNode, type OnnxTensor } from './schema';

const ints = (v: number[]): AttrValue => ({ type: 'ints', ints: v });
const int = (v: number): AttrValue => ({ type: 'int', i: v });

/** The QDQ ONNX model of an int8 rede model. */
export function qdqGraphOf(qm: QuantizedModel): OnnxModel {
  const graph = buildGraph(qm.config);
  // The structure alone: the int8 weights come from the spec (as QuantizedModel.lower does).
  const zeros: WeightSource = { param: (_L, _n, n) => new Float32Array(n), state: (_L, name, n) => new Float32Array(n).fill(name === 'running_var' ? 1 : 0) };
  const g: Lowered = lowerGraph(graph, zeros), s = qm.spec;
  const nodes: OnnxNode[] = [], inits: OnnxTensor[] = [];
  let uid = 0;
  const tmp = (what: string) => `${what}:${uid++}`;
  const node = (opType: string, inputs: string[], output: string, attrs: [string, AttrValue][] = []) => {
    nodes.push({ name: output, opType, domain: '', inputs, outputs: [output], attrs: new Map(attrs) });
    return output;
  };
  const init = (name: string, dataType: number, dims: number[], data: OnnxTensor['data']) => { inits.push({ name, dataType, dims, data }); return name; };
  const nodeParams = (v: number): QParams | undefined => {
    const nd = g.nodeOf[v];
    return nd < 0 ? s.input : s.act[graph.nodes[nd].layer.name];
  };
  /** Per value: its ONNX name (after its Q/DQ pair when quantized) and its int8 parameters. */
  const name = new Map<number, string>(), q = new Map<number, QParams>(), rank = new Map<number, number>();
  const qdq = (x: string, p: QParams, what: string): string => {
    const sc = init(tmp(`${what}/scale`), DT.FLOAT, [], Float32Array.of(p.scale)), zp = init(tmp(`${what}/zero`), DT.INT8, [], Int8Array.of(p.zero));
    return node('DequantizeLinear', [node('QuantizeLinear', [x, sc, zp], tmp(`${what}/q`)), sc, zp], tmp(`${what}/dq`));
  };
  /** Records value v as computed in `x`, quantizing it with `p` (or its node's parameters) unless it is the output. */
  const set = (v: number, x: string, r: number, p?: QParams) => {
    const params = v === g.output ? undefined : p ?? nodeParams(v);
    rank.set(v, r);
    if (params) { q.set(v, params); name.set(v, qdq(x, params, `v${v}`)); } else name.set(v, x);
  };
  const val = (v: number) => {
    const n = name.get(v);
    if (n === undefined) throw new RedeError(`export onnx int8: value ${v} is read before it is computed`);
    return n;
  };
  /** Conv / dense weights: int8 per output channel (DequantizeLinear along `axis`), the int32 bias at s_x·s_w. */
  const weights = (opName: string, x: number, dims: number[], qw: Int8Array, axis: number) => {
    const w = s.weights[opName];
    if (!w) throw new RedeError(`export onnx int8: no int8 weights for '${opName}'`);
    const c = w.scale.length;
    const W = node('DequantizeLinear', [init(`${opName}/kernel_q`, DT.INT8, dims, qw), init(`${opName}/kernel_scale`, DT.FLOAT, [c], w.scale),
      init(`${opName}/kernel_zero`, DT.INT8, [c], new Int8Array(c))], `${opName}/kernel`, [['axis', int(axis)]]);
    if (!w.bias) return { W, B: undefined };
    const sx = q.get(x)?.scale;
    if (sx === undefined) return { W, B: init(`${opName}/bias`, DT.FLOAT, [c], w.bias) };
    const bs = new Float32Array(c), bq = new Int32Array(c);
    for (let j = 0; j < c; j++) { bs[j] = sx * w.scale[j]; bq[j] = Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, Math.round(w.bias[j] / bs[j]))); }
    const B = node('DequantizeLinear', [init(`${opName}/bias_q`, DT.INT32, [c], bq), init(`${opName}/bias_scale`, DT.FLOAT, [c], bs),
      init(`${opName}/bias_zero`, DT.INT32, [c], new Int32Array(c))], `${opName}/bias`, [['axis', int(0)]]);
    return { W, B };
  };
  const epilogue = (x: string, a: { type: string; alpha: number }, out: string): string => {
    switch (a.type) {
      case 'linear': return x;
      case 'relu': return node('Relu', [x], out);
      case 'softmax': return node('Softmax', [x], out, [['axis', int(1)]]);
      case 'sigmoid': return node('Sigmoid', [x], out);
      case 'tanh': return node('Tanh', [x], out);
      case 'leaky_relu': return node('LeakyRelu', [x], out, [['alpha', { type: 'float', f: a.alpha }]]);
      case 'elu': return node('Elu', [x], out, [['alpha', { type: 'float', f: a.alpha }]]);
    }
    throw new RedeError(`export onnx int8: activation '${a.type}' has no ONNX form`);
  };
  if (g.values[0].shape.length !== 3 && g.values[0].shape.length !== 1) throw new RedeError('export onnx int8: the input must be [h, w, c] or a vector');
  set(0, 'input', g.values[0].shape.length === 3 ? 4 : 2, s.input);
  for (const op of g.ops) {
    switch (op.kind) {
      case 'conv': case 'dense': {
        const w = s.weights[op.name];
        if (!w) throw new RedeError(`export onnx int8: no int8 weights for '${op.name}'`);
        let y: string;
        if (op.kind === 'conv') {
          const o = op.geo, cig = o.cin / o.groups, qw = new Int8Array(w.q.length);
          let i = 0; // OIHW ← rede HWIO
          for (let co = 0; co < o.cout; co++) for (let c = 0; c < cig; c++) for (let ky = 0; ky < o.kh; ky++) for (let kx = 0; kx < o.kw; kx++) qw[i++] = w.q[((ky * o.kw + kx) * cig + c) * o.cout + co];
          const { W, B } = weights(op.name, op.x, [o.cout, cig, o.kh, o.kw], qw, 0);
          y = node('Conv', [val(op.x), W, ...(B ? [B] : [])], tmp(`${op.name}/conv`), [['kernel_shape', ints([o.kh, o.kw])], ['strides', ints([o.strideH, o.strideW])],
            ['pads', ints([o.padTop, o.padLeft, o.padBottom, o.padRight])], ['dilations', ints([o.dilationH, o.dilationW])], ['group', int(o.groups)]]);
        } else {
          let x = val(op.x);
          // rede's dense reads the map in h, w, c order.
          if (rank.get(op.x) === 4) x = node('Flatten', [node('Transpose', [x], tmp(`${op.name}/nhwc`), [['perm', ints([0, 2, 3, 1])]])], tmp(`${op.name}/flat`), [['axis', int(1)]]);
          const { W, B } = weights(op.name, op.x, [op.k, op.n], w.q, 1);
          y = node('MatMul', [x, W], tmp(`${op.name}/matmul`));
          if (B) y = node('Add', [y, B], tmp(`${op.name}/bias`));
        }
        if (op.res >= 0) {
          // rede's int8 conv writes its output at the parameters of the node before the add, then adds in int8.
          const pre = s.act[graph.nodes[op.pre].layer.name];
          if (pre && op.y !== g.output) y = qdq(y, pre, `${op.name}/pre`);
          y = node('Add', [y, val(op.res)], tmp(`${op.name}/add`));
        }
        set(op.y, epilogue(y, op.act, tmp(`${op.name}/${op.act.type}`)), op.kind === 'conv' ? 4 : 2);
        break;
      }
      case 'maxpool': case 'avgpool': {
        const o = op.geo;
        const y = node(op.kind === 'maxpool' ? 'MaxPool' : 'AveragePool', [val(op.x)], tmp(op.name), [['kernel_shape', ints([o.kh, o.kw])], ['strides', ints([o.strideH, o.strideW])],
          ['pads', ints([o.padTop, o.padLeft, o.padBottom, o.padRight])], ...(op.kind === 'avgpool' ? [['count_include_pad', int(0)] as [string, AttrValue]] : [])]);
        set(op.y, op.relu ? node('Relu', [y], tmp(`${op.name}/relu`)) : y, 4, q.get(op.x));
        break;
      }
      case 'gap': {
        const y = node('Flatten', [node('GlobalAveragePool', [val(op.x)], tmp(op.name))], tmp(`${op.name}/flat`), [['axis', int(1)]]);
        set(op.y, op.relu ? node('Relu', [y], tmp(`${op.name}/relu`)) : y, 2, q.get(op.x));
        break;
      }
      case 'add': {
        const y = node(op.xs.length === 2 ? 'Add' : 'Sum', op.xs.map(val), tmp(op.name));
        set(op.y, op.relu ? node('Relu', [y], tmp(`${op.name}/relu`)) : y, rank.get(op.xs[0])!);
        break;
      }
      case 'concat': set(op.y, node('Concat', op.xs.map(val), tmp(op.name), [['axis', int(1)]]), rank.get(op.xs[0])!); break;
      case 'act': set(op.y, epilogue(val(op.x), { type: op.type, alpha: op.alpha }, tmp(op.name)), rank.get(op.x)!); break;
      case 'softmax': set(op.y, node('Softmax', [val(op.x)], tmp(op.name), [['axis', int(1)]]), rank.get(op.x)!); break;
      case 'lrn': {
        const size = 2 * op.radius + 1;
        set(op.y, node('LRN', [val(op.x)], tmp(op.name), [['size', int(size)], ['alpha', { type: 'float', f: op.alpha * size }], ['beta', { type: 'float', f: op.beta }], ['bias', { type: 'float', f: op.bias }]]), 4);
        break;
      }
      default: throw new RedeError(`export onnx int8: '${op.name}' (${op.kind}) has no QDQ form (exported: conv, dense, pools, add, concat, activations, softmax, LRN)`);
    }
  }
  const outName = val(g.output), outShape = g.values[g.output].shape;
  node('Identity', [outName], 'output');
  return {
    irVersion: 7, producerName: 'rede', producerVersion: '0.1.0', opsets: [{ domain: '', version: 13 }],
    graph: { name: `${qm.config.name ?? 'rede'}-int8`, nodes, initializers: inits,
      inputs: [{ name: 'input', elemType: DT.FLOAT, dims: g.values[0].shape.length === 3 ? ['N', g.values[0].shape[2], g.values[0].shape[0], g.values[0].shape[1]] : ['N', ...g.values[0].shape] }],
      outputs: [{ name: 'output', elemType: DT.FLOAT, dims: outShape.length === 3 ? ['N', outShape[2], outShape[0], outShape[1]] : ['N', ...outShape] }] },
    metadata: new Map([['rede.config', JSON.stringify(qm.config)], ['rede.int8', 'qdq']]),
  };
}

/** The bytes of a QDQ .onnx file of an int8 rede model. */
export function exportOnnxInt8(qm: QuantizedModel): Uint8Array {
  return encodeModel(qdqGraphOf(qm));
}
