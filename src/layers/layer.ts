// The layer contract. A layer knows its per-example input and output shapes, declares its parameters and
// the buffers it needs, describes its forward once as kernel calls on given addresses (forwardCalls: the
// training step runs them, the inference compiler emits them on its own arena), and runs backward as direct
// kernel calls on planned addresses.
// Shapes here are per example (no batch dimension): [h, w, c] for images, [features] for vectors.
import type { Engine } from '../engine/engine';
import type { Kernels } from '../engine/generated/kernels';
import { RedeError, shapeStr } from '../engine/errors';

export type Shape = readonly number[];

export type Init = 'glorot_uniform' | 'glorot_normal' | 'he_uniform' | 'he_normal' | 'lecun_uniform' | 'zeros' | 'ones';

/** A trainable parameter: lives in the flat parameter buffer, with a gradient and optimizer state. */
export interface ParamDecl {
  name: string;
  shape: Shape;
  init: Init;
  fanIn: number;
  fanOut: number;
  /** Whether L1/L2 regularization applies (weights yes, biases and BN scales no). */
  regularize: boolean;
}

/** One of several outputs packed in a layer's output (Layer.parts): its name, per-example shape, and whether it is a masked sequence. */
export interface OutputPart { name: string; shape: Shape; masks: boolean }

/** Non-trainable saved state (batch norm running statistics). */
export interface StateDecl { name: string; floats: number; init: 0 | 1 }

/**
 * A per-batch buffer a layer keeps between forward and backward (argmax, saved statistics...). `desc`: a
 * kernel descriptor the layer writes itself, so it must persist (inference keeps it in its descriptor
 * region; other buffers are only op scratch there).
 */
export interface BufferDecl { name: string; bytes: number; desc?: true }

/** One kernel call: export name and its numeric arguments (data: inference ships the same lists to workers). */
export type Call = [name: keyof Kernels, args: number[]];

/**
 * Where one forward runs: the engine, the batch, the input and output addresses and the layer's handles
 * there (the model's, or the inference arena's copies), and `scratch` bytes of scratchBytes(e, batch).
 */
export interface Site<L extends Layer = Layer> {
  e: Engine;
  batch: number;
  training: boolean;
  /** Dropout's mask (see Step). */
  seed: number;
  step: number;
  exampleOffset: number;
  x: readonly number[];
  y: number;
  p: L['p'];
  s: L['s'];
  buf: L['buf'];
  scratch: number;
}

/** What a step needs beyond addresses: the batch actually present and the seeds for stochastic layers. */
export interface Step {
  e: Engine;
  k: Kernels;
  /** Examples in this (micro-)batch: at most the planned capacity. */
  batch: number;
  training: boolean;
  seed: number;
  /** Optimizer step: with seed and the global example index it fixes dropout masks. */
  step: number;
  /** Global index of this micro-batch's first example within the mini-batch. */
  exampleOffset: number;
  /** Shared transient scratch: every layer may use all of it during its own call. */
  scratch: number;
  /** Parameter gradients: add into them (a later micro-batch) or overwrite (the first). */
  accumulate: boolean;
}

/**
 * A layer's addresses of one kind, one field per name it declares (`this.p.w`, `this.buf.argmax`): a
 * misspelled name is a type error. 0 until the model binds it; read-only outside Layer's bind methods.
 */
export type Handles<K extends string> = { readonly [name in K]: number };

/** The handles `names`; a name given as `false` (a bias the layer does not use) is not declared. */
export function handles<K extends string>(...names: (K | false)[]): Handles<K> {
  const h: Record<string, number> = {};
  for (const n of names) if (n !== false) h[n] = 0;
  return h as Handles<K>;
}

type HandleKind = 'p' | 'g' | 's' | 'buf';
const HANDLE_KINDS: readonly HandleKind[] = ['p', 'g', 's', 'buf'];
/** What each kind is called in errors, and which of the layer's declarations the model binds it from. */
const KIND: Record<HandleKind, { what: string; from: string }> = {
  p: { what: 'parameter', from: 'params' },
  g: { what: 'gradient', from: 'params' },
  s: { what: 'state', from: 'state' },
  buf: { what: 'buffer', from: 'buffers()' },
};
const NONE: Handles<string> = Object.freeze({});

/** Runs calls on kernels k (the training path; inference binds its own). */
export function runCalls(k: Kernels, calls: readonly Call[]): void {
  for (const [name, args] of calls) (k[name] as (...a: number[]) => unknown)(...args);
}

export abstract class Layer {
  params: ParamDecl[] = [];
  state: StateDecl[] = [];
  /**
   * Addresses of parameters, their gradients (same names), state and buffers, bound by the model after
   * planning. A layer that has any redeclares the field with its names: `override readonly p = handles('w')`.
   * A kind a layer declares nothing of keeps this generic view, which code over any layer reads by name.
   */
  readonly p: Handles<string> = NONE;
  readonly g: Handles<string> = NONE;
  readonly s: Handles<string> = NONE;
  readonly buf: Handles<string> = NONE;
  /** false (the config's `trainable: false`): the optimizers leave this layer's parameters as they are. */
  trainable = true;
  /** L1/L2 coefficients applied to this layer's `regularize` parameters. */
  l1 = 0;
  l2 = 0;
  /**
   * Whether this layer's output is a masked sequence: all-zero steps are padding that a recurrent layer
   * reading it skips (an embedding with maskZero, a masking layer, a recurrent layer returning sequences of
   * a masked input). The graph tells each layer whether its inputs are (buildLayer's inMasks).
   */
  masks = false;
  /**
   * null, or the several outputs this layer's one output tensor packs back to back per example (a recurrent
   * layer with returnState: Keras's [output, h, c]). Only `select` layers may read such a tensor; each picks
   * one part (src/layers/select.ts).
   */
  parts: readonly OutputPart[] | null = null;

  constructor(
    readonly type: string,
    readonly name: string,
    readonly inShapes: readonly Shape[],
    readonly outShape: Shape,
  ) {}

  /** Buffers kept from forward to backward, for `batch` examples. */
  buffers(_batch: number): BufferDecl[] { return []; }
  /** Transient scratch bytes needed during one call, for `batch` examples (asks the kernels' size functions). */
  scratchBytes(_e: Engine, _batch: number): number { return 0; }
  /** Multiply-adds ×2 per example, forward. */
  flops(): number { return 0; }
  /** Called once addresses are known: descriptors written before are stale (a subclass calls super.bind). */
  bind(_e: Engine, _capacity: number): void { this.written = null; }

  /** Where and for which batch the layer's descriptors were last written (forward runs every step). */
  private written: { e: Engine; at: number; batch: number } | null = null;
  /**
   * Runs write() (which fills the descriptor at `at` for `batch`) unless this engine's `at` already holds
   * it: a training step rewrites nothing, an inference compile (another engine) writes its own copy.
   */
  protected descriptor(e: Engine, at: number, batch: number, write: () => void): number {
    const w = this.written;
    if (!w || w.e !== e || w.at !== at || w.batch !== batch) { write(); this.written = { e, at, batch }; }
    return at;
  }

  bindParam(name: string, addr: number): void { this.bindHandle(this.p, 'p', name, addr); }
  bindGrad(name: string, addr: number): void { this.bindHandle(this.g, 'g', name, addr); }
  bindState(name: string, addr: number): void { this.bindHandle(this.s, 's', name, addr); }
  bindBuffer(name: string, addr: number): void { this.bindHandle(this.buf, 'buf', name, addr); }

  /** Throws unless every declared handle has an address: the model calls it when planning is done. */
  checkBound(): void {
    for (const kind of HANDLE_KINDS) {
      for (const [name, addr] of Object.entries(this[kind])) {
        if (addr === 0) throw new RedeError(`${this.where}: ${KIND[kind].what} '${name}' has no address (declared as a handle, missing from the layer's ${KIND[kind].from})`);
      }
    }
  }

  /** Once per name per plan, and per gradient slice in a parallel step: one keyed load, two compares. */
  private bindHandle(handles: Handles<string>, kind: HandleKind, name: string, addr: number): void {
    const h = handles as Record<string, number>;
    if (typeof h[name] !== 'number') { // declared handles are numbers; inherited keys (constructor) are not
      throw new RedeError(`${this.where}: no ${KIND[kind].what} '${name}' to bind (declared: ${Object.keys(h).join(', ') || 'none'})`);
    }
    if (!Number.isInteger(addr) || addr <= 0) throw new RedeError(`${this.where}: ${KIND[kind].what} '${name}' must be bound to a positive address, got ${addr}`);
    h[name] = addr;
  }

  private get where(): string { return `${this.type} '${this.name}'`; }

  /**
   * The forward, y = f(x), as kernel calls on the site's addresses; it writes the layer's descriptors at
   * site.buf first (see descriptor()). The one description of the forward: training runs it (forward) and
   * the inference compiler emits it for every layer it does not specialize (src/infer/lower.ts).
   */
  abstract forwardCalls(site: Site<this>): Call[];

  /** y = f(x) in a step: x[i] are the input activations' addresses, y the output's. */
  forward(s: Step, x: readonly number[], y: number): void {
    runCalls(s.k, this.forwardCalls({ e: s.e, batch: s.batch, training: s.training, seed: s.seed, step: s.step,
      exampleOffset: s.exampleOffset, x, y, p: this.p, s: this.s, buf: this.buf, scratch: s.scratch }));
  }
  /**
   * Given dy, writes (overwrites) dx[i] for each input whose address is non-zero, and writes or (with
   * s.accumulate) adds parameter gradients. May overwrite dy (it is this layer's own buffer). `fromLogits`:
   * dy already is dL/d(logits()) — a cross-entropy fused with the layer's softmax wrote it (see logits()).
   */
  abstract backward(s: Step, x: readonly number[], y: number, dy: number, dx: readonly number[], fromLogits?: boolean): void;
  /**
   * Where forward leaves the logits when the layer ends in a softmax of its own (dense or conv2d with
   * activation 'softmax'), else 0. A cross-entropy head reads them and writes dL/dlogits into the layer's dy,
   * then backward runs fromLogits (src/train/objective.ts): the softmax's backward is skipped, as for a
   * softmax layer.
   */
  logits(): number { return 0; }
  /** The JSON config this layer was built from (round-trips through buildLayer). */
  abstract config(): Record<string, unknown>;
}

export const numelOf = (s: Shape): number => s.reduce((a, b) => a * b, 1);

export function expectRank(layer: string, shape: Shape, ranks: number[], what = 'input'): void {
  if (!ranks.includes(shape.length)) {
    throw new RedeError(`${layer}: ${what} must have rank ${ranks.join(' or ')} per example (e.g. [h, w, c] or [features]), got ${shapeStr(shape)}`);
  }
}

export function expectInputs(layer: string, inShapes: readonly Shape[], n: number): void {
  if (inShapes.length !== n) throw new RedeError(`${layer}: expects ${n} input${n === 1 ? '' : 's'}, got ${inShapes.length}`);
}
