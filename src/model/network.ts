// A network: a graph of layers over planned memory, and its forward and backward — the floor below training.
// Parameters, gradients and state are laid out once when the network is made (one flat trainable buffer, so
// optimizers and the all-reduce are single kernel calls); activations and scratch once per batch capacity.
// Nothing is allocated in a step; nothing is disposed. Compile / fit / evaluate / predict / save are the
// facade's (src/api/model.ts); the step and the loop are src/train's; replicas for workers are src/parallel's.
import { Engine } from '../engine/engine';
import { RedeError, shapeStr } from '../engine/errors';
import { MemoryPlan, alignUp, type Part, PARTS } from '../engine/plan';
import { numelOf, type Layer, type Shape, type Step } from '../layers/layer';
import type { ModelConfig } from './config';
import { buildGraph, type Edge, type Graph } from './graph';
import { Dropout } from '../layers/dropout';
import { hash4 } from '../data/rng';
import { toExamples, type InputData } from '../data/input';
import { initParam } from './init';
import { summaryText } from './summary';
import type { LayerProbe } from './probe';
import { getWeights, setWeights, weightName, weightSlot, type GetWeightsOptions, type SetWeightsOptions, type WeightTensor, type WeightsLike } from './weights';

export interface ParamEntry {
  layer: Layer;
  /** The layer's handle name ('w', 'b', 'gamma', …). */
  name: string;
  /** The documented name, `<layer>/<kernel|bias|gamma|beta>` (src/model/weights.ts). */
  key: string;
  shape: Shape;
  /** Offset in floats from the start of the flat parameter buffer (and of the gradient buffer). */
  offset: number;
  n: number;
  regularize: boolean;
}

export interface NetworkOptions {
  engine?: Engine;
  /** Fixes initialization (and, in fit, shuffling, dropout and augmentation). Default 0. */
  seed?: number;
}

/** Where a network's parameters, state and gradient slices live (byte addresses in its engine's memory). */
export interface ParamRegions { params: number; state: number; grads: number; gradSlices: number }

/**
 * Where a new network's parameters go, given their sizes: `fresh` regions are initialized (weights from the
 * seed, state to its initial values); otherwise the network only binds to them and writes nothing — how
 * src/parallel lays out replicas and replays the main thread's plan in a worker.
 */
export type Placement = (sizes: { paramFloats: number; stateFloats: number }) => ParamRegions & { fresh: boolean; parts?: Record<Part, number> };

/** What a Step records besides the batch: see Step in src/layers/layer.ts. */
export interface StepOptions { training?: boolean; step?: number; accumulate?: boolean; exampleOffset?: number; seed?: number }

const FLOAT_ALIGN = 16; // 64 bytes

/** The private dx buffer of one edge of a tensor read more than once. */
const fanKey = (src: number, c: Edge): string => `fan:${src}:${c.node}:${c.slot}`;

export class Network {
  readonly graph: Graph;
  readonly layers: Layer[];
  readonly entries: ParamEntry[] = [];
  /** Trainable floats (with alignment padding) in the flat buffer. */
  readonly paramFloats: number;
  readonly stateFloats: number;
  // Raw byte addresses in the engine's memory are for rede's own floors (train, parallel, infer, io): marked
  // @internal, they are left out of the published types (stripInternal), so a user's code cannot depend on them.
  /** @internal Addresses: the flat parameters, gradient slice 0, state. */
  readonly params: number;
  /** @internal */
  readonly grads: number;
  /** @internal */
  readonly state: number;
  readonly gradSlices: number;
  readonly memoryParts: Record<Part, number> = { parameters: 0, gradients: 0, optimizer: 0, activations: 0, scratch: 0 };

  capacity = 0;
  /** @internal Per node: output activation and its gradient; the model input and its gradient. */
  act: number[] = [];
  /** @internal */
  dact: number[] = [];
  /** @internal */
  inputAct = 0;
  /** @internal */
  inputGrad = 0;
  /** @internal */
  scratch = 0;
  /** @internal */
  labels = 0;
  /** @internal */
  targets = 0;
  /** @internal */
  probs = 0;
  /** @internal */
  losses = 0;
  /** Per node, per input: where its backward writes dx (0: not needed). */
  private dxAddr: number[][] = [];
  /** Per node with several consumers: the private dx buffers summed into dact before its backward. */
  private fanIn: Map<number, number[]> = new Map();
  private inputFanIn: number[] = [];
  private activationsTop = -1;

  /** Whether this network initialized its parameters (false: it binds to regions another wrote). */
  readonly fresh: boolean;
  /** @internal Per-node timing while profiling (src/model/probe.ts); null otherwise. */
  probe: LayerProbe | null = null;

  protected constructor(readonly config: ModelConfig, readonly e: Engine, readonly seed: number, place: Placement) {
    this.graph = buildGraph(config);
    this.layers = this.graph.nodes.map((n) => n.layer);
    let off = 0, stateOff = 0;
    // Weight names are `<layer>/<name>` and a wrapper's are `<layer>/<part>/<name>`: a layer named like another's
    // part ('bi/forward' beside a bidirectional 'bi') would share names with it, so that is an error.
    const owner = new Map<string, string>();
    for (const layer of this.layers) {
      for (const key of [...layer.params, ...layer.state].map((d) => weightName(layer.name, d.name))) {
        const other = owner.get(key);
        if (other !== undefined) throw new RedeError(`model: layers '${other}' and '${layer.name}' both have a weight named '${key}'; rename one`);
        owner.set(key, layer.name);
      }
    }
    for (const layer of this.layers) {
      for (const p of layer.params) {
        const n = numelOf(p.shape);
        this.entries.push({ layer, name: p.name, key: weightName(layer.name, p.name), shape: p.shape, offset: off, n, regularize: p.regularize });
        off += alignUp(n, FLOAT_ALIGN);
      }
      for (const s of layer.state) stateOff += alignUp(s.floats, FLOAT_ALIGN);
    }
    this.paramFloats = off;
    this.stateFloats = stateOff;
    // Each dropout layer draws its own masks: its position is folded into the seed.
    this.layers.forEach((L, i) => { if (L instanceof Dropout) L.layerSeed = hash4(0xd40, i) | 0; });
    const r = place({ paramFloats: off, stateFloats: stateOff });
    this.params = r.params; this.state = r.state; this.grads = r.grads; this.gradSlices = r.gradSlices;
    this.fresh = r.fresh;
    if (r.parts) { this.memoryParts.parameters = r.parts.parameters; this.memoryParts.gradients = r.parts.gradients; }
    this.bindGrads(0);
    stateOff = 0;
    for (const layer of this.layers) {
      for (const s of layer.state) {
        layer.bindState(s.name, this.state + stateOff * 4);
        if (this.fresh) e.f32.fill(s.init, (layer.s[s.name] >>> 2), (layer.s[s.name] >>> 2) + s.floats);
        stateOff += alignUp(s.floats, FLOAT_ALIGN);
      }
    }
    for (const en of this.entries) en.layer.bindParam(en.name, this.params + en.offset * 4);
    if (this.fresh) this.initialize(seed);
  }

  /** A network with its own, freshly initialized parameters and `gradSlices` gradient slices in `e`. */
  static allocate(config: ModelConfig, e: Engine, seed: number, gradSlices = 1): Network {
    return new Network(config, e, seed, Network.allocator(e, gradSlices));
  }

  /** The placement that plans parameters | state | gradient slices in one allocation (see Network.allocate). */
  protected static allocator(e: Engine, gradSlices: number, fresh = true): Placement {
    return ({ paramFloats, stateFloats }) => {
      const plan = new MemoryPlan();
      plan.f32('params', paramFloats, 'parameters');
      plan.f32('state', stateFloats, 'parameters');
      plan.f32('grads', paramFloats * gradSlices, 'gradients');
      const l = e.allocate(plan, `model parameters (${paramFloats} floats)`);
      return { params: l.ptr.params, state: l.ptr.state, grads: l.ptr.grads, gradSlices, fresh, parts: l.partBytes };
    };
  }

  /** A network on regions laid out elsewhere (a replica of another): binds, writes nothing. */
  static on(config: ModelConfig, e: Engine, seed: number, regions: ParamRegions): Network {
    return new Network(config, e, seed, () => ({ ...regions, fresh: false }));
  }

  /** A network whose regions `place` decides once it knows their sizes (src/parallel replays a plan this way). */
  static placed(config: ModelConfig, e: Engine, seed: number, place: Placement): Network {
    return new Network(config, e, seed, place);
  }

  /** Seeded initialization of every parameter: same seed, same weights, whatever the engine. */
  initialize(seed: number): void {
    const f = this.e.f32;
    this.entries.forEach((en, i) => {
      const decl = en.layer.params.find((p) => p.name === en.name)!;
      initParam(f.subarray((this.params >>> 2) + en.offset, (this.params >>> 2) + en.offset + en.n), decl, seed, i);
    });
  }

  /** Points every layer's gradient addresses at slice `slice` of the gradient buffer. */
  bindGrads(slice: number): void {
    const base = this.grads + slice * this.paramFloats * 4;
    for (const en of this.entries) en.layer.bindGrad(en.name, base + en.offset * 4);
  }

  get inputShape(): Shape { return this.graph.input; }
  get outputShape(): Shape { return this.layers[this.graph.output].outShape; }
  /** Every output node (the first is `output`): several when the config names `outputs` (auxiliary heads). */
  get outputs(): readonly number[] { return this.graph.outputs; }
  /** @internal */
  get outputAct(): number { return this.act[this.graph.output]; }
  /** @internal */
  get outputGrad(): number { return this.dact[this.graph.output]; }
  /** Trainable parameter count (without alignment padding). */
  get paramCount(): number { return this.entries.reduce((s, en) => s + en.n, 0); }

  /**
   * Plans activations and scratch for up to `capacity` examples per call, plus any extra regions the
   * trainer needs (labels, loss scratch, optimizer state), in one allocation. Re-planning for a larger
   * capacity releases the old activations when they are on top of the arena.
   */
  plan(capacity: number, extra?: (p: MemoryPlan) => void): Record<string, number> {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RedeError(`model: batch capacity must be a positive integer, got ${capacity}`);
    if (this.activationsTop === this.e.mark() && this.actBase >= 0) this.e.release(this.actBase);
    const p = new MemoryPlan();
    const nIn = numelOf(this.graph.input) * capacity;
    p.f32('input', nIn, 'activations');
    p.f32('dinput', nIn, 'activations');
    let scratch = 0;
    this.graph.nodes.forEach((node, i) => {
      const L = node.layer, n = numelOf(L.outShape) * capacity;
      p.f32(`act:${i}`, n, 'activations');
      p.f32(`dact:${i}`, n, 'activations');
      for (const b of L.buffers(capacity)) p.bytes(`buf:${i}:${b.name}`, b.bytes, 'activations');
      scratch = Math.max(scratch, L.scratchBytes(this.e, capacity));
      // A node read by several layers gets one private dx buffer per reader, summed before its backward.
      if (node.consumers.length > 1) node.consumers.forEach((c) => p.f32(fanKey(i, c), n, 'activations'));
    });
    if (this.graph.inputConsumers.length > 1) this.graph.inputConsumers.forEach((c) => p.f32(fanKey(-1, c), nIn, 'activations'));
    p.bytes('scratch', scratch, 'scratch');
    // The loss's regions: labels (i32) or targets, softmax probabilities, and the losses the kernels leave —
    // one per example for cross-entropy, one per output value for the elementwise losses (BCE, MSE).
    const outN = Math.max(...this.graph.outputs.map((o) => numelOf(this.layers[o].outShape))) * capacity; // heads share them
    p.bytes('labels', 4 * capacity, 'activations');
    p.f32('targets', outN, 'activations');
    p.f32('probs', outN, 'activations');
    p.f32('losses', outN, 'activations');
    extra?.(p);
    this.actBase = this.e.mark();
    const l = this.e.allocate(p, `activations for batch ${capacity}`);
    this.activationsTop = this.e.mark();
    this.memoryParts.activations = l.partBytes.activations;
    this.memoryParts.scratch = l.partBytes.scratch;
    this.inputAct = l.ptr.input; this.inputGrad = l.ptr.dinput; this.scratch = l.ptr.scratch;
    this.labels = l.ptr.labels; this.targets = l.ptr.targets; this.probs = l.ptr.probs; this.losses = l.ptr.losses;
    this.act = this.graph.nodes.map((_, i) => l.ptr[`act:${i}`]);
    this.dact = this.graph.nodes.map((_, i) => l.ptr[`dact:${i}`]);
    this.fanIn.clear();
    this.graph.nodes.forEach((node, i) => {
      for (const b of node.layer.buffers(capacity)) node.layer.bindBuffer(b.name, l.ptr[`buf:${i}:${b.name}`]);
      if (node.consumers.length > 1) this.fanIn.set(i, node.consumers.map((c) => l.ptr[fanKey(i, c)]));
    });
    this.inputFanIn = this.graph.inputConsumers.length > 1 ? this.graph.inputConsumers.map((c) => l.ptr[fanKey(-1, c)]) : [];
    this.dxAddr = this.graph.nodes.map((node, i) => node.inputs.map((src, slot) => {
      const consumers = src < 0 ? this.graph.inputConsumers : this.graph.nodes[src].consumers;
      if (consumers.length > 1) return l.ptr[fanKey(src, { node: i, slot })];
      return src < 0 ? this.inputGrad : this.dact[src];
    }));
    for (const L of this.layers) { L.checkBound(); L.bind(this.e, capacity); }
    this.capacity = capacity;
    return l.ptr;
  }
  private actBase = -1;

  /** Makes sure activations are planned for `batch` examples. */
  ensureCapacity(batch: number): void {
    if (batch > this.capacity) this.plan(batch);
  }

  /** Forward over the planned addresses; the input must already be at `inputAct`. */
  forwardStep(s: Step): void {
    const { nodes } = this.graph, probe = this.probe;
    let t = probe ? probe.start() : 0;
    for (let i = 0; i < nodes.length; i++) {
      const node = nodes[i];
      node.layer.forward(s, node.inputs.map((src) => (src < 0 ? this.inputAct : this.act[src])), this.act[i]);
      if (probe) t = probe.forward(i, t);
    }
    if (probe) probe.forwardEnd = t;
  }

  /**
   * Backward from the outputs' `dact` (already written, e.g. by the loss). Parameter gradients go to the bound
   * gradient slice (overwritten unless s.accumulate). With `inputGrad`, dL/dinput lands at `inputGrad`.
   * `skip`: nodes whose backward the caller did itself (a softmax folded into its cross-entropy);
   * `fromLogits`: nodes whose dact the caller wrote as dL/dlogits (their own softmax folded: Layer.logits).
   */
  backwardStep(s: Step, inputGrad = false, skip?: ReadonlySet<number>, fromLogits?: ReadonlySet<number>): void {
    const { nodes } = this.graph, probe = this.probe;
    const n = s.batch;
    let t = probe ? (probe.backwardStart = probe.start()) : 0;
    for (let i = nodes.length - 1; i >= 0; i--) {
      if (skip?.has(i)) continue;
      const node = nodes[i];
      const fan = this.fanIn.get(i);
      if (fan) this.sumInto(this.dact[i], fan, numelOf(node.layer.outShape) * n);
      const dx = node.inputs.map((src, j) => (src < 0 && !inputGrad ? 0 : this.dxAddr[i][j]));
      node.layer.backward(s, node.inputs.map((src) => (src < 0 ? this.inputAct : this.act[src])), this.act[i], this.dact[i], dx, fromLogits?.has(i));
      if (probe) t = probe.backward(i, t);
    }
    if (inputGrad && this.inputFanIn.length) this.sumInto(this.inputGrad, this.inputFanIn, numelOf(this.graph.input) * n);
  }

  /** Where dL/d(input of node i, input j) is written: the trainer writes dlogits here when it skips a softmax. */
  dxOf(i: number, j = 0): number { return this.dxAddr[i][j]; }

  private sumInto(dst: number, srcs: number[], n: number): void {
    const k = this.e.k;
    k.add_f32(srcs[0], srcs[1], dst, n);
    for (let j = 2; j < srcs.length; j++) k.add_acc_f32(srcs[j], dst, n);
  }

  /** A Step for `batch` examples on this network's scratch (inference unless o.training). */
  step(batch: number, o: StepOptions = {}): Step {
    return {
      e: this.e, k: this.e.k, batch, training: o.training ?? false, seed: o.seed ?? this.seed, step: o.step ?? 0,
      exampleOffset: o.exampleOffset ?? 0, scratch: this.scratch, accumulate: o.accumulate ?? false,
    };
  }

  /** Checks a user batch: its length must be a whole number of examples of the input shape. */
  batchOf(x: Float32Array, what = 'input'): number {
    const per = numelOf(this.graph.input);
    if (x.length === 0 || x.length % per !== 0) {
      throw new RedeError(`model: ${what} has ${x.length} values, not a whole number of examples of shape ${shapeStr(this.graph.input)} (${per} values each)`);
    }
    return x.length / per;
  }

  /**
   * Forward on a batch (inference unless `training`; x in any form of src/data/input.ts); returns a copy of the
   * output [batch, ...outputShape].
   * Keeps activations for a following backward().
   */
  forward(input: InputData, opts: { training?: boolean; step?: number } = {}): Float32Array {
    const { data: x, n: b } = toExamples('model', 'input', input, this.graph.input); // any array form, checked
    this.ensureCapacity(b);
    this.e.write(this.inputAct, x);
    this.lastBatch = b;
    this.lastTraining = opts.training ?? false;
    this.forwardStep(this.step(b, { training: this.lastTraining, step: opts.step }));
    return this.e.read(this.outputAct, b * numelOf(this.outputShape));
  }
  private lastBatch = 0;
  private lastTraining = false;

  /**
   * Backward after forward(): dy is dL/doutput [batch, ...outputShape]. Adds (accumulate) or writes parameter
   * gradients into gradient slice 0 and returns dL/dinput — so custom losses and chained models (a GAN's
   * generator through its discriminator) work from TypeScript.
   */
  backward(dy: Float32Array, opts: { accumulate?: boolean; step?: number } = {}): Float32Array {
    const b = this.lastBatch;
    const n = b * numelOf(this.outputShape);
    if (b === 0) throw new RedeError('model: backward() needs a forward() first');
    if (dy.length !== n) throw new RedeError(`model: backward() got ${dy.length} values, expected ${n} = batch ${b} × ${shapeStr(this.outputShape)}`);
    this.e.write(this.outputGrad, dy);
    // The backward of the forward that ran: inference-mode dropout and batch norm differentiate as such.
    this.backwardStep(this.step(b, { training: this.lastTraining, step: opts.step, accumulate: opts.accumulate }), true);
    return this.e.read(this.inputGrad, b * numelOf(this.graph.input));
  }

  /** Zeroes gradient slice 0 (before accumulating backward() calls). */
  zeroGrads(): void { this.e.k.fill_f32(this.grads, this.paramFloats, 0); }

  /**
   * Every parameter and batch-norm statistic by its documented name (`conv1/kernel`, `bn/moving_mean`;
   * src/model/weights.ts), as copies { shape, data } in rede's layout, or PyTorch's with { layout: 'pytorch' }.
   */
  getWeights(o?: GetWeightsOptions): Map<string, WeightTensor> { return getWeights(this, o); }
  /**
   * Writes weights given by name (a Map or an object, e.g. getWeights' result or a converted state_dict) in
   * `fromLayout`. Every name and shape is checked first: on any error nothing is written.
   */
  setWeights(weights: WeightsLike, o?: SetWeightsOptions): void { setWeights(this, weights, o); }
  /** One weight's values (a copy, rede's layout) by documented name. */
  getWeight(name: string): Float32Array {
    const s = weightSlot(this, 'getWeight', name);
    return this.e.read(s.at, s.n);
  }
  setWeight(name: string, values: ArrayLike<number>): void {
    const s = weightSlot(this, 'setWeight', name);
    if (values.length !== s.n) throw new RedeError(`setWeight: '${name}' has ${s.n} values ${shapeStr(s.shape)}, got ${values.length}`);
    this.e.write(s.at, values);
  }
  /** One parameter's gradient (a copy) in gradient slice `slice`, by documented name. */
  getGrad(name: string, slice = 0): Float32Array {
    const s = weightSlot(this, 'getGrad', name);
    if (s.kind !== 'param') throw new RedeError(`getGrad: '${name}' is batch-norm state, not a trainable parameter; it has no gradient`);
    if (!(Number.isInteger(slice) && slice >= 0 && slice < this.gradSlices)) throw new RedeError(`getGrad: slice must be an integer in [0, ${this.gradSlices}), got ${slice}`);
    return this.e.read(s.grad + slice * this.paramFloats * 4, s.n);
  }

  summary(): string { return summaryText(this); }

  /** Bytes of the planned arena by part. */
  memory(): Record<Part | 'total', number> {
    const out = { ...this.memoryParts, total: 0 };
    for (const p of PARTS) out.total += out[p];
    return out;
  }
}
