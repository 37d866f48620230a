// Weights as people move them: every parameter and batch-norm statistic of a network under one documented
// name, `<layer>/<kernel|recurrent_kernel|embeddings|bias|gamma|beta|moving_mean|moving_variance>` (Keras's names), in rede's layout or
// PyTorch's. The layers keep their short handle names (w, b, running_mean, …: `this.p.w` in a kernel call);
// PUBLIC below is the one place where a handle becomes a name. .rede files (src/api/persist.ts) use the same
// names, so a file's tensors and getWeights() agree.
//
// Layouts. 'rede' and 'keras' are the same: conv kernels HWIO [kh, kw, in/groups, out], dense kernels
// [in, out], transposed-conv kernels [kh, kw, out, in], recurrent kernel [in, G·u] and recurrent_kernel [u, G·u]
// (gate blocks in Keras's order), embeddings [vocab, dim]. 'pytorch': conv kernels OIHW [out, in/groups, kh, kw],
// ConvTranspose2d kernels [in, out, kh, kw], dense kernels [out, in], recurrent kernels [G·u, in] and [G·u, u]
// with a GRU's gates in PyTorch's order r, z, n (arrangeRecurrent); and a dense layer
// that reads a flattened [h, w, c] tensor (through parameter-free elementwise layers at most) takes its input
// rows in PyTorch's c, h, w flatten order instead of rede's h, w, c. Biases and batch-norm vectors are the
// same in every layout. The conversion is one index map per tensor: external[i] = rede[order[i]].
import type { Engine } from '../engine/engine';
import { RedeError, shapeStr } from '../engine/errors';
import { checkOptions, closest } from '../engine/options';
import { numelOf, type Layer, type Shape } from '../layers/layer';
import type { Graph } from './graph';

export type WeightLayout = 'rede' | 'keras' | 'pytorch';
const LAYOUTS: readonly WeightLayout[] = ['rede', 'keras', 'pytorch'];

/** A tensor as getWeights returns it: a copy of the values, with its shape in the layout asked for. */
export interface WeightTensor { shape: number[]; data: Float32Array }
/** What setWeights takes: any array of numbers with its shape. */
export interface WeightTensorLike { shape: readonly number[]; data: ArrayLike<number> }
/** A Map (getWeights' own result) or a plain object of name → tensor (JSON-loaded). */
export type WeightsLike = ReadonlyMap<string, WeightTensorLike> | Readonly<Record<string, WeightTensorLike>>;

export interface GetWeightsOptions { layout?: WeightLayout }
export interface SetWeightsOptions {
  /** The layout of the given tensors (default 'rede'). */
  fromLayout?: WeightLayout;
  /** Every weight of the model must be given (default true); false sets only the given ones. */
  strict?: boolean;
}

/** Handle name → documented name. A handle not listed (a layer from defineLayer) is its own name. */
const PUBLIC: Readonly<Record<string, string>> = {
  w: 'kernel', u: 'recurrent_kernel', table: 'embeddings', b: 'bias', gamma: 'gamma', beta: 'beta', running_mean: 'moving_mean', running_var: 'moving_variance',
};
/** PyTorch's names for the batch-norm statistics, accepted by setWeights in its layout. */
const PYTORCH_ALIASES: Readonly<Record<string, string>> = { running_mean: 'moving_mean', running_var: 'moving_variance' };

/** The documented name of a layer's parameter or state handle. */
export function weightName(layer: string, handle: string): string {
  // A wrapper's handles are prefixed by the inner layer's part ('forward/w' of a bidirectional layer).
  const cut = handle.lastIndexOf('/') + 1, leaf = handle.slice(cut);
  return `${layer}/${handle.slice(0, cut)}${Object.hasOwn(PUBLIC, leaf) ? PUBLIC[leaf] : leaf}`;
}

/** What this module reads of a network (a structural view: network.ts imports this file, not the reverse). */
export interface Weighted {
  readonly e: Engine;
  readonly graph: Graph;
  readonly entries: readonly { layer: Layer; name: string; shape: Shape; offset: number; n: number }[];
  /** Byte addresses of the flat parameters and of gradient slice 0. */
  readonly params: number;
  readonly grads: number;
}

/** One named tensor of a network: a trainable parameter or a batch-norm statistic. */
export interface WeightSlot {
  name: string;
  node: number;
  layer: Layer;
  handle: string;
  kind: 'param' | 'state';
  /** In rede's layout. */
  shape: Shape;
  n: number;
  /** Byte address of the values, and of the gradient (slice 0; 0 for state). */
  at: number;
  grad: number;
}

/** Every weight of `net` in graph order, each layer's parameters before its state (as a state_dict lists them). */
export function weightSlots(net: Weighted): WeightSlot[] {
  const out: WeightSlot[] = [];
  const byLayer = new Map<Layer, Weighted['entries'][number][]>();
  for (const en of net.entries) {
    const list = byLayer.get(en.layer);
    if (list) list.push(en); else byLayer.set(en.layer, [en]);
  }
  net.graph.nodes.forEach(({ layer }, node) => {
    for (const en of byLayer.get(layer) ?? []) {
      out.push({ name: weightName(layer.name, en.name), node, layer, handle: en.name, kind: 'param', shape: en.shape, n: en.n,
        at: net.params + en.offset * 4, grad: net.grads + en.offset * 4 });
    }
    for (const s of layer.state) {
      out.push({ name: weightName(layer.name, s.name), node, layer, handle: s.name, kind: 'state', shape: [s.floats], n: s.floats, at: layer.s[s.name], grad: 0 });
    }
  });
  return out;
}

/** Layers between a flatten and a dense that change no value's position. */
const ELEMENTWISE = new Set(['dropout', 'relu', 'leaky_relu', 'elu', 'sigmoid', 'tanh']);

/** The [h, w, c] tensor flattened into node `node`'s input, or null (walking back through ELEMENTWISE layers). */
function flattenedFrom(g: Graph, node: number): Shape | null {
  let src = g.nodes[node].inputs[0];
  while (src >= 0 && ELEMENTWISE.has(g.nodes[src].layer.type)) src = g.nodes[src].inputs[0];
  if (src < 0) return null;
  const L = g.nodes[src].layer;
  const flat = L.type === 'flatten' || (L.type === 'reshape' && L.outShape.length === 1);
  return flat && L.inShapes[0].length === 3 ? L.inShapes[0] : null;
}

/** A slot's shape in `layout`, and where each of its values comes from in rede's order (null: the same). */
function arrange(g: Graph, slot: WeightSlot, layout: WeightLayout): { shape: number[]; order: Int32Array | null } {
  const s = [...slot.shape];
  if (layout === 'pytorch' && (RECURRENT.has(slot.layer.type) || slot.layer.type === 'bidirectional')) return arrangeRecurrent(slot);
  if (layout !== 'pytorch' || slot.handle !== 'w') return { shape: s, order: null };
  if (slot.layer.type === 'conv2d') {
    const [kh, kw, ci, co] = s, order = new Int32Array(slot.n);
    let i = 0; // external (o, c, y, x) ← rede (y, x, c, o)
    for (let o = 0; o < co; o++) for (let c = 0; c < ci; c++) for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) order[i++] = ((y * kw + x) * ci + c) * co + o;
    return { shape: [co, ci, kh, kw], order };
  }
  if (slot.layer.type === 'conv2d_transpose') {
    // rede and Keras [kh, kw, out, in]; PyTorch's ConvTranspose2d [in, out, kh, kw].
    const [kh, kw, co, ci] = s, order = new Int32Array(slot.n);
    let i = 0; // external (c, o, y, x) ← rede (y, x, o, c)
    for (let c = 0; c < ci; c++) for (let o = 0; o < co; o++) for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) order[i++] = ((y * kw + x) * co + o) * ci + c;
    return { shape: [ci, co, kh, kw], order };
  }
  if (slot.layer.type === 'dense') {
    const [inF, outF] = s, order = new Int32Array(slot.n), hwc = flattenedFrom(g, slot.node);
    // Input row j in PyTorch's order: (c, y, x) of the flattened tensor; rede's row of the same value: (y, x, c).
    const row = new Int32Array(inF);
    if (hwc) {
      const [H, W, C] = hwc;
      let j = 0;
      for (let c = 0; c < C; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) row[j++] = (y * W + x) * C + c;
    } else for (let j = 0; j < inF; j++) row[j] = j;
    let i = 0; // external (o, j) ← rede (row[j], o)
    for (let o = 0; o < outF; o++) for (let j = 0; j < inF; j++) order[i++] = row[j] * outF + o;
    return { shape: [outF, inF], order };
  }
  return { shape: s, order: null };
}

/** Recurrent layers (src/layers/rnn.ts): Keras's gate blocks i, f, c, o (LSTM) and z, r, h (GRU) in the columns. */
const RECURRENT = new Set(['simple_rnn', 'lstm', 'gru']);

/**
 * PyTorch's nn.RNN / LSTM / GRU layout of a recurrent layer's tensor: kernels transposed to [G·u, in]
 * (weight_ih / weight_hh), GRU's gate blocks reordered z, r, h → r, z, n; the bias keeps its shape (a GRU's
 * rows are bias_ih and bias_hh, reordered the same way; an LSTM's or simple RNN's one bias is PyTorch's
 * bias_ih + bias_hh).
 */
function arrangeRecurrent(slot: WeightSlot): { shape: number[]; order: Int32Array } {
  // A bidirectional layer's handles are its directions' ('forward/w'), of the cell its config names.
  const cell = slot.layer.type === 'bidirectional' ? slot.layer.config().layer : slot.layer.type, handle = slot.handle.slice(slot.handle.lastIndexOf('/') + 1);
  const gu = slot.shape[slot.shape.length - 1], rows = slot.n / gu, gru = cell === 'gru', u = gru ? gu / 3 : gu;
  // Column j of rede's rows, in PyTorch's gate order: GRU blocks (r, z, n) are rede's blocks (1, 0, 2).
  const col = (j: number): number => (gru ? [1, 0, 2][Math.floor(j / u)] * u + (j % u) : j);
  const order = new Int32Array(slot.n);
  let i = 0;
  if (handle === 'b') { for (let r = 0; r < rows; r++) for (let j = 0; j < gu; j++) order[i++] = r * gu + col(j); return { shape: [...slot.shape], order }; }
  for (let j = 0; j < gu; j++) for (let r = 0; r < rows; r++) order[i++] = r * gu + col(j); // external (j, r) ← rede (r, col(j))
  return { shape: [gu, rows], order };
}

const layoutNote: Record<WeightLayout, string> = {
  rede: "rede's layout: conv kernels [kh, kw, in, out], transposed-conv kernels [kh, kw, out, in], dense kernels [in, out]",
  keras: "Keras's layout: conv kernels [kh, kw, in, out], transposed-conv kernels [kh, kw, out, in], dense kernels [in, out]",
  pytorch: "PyTorch's layout: conv kernels [out, in, kh, kw], transposed-conv kernels [in, out, kh, kw], dense kernels [out, in]",
};

/** A layout option's value, checked (default 'rede'). */
export function checkLayout(where: string, option: string, v: unknown): WeightLayout {
  if (v === undefined) return 'rede';
  if (!LAYOUTS.includes(v as WeightLayout)) throw new RedeError(`${where}: ${option} must be 'rede', 'keras' or 'pytorch', got ${JSON.stringify(v) ?? String(v)}`);
  return v as WeightLayout;
}

/** Copies of every slot's values (or gradients: `grads`, parameters only) by name, in `layout`. */
export function readWeights(net: Weighted, layout: WeightLayout, grads = false): Map<string, WeightTensor> {
  const out = new Map<string, WeightTensor>(), f = net.e.f32;
  for (const slot of weightSlots(net)) {
    if (grads && slot.kind !== 'param') continue;
    const at = (grads ? slot.grad : slot.at) >>> 2, src = f.subarray(at, at + slot.n);
    const { shape, order } = arrange(net.graph, slot, layout);
    const data = new Float32Array(slot.n);
    if (order) for (let i = 0; i < slot.n; i++) data[i] = src[order[i]]; else data.set(src);
    out.set(slot.name, { shape, data });
  }
  return out;
}

/** getWeights(options): checks the options, then readWeights. */
export function getWeights(net: Weighted, options?: GetWeightsOptions): Map<string, WeightTensor> {
  const o = checkOptions<GetWeightsOptions>('getWeights', options, ['layout']);
  return readWeights(net, checkLayout('getWeights', 'layout', o.layout));
}

/** "a, b, c, … (n in all)": a model may have hundreds of weights. */
function listNames(names: readonly string[], max = 8): string {
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')}, … (${names.length} in all)`;
}

/** The slot called `name` (a PyTorch statistic's name too, in its layout), or an error suggesting the closest. */
function findSlot(where: string, slots: readonly WeightSlot[], byName: ReadonlyMap<string, WeightSlot>, name: string, layout: WeightLayout): WeightSlot {
  let slot = byName.get(name);
  const cut = name.lastIndexOf('/'), last = name.slice(cut + 1);
  if (!slot && layout === 'pytorch' && cut > 0 && Object.hasOwn(PYTORCH_ALIASES, last)) slot = byName.get(`${name.slice(0, cut)}/${PYTORCH_ALIASES[last]}`);
  if (slot) return slot;
  // A layer's handle name ('fc/w', as .rede files had it) points to its documented name.
  const renamed = cut > 0 && Object.hasOwn(PUBLIC, last) ? `${name.slice(0, cut)}/${PUBLIC[last]}` : undefined;
  const names = slots.map((s) => s.name), near = renamed && byName.has(renamed) ? renamed : closest(name, names);
  throw new RedeError(`${where}: the model has no weight '${name}'${near ? ` (did you mean '${near}'?)` : ''}; its weights: ${listNames(names)}`);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isArrayLike = (v: unknown): v is ArrayLike<unknown> => ArrayBuffer.isView(v) || Array.isArray(v);

/** Checks one given tensor: { shape, data } with data.length = ∏shape and every value a finite number. */
function checkTensor(where: string, name: string, t: unknown): WeightTensorLike {
  if (!isObject(t) || !Array.isArray(t.shape) || !isArrayLike(t.data) || t.data instanceof DataView || t.data instanceof BigInt64Array || t.data instanceof BigUint64Array) {
    throw new RedeError(`${where}: '${name}' must be { shape: number[], data: Float32Array or number[] }, got ${isObject(t) ? `an object with keys ${Object.keys(t).join(', ') || 'none'}` : Array.isArray(t) ? 'an array' : typeof t}`);
  }
  const shape = t.shape as unknown[], data = t.data as ArrayLike<unknown>;
  if (!shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) throw new RedeError(`${where}: '${name}' shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
  const n = numelOf(shape as number[]);
  if (data.length !== n) throw new RedeError(`${where}: '${name}' has ${data.length} values, its shape ${shapeStr(shape as number[])} needs ${n}`);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new RedeError(`${where}: '${name}' value ${i} is ${typeof v === 'number' ? v : JSON.stringify(v) ?? String(v)}, expected a finite number`);
  }
  return t as unknown as WeightTensorLike;
}

const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * setWeights: every name, shape and value is checked against the model in `fromLayout` before anything is
 * written, so a bad tensor leaves the model as it was. Missing weights are an error unless strict is false.
 */
export function setWeights(net: Weighted, weights: WeightsLike, options?: SetWeightsOptions): void {
  const where = 'setWeights';
  const o = checkOptions<SetWeightsOptions>(where, options, ['fromLayout', 'strict'], { layout: 'fromLayout', from_layout: 'fromLayout' });
  const layout = checkLayout(where, 'fromLayout', o.fromLayout);
  if (o.strict !== undefined && typeof o.strict !== 'boolean') throw new RedeError(`${where}: strict must be true or false, got ${JSON.stringify(o.strict)}`);
  let given: [string, unknown][];
  if (weights instanceof Map) given = [...weights.entries()];
  else if (isObject(weights)) given = Object.entries(weights);
  else throw new RedeError(`${where}: weights must be a Map or an object of name → { shape, data }, got ${Array.isArray(weights) ? 'an array' : weights === null ? 'null' : typeof weights}`);
  const slots = weightSlots(net), byName = new Map(slots.map((s) => [s.name, s]));
  const writes: { slot: WeightSlot; data: ArrayLike<number>; order: Int32Array | null }[] = [];
  const seen = new Map<WeightSlot, string>();
  for (const [name, value] of given) {
    if (typeof name !== 'string') throw new RedeError(`${where}: weight names must be strings, got ${typeof name}`);
    const slot = findSlot(where, slots, byName, name, layout);
    if (seen.has(slot)) throw new RedeError(`${where}: '${slot.name}' is given twice (as '${seen.get(slot)}' and '${name}')`);
    seen.set(slot, name);
    const t = checkTensor(where, name, value);
    const { shape, order } = arrange(net.graph, slot, layout);
    if (!sameShape(t.shape, shape)) {
      const other = LAYOUTS.find((l) => l !== layout && sameShape(t.shape, arrange(net.graph, slot, l).shape));
      const hint = other ? `; that is its shape in layout '${other}' (pass { fromLayout: '${other}' })` : '';
      throw new RedeError(`${where}: '${name}' has shape ${shapeStr(t.shape)}, expected ${shapeStr(shape)} in layout '${layout}' (${layoutNote[layout]})${hint}`);
    }
    writes.push({ slot, data: t.data, order });
  }
  if (o.strict ?? true) {
    const missing = slots.filter((s) => !seen.has(s)).map((s) => s.name);
    if (missing.length) throw new RedeError(`${where}: ${missing.length} of the model's ${slots.length} weights are missing: ${listNames(missing)} (pass { strict: false } to set only some)`);
  }
  const f = net.e.f32;
  for (const { slot, data, order } of writes) {
    const at = slot.at >>> 2;
    if (order) for (let i = 0; i < slot.n; i++) f[at + order[i]] = data[i];
    else for (let i = 0; i < slot.n; i++) f[at + i] = data[i];
  }
}

/** One weight by name (rede's layout): a copy of its values, or (grad) of its gradient in slice `slice`. */
export function weightSlot(net: Weighted, where: string, name: string): WeightSlot {
  const slots = weightSlots(net);
  return findSlot(where, slots, new Map(slots.map((s) => [s.name, s])), name, 'rede');
}
