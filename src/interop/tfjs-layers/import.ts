// A Keras layer graph (format.ts: from tfjs model.json, a Keras .h5 or a .keras config) as a rede model config,
// and its weights into a rede model. Keras's layout is rede's (src/model/weights.ts), so tensors go in as they
// are, after their shapes are checked against the layer. Class by class:
//   Conv2D, Dense, Conv2DTranspose (channels_last; activations linear, relu, elu, sigmoid, tanh, softmax, leaky_relu)
//   MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, BatchNormalization (last axis; Keras momentum k → 1 − k)
//   Dropout, Flatten, Reshape, Activation, ReLU, LeakyReLU, ELU, Softmax, Add, Concatenate (last axis), UpSampling2D
//   ZeroPadding2D folded into the Conv2D(s) with padding 'valid' that read it (rede pads inside the conv)
// Every class or option rede lacks is gathered into one error that lists them all.
import { RedeError } from '../../engine/errors';
import type { Engine } from '../../engine/engine';
import type { Model } from '../../api/model';
import type { LayerConfig, ModelConfig } from '../../model/config';
import type { WeightTensor } from '../../model/weights';
import { Where, arr, field, ints, isObject, num, numel, obj, parseJson, show, str, type Json } from '../check';
import { decodeTopology, kerasParams, type KerasGraph, type KerasNode } from './format';

export const IMPORTED_CLASSES = ['Conv2D', 'Dense', 'Conv2DTranspose', 'MaxPooling2D', 'AveragePooling2D', 'GlobalAveragePooling2D', 'BatchNormalization',
  'Dropout', 'Flatten', 'Reshape', 'Activation', 'ReLU', 'LeakyReLU', 'ELU', 'Softmax', 'Add', 'Concatenate', 'UpSampling2D', 'ZeroPadding2D'] as const;
/** Other spellings Keras and tfjs use for the same classes. */
const ALIASES: Readonly<Record<string, string>> = { MaxPool2D: 'MaxPooling2D', AvgPool2D: 'AveragePooling2D', AveragePool2D: 'AveragePooling2D', GlobalAvgPool2D: 'GlobalAveragePooling2D', Convolution2D: 'Conv2D', Concat: 'Concatenate' };
const ACTIVATIONS = ['linear', 'relu', 'elu', 'sigmoid', 'tanh', 'softmax', 'leaky_relu'] as const;

/** The rede config and, per rede layer, the Keras params it takes in Keras's order (with the Keras layer they come from). */
export interface Converted { config: ModelConfig; params: { layer: string; keras: string; params: string[] }[] }

const className = (n: KerasNode): string => (Object.hasOwn(ALIASES, n.className) ? ALIASES[n.className] : n.className);

/** A Keras activation (a name, or Keras 3's serialized {class_name, config}) as rede's, or null when rede lacks it. */
function activationOf(v: Json | undefined): { activation: string; alpha?: number } | null {
  let a = v ?? 'linear';
  if (isObject(a) && typeof field(a, 'class_name') === 'string') a = field(a, 'class_name') as string;
  if (typeof a !== 'string') return null;
  const n = a === 'None' ? 'linear' : a.toLowerCase();
  if (!(ACTIVATIONS as readonly string[]).includes(n)) return null;
  return n === 'leaky_relu' ? { activation: n, alpha: 0.2 } : n === 'elu' ? { activation: n, alpha: 1 } : { activation: n };
}

/** The graph as a rede config; throws one error listing every layer rede cannot take. */
export function fromKeras(g: KerasGraph, file: string): Converted {
  const problems: string[] = [];
  const w = new Where(file, 'model');
  const byName = new Map(g.nodes.map((n) => [n.name, n]));
  const consumers = new Map<string, KerasNode[]>();
  for (const n of g.nodes) for (const s of n.inputs) consumers.set(s, [...(consumers.get(s) ?? []), n]);
  // rede's own names: 'input' is its model input, so a Keras layer of that name is renamed.
  const rename = new Map<string, string>([[g.inputName, 'input']]);
  const taken = new Set<string>(['input', ...g.nodes.map((n) => n.name)]);
  for (const n of g.nodes) {
    if (n.name !== 'input') { rename.set(n.name, n.name); continue; }
    let m = 'input_layer', i = 1;
    while (taken.has(m)) m = `input_layer_${i++}`;
    taken.add(m); rename.set(n.name, m);
  }
  /** ZeroPadding2D name → its pads and the layer it reads, once checked foldable. */
  const folded = new Map<string, { pads: [number, number, number, number]; from: string }>();
  for (const n of g.nodes) {
    if (className(n) !== 'ZeroPadding2D') continue;
    const lw = w.at(n.name);
    const p = field(n.config, 'padding') ?? 1;
    let pads: [number, number, number, number];
    if (typeof p === 'number') pads = [p, p, p, p];
    else if (Array.isArray(p) && p.length === 2 && p.every((x) => typeof x === 'number')) pads = [p[0] as number, p[0] as number, p[1] as number, p[1] as number];
    else if (Array.isArray(p) && p.length === 2 && p.every((x) => Array.isArray(x) && x.length === 2)) {
      const [[t, b], [l, r]] = p as number[][];
      pads = [t, b, l, r];
    } else { problems.push(`ZeroPadding2D '${n.name}': padding ${show(p)}`); continue; }
    if (!pads.every((x) => Number.isInteger(x) && x >= 0 && x <= 1 << 16)) { problems.push(`ZeroPadding2D '${n.name}': padding ${show(p)}`); continue; }
    const readers = consumers.get(n.name) ?? [];
    const foldable = readers.length > 0 && !g.outputs.includes(n.name) &&
      readers.every((c) => className(c) === 'Conv2D' && (field(c.config, 'padding') ?? 'valid') === 'valid');
    if (!foldable) {
      problems.push(`ZeroPadding2D '${n.name}' (rede folds a zero padding only into the Conv2D layers with padding 'valid' that read it; it feeds ${readers.map((c) => `'${c.name}' (${c.className})`).join(', ') || 'the output'})`);
      continue;
    }
    void lw;
    folded.set(n.name, { pads, from: n.inputs[0] });
  }
  const layers: LayerConfig[] = [];
  const params: Converted['params'] = [];
  let prev = 'input';
  for (const n of g.nodes) {
    if (folded.has(n.name)) continue;
    const c = n.config, cls = className(n), lw = w.at(n.name), name = rename.get(n.name)!;
    let pads: [number, number, number, number] | null = null;
    const inputs = n.inputs.map((s) => {
      const f = folded.get(s);
      if (f) { pads = f.pads; return rename.get(f.from)!; }
      return rename.get(s) ?? s;
    });
    const opt = (key: string) => field(c, key);
    const bad = (what: string) => problems.push(`${n.className} '${n.name}': ${what}`);
    const channelsLast = () => { const f = opt('data_format'); if (f !== undefined && f !== null && f !== 'channels_last') bad(`data_format ${show(f)} (rede is channels_last)`); };
    const act = () => { const a = activationOf(opt('activation')); if (!a) bad(`activation ${show(opt('activation'))}`); return a ?? { activation: 'linear' }; };
    const trainable = opt('trainable') === false ? { trainable: false } : {};
    let cfg: Record<string, unknown> | null = null;
    try {
      switch (cls) {
        case 'Conv2D': {
          channelsLast();
          const padding = opt('padding') ?? 'valid';
          if (padding !== 'valid' && padding !== 'same') bad(`padding ${show(padding)}`);
          const groups = opt('groups') ?? 1;
          cfg = { type: 'conv2d', filters: num(opt('filters'), lw.at('filters')), kernel: ints(opt('kernel_size'), lw.at('kernel_size'), 2),
            stride: ints(opt('strides') ?? 1, lw.at('strides'), 2), padding: pads ?? padding, dilation: ints(opt('dilation_rate') ?? 1, lw.at('dilation_rate'), 2),
            ...(groups !== 1 ? { groups } : {}), useBias: opt('use_bias') !== false, ...act() };
          break;
        }
        case 'Dense': cfg = { type: 'dense', units: num(opt('units'), lw.at('units')), useBias: opt('use_bias') !== false, ...act() }; break;
        case 'Conv2DTranspose': {
          channelsLast();
          const padding = opt('padding') ?? 'valid', op = opt('output_padding');
          if (padding !== 'valid' && padding !== 'same') bad(`padding ${show(padding)}`);
          const dil = ints(opt('dilation_rate') ?? 1, lw.at('dilation_rate'), 2);
          if (dil[0] !== 1 || dil[1] !== 1) bad(`dilation_rate ${show(dil)}`);
          cfg = { type: 'conv2d_transpose', filters: num(opt('filters'), lw.at('filters')), kernel: ints(opt('kernel_size'), lw.at('kernel_size'), 2),
            stride: ints(opt('strides') ?? 1, lw.at('strides'), 2), padding, ...(op !== undefined && op !== null ? { outputPadding: ints(op, lw.at('output_padding'), 2, 1 << 16) } : {}),
            useBias: opt('use_bias') !== false, ...act() };
          break;
        }
        case 'MaxPooling2D': case 'AveragePooling2D': {
          channelsLast();
          const padding = opt('padding') ?? 'valid';
          if (padding !== 'valid' && padding !== 'same') bad(`padding ${show(padding)}`);
          const pool = ints(opt('pool_size') ?? 2, lw.at('pool_size'), 2);
          const strides = opt('strides');
          cfg = { type: cls === 'MaxPooling2D' ? 'maxpool2d' : 'avgpool2d', pool, stride: strides === undefined || strides === null ? pool : ints(strides, lw.at('strides'), 2), padding };
          break;
        }
        case 'GlobalAveragePooling2D':
          channelsLast();
          if (opt('keepdims') === true) bad('keepdims true (rede gives [channels])');
          cfg = { type: 'globalavgpool2d' };
          break;
        case 'BatchNormalization': {
          const axis = opt('axis') ?? -1;
          const ax = Array.isArray(axis) && axis.length === 1 ? axis[0] : axis;
          // The last axis: -1, or (checked once the input's rank is known) rank.
          if (typeof ax !== 'number' || !Number.isInteger(ax)) bad(`axis ${show(axis)}`);
          cfg = { type: 'batchnorm', momentum: Math.round((1 - num(opt('momentum'), lw.at('momentum'), 0.99)) * 1e12) / 1e12, epsilon: num(opt('epsilon'), lw.at('epsilon'), 1e-3) };
          (cfg as { axis?: number }).axis = ax as number;
          break;
        }
        case 'Dropout': cfg = { type: 'dropout', rate: num(opt('rate'), lw.at('rate')) }; break;
        case 'Flatten': channelsLast(); cfg = { type: 'flatten' }; break;
        case 'Reshape': {
          const t = opt('target_shape');
          if (!Array.isArray(t) || !t.every((d) => typeof d === 'number' && Number.isInteger(d) && d > 0)) bad(`target_shape ${show(t)} (rede needs every dimension given)`);
          else cfg = { type: 'reshape', shape: t as number[] };
          break;
        }
        case 'Activation': {
          const a = activationOf(opt('activation'));
          if (!a) bad(`activation ${show(opt('activation'))}`);
          else cfg = a.activation === 'linear' ? null : a.activation === 'leaky_relu' || a.activation === 'elu' ? { type: a.activation, alpha: a.alpha } : { type: a.activation };
          if (a && a.activation === 'linear') { rename.set(n.name, inputs[0]); continue; }
          break;
        }
        case 'ReLU': {
          const mv = opt('max_value'), ns = opt('negative_slope') ?? 0, th = opt('threshold') ?? 0;
          if ((mv !== undefined && mv !== null) || th !== 0) bad(`max_value ${show(mv)}, threshold ${show(th)} (rede's relu has neither)`);
          cfg = ns === 0 ? { type: 'relu' } : { type: 'leaky_relu', alpha: num(ns, lw.at('negative_slope')) };
          break;
        }
        case 'LeakyReLU': cfg = { type: 'leaky_relu', alpha: num(opt('alpha') ?? opt('negative_slope'), lw.at('alpha'), 0.3) }; break;
        case 'ELU': cfg = { type: 'elu', alpha: num(opt('alpha'), lw.at('alpha'), 1) }; break;
        case 'Softmax': {
          const axis = opt('axis') ?? -1;
          if (axis !== -1 && !(Array.isArray(axis) && axis.length === 1 && axis[0] === -1)) bad(`axis ${show(axis)} (rede's softmax is over the last axis)`);
          cfg = { type: 'softmax' };
          break;
        }
        case 'Add': cfg = { type: 'add' }; break;
        case 'Concatenate': cfg = { type: 'concat', axis: opt('axis') ?? -1 }; break;
        case 'UpSampling2D': {
          channelsLast();
          const interp = opt('interpolation') ?? 'nearest';
          if (interp !== 'nearest' && interp !== 'bilinear') bad(`interpolation ${show(interp)}`);
          cfg = { type: 'upsampling2d', size: ints(opt('size') ?? 2, lw.at('size'), 2), interpolation: interp };
          break;
        }
        default:
          problems.push(`${n.className} '${n.name}'`);
      }
    } catch (e) {
      if (e instanceof RedeError) { problems.push(e.message.replace(`${file}: `, '')); continue; }
      throw e;
    }
    if (!cfg) continue;
    const sequential = inputs.length === 1 && inputs[0] === prev;
    layers.push({ name, ...(sequential ? {} : { inputs }), ...trainable, ...cfg } as LayerConfig);
    const ps = kerasParams({ ...n, className: cls });
    if (ps.length) params.push({ layer: name, keras: n.name, params: ps });
    prev = name;
  }
  if (problems.length) {
    throw new RedeError(`${file}: rede cannot import ${problems.length === 1 ? 'this layer' : `these ${problems.length} layers`}: ${problems.slice(0, 30).join('; ')}${problems.length > 30 ? `; and ${problems.length - 30} more` : ''} (rede imports ${IMPORTED_CLASSES.join(', ')})`);
  }
  if (layers.length === 0) throw new RedeError(`${file}: the model has no layer rede computes`);
  const outputs = g.outputs.map((o) => rename.get(o) ?? o);
  if (outputs.includes('input')) throw new RedeError(`${file}: an output is the model input itself`);
  fixAxes(layers, g.inputShape, file);
  const config: ModelConfig = { name: g.name, input: [...g.inputShape], layers };
  if (outputs.length > 1) config.outputs = outputs;
  else if (outputs[0] !== layers[layers.length - 1].name) config.output = outputs[0];
  void byName;
  return { config, params };
}

/** BatchNormalization and Concatenate axes: the last one only. Checked on the shapes rede infers, then dropped from the config. */
function fixAxes(layers: LayerConfig[], input: number[], file: string): void {
  const withAxis = layers.filter((l) => (l as { axis?: unknown }).axis !== undefined);
  if (withAxis.length === 0) return;
  // Ranks by a walk over the configs: every layer rede imports keeps or sets its rank plainly.
  const rank = new Map<string, number>([['input', input.length]]);
  let prev = 'input';
  for (const l of layers) {
    const ins = (l.inputs ?? [prev]).map((s) => rank.get(s) ?? 0);
    let r = ins[0];
    if (l.type === 'flatten' || l.type === 'globalavgpool2d' || l.type === 'dense') r = 1;
    if (l.type === 'reshape') r = l.shape.length;
    const a = (l as { axis?: unknown }).axis;
    if (a !== undefined) {
      if (a !== -1 && a !== r) throw new RedeError(`${file}: rede cannot import ${l.type === 'concat' ? 'Concatenate' : 'BatchNormalization'} '${l.name}': axis ${show(a)} of a rank-${r} input (batch axis 0; rede uses the last axis, ${r})`);
      delete (l as { axis?: unknown }).axis;
    }
    rank.set(l.name!, r);
    prev = l.name!;
  }
}

/** Where the weights come from: the tensors of one Keras layer, in the order its param names are given. */
export type WeightSource = (keras: string, params: readonly string[]) => { shape: number[]; data: Float32Array }[];

/** A rede model of `converted.config` holding the source's weights (each shape checked against rede's). */
export async function buildImported(converted: Converted, source: WeightSource, file: string, o: { seed?: number; engine?: Engine } = {}): Promise<Model> {
  const { Model } = await import('../../api/model');
  let model: Model;
  try {
    model = await Model.create(converted.config, { seed: o.seed ?? 0, ...(o.engine ? { engine: o.engine } : {}) });
  } catch (e) {
    if (e instanceof RedeError) throw new RedeError(`${file}: the model does not build in rede: ${e.message}`);
    throw e;
  }
  const want = model.getWeights();
  const weights = new Map<string, WeightTensor>();
  for (const { layer, keras, params } of converted.params) {
    const got = source(keras, params);
    if (got.length !== params.length) throw new RedeError(`${file}: layer '${keras}' has ${got.length} weights, expected ${params.length} (${params.join(', ')})`);
    params.forEach((p, i) => {
      const name = `${layer}/${p}`, w = want.get(name), t = got[i];
      if (!w) throw new RedeError(`${file}: layer '${keras}' has a weight '${p}' that rede's '${layer}' does not`);
      if (t.shape.length !== w.shape.length || t.shape.some((d, k) => d !== w.shape[k])) {
        throw new RedeError(`${file}: weight '${keras}/${p}' has shape [${t.shape.join(', ')}], expected [${w.shape.join(', ')}]`);
      }
      weights.set(name, { shape: [...w.shape], data: t.data });
    });
  }
  // BatchNormalization without scale or center: rede's gamma is 1, its beta 0 (what Keras computes without them).
  for (const [name, w] of want) {
    if (weights.has(name)) continue;
    if (/\/(gamma|beta)$/.test(name)) weights.set(name, { shape: w.shape, data: new Float32Array(w.data.length).fill(name.endsWith('gamma') ? 1 : 0) });
    else throw new RedeError(`${file}: no weights for '${name}'`);
  }
  model.setWeights(weights, { fromLayout: 'keras' });
  return model;
}

/** model.json read: the graph, the weight file paths in order, and each tensor's place in their concatenation. */
export interface TfjsModelJson { graph: KerasGraph; paths: string[]; tensors: { name: string; shape: number[]; offset: number; n: number }[]; bytes: number }

/** Reads a model.json (text or parsed); every tensor's size is checked to add up, none is read yet. */
export function readTfjsModelJson(json: Json, file: string, maxBytes = 4 * 1024 ** 3): TfjsModelJson {
  const w = new Where(file);
  const top = obj(json, w);
  const format = field(top, 'format');
  if (format !== undefined && format !== 'layers-model') w.at('format').fail(`expected 'layers-model' (a tfjs Layers model; a 'graph-model' is TensorFlow's converted graph), got ${show(format)}`);
  const graph = decodeTopology(field(top, 'modelTopology') ?? null, file);
  const manifest = arr(field(top, 'weightsManifest') ?? [], w.at('weightsManifest'), 1 << 16);
  const paths: string[] = [], tensors: TfjsModelJson['tensors'] = [];
  let offset = 0;
  manifest.forEach((g, i) => {
    const gw = w.at('weightsManifest').at(i), group = obj(g, gw);
    for (const [k, p] of arr(field(group, 'paths'), gw.at('paths'), 1 << 16).entries()) {
      const s = str(p, gw.at('paths').at(k));
      if (s === '' || s.includes('..') || s.startsWith('/') || s.includes('\\') || s.includes(':')) gw.at('paths').at(k).fail(`a weights path must be a plain relative file name, got ${show(s)}`);
      paths.push(s);
    }
    arr(field(group, 'weights'), gw.at('weights'), 1 << 20).forEach((t, j) => {
      const tw = gw.at('weights').at(j), spec = obj(t, tw);
      const name = str(field(spec, 'name'), tw.at('name'));
      const dtype = field(spec, 'dtype') ?? 'float32';
      if (dtype !== 'float32') tw.at('dtype').fail(`rede reads float32 weights, got ${show(dtype)}`);
      if (field(spec, 'quantization') !== undefined) tw.at('quantization').fail('rede reads unquantized weights');
      const shape = arr(field(spec, 'shape'), tw.at('shape'), 8).map((d, k): number => {
        if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) return tw.at('shape').at(k).fail(`expected a non-negative integer, got ${show(d)}`);
        return d;
      });
      const n = numel(shape, tw.at('shape'), maxBytes / 4 - offset / 4);
      tensors.push({ name, shape, offset, n });
      offset += 4 * n;
    });
  });
  return { graph, paths, tensors, bytes: offset };
}

/** The weights of a read model.json, from the concatenation of its weight files (whose length must be exact). */
export function tfjsWeightSource(m: TfjsModelJson, data: Uint8Array, file: string): WeightSource {
  if (data.length !== m.bytes) throw new RedeError(`${file}: the weight files hold ${data.length} bytes, the manifest ${m.bytes}`);
  const byName = new Map(m.tensors.map((t) => [t.name, t]));
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return (keras, params) => params.map((p) => {
    const t = byName.get(`${keras}/${p}`);
    if (!t) throw new RedeError(`${file}: no weight '${keras}/${p}' in the manifest`);
    const out = new Float32Array(t.n);
    for (let i = 0; i < t.n; i++) out[i] = view.getFloat32(t.offset + 4 * i, true);
    return { shape: t.shape, data: out };
  });
}

/**
 * A tfjs Layers model (model.json and its weight files) as a trainable rede model. `weights` gets the
 * manifest's paths and returns their bytes, concatenated (from disk, memory or a fetch).
 */
export async function importTfjs(modelJson: Json | Uint8Array | string, weights: (paths: string[]) => Uint8Array | Promise<Uint8Array>,
  o: { file?: string; seed?: number; engine?: Engine } = {}): Promise<Model> {
  const file = o.file ?? 'model.json';
  const json = modelJson instanceof Uint8Array || typeof modelJson === 'string' ? parseJson(modelJson, new Where(file)) : modelJson;
  const m = readTfjsModelJson(json, file);
  const converted = fromKeras(m.graph, file);
  const data = await weights(m.paths);
  return buildImported(converted, tfjsWeightSource(m, data, file), file, o);
}
