// The Keras model config, as tfjs model.json's `modelTopology` and a Keras .h5's `model_config` attribute hold
// it (and, with Keras 3's node form, a .keras file's config.json). It is read into one plain form, a graph of
// layers by name, and written from it:
//   { class_name: 'Sequential', config: { name, layers: [{ class_name, config }] } }      the first layer (or
//       an InputLayer) gives batch_input_shape / batch_shape: [null, ...per-example shape]
//   { class_name: 'Model' | 'Functional', config: { name, layers: [{ name, class_name, config, inbound_nodes }],
//       input_layers: [[name, 0, 0]], output_layers: [[name, 0, 0], ...] } }
// inbound_nodes: Keras 2 / tfjs [[[src, nodeIndex, tensorIndex, kwargs], ...]]; Keras 3
// [{ args: [tensor | [tensor, ...]], kwargs }] with tensor { class_name: '__keras_tensor__', config: { keras_history: [src, 0, 0] } }.
// A layer called on more than one node (a shared layer) or a nested model is refused: rede's layers are one node each.
import { RedeError } from '../../engine/errors';
import { Where, arr, dim, field, isObject, obj, show, str, type Json, type JsonObject } from '../check';

/** One layer of the graph: its Keras class, its own config, and the layers it reads (by name) in order. */
export interface KerasNode { className: string; name: string; config: JsonObject; inputs: string[] }

export interface KerasGraph {
  name: string;
  /** The model input's name (an InputLayer's) and per-example shape. */
  inputName: string;
  inputShape: number[];
  /** Every layer but the InputLayer, in an order where a layer's inputs come before it. */
  nodes: KerasNode[];
  outputs: string[];
}

/** Caps on what a config may ask for: enough for every zoo model many times over. */
export const MAX_LAYERS = 100_000;
const MAX_INBOUND = 4096;

/** The per-example shape from a batch shape [null, ...dims]. */
function perExample(v: Json | undefined, w: Where): number[] {
  const a = arr(v, w, 8);
  if (a.length < 2) w.fail(`expected a batch shape [null, ...dims], got ${show(v)}`);
  return a.slice(1).map((d, i) => (d === null ? w.at(i + 1).fail('rede needs every per-example dimension known, got null') : dim(d, w.at(i + 1))));
}

/** An input layer's or first layer's declared per-example shape, or null. */
function declaredShape(config: JsonObject, w: Where): number[] | null {
  for (const key of ['batch_input_shape', 'batch_shape']) {
    const v = field(config, key);
    if (v !== undefined && v !== null) return perExample(v, w.at(key));
  }
  const input = field(config, 'input_shape');
  if (input !== undefined && input !== null) return perExample([null, ...arr(input, w.at('input_shape'), 8)], w.at('input_shape'));
  return null;
}

/** Every `keras_history` source in a Keras 3 call's args, in order. */
function historyOf(v: Json, w: Where, out: string[], depth = 0): void {
  if (depth > 8 || out.length > MAX_INBOUND) w.fail('inbound node nested too deep or too wide');
  if (Array.isArray(v)) { for (let i = 0; i < v.length; i++) historyOf(v[i], w.at(i), out, depth + 1); return; }
  if (!isObject(v)) return;
  if (field(v, 'class_name') === '__keras_tensor__') {
    const h = arr(field(obj(field(v, 'config'), w.at('config')), 'keras_history'), w.at('config').at('keras_history'), 3);
    out.push(str(h[0], w.at('config').at('keras_history').at(0)));
  }
}

/** The names a functional layer reads, from its inbound_nodes in either form. */
function inboundOf(layer: JsonObject, w: Where): string[] {
  const nodes = arr(field(layer, 'inbound_nodes') ?? [], w.at('inbound_nodes'), MAX_INBOUND);
  if (nodes.length > 1) w.fail(`the layer is called ${nodes.length} times (a shared layer); rede's layers are called once`);
  if (nodes.length === 0) return [];
  const node = nodes[0], nw = w.at('inbound_nodes').at(0), out: string[] = [];
  if (Array.isArray(node)) {
    node.forEach((t, i) => out.push(str(arr(t, nw.at(i), 4)[0], nw.at(i).at(0))));
  } else {
    const n = obj(node, nw);
    historyOf(field(n, 'args') ?? [], nw.at('args'), out);
  }
  if (out.length === 0) nw.fail('an inbound node that reads no tensor');
  return out;
}

const layerName = (l: JsonObject, c: JsonObject, w: Where): string => {
  const n = field(l, 'name') ?? field(c, 'name');
  const s = str(n, w.at('name'));
  if (s === '' || s.length > 256) w.at('name').fail(`a layer name must be 1 to 256 characters, got ${show(s)}`);
  return s;
};

/** A topology (model.json's modelTopology, an h5's model_config) as a graph. */
export function decodeTopology(topology: Json, file: string): KerasGraph {
  let w = new Where(file, 'modelTopology');
  let top = obj(topology, w);
  // model.json's modelTopology may wrap the model as { model_config, keras_version, backend } (a Keras h5 export).
  if (field(top, 'model_config') !== undefined) { w = w.at('model_config'); top = obj(field(top, 'model_config'), w); }
  const className = str(field(top, 'class_name'), w.at('class_name'));
  const cw = w.at('config');
  const rawConfig = field(top, 'config');
  if (className === 'Sequential') return decodeSequential(rawConfig, cw);
  if (className === 'Model' || className === 'Functional') return decodeFunctional(obj(rawConfig, cw), cw);
  return w.at('class_name').fail(`expected a 'Sequential', 'Model' or 'Functional' model, got ${show(className)}`);
}

function decodeSequential(raw: Json | undefined, w: Where): KerasGraph {
  // Keras before 2.3 wrote the layer list itself as the config.
  const config = Array.isArray(raw) ? { layers: raw } as JsonObject : obj(raw, w);
  const name = typeof field(config, 'name') === 'string' ? field(config, 'name') as string : 'sequential';
  const layers = arr(field(config, 'layers'), w.at('layers'), MAX_LAYERS);
  let inputShape = null as number[] | null, inputName = 'input', prev = '';
  const nodes: KerasNode[] = [];
  layers.forEach((raw, i) => {
    const lw = w.at('layers').at(i), l = obj(raw, lw);
    const className = str(field(l, 'class_name'), lw.at('class_name'));
    const c = obj(field(l, 'config'), lw.at('config'));
    const name = layerName(l, c, lw.at('config'));
    if (i === 0) inputShape = declaredShape(c, lw.at('config'));
    if (className === 'InputLayer') {
      if (i !== 0) lw.fail('an InputLayer after the first layer of a Sequential model');
      if (!inputShape) lw.at('config').fail('an InputLayer without batch_input_shape or batch_shape');
      inputName = name; prev = name;
      return;
    }
    nodes.push({ className, name, config: c, inputs: [i === 0 ? inputName : prev] });
    prev = name;
  });
  if (nodes.length === 0) w.at('layers').fail('a Sequential model without layers');
  if (!inputShape) w.at('layers').at(0).fail('the first layer gives no batch_input_shape, so the input shape is unknown');
  return checked({ name, inputName, inputShape: inputShape as number[], nodes, outputs: [prev] }, w);
}

function decodeFunctional(config: JsonObject, w: Where): KerasGraph {
  const name = typeof field(config, 'name') === 'string' ? field(config, 'name') as string : 'model';
  const layers = arr(field(config, 'layers'), w.at('layers'), MAX_LAYERS);
  const ref = (v: Json, rw: Where): string => {
    // [name, node, tensor] (Keras 2, tfjs) or, in Keras 3, sometimes a bare [name, node, tensor] nested once more.
    const a = arr(v, rw, 4);
    return Array.isArray(a[0]) ? ref(a[0], rw.at(0)) : str(a[0], rw.at(0));
  };
  const listOf = (key: string): string[] => {
    const v = field(config, key), kw = w.at(key);
    const a = arr(v, kw, MAX_INBOUND);
    // One tensor may be written without the outer list: ['name', 0, 0].
    if (a.length > 0 && typeof a[0] === 'string') return [ref(a, kw)];
    return a.map((x, i) => ref(x, kw.at(i)));
  };
  const inputs = listOf('input_layers'), outputs = listOf('output_layers');
  if (inputs.length !== 1) w.at('input_layers').fail(`rede models have one input, this one has ${inputs.length}`);
  let inputShape = null as number[] | null;
  const nodes: KerasNode[] = [];
  layers.forEach((raw, i) => {
    const lw = w.at('layers').at(i), l = obj(raw, lw);
    const className = str(field(l, 'class_name'), lw.at('class_name'));
    const c = obj(field(l, 'config'), lw.at('config'));
    const n = layerName(l, c, lw);
    if (className === 'InputLayer') {
      if (n !== inputs[0]) lw.fail(`a second input '${n}' (the model's input is '${inputs[0]}')`);
      inputShape = declaredShape(c, lw.at('config'));
      if (!inputShape) lw.at('config').fail('an InputLayer without batch_input_shape or batch_shape');
      return;
    }
    nodes.push({ className, name: n, config: c, inputs: inboundOf(l, lw) });
  });
  if (!inputShape) w.at('layers').fail(`no InputLayer named '${inputs[0]}'`);
  return checked({ name, inputName: inputs[0], inputShape: inputShape as number[], nodes: topoSort(nodes, inputs[0], w), outputs }, w);
}

/** Names unique and every reference resolved; the outputs are layers. */
function checked(g: KerasGraph, w: Where): KerasGraph {
  const names = new Set<string>([g.inputName]);
  for (const n of g.nodes) {
    if (names.has(n.name)) w.fail(`layer name '${n.name}' is used twice`);
    names.add(n.name);
  }
  for (const n of g.nodes) for (const s of n.inputs) if (!names.has(s)) w.fail(`layer '${n.name}' reads '${s}', which is no layer of the model`);
  for (const o of g.outputs) if (!names.has(o) || o === g.inputName) w.fail(`output '${o}' is not a layer of the model`);
  return g;
}

/** Layers in an order where each one's inputs come first (Kahn's, stable); a cycle is an error. */
function topoSort(nodes: KerasNode[], input: string, w: Where): KerasNode[] {
  const done = new Set<string>([input]), out: KerasNode[] = [];
  const all = new Set(nodes.map((n) => n.name));
  let left = nodes;
  while (left.length) {
    const next: KerasNode[] = [];
    for (const n of left) {
      if (n.inputs.every((s) => done.has(s) || !all.has(s))) { out.push(n); done.add(n.name); } else next.push(n);
    }
    if (next.length === left.length) w.fail(`the layers ${next.slice(0, 5).map((n) => `'${n.name}'`).join(', ')} read each other in a cycle`);
    left = next;
  }
  return out;
}

export type Flavor = 'tfjs' | 'keras';

/** A graph as a functional model config: class 'Model' for tfjs, 'Functional' for Keras (2.4+). */
export function encodeTopology(g: KerasGraph, flavor: Flavor): JsonObject {
  const inbound = (n: KerasNode): Json => [n.inputs.map((s) => [s, 0, 0, {}])];
  const layers: Json[] = [
    { name: g.inputName, class_name: 'InputLayer', config: { batch_input_shape: [null, ...g.inputShape], dtype: 'float32', sparse: false, name: g.inputName }, inbound_nodes: [] },
    ...g.nodes.map((n) => ({ name: n.name, class_name: n.className, config: { name: n.name, ...n.config }, inbound_nodes: inbound(n) })),
  ];
  return {
    class_name: flavor === 'tfjs' ? 'Model' : 'Functional',
    config: { name: g.name, layers, input_layers: [[g.inputName, 0, 0]], output_layers: g.outputs.map((o) => [o, 0, 0]) },
  };
}

/** A layer class's param names in Keras's order, given its config (what its weight list holds). */
export function kerasParams(n: KerasNode): string[] {
  const c = n.config, bias = field(c, 'use_bias') !== false;
  switch (n.className) {
    case 'Conv2D': case 'Dense': case 'Conv2DTranspose': return bias ? ['kernel', 'bias'] : ['kernel'];
    case 'BatchNormalization':
      return [...(field(c, 'scale') !== false ? ['gamma'] : []), ...(field(c, 'center') !== false ? ['beta'] : []), 'moving_mean', 'moving_variance'];
    default: return [];
  }
}

