// Lowering a trained Model to an inference op list, with its weights folded:
//   conv → batchnorm:  w'[.., o] = w[.., o]·γ_o/σ_o,  b'_o = (b_o − μ_o)·γ_o/σ_o + β_o,  σ_o = √(var_o + ε)
//   conv/dense → relu, conv → add(skip) [→ relu]:  the ReLU and the residual add become the op's epilogue;
//   so does the layer's own activation, or a standalone activation or softmax layer after a linear one
//   flatten, reshape, dropout (identity at inference): aliases of their input, no copy.
//   every other layer: its own forward (Layer.forwardCalls) on copies of its weights, so a new layer needs
//   no change here; the kinds named below only label it (with the fields tools read: the tfjs mapping).
// A node is fused into the op before it only when it is that op's sole reader and not the model's output,
// so no intermediate the rest of the graph needs ever disappears. The fused op runs at the first node's
// place in the (topological) order; its residual input is produced earlier by construction (see fuseAdd).
import { RedeError } from '../engine/errors';
import { numelOf, type Shape } from '../layers/layer';
import type { Network as Model } from '../model/network';
import type { Graph, Node } from '../model/graph';
import type { Layer } from '../layers/layer';
import type { ConvGeom } from '../ops/conv';
import { Conv2D } from '../layers/conv2d';
import { Dense } from '../layers/dense';
import { BatchNorm, LRN } from '../layers/norm';
import { AvgPool2D, GlobalAvgPool2D, MaxPool2D } from '../layers/pool';
import { Activation, Softmax, type Epilogue } from '../layers/activation';
import { Add, Concat } from '../layers/merge';
import type { QOp } from './qops';

/** A value of the inference graph: per-example shape; id 0 is the model input. */
export interface Value { id: number; shape: Shape; floats: number }

/**
 * A layer run as itself: its forwardCalls on the inference arena, with copies of its parameters and state
 * by name, then a fused ReLU when `relu`. x is xs[0].
 */
export interface LayerOp {
  name: string; xs: number[]; x: number; y: number; layer: Layer;
  params: Record<string, Float32Array>; state: Record<string, Float32Array>; relu: boolean;
}

export type Op =
  /** y = act(conv(x; w) + b [+ res]); w HWIO [kh, kw, cin/groups, cout]; softmax over cout. pre: the graph node
   *  whose output is conv(x; w) + b before the residual add (what int8 lowering quantizes there). */
  | { kind: 'conv'; name: string; x: number; y: number; res: number; pre: number; geo: ConvGeom; w: Float32Array; b: Float32Array | null; act: Epilogue }
  /** y = act(x·w + b [+ res]); w [in, units]. */
  | { kind: 'dense'; name: string; x: number; y: number; res: number; pre: number; k: number; n: number; w: Float32Array; b: Float32Array | null; act: Epilogue }
  /** int8 inference ops (src/infer/qops.ts), made by lowerQuantized from a lowered graph. */
  | QOp
  /** Any layer without a label below. */
  | (LayerOp & { kind: 'layer' })
  | (LayerOp & { kind: 'maxpool' | 'avgpool'; geo: ConvGeom })
  | (LayerOp & { kind: 'gap'; hw: number; c: number })
  /** A batch norm with nothing to fold into: inference form over its running statistics [→ ReLU]. */
  | (LayerOp & { kind: 'batchnorm'; rows: number; c: number; gamma: Float32Array; beta: Float32Array;
      mean: Float32Array; variance: Float32Array; epsilon: number })
  | (LayerOp & { kind: 'act'; type: string; alpha: number; n: number })
  | (LayerOp & { kind: 'softmax'; rows: number; classes: number })
  | (LayerOp & { kind: 'lrn'; rows: number; c: number; radius: number; bias: number; alpha: number; beta: number })
  | (LayerOp & { kind: 'add' })
  | (LayerOp & { kind: 'concat'; widths: number[]; rows: number });

export interface Lowered {
  values: Value[];
  ops: Op[];
  output: number;
  /** Per value: the graph node whose output it holds (−1: the model input; an alias keeps its producer). */
  nodeOf: number[];
  /** What was folded or fused, for summaries and tests. */
  folded: { batchnorm: number; relu: number; act: number; add: number; alias: number };
}

/** The inputs an op reads (residual included). */
export function opInputs(op: Op): number[] {
  if (op.kind !== 'conv' && op.kind !== 'dense') return op.xs;
  return op.res >= 0 ? [op.x, op.res] : [op.x];
}

/** Where lowering reads a layer's parameters and state (copies: folding writes into them). */
export interface WeightSource {
  param(layer: Layer, name: string, n: number): Float32Array;
  state(layer: Layer, name: string, n: number): Float32Array;
}

/** A trained model's weights, read from its engine's memory. */
export function modelWeights(model: Model): WeightSource {
  const read = (addr: number, n: number): Float32Array => model.e.f32.slice(addr >>> 2, (addr >>> 2) + n);
  return { param: (L, name, n) => read(L.p[name], n), state: (L, name, n) => read(L.s[name], n) };
}

export function lower(model: Model): Lowered {
  return lowerGraph(model.graph, modelWeights(model));
}

export function lowerGraph(graph: Graph, weights: WeightSource): Lowered {
  const { nodes, output } = graph;
  const values: Value[] = [{ id: 0, shape: graph.input, floats: numelOf(graph.input) }];
  const ops: Op[] = [];
  const folded = { batchnorm: 0, relu: 0, act: 0, add: 0, alias: 0 };
  const nodeOf: number[] = [-1];
  /** Node index → value id (−1: not yet produced). The model input is node −1. */
  const valueOf = new Map<number, number>([[-1, 0]]);
  const done = new Set<number>();
  const newValue = (shape: Shape): number => { values.push({ id: values.length, shape, floats: numelOf(shape) }); return values.length - 1; };
  const src = (i: number): number => {
    const v = valueOf.get(i);
    if (v === undefined) throw new RedeError(`infer: node ${i} read before it was produced (graph not topological?)`);
    return v;
  };
  /** The node that alone reads node i (not the output, exactly one edge), or −1. */
  const soleReader = (i: number): number => {
    const n: Node = nodes[i];
    if (i === output || n.consumers.length !== 1) return -1;
    return n.consumers[0].node;
  };
  const isType = (i: number, t: string): boolean => i >= 0 && nodes[i].layer.type === t;

  nodes.forEach((node, i) => {
    if (done.has(i)) return;
    const L = node.layer;
    const x = node.inputs.length ? src(node.inputs[0]) : -1;
    if (L instanceof Conv2D || L instanceof Dense) {
      const cout = L instanceof Conv2D ? L.geo.cout : L.units;
      const w = weights.param(L, 'w', L instanceof Conv2D ? numelOf(L.params[0].shape) : L.inFeatures * L.units);
      let b: Float32Array | null = L.useBias ? weights.param(L, 'b', cout) : null;
      let act = L.act, tail = i;
      const linear = () => act.type === 'linear';
      // conv → batch norm (only before any activation): fold into w and b.
      const bnAt = soleReader(tail);
      if (linear() && isType(bnAt, 'batchnorm')) {
        const bn = nodes[bnAt].layer as BatchNorm;
        const gamma = weights.param(bn, 'gamma', cout), beta = weights.param(bn, 'beta', cout);
        const mean = weights.state(bn, 'running_mean', cout), variance = weights.state(bn, 'running_var', cout);
        const bias = new Float32Array(cout);
        for (let o = 0; o < cout; o++) {
          const s = gamma[o] / Math.sqrt(variance[o] + bn.epsilon);
          for (let j = o; j < w.length; j += cout) w[j] *= s; // HWIO / [in, units]: output channel is the last axis
          bias[o] = ((b ? b[o] : 0) - mean[o]) * s + beta[o];
        }
        b = bias; tail = bnAt; done.add(bnAt); folded.batchnorm++;
      }
      // → add(skip), when every other input of the add already exists (so it is ready when this op runs).
      let res = -1;
      const pre = tail;
      const addAt = soleReader(tail);
      if (linear() && isType(addAt, 'add') && nodes[addAt].inputs.length === 2) {
        const [a0, a1] = nodes[addAt].inputs, other = a0 === tail ? a1 : a0;
        if (valueOf.has(other)) {
          res = src(other); tail = addAt; done.add(addAt); folded.add++;
        }
      }
      // → an activation or softmax layer (softmax after an add: over the same last axis).
      const actAt = soleReader(tail), A = actAt >= 0 ? nodes[actAt].layer : null;
      if (linear() && (A instanceof Activation || A instanceof Softmax)) {
        act = { type: A.type as Epilogue['type'], alpha: A instanceof Activation ? A.alpha : 0 };
        tail = actAt; done.add(actAt);
        if (A.type === 'relu') folded.relu++; else folded.act++;
      }
      const y = newValue(nodes[tail].layer.outShape);
      if (L instanceof Conv2D) ops.push({ kind: 'conv', name: L.name, x, y, res, pre, geo: L.geo, w, b, act });
      else ops.push({ kind: 'dense', name: L.name, x, y, res, pre, k: L.inFeatures, n: L.units, w, b, act });
      valueOf.set(tail, y); nodeOf[y] = tail;
      return;
    }
    if (L.type === 'flatten' || L.type === 'reshape' || L.type === 'dropout') {
      valueOf.set(i, x); folded.alias++; // same buffer: only the float count matters from here on
      return;
    }
    const outShape = L.outShape, n = numelOf(outShape), c = outShape[outShape.length - 1];
    // A batch norm or an add takes the ReLU that alone reads it as its epilogue.
    let relu = false, tail = i;
    const reluAt = soleReader(i);
    if ((L instanceof BatchNorm || L instanceof Add) && isType(reluAt, 'relu')) { relu = true; tail = reluAt; done.add(reluAt); folded.relu++; }
    const xs = node.inputs.map(src);
    const op: LayerOp = {
      name: L.name, xs, x, y: newValue(outShape), layer: L, relu,
      params: Object.fromEntries(L.params.map((d) => [d.name, weights.param(L, d.name, numelOf(d.shape))])),
      state: Object.fromEntries(L.state.map((d) => [d.name, weights.state(L, d.name, d.floats)])),
    };
    ops.push(label(op, n, c));
    valueOf.set(tail, op.y); nodeOf[op.y] = tail;
  });
  return { values, ops, output: src(output), nodeOf, folded };
}

/** The op's kind and the fields tools read, for the layers they know; any other layer is a 'layer' op. */
function label(op: LayerOp, n: number, c: number): Op {
  const L = op.layer;
  if (L instanceof MaxPool2D || L instanceof AvgPool2D) return { ...op, kind: L instanceof MaxPool2D ? 'maxpool' : 'avgpool', geo: L.geo };
  if (L instanceof GlobalAvgPool2D) { const [h, w, ch] = L.inShapes[0]; return { ...op, kind: 'gap', hw: h * w, c: ch }; }
  if (L instanceof BatchNorm) {
    return { ...op, kind: 'batchnorm', rows: n / c, c, gamma: op.params.gamma, beta: op.params.beta,
      mean: op.state.running_mean, variance: op.state.running_var, epsilon: L.epsilon };
  }
  if (L instanceof Activation) return { ...op, kind: 'act', type: L.type, alpha: L.alpha, n };
  if (L instanceof Softmax) return { ...op, kind: 'softmax', rows: n / c, classes: c };
  if (L instanceof LRN) return { ...op, kind: 'lrn', rows: n / c, c, radius: L.radius, bias: L.bias, alpha: L.alpha, beta: L.beta };
  if (L instanceof Add) return { ...op, kind: 'add' };
  if (L instanceof Concat) return { ...op, kind: 'concat', widths: L.inShapes.map((sh) => sh[sh.length - 1]), rows: n / c };
  return { ...op, kind: 'layer' };
}
