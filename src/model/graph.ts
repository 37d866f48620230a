// Config → a topologically ordered list of nodes with resolved names, inputs and shapes.
import { RedeError, shapeStr } from '../engine/errors';
import type { Layer, Shape } from '../layers/layer';
import { buildLayer } from '../layers/index';
import type { LayerConfig, ModelConfig } from './config';

export interface Node {
  layer: Layer;
  /** Indices into Graph.nodes of this node's inputs; -1 is the model input. */
  inputs: number[];
  /** The edges that read this node's output: (reading node, its input slot). A node may read one tensor twice. */
  consumers: Edge[];
}

export interface Edge { node: number; slot: number }

export interface Graph {
  input: Shape;
  nodes: Node[];
  /** The edges that read the model input. */
  inputConsumers: Edge[];
  /** The output nodes: the main one first, then any auxiliary heads (config.outputs). */
  outputs: number[];
  /** outputs[0]. */
  output: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown): string => JSON.stringify(v) ?? String(v);

export function buildGraph(config: ModelConfig): Graph {
  if (!isObject(config)) throw new RedeError(`model: a config must be an object with 'input' and 'layers', got ${show(config)}`);
  if (config.name !== undefined && typeof config.name !== 'string') throw new RedeError(`model: name must be a string, got ${show(config.name)}`);
  const where = `model${config.name ? ` '${config.name}'` : ''}`;
  if (!Array.isArray(config.input) || config.input.length === 0 || !config.input.every((d) => Number.isInteger(d) && d > 0)) {
    throw new RedeError(`${where}: input must be a per-example shape of positive integers, e.g. [28, 28, 1], got ${show(config.input)}`);
  }
  if (!Array.isArray(config.layers) || config.layers.length === 0) throw new RedeError(`${where}: layers must be a non-empty list, got ${show(config.layers)}`);
  if (config.output !== undefined && typeof config.output !== 'string') throw new RedeError(`${where}: output must be a layer name, got ${show(config.output)}`);
  const index = new Map<string, number>([['input', -1]]);
  const nodes: Node[] = [];
  const inputConsumers: Edge[] = [];
  config.layers.forEach((cfg: LayerConfig, i) => {
    if (!isObject(cfg)) throw new RedeError(`${where}: layer ${i} must be an object with a 'type', got ${show(cfg)}`);
    if (cfg.name !== undefined && (typeof cfg.name !== 'string' || cfg.name === '')) {
      throw new RedeError(`${where}: layer ${i}: name must be a non-empty string, got ${show(cfg.name)}`);
    }
    const name = cfg.name ?? `${typeof cfg.type === 'string' ? cfg.type : 'layer'}_${i}`;
    if (index.has(name)) throw new RedeError(`${where}: layer name '${name}' is used twice`);
    if (cfg.inputs !== undefined && (!Array.isArray(cfg.inputs) || cfg.inputs.length === 0 || !cfg.inputs.every((n) => typeof n === 'string'))) {
      throw new RedeError(`${where}: layer '${name}': inputs must be a non-empty list of layer names, got ${show(cfg.inputs)}`);
    }
    const inputNames = cfg.inputs ?? [i === 0 ? 'input' : nodes[i - 1].layer.name];
    const inputs = inputNames.map((n) => {
      const at = index.get(n);
      if (at === undefined) throw new RedeError(`${where}: layer '${name}' reads '${n}', which is not an earlier layer (layers must be listed in order)`);
      return at;
    });
    const inShapes = inputs.map((at) => (at < 0 ? config.input : nodes[at].layer.outShape));
    const layer = buildLayer({ ...cfg, name }, inShapes, inputs.map((at) => at >= 0 && nodes[at].layer.masks), inputs.map((at) => (at < 0 ? null : nodes[at].layer.parts)));
    inputs.forEach((at, slot) => (at < 0 ? inputConsumers : nodes[at].consumers).push({ node: i, slot }));
    nodes.push({ layer, inputs, consumers: [] });
    index.set(name, i);
  });
  if (config.output !== undefined && config.outputs !== undefined) throw new RedeError(`${where}: give output or outputs, not both`);
  if (config.outputs !== undefined && (!Array.isArray(config.outputs) || config.outputs.length === 0)) {
    throw new RedeError(`${where}: outputs must be a non-empty list of layer names, got ${JSON.stringify(config.outputs)}`);
  }
  const names = config.outputs ?? (config.output === undefined ? [nodes[nodes.length - 1].layer.name] : [config.output]);
  const outputs = names.map((n) => {
    const at = typeof n === 'string' ? index.get(n) : undefined;
    if (at === undefined || at < 0) throw new RedeError(`${where}: output '${n}' is not a layer`);
    return at;
  });
  for (const at of outputs) {
    const parts = nodes[at].layer.parts;
    if (parts) throw new RedeError(`${where}: output '${nodes[at].layer.name}' packs several outputs (${parts.map((p) => p.name).join(', ')}); make select layers of them the outputs`);
  }
  if (new Set(outputs).size !== outputs.length) throw new RedeError(`${where}: outputs name a layer twice: ${JSON.stringify(names)}`);
  const output = outputs[0];
  for (let i = 0; i < nodes.length; i++) {
    if (!outputs.includes(i) && nodes[i].consumers.length === 0) {
      throw new RedeError(`${where}: layer '${nodes[i].layer.name}' ${shapeStr(nodes[i].layer.outShape)} is not used by any other layer nor the output`);
    }
  }
  return { input: config.input, nodes, inputConsumers, outputs, output };
}
