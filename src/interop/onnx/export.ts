// A rede model as an ONNX graph (opset 13), layer for layer, computing what rede's predict computes:
//   conv2d → Conv (OIHW kernel, explicit pads [top, left, bottom, right]) + its activation
//   dense → Gemm (transB: the kernel stored [out, in]) + its activation
//   batchnorm → BatchNormalization (ONNX momentum = 1 − rede's)   dropout → Dropout (inference: identity)
//   maxpool2d → MaxPool   avgpool2d → AveragePool (count_include_pad 0: rede averages the pixels inside)
//   globalavgpool2d → GlobalAveragePool + Flatten   lrn → LRN (size 2r+1, α·size: rede's α is per element)
//   flatten / reshape → Transpose to NHWC + Flatten / Reshape (rede flattens h, w, c; a rank-3 result goes back to NCHW)
//   relu, leaky_relu, elu, sigmoid, tanh, softmax (channels: axis 1) → their ops   add → Add / Sum   concat → Concat(axis 1)
// Feature maps are NCHW, as ONNX's conv ops want them. The input is NCHW by default ([N, C, H, W], N symbolic);
// inputLayout 'nhwc' takes rede's own [N, H, W, C] (a Transpose inside the graph) and gives rank-3 outputs
// back as NHWC. Tensors are named by rede: 'input', each layer's output by the layer's name, initializers by
// their weight names ('conv1/kernel'); the layer's config rides along in metadata 'rede.config'.
import { RedeError } from '../../engine/errors';
import type { Model } from '../../api/model';
import type { Layer } from '../../layers/layer';
import type { ConvGeom } from '../../ops/conv';
import { DT, encodeModel, type AttrValue, type OnnxModel, type OnnxNode, type OnnxTensor } from './schema';

export const OPSET = 13;
export const EXPORTED = ['conv2d', 'dense', 'batchnorm', 'maxpool2d', 'avgpool2d', 'globalavgpool2d', 'lrn', 'dropout', 'flatten', 'reshape',
  'relu', 'leaky_relu', 'elu', 'sigmoid', 'tanh', 'softmax', 'add', 'concat'];

export interface OnnxExportOptions {
  /** 'nchw' (default, ONNX's convention) or 'nhwc' (rede's: input [N, H, W, C], rank-3 outputs NHWC). */
  inputLayout?: 'nchw' | 'nhwc';
  /** The graph's name (default the config's name, else 'rede'). */
  name?: string;
}

const ints = (v: number[]): AttrValue => ({ type: 'ints', ints: v });
const int = (v: number): AttrValue => ({ type: 'int', i: v });
const float = (v: number): AttrValue => ({ type: 'float', f: v });

/** The ONNX model (as objects: schema.ts) of `model`'s predict. */
export function onnxGraphOf(model: Model, o: OnnxExportOptions = {}): OnnxModel {
  const layout = o.inputLayout ?? 'nchw';
  if (layout !== 'nchw' && layout !== 'nhwc') throw new RedeError(`export onnx: inputLayout must be 'nchw' or 'nhwc', got ${JSON.stringify(layout)}`);
  const g = model.graph;
  const bad = g.nodes.filter(({ layer }) => !EXPORTED.includes(layer.type)).map(({ layer }) => `'${layer.name}' (${layer.type})`);
  if (bad.length) throw new RedeError(`export onnx: no ONNX form for ${bad.join(', ')} (exported: ${EXPORTED.join(', ')})`);
  const rank = (s: readonly number[]) => s.length;
  const odd = [g.input, ...g.nodes.map((n) => n.layer.outShape)].find((s) => rank(s) !== 1 && rank(s) !== 3);
  if (odd) throw new RedeError(`export onnx: tensors must be vectors or [h, w, c] maps per example, got [${odd.join(', ')}]`);
  const pt = model.getWeights({ layout: 'pytorch' }), rw = model.getWeights();
  const nodes: OnnxNode[] = [], inits: OnnxTensor[] = [];
  const node = (opType: string, inputs: string[], output: string, name: string, attrs: [string, AttrValue][] = []) => {
    nodes.push({ name, opType, domain: '', inputs, outputs: [output], attrs: new Map(attrs) });
    return output;
  };
  const init = (name: string, dims: number[], data: Float32Array | Float64Array, dataType: number = DT.FLOAT) => {
    inits.push({ name, dataType, dims, data });
    return name;
  };
  const weight = (layer: Layer, handle: string, fromPt = true) => {
    const t = (fromPt ? pt : rw).get(`${layer.name}/${handle}`);
    if (!t) throw new RedeError(`export onnx: '${layer.name}' has no weight '${handle}'`);
    return init(`${layer.name}/${handle}`, t.shape, t.data);
  };
  const act = (x: string, a: { type: string; alpha: number }, out: string, name: string): string => {
    switch (a.type) {
      case 'linear': return x;
      case 'relu': return node('Relu', [x], out, name);
      case 'leaky_relu': return node('LeakyRelu', [x], out, name, [['alpha', float(a.alpha)]]);
      case 'elu': return node('Elu', [x], out, name, [['alpha', float(a.alpha)]]);
      case 'sigmoid': return node('Sigmoid', [x], out, name);
      case 'tanh': return node('Tanh', [x], out, name);
      case 'softmax': return node('Softmax', [x], out, name, [['axis', int(1)]]);
    }
    throw new RedeError(`export onnx: no ONNX form for activation '${a.type}'`);
  };
  let input = 'input';
  if (layout === 'nhwc' && rank(g.input) === 3) input = node('Transpose', ['input'], 'input/nchw', 'input/nchw', [['perm', ints([0, 3, 1, 2])]]);
  const tensorOf = (i: number) => (i < 0 ? input : g.nodes[i].layer.name);
  const windowAttrs = (geo: ConvGeom): [string, AttrValue][] => [['kernel_shape', ints([geo.kh, geo.kw])], ['strides', ints([geo.strideH, geo.strideW])],
    ['pads', ints([geo.padTop, geo.padLeft, geo.padBottom, geo.padRight])]];
  g.nodes.forEach(({ layer, inputs }) => {
    const L = layer as Layer & Record<string, unknown>, n = layer.name, ins = inputs.map(tensorOf), x = ins[0];
    switch (layer.type) {
      case 'conv2d': {
        const geo = L.geo as ConvGeom, a = L.act as { type: string; alpha: number };
        const args = [x, weight(layer, 'kernel'), ...(L.useBias ? [weight(layer, 'bias')] : [])];
        const y = node('Conv', args, a.type === 'linear' ? n : `${n}/conv`, n, [...windowAttrs(geo), ['dilations', ints([geo.dilationH, geo.dilationW])], ['group', int(geo.groups)]]);
        act(y, a, n, `${n}/${a.type}`);
        break;
      }
      case 'dense': {
        const a = L.act as { type: string; alpha: number };
        // The rede kernel [in, out], transposed: a dense after a flatten reads the h, w, c order the Flatten below keeps.
        const k = rw.get(`${n}/kernel`)!, [inF, outF] = k.shape, wt = new Float32Array(inF * outF);
        for (let j = 0; j < inF; j++) for (let u = 0; u < outF; u++) wt[u * inF + j] = k.data[j * outF + u];
        const args = [x, init(`${n}/kernel`, [outF, inF], wt), ...(L.useBias ? [weight(layer, 'bias')] : [])];
        const y = node('Gemm', args, a.type === 'linear' ? n : `${n}/gemm`, n, [['transB', int(1)]]);
        act(y, a, n, `${n}/${a.type}`);
        break;
      }
      case 'batchnorm':
        node('BatchNormalization', [x, weight(layer, 'gamma'), weight(layer, 'beta'), weight(layer, 'moving_mean'), weight(layer, 'moving_variance')], n, n,
          [['epsilon', float(L.epsilon as number)], ['momentum', float(Number((1 - (L.momentum as number)).toPrecision(12)))]]);
        break;
      case 'maxpool2d': node('MaxPool', [x], n, n, windowAttrs(L.geo as ConvGeom)); break;
      case 'avgpool2d': node('AveragePool', [x], n, n, [...windowAttrs(L.geo as ConvGeom), ['count_include_pad', int(0)]]); break;
      case 'globalavgpool2d': node('Flatten', [node('GlobalAveragePool', [x], `${n}/pool`, `${n}/pool`)], n, n, [['axis', int(1)]]); break;
      case 'lrn': {
        const size = 2 * (L.radius as number) + 1;
        node('LRN', [x], n, n, [['size', int(size)], ['alpha', float((L.alpha as number) * size)], ['beta', float(L.beta as number)], ['bias', float(L.bias as number)]]);
        break;
      }
      case 'dropout': node('Dropout', [x, init(`${n}/ratio`, [], Float32Array.of(L.rate as number))], n, n); break;
      case 'flatten': case 'reshape': {
        const from = layer.inShapes[0], to = layer.outShape;
        const hwc = rank(from) === 3 ? node('Transpose', [x], `${n}/nhwc`, `${n}/nhwc`, [['perm', ints([0, 2, 3, 1])]]) : x;
        if (rank(to) === 1) { node('Flatten', [hwc], n, n, [['axis', int(1)]]); break; }
        const shape = init(`${n}/shape`, [4], Float64Array.from([0, ...to]), DT.INT64);
        node('Transpose', [node('Reshape', [hwc, shape], `${n}/nhwc_out`, `${n}/reshape`)], n, n, [['perm', ints([0, 3, 1, 2])]]);
        break;
      }
      case 'relu': case 'leaky_relu': case 'elu': case 'sigmoid': case 'tanh': case 'softmax':
        act(x, { type: layer.type, alpha: (L.alpha as number | undefined) ?? 0 }, n, n);
        break;
      case 'add': node(ins.length === 2 ? 'Add' : 'Sum', ins, n, n); break;
      case 'concat': node('Concat', ins, n, n, [['axis', int(1)]]); break;
    }
  });
  const nchw = (s: readonly number[]): (number | string)[] => (rank(s) === 3 ? (layout === 'nhwc' ? ['N', ...s] : ['N', s[2], s[0], s[1]]) : ['N', ...s]);
  const outputs = g.outputs.map((i) => {
    const L = g.nodes[i].layer;
    if (layout === 'nhwc' && rank(L.outShape) === 3) node('Transpose', [L.name], `${L.name}/nhwc`, `${L.name}/nhwc`, [['perm', ints([0, 2, 3, 1])]]);
    return { name: layout === 'nhwc' && rank(L.outShape) === 3 ? `${L.name}/nhwc` : L.name, elemType: DT.FLOAT, dims: nchw(L.outShape) };
  });
  return {
    irVersion: 7, producerName: 'rede', producerVersion: '0.1.0', opsets: [{ domain: '', version: OPSET }],
    graph: { name: o.name ?? model.config.name ?? 'rede', nodes, initializers: inits, inputs: [{ name: 'input', elemType: DT.FLOAT, dims: nchw(g.input) }], outputs },
    metadata: new Map([['rede.config', JSON.stringify(model.config)], ['rede.input_layout', layout]]),
  };
}

/** The bytes of an .onnx file of `model`. */
export function exportOnnx(model: Model, o: OnnxExportOptions = {}): Uint8Array {
  return encodeModel(onnxGraphOf(model, o));
}
