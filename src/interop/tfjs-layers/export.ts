// A rede model as a Keras layer graph (format.ts) and its weights in Keras order, then as tfjs Layers
// artifacts: model.json { format: 'layers-model', modelTopology, weightsManifest } + one weights .bin.
// rede's weight layout is Keras's (src/model/weights.ts: HWIO conv kernels, [in, out] dense kernels, BN
// gamma/beta/moving_mean/moving_variance), so tensors go out as they are. What changes is the layer list:
//   conv2d padding: 0 → 'valid'; TensorFlow's 'same' → 'same'; anything else → ZeroPadding2D '<name>_pad' + 'valid'
//   an activation Keras's layers cannot name (leaky_relu; elu with alpha ≠ 1) → a LeakyReLU / ELU layer '<name>_act'
//   batchnorm momentum m (PyTorch's convention, the new batch's share) → Keras momentum 1 − m (the old average's)
// Layers with no Keras form (lrn, sequences) are one error listing them.
import { RedeError } from '../../engine/errors';
import type { Model } from '../../api/model';
import type { Layer } from '../../layers/layer';
import type { ConvGeom } from '../../ops/conv';
import type { Json, JsonObject } from '../check';
import { encodeTopology, kerasParams, type Flavor, type KerasGraph, type KerasNode } from './format';

export const EXPORTED_LAYERS = ['conv2d', 'dense', 'maxpool2d', 'avgpool2d', 'globalavgpool2d', 'batchnorm', 'dropout', 'flatten', 'reshape',
  'relu', 'leaky_relu', 'elu', 'sigmoid', 'tanh', 'softmax', 'add', 'concat', 'conv2d_transpose', 'upsampling2d'] as const;

/** One tensor as Keras names it ('<layer>/<param>'), in Keras's layout. */
export interface KerasWeight { layer: string; param: string; shape: number[]; data: Float32Array }

export interface KerasExport { graph: KerasGraph; weights: KerasWeight[] }

/** TensorFlow's 'same' padding of a window (the odd pixel bottom/right), as ops/conv.ts computes it. */
function samePads(g: ConvGeom): [number, number, number, number] {
  const total = (size: number, stride: number, k: number) => Math.max((Math.ceil(size / stride) - 1) * stride + k - size, 0);
  const th = total(g.h, g.strideH, (g.kh - 1) * g.dilationH + 1), tw = total(g.w, g.strideW, (g.kw - 1) * g.dilationW + 1);
  return [th >> 1, th - (th >> 1), tw >> 1, tw - (tw >> 1)];
}

/** Rounds away the float noise of 1 − m (1 − 0.1 → 0.9, not 0.9000000000000001). */
const complement = (m: number): number => Math.round((1 - m) * 1e12) / 1e12;

/** The model's graph in Keras's classes, and its weights in Keras's order. Throws one error for every layer Keras lacks. */
export function toKeras(model: Model, flavor: Flavor = 'tfjs'): KerasExport {
  const g = model.graph;
  const bad = g.nodes.filter(({ layer }) => !(EXPORTED_LAYERS as readonly string[]).includes(layer.type)).map(({ layer }) => `'${layer.name}' (${layer.type})`);
  if (bad.length) throw new RedeError(`export ${flavor}: no Keras layer for ${bad.join(', ')} (exported: ${EXPORTED_LAYERS.join(', ')})`);
  const used = new Set<string>(g.nodes.map(({ layer }) => layer.name));
  const fresh = (base: string): string => { let n = base, i = 1; while (used.has(n)) n = `${base}_${i++}`; used.add(n); return n; };
  const inputName = fresh('input_1');
  const nodes: KerasNode[] = [];
  /** The Keras name whose output stands for rede node i's output (its activation layer, when split off). */
  const outName: string[] = [];
  const add = (className: string, name: string, config: JsonObject, inputs: string[], trainable: boolean): string => {
    nodes.push({ className, name, config: { trainable, ...config }, inputs });
    return name;
  };
  const src = (i: number) => (i < 0 ? inputName : outName[i]);
  const weights: KerasWeight[] = [];
  const all = model.getWeights({ layout: 'keras' });
  g.nodes.forEach(({ layer, inputs }, i) => {
    const ins = inputs.map(src), tr = layer.trainable;
    const L = layer as Layer & Record<string, unknown>;
    const act = (L.act as { type: string; alpha: number } | undefined) ?? { type: 'linear', alpha: 0 };
    // Keras activations by name: leaky_relu has none in Keras 2 and tfjs, elu's is alpha 1.
    const inline = act.type !== 'leaky_relu' && !(act.type === 'elu' && act.alpha !== 1);
    const withAct = (name: string) => {
      if (inline) return name;
      return act.type === 'leaky_relu'
        ? add('LeakyReLU', fresh(`${layer.name}_act`), { alpha: act.alpha }, [name], tr)
        : add('ELU', fresh(`${layer.name}_act`), { alpha: act.alpha }, [name], tr);
    };
    const activation: Json = inline ? act.type : 'linear';
    const eluAlpha = layer.type === 'elu' ? L.alpha as number : act.type === 'elu' ? act.alpha : 1;
    if (flavor === 'tfjs' && eluAlpha !== 1) throw new RedeError(`export tfjs: layer '${layer.name}': tfjs's ELU layer takes alpha 1 only, got ${eluAlpha} (the Keras formats take any)`);
    let name = layer.name;
    switch (layer.type) {
      case 'conv2d': {
        const geo = L.geo as ConvGeom, pads = [geo.padTop, geo.padBottom, geo.padLeft, geo.padRight];
        const same = samePads(geo), zero = pads.every((p) => p === 0), isSame = pads.every((p, k) => p === same[k]);
        let x = ins[0], padding = 'valid';
        if (!zero && isSame) padding = 'same';
        else if (!zero) x = add('ZeroPadding2D', fresh(`${layer.name}_pad`), { padding: [[pads[0], pads[1]], [pads[2], pads[3]]], data_format: 'channels_last' }, [x], tr);
        add('Conv2D', name, {
          filters: geo.cout, kernel_size: [geo.kh, geo.kw], strides: [geo.strideH, geo.strideW], padding, data_format: 'channels_last',
          dilation_rate: [geo.dilationH, geo.dilationW], ...(geo.groups !== 1 ? { groups: geo.groups } : {}), activation, use_bias: L.useBias as boolean,
        }, [x], tr);
        break;
      }
      case 'dense':
        add('Dense', name, { units: L.units as number, activation, use_bias: L.useBias as boolean }, ins, tr);
        break;
      case 'conv2d_transpose': {
        const c = layer.config() as { filters: number; kernel: number | [number, number]; stride?: number | [number, number]; padding?: string; outputPadding?: number | [number, number] };
        const pair = (v: number | [number, number] | undefined, d: number): Json => (v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : v);
        add('Conv2DTranspose', name, {
          filters: c.filters, kernel_size: pair(c.kernel, 1), strides: pair(c.stride, 1), padding: c.padding ?? 'valid', data_format: 'channels_last',
          ...(c.outputPadding !== undefined ? { output_padding: pair(c.outputPadding, 0) } : {}), activation, use_bias: L.useBias as boolean,
        }, ins, tr);
        break;
      }
      case 'maxpool2d': case 'avgpool2d': {
        const geo = L.geo as ConvGeom, c = layer.config() as { padding?: string };
        add(layer.type === 'maxpool2d' ? 'MaxPooling2D' : 'AveragePooling2D', name,
          { pool_size: [geo.kh, geo.kw], strides: [geo.strideH, geo.strideW], padding: c.padding ?? 'valid', data_format: 'channels_last' }, ins, tr);
        break;
      }
      case 'globalavgpool2d': add('GlobalAveragePooling2D', name, { data_format: 'channels_last' }, ins, tr); break;
      case 'batchnorm':
        add('BatchNormalization', name, { axis: -1, momentum: complement(L.momentum as number), epsilon: L.epsilon as number, center: true, scale: true }, ins, tr);
        break;
      case 'dropout': add('Dropout', name, { rate: L.rate as number }, ins, tr); break;
      case 'flatten': add('Flatten', name, { data_format: 'channels_last' }, ins, tr); break;
      case 'reshape': add('Reshape', name, { target_shape: [...layer.outShape] }, ins, tr); break;
      case 'relu': case 'sigmoid': case 'tanh': case 'softmax': add('Activation', name, { activation: layer.type }, ins, tr); break;
      case 'leaky_relu': add('LeakyReLU', name, { alpha: L.alpha as number }, ins, tr); break;
      case 'elu': add('ELU', name, { alpha: L.alpha as number }, ins, tr); break;
      case 'add': add('Add', name, {}, ins, tr); break;
      case 'concat': add('Concatenate', name, { axis: -1 }, ins, tr); break;
      case 'upsampling2d': {
        const u = L as unknown as { sizeH: number; sizeW: number; interpolation: string };
        add('UpSampling2D', name, { size: [u.sizeH, u.sizeW], interpolation: u.interpolation, data_format: 'channels_last' }, ins, tr);
        break;
      }
    }
    const node = nodes.find((n) => n.name === name)!;
    for (const param of kerasParams(node)) {
      const t = all.get(`${layer.name}/${param}`);
      if (!t) throw new RedeError(`export ${flavor}: layer '${layer.name}' has no weight '${param}'`);
      weights.push({ layer: name, param, shape: t.shape, data: t.data });
    }
    if (layer.type === 'conv2d' || layer.type === 'dense' || layer.type === 'conv2d_transpose') name = withAct(name);
    outName.push(name);
  });
  return { graph: { name: model.config.name ?? 'model', inputName, inputShape: [...g.input], nodes, outputs: g.outputs.map(src) }, weights };
}

export interface TfjsArtifacts {
  /** model.json's object: format, generatedBy, convertedBy, modelTopology, weightsManifest. */
  modelJson: JsonObject;
  /** The one weights file the manifest names, every tensor float32 little-endian in manifest order. */
  weightData: Uint8Array;
  weightsPath: string;
}

/** The tfjs Layers artifacts of a model, for tf.loadLayersModel (file:// or tf.io.fromMemory). */
export function toTfjs(model: Model, weightsPath = 'group1-shard1of1.bin'): TfjsArtifacts {
  const { graph, weights } = toKeras(model, 'tfjs');
  const topology = encodeTopology(graph, 'tfjs');
  const bytes = weights.reduce((s, t) => s + t.data.length * 4, 0);
  const weightData = new Uint8Array(bytes), view = new DataView(weightData.buffer);
  let at = 0;
  for (const t of weights) for (let i = 0; i < t.data.length; i++, at += 4) view.setFloat32(at, t.data[i], true);
  return {
    modelJson: {
      format: 'layers-model', generatedBy: 'rede', convertedBy: null,
      modelTopology: { ...topology, keras_version: 'tfjs-layers 4.22.0', backend: 'tensor_flow.js' },
      weightsManifest: [{ paths: [weightsPath], weights: weights.map((t) => ({ name: `${t.layer}/${t.param}`, shape: t.shape, dtype: 'float32' })) }],
    },
    weightData,
    weightsPath,
  };
}
