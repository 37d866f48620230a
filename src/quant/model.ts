// An int8 model: the model config, per conv / dense layer its int8 kernel with per-channel scales and f32 bias
// (batch norm folded), the f32 parameters and state of every other layer that keeps any (a batch norm with
// nothing to fold into), and the int8 parameters of the input and of every quantized node's output. compile()
// builds the int8 inference graph (src/infer/qlower.ts) and runs it as an InferenceModel; toBytes()/save()
// write a .rede file (docs/int8.md: the format), fromBytes()/load() read one back to the same integers.
import { RedeError } from '../engine/errors';
import { encodeRedeFile, decodeRedeFile, saveRedeFile, loadRedeFile, type DecodedRedeFile, type RedeFile } from '../io/file';
import { buildGraph, type Graph } from '../model/graph';
import type { ModelConfig } from '../model/config';
import { lowerGraph, type Lowered, type WeightSource } from '../infer/lower';
import { lowerQuantized, type QWeights } from '../infer/qlower';
import type { QParams } from '../infer/qops';
import { InferenceModel, type InferenceOptions } from '../infer/model';
import type { EngineVariant } from '../engine/engine';
import type { CalibrationMethod } from './calibrate';

export const INT8_FORMAT = 'rede-int8-model';

export interface QuantSpec {
  /** The model input's parameters. */
  input: QParams;
  /** Per node (layer name) whose output is an int8 value. */
  act: Record<string, QParams>;
  /** Per conv / dense layer. */
  weights: Record<string, QWeights>;
  /** `${layer}/${name}`: the f32 parameters and state of the other layers the int8 graph runs in f32 (batch norm
   *  left unfolded); a layer's weights are never placeholders. */
  float: Record<string, Float32Array>;
  /** How the activations were calibrated (kept in the file, for the record). */
  calibration: { method: CalibrationMethod; percentile?: number; examples: number; symmetric: boolean };
}

/** The graph nodes whose outputs the int8 graph quantizes (lowering run once with every node allowed). */
export function quantizedNodes(g: Lowered, weights: (name: string) => QWeights): number[] {
  const asked = new Set<number>();
  lowerQuantized(g, { params: (node) => { asked.add(node); return { scale: 1, zero: 0 }; }, weights });
  return [...asked].filter((i) => i >= 0).sort((a, b) => a - b);
}

/**
 * The lowered graph: conv / dense weights are placeholders (their int8 weights come from the spec, folded
 * already), every other layer's from `float` (absent there: placeholders, for reading the structure alone).
 */
function structure(graph: Graph, float: Record<string, Float32Array> = {}): Lowered {
  const get = (L: { name: string }, name: string, n: number, fill: number): Float32Array => {
    const t = float[`${L.name}/${name}`];
    return t && t.length === n ? Float32Array.from(t) : new Float32Array(n).fill(fill);
  };
  const source: WeightSource = { param: (L, name, n) => get(L, name, n, 0), state: (L, name, n) => get(L, name, n, name === 'running_var' ? 1 : 0) };
  return lowerGraph(graph, source);
}

/** `${layer}/${name}` → its tensor, for every parameter and state tensor of the lowered ops other than conv / dense. */
export function floatTensors(g: Lowered): Map<string, { op: string; data: Float32Array }> {
  const out = new Map<string, { op: string; data: Float32Array }>();
  for (const op of g.ops) {
    if (op.kind === 'conv' || op.kind === 'dense' || !('params' in op)) continue;
    for (const [name, data] of [...Object.entries(op.params), ...Object.entries(op.state)]) out.set(`${op.name}/${name}`, { op: op.name, data });
  }
  return out;
}

export class QuantizedModel {
  constructor(readonly config: ModelConfig, readonly spec: QuantSpec, readonly classNames: string[] | null = null) {}

  /** The int8 inference graph. */
  lower(): Lowered { return lowerInt8(this.config, this.spec); }

  /** An InferenceModel running the int8 graph (options as InferenceModel's). */
  compile(options: InferenceOptions & { variant?: EngineVariant | 'auto'; maxBytes?: number } = {}): Promise<InferenceModel> {
    return InferenceModel.fromLowered(this.lower(), { classNames: this.classNames, ...options });
  }

  toBytes(): Uint8Array { return encodeRedeFile(this.toFile()); }

  /** Node: writes the file atomically. */
  save(path: string): Promise<void> { return saveRedeFile(path, this.toFile()); }

  private toFile(): RedeFile {
    const tensors: Record<string, Float32Array> = {}, shapes: Record<string, number[]> = {};
    for (const [name, w] of Object.entries(this.spec.weights)) {
      tensors[`${name}/kernel_q`] = Float32Array.from(w.q);
      tensors[`${name}/kernel_scale`] = w.scale;
      if (w.bias) tensors[`${name}/bias`] = w.bias;
    }
    for (const [key, t] of Object.entries(this.spec.float)) tensors[key] = t;
    const pair = (q: QParams): [number, number] => [q.scale, q.zero];
    const header = {
      format: INT8_FORMAT, config: this.config, ...(this.classNames ? { classNames: this.classNames } : {}),
      quantization: {
        input: pair(this.spec.input),
        activations: Object.fromEntries(Object.entries(this.spec.act).map(([k, v]) => [k, pair(v)])),
        calibration: this.spec.calibration,
      },
    };
    return { header, tensors, shapes };
  }

  static fromBytes(bytes: Uint8Array, name = 'int8 model'): QuantizedModel {
    return QuantizedModel.fromFile(decodeRedeFile(bytes, name), name);
  }

  static async load(path: string): Promise<QuantizedModel> {
    return QuantizedModel.fromFile(await loadRedeFile(path), path);
  }

  /** Checks a decoded file against its own config before anything is built (see int8FromFile). */
  static fromFile(f: DecodedRedeFile, name: string): QuantizedModel {
    const { config, spec, classNames } = int8FromFile(f, name);
    return new QuantizedModel(config, spec, classNames);
  }
}

/** The int8 inference graph of a config and its quantization. */
export function lowerInt8(config: ModelConfig, s: QuantSpec): Lowered {
  const graph = buildGraph(config), names = graph.nodes.map((n) => n.layer.name);
  return lowerQuantized(structure(graph, s.float), {
    params: (node) => (node < 0 ? s.input : s.act[names[node]]),
    weights: (name) => {
      const w = s.weights[name];
      if (!w) throw new RedeError(`quantized model: no int8 weights for layer '${name}'`);
      return w;
    },
  });
}

/**
 * An int8 model file's parts, checked against its own config before anything is built (sizes come from the
 * graph). Functions, not the class's statics, so that rede/infer's bundle takes no writing code.
 */
export function int8FromFile(f: DecodedRedeFile, name: string): { config: ModelConfig; spec: QuantSpec; classNames: string[] | null } {
  const h = f.header as Record<string, unknown>;
  if (h.format !== INT8_FORMAT) {
    throw new RedeError(`${name}: not an int8 model (format ${JSON.stringify(h.format)}, expected "${INT8_FORMAT}"; quantize a model with 'rede quantize')`);
  }
  const q = h.quantization as { input?: unknown; activations?: unknown; calibration?: unknown } | undefined;
  const pair = (v: unknown, what: string): QParams => {
    if (!Array.isArray(v) || v.length !== 2 || !(typeof v[0] === 'number' && v[0] > 0 && Number.isFinite(v[0])) || !Number.isInteger(v[1]) || v[1] < -128 || v[1] > 127) {
      throw new RedeError(`${name}: quantization ${what} must be [scale > 0, zero point in [−128, 127]], got ${JSON.stringify(v)}`);
    }
    return { scale: v[0], zero: v[1] };
  };
  if (!q || typeof q !== 'object') throw new RedeError(`${name}: header field 'quantization' is missing`);
  const acts = q.activations;
  if (!acts || typeof acts !== 'object' || Array.isArray(acts)) throw new RedeError(`${name}: quantization 'activations' must be an object`);
  let graph: Graph;
  try { graph = buildGraph(h.config as ModelConfig); } catch (e) { throw new RedeError(`${name}: ${(e as Error).message}`); }
  const act: Record<string, QParams> = {};
  for (const [k, v] of Object.entries(acts)) act[k] = pair(v, `activation '${k}'`);
  const weights: Record<string, QWeights> = {};
  const tensor = (t: string, n: number): Float32Array => {
    const a = f.tensors[t];
    if (!a) throw new RedeError(`${name}: tensor '${t}' is missing`);
    if (a.length !== n) throw new RedeError(`${name}: tensor '${t}' has ${a.length} values, the model needs ${n}`);
    return a;
  };
  const shape = structure(graph), float: Record<string, Float32Array> = {};
  for (const [key, t] of floatTensors(shape)) float[key] = tensor(key, t.data.length);
  for (const op of shape.ops) {
    if (op.kind !== 'conv' && op.kind !== 'dense') continue;
    const cout = op.kind === 'conv' ? op.geo.cout : op.n, raw = tensor(`${op.name}/kernel_q`, op.w.length);
    const qw = new Int8Array(raw.length);
    for (let i = 0; i < raw.length; i++) {
      if (!(Number.isInteger(raw[i]) && raw[i] >= -127 && raw[i] <= 127)) throw new RedeError(`${name}: tensor '${op.name}/kernel_q' value ${i} is ${raw[i]}, expected an integer in [−127, 127]`);
      qw[i] = raw[i];
    }
    const scale = tensor(`${op.name}/kernel_scale`, cout);
    if (!scale.every((s) => s > 0 && Number.isFinite(s))) throw new RedeError(`${name}: tensor '${op.name}/kernel_scale' must hold positive finite scales`);
    const bias = Object.hasOwn(f.tensors, `${op.name}/bias`) ? tensor(`${op.name}/bias`, cout) : null;
    weights[op.name] = { q: qw, scale, bias };
  }
  const classNames = Array.isArray(h.classNames) ? (h.classNames as string[]) : null;
  const m = { config: h.config as ModelConfig, classNames, spec: {
    input: pair(q.input, 'input'), act, weights, float,
    calibration: (q.calibration ?? { method: 'minmax', examples: 0, symmetric: false }) as QuantSpec['calibration'],
  } };
  // Every node the int8 graph quantizes must have parameters (else it would silently run in f32).
  for (const i of quantizedNodes(shape, (op) => weights[op])) {
    const layer = graph.nodes[i].layer.name;
    if (!Object.hasOwn(act, layer)) throw new RedeError(`${name}: no int8 parameters for the output of '${layer}' in quantization.activations`);
  }
  return m;
}
