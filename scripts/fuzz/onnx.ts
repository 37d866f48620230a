// The onnx fuzz target's seeds, mutator and run (wired in targets.ts): small rede models exported to ONNX (every
// exported layer, both input layouts) and a hand-written graph with every imported op — mutated as bytes, or as
// decoded graphs (attributes, dims, op types, inputs and initializers edited, then encoded again so the edits get
// past the wire format to the importer's checks) — through decodeModel and importOnnx.
import { Engine } from '../../src/engine/engine';
import { Model } from '../../src/api/model';
import type { ModelConfig } from '../../src/model/config';
import { exportOnnx } from '../../src/interop/onnx/export';
import { importOnnx, IMPORTED } from '../../src/interop/onnx/import';
import { DT, decodeModel, encodeModel, type AttrValue, type OnnxModel, type OnnxNode } from '../../src/interop/onnx/schema';
import { type FuzzRng, mutateBytes } from './mutate';

const CONFIGS: ModelConfig[] = [
  { name: 'small-cnn', input: [6, 6, 1], layers: [
    { type: 'conv2d', name: 'c1', filters: 2, kernel: 3, padding: 'same', activation: 'relu' }, { type: 'batchnorm', name: 'bn' },
    { type: 'maxpool2d', pool: 2 }, { type: 'flatten' }, { type: 'dropout', rate: 0.25 }, { type: 'dense', name: 'fc', units: 3 }, { type: 'softmax' }] },
  { input: [5, 4, 2], outputs: ['out', 'cat'], layers: [
    { type: 'conv2d', name: 'a', filters: 2, kernel: [3, 2], padding: [1, 1, 0, 1], groups: 2, activation: 'elu' },
    { type: 'conv2d', name: 'b', filters: 2, kernel: 1, inputs: ['input'], useBias: false, activation: 'leaky_relu', alpha: 0.1 },
    { type: 'add', name: 'sum', inputs: ['a', 'b'] }, { type: 'concat', name: 'cat', inputs: ['sum', 'input'] },
    { type: 'lrn', radius: 1, inputs: ['cat'] }, { type: 'avgpool2d', pool: 2, padding: [1, 0, 0, 1] }, { type: 'sigmoid' },
    { type: 'reshape', shape: [2, 3, 4] }, { type: 'globalavgpool2d' }, { type: 'tanh' }, { type: 'dense', name: 'out', units: 2 }] },
  { input: [5], layers: [{ type: 'dense', units: 4, activation: 'relu' }, { type: 'batchnorm' }, { type: 'dense', units: 2 }] },
];

const ATTR_VALUES: AttrValue[] = [
  { type: 'int', i: 0 }, { type: 'int', i: 1 }, { type: 'int', i: -1 }, { type: 'int', i: 2 ** 31 }, { type: 'int', i: 3 },
  { type: 'float', f: 0 }, { type: 'float', f: -1 }, { type: 'float', f: NaN }, { type: 'float', f: 1e30 },
  { type: 'ints', ints: [] }, { type: 'ints', ints: [1, 1] }, { type: 'ints', ints: [0, 0, 0, 0] }, { type: 'ints', ints: [5, 0, 0, 5] },
  { type: 'ints', ints: [0, 2, 3, 1] }, { type: 'ints', ints: [0, 3, 1, 2] }, { type: 'ints', ints: [2 ** 40, 1] },
  { type: 'string', s: 'SAME_UPPER' }, { type: 'string', s: 'SAME_LOWER' }, { type: 'string', s: 'VALID' }, { type: 'string', s: 'x' },
];
const ATTR_NAMES = ['kernel_shape', 'strides', 'pads', 'dilations', 'group', 'auto_pad', 'axis', 'perm', 'transB', 'transA', 'alpha', 'beta',
  'epsilon', 'momentum', 'size', 'bias', 'ratio', 'ceil_mode', 'count_include_pad', 'training_mode', 'allowzero'];

function hand(): OnnxModel {
  const f = (name: string, dims: number[]) => ({ name, dataType: DT.FLOAT, dims, data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i)) });
  const node = (opType: string, inputs: string[], out: string, attrs: [string, AttrValue][] = []): OnnxNode => ({ name: out, opType, domain: '', inputs, outputs: [out], attrs: new Map(attrs) });
  const ints = (...v: number[]): AttrValue => ({ type: 'ints', ints: v });
  return { irVersion: 7, producerName: 'fuzz', producerVersion: '', opsets: [{ domain: '', version: 13 }], metadata: new Map(),
    graph: { name: 'hand', inputs: [{ name: 'x', elemType: DT.FLOAT, dims: ['N', 2, 5, 5] }], outputs: [{ name: 'y', elemType: DT.FLOAT, dims: ['N', 3] }],
      initializers: [f('w', [4, 2, 3, 3]), f('wb', [4]), f('g', [4]), f('m', [4]), f('fc', [4, 3]), f('fb', [3]), { name: 'shape', dataType: DT.INT64, dims: [2], data: Float64Array.of(0, -1) }],
      nodes: [node('Conv', ['x', 'w', 'wb'], 'c', [['pads', ints(1, 1, 1, 1)], ['kernel_shape', ints(3, 3)]]), node('BatchNormalization', ['c', 'g', 'wb', 'm', 'g'], 'bn'),
        node('Relu', ['bn'], 'r'), node('MaxPool', ['r'], 'p', [['kernel_shape', ints(2, 2)], ['pads', ints(0, 0, 1, 1)], ['strides', ints(2, 2)]]),
        node('LRN', ['p'], 'l', [['size', { type: 'int', i: 3 }]]), node('Concat', ['l', 'p'], 'cat', [['axis', { type: 'int', i: 1 }]]),
        node('AveragePool', ['cat'], 'a', [['kernel_shape', ints(2, 2)], ['strides', ints(1, 1)]]), node('Transpose', ['a'], 't', [['perm', ints(0, 2, 3, 1)]]),
        node('Transpose', ['t'], 'u', [['perm', ints(0, 3, 1, 2)]]), node('GlobalAveragePool', ['u'], 'gp'), node('Reshape', ['gp', 'shape'], 'fl'),
        node('Dropout', ['fl'], 'd'), node('Gemm', ['fl', 'fc'], 'h0'), node('Identity', ['h0'], 'h1'), node('MatMul', ['d', 'fc'], 'mm'),
        node('Add', ['mm', 'fb'], 'mb'), node('Sum', ['h1', 'mb'], 's'), node('Softmax', ['s'], 'y')] } };
}

/** One edit of a decoded model (a copy of the seed's objects where edited). */
function mutateModel(rng: FuzzRng, m: OnnxModel): OnnxModel {
  const g = { ...m.graph, nodes: m.graph.nodes.map((n) => ({ ...n, inputs: [...n.inputs], outputs: [...n.outputs], attrs: new Map(n.attrs) })), initializers: [...m.graph.initializers], inputs: m.graph.inputs.map((v) => ({ ...v, dims: [...v.dims] })) };
  const out = { ...m, graph: g, opsets: m.opsets.map((o) => ({ ...o })) };
  for (let k = 1 + rng.int(3); k > 0; k--) {
    const n = g.nodes.length ? rng.pick(g.nodes) : undefined;
    switch (rng.int(10)) {
      case 0: if (n) n.attrs.set(rng.pick(ATTR_NAMES), rng.pick(ATTR_VALUES)); break;
      case 1: if (n && n.attrs.size) n.attrs.delete(rng.pick([...n.attrs.keys()])); break;
      case 2: if (n) n.opType = rng.chance(0.8) ? rng.pick(IMPORTED) : 'Resize'; break;
      case 3: if (n && n.inputs.length) n.inputs[rng.int(n.inputs.length)] = rng.pick([...g.nodes.flatMap((x) => x.outputs), ...g.initializers.map((t) => t.name), 'x', 'nope', '']); break;
      case 4: if (g.nodes.length) g.nodes.splice(rng.int(g.nodes.length), 1); break;
      case 5: if (g.nodes.length > 1) { const i = rng.int(g.nodes.length), j = rng.int(g.nodes.length); [g.nodes[i], g.nodes[j]] = [g.nodes[j], g.nodes[i]]; } break;
      case 6: if (g.inputs.length) { const d = g.inputs[0].dims; d[rng.int(d.length)] = rng.pick([0, 1, 2, 3, 7, 1 << 20, 'N']); if (rng.chance(0.2)) d.pop(); } break;
      case 7: {
        if (!g.initializers.length) break;
        const i = rng.int(g.initializers.length), t = g.initializers[i], dims = [...t.dims];
        if (dims.length && rng.chance(0.7)) dims[rng.int(dims.length)] = rng.pick([0, 1, 2, 3, 4, 8]); else dims.push(1);
        g.initializers[i] = { ...t, dims, data: rng.chance(0.5) ? t.data : t.data.slice(0, dims.reduce((a, b) => a * b, 1)) };
        break;
      }
      case 8: if (out.opsets.length) out.opsets[0].version = rng.pick([1, 6, 7, 11, 12, 13, 18, 99]); break;
      case 9: if (n) n.inputs.push(rng.pick([...g.initializers.map((t) => t.name), 'x'])); break;
    }
  }
  return out;
}

export async function onnxParts() {
  const e = await Engine.create();
  const seeds: Uint8Array[] = [];
  for (const [i, config] of CONFIGS.entries()) {
    const mark = e.mark();
    const m = await Model.create(config, { engine: e, seed: i + 1 });
    seeds.push(exportOnnx(m), exportOnnx(m, { inputLayout: 'nhwc' }));
    e.release(mark);
  }
  seeds.push(encodeModel(hand()));
  const decoded = seeds.map((b) => decodeModel(b, 'seed'));
  return {
    make(rng: FuzzRng): unknown {
      const i = rng.int(seeds.length);
      if (rng.chance(0.4)) return mutateBytes(rng, seeds[i], seeds);
      const bytes = encodeModel(mutateModel(rng, decoded[i]));
      return rng.chance(0.1) ? mutateBytes(rng, bytes, seeds) : bytes;
    },
    async run(input: unknown): Promise<void> {
      const mark = e.mark();
      try { await importOnnx(input as Uint8Array, { engine: e, source: 'fuzz.onnx' }); } finally { e.release(mark); }
    },
    show: (input: unknown): string => {
      const b = input as Uint8Array;
      return `${b.length} bytes: ${Buffer.from(b.subarray(0, 96)).toString('hex')}${b.length > 96 ? '…' : ''}`;
    },
  };
}
