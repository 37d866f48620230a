// Recurrent layers — simple_rnn, lstm, gru — over per-example sequences [t, features], Keras's options and
// weights: kernel [f, G·u], recurrent_kernel [u, G·u], bias [G·u] (GRU with resetAfter: [2, G·u], input bias
// then recurrent bias); gate order i, f, c, o (LSTM) and z, r, h (GRU), as Keras and tfjs keep them.
// One kernel call each way (assembly/rnn.ts): forward keeps the gates and states in the layer's planned `work`
// buffer, and backward runs backpropagation through time from it.
//   x [b, t, f] → y [b, t, u] (returnSequences) or [b, u] (the last state)
// returnState (Keras's return_state): the one output packs [output, h, c] per example as rows of u — y
// [b, t + 2, u] for an LSTM returning sequences, [b, 2, u] for a GRU's last state — and `select` layers pick
// the parts (Layer.parts, src/layers/select.ts): rede's graph gives each layer one output tensor.
// Initial state (Keras's initial_state): a second input h0 [u] (and a third, c0 [u], for an LSTM), any
// layer's output; backward writes their gradients.
// Masking: when the input is masked (an embedding with maskZero or a masking layer before it), a step whose
// inputs are all 0 is skipped per example; with returnSequences the output stays masked for a next layer.
import type { Engine } from '../engine/engine';
import { RedeError, shapeStr } from '../engine/errors';
import { RNN_DESC_BYTES, writeRnnDesc, type RnnDesc } from '../engine/generated/abi';
import { fans } from '../init';
import { Layer, expectInputs, handles, type BufferDecl, type Call, type Handles, type Init, type Shape, type Site, type Step } from './layer';

export const RNN_TYPES = ['simple_rnn', 'lstm', 'gru'] as const;
export type RnnType = (typeof RNN_TYPES)[number];
export const RNN_ACTIVATIONS = ['tanh', 'relu', 'sigmoid', 'linear'] as const;
export const RNN_RECURRENT_ACTIVATIONS = ['sigmoid', 'hard_sigmoid'] as const;

export interface RnnConfig {
  name: string; units: number;
  /** The state's (and LSTM's cell input's) activation; default tanh. */
  activation?: (typeof RNN_ACTIVATIONS)[number];
  /** The gates' activation (LSTM, GRU); default sigmoid. hard_sigmoid is Keras 2's and tfjs's clip(0.2x + 0.5, 0, 1). */
  recurrentActivation?: (typeof RNN_RECURRENT_ACTIVATIONS)[number];
  returnSequences?: boolean; goBackwards?: boolean;
  /** The output packs [output, h, c] (LSTM) or [output, h]; pick them with select layers. */
  returnState?: boolean;
  /** GRU: the reset gate applies after the recurrent product (Keras 2 and tfjs's default: true). */
  resetAfter?: boolean;
  useBias?: boolean; init?: Init; recurrentInit?: Init; l1?: number; l2?: number;
}

/** The kernel's codes (assembly/rnn.ts). */
const CELL: Record<RnnType, number> = { simple_rnn: 0, lstm: 1, gru: 2 };
const ACT: Record<string, number> = { tanh: 0, relu: 1, sigmoid: 2, linear: 3, hard_sigmoid: 4 };
const GATES: Record<RnnType, number> = { simple_rnn: 1, lstm: 4, gru: 3 };

export class Recurrent extends Layer {
  override readonly p: Handles<'w' | 'u' | 'b'>;
  override readonly g: Handles<'w' | 'u' | 'b'>;
  override readonly buf: Handles<'desc' | 'work'>;
  readonly steps: number;
  readonly features: number;
  readonly units: number;
  readonly useBias: boolean;
  /** Whether the input marks skipped steps by all-zero rows. */
  readonly maskedInput: boolean;
  /** Whether the initial state is given (inputs 1 and, for an LSTM, 2); else it is zero. */
  readonly initialState: boolean;
  private readonly codes: Omit<RnnDesc, 'n'>;

  constructor(type: RnnType, readonly cfg: RnnConfig, inShapes: readonly Shape[], maskedInput = false) {
    const where = `${type} '${cfg.name}'`;
    const states = type === 'lstm' ? 2 : 1, stateNames = type === 'lstm' ? 'h0 and c0' : 'h0';
    if (inShapes.length !== 1 && inShapes.length !== 1 + states) {
      throw new RedeError(`${where}: expects 1 input (the sequence) or ${1 + states} (the sequence, then the initial state ${stateNames}), got ${inShapes.length}`);
    }
    if (inShapes[0].length !== 2) throw new RedeError(`${where}: input must be a sequence [steps, features] per example, got ${shapeStr(inShapes[0])}`);
    if (!Number.isInteger(cfg.units) || cfg.units < 1) throw new RedeError(`${where}: units must be a positive integer, got ${cfg.units}`);
    inShapes.slice(1).forEach((sh, i) => {
      if (sh.length !== 1 || sh[0] !== cfg.units) throw new RedeError(`${where}: initial state ${i === 0 ? 'h0' : 'c0'} (input ${i + 1}) must be [${cfg.units}] (units) per example, got ${shapeStr(sh)}`);
    });
    if (cfg.resetAfter !== undefined && type !== 'gru') throw new RedeError(`${where}: resetAfter is a gru option`);
    if (cfg.recurrentActivation !== undefined && type === 'simple_rnn') throw new RedeError(`${where}: a simple_rnn has no gates, so no recurrentActivation`);
    const [t, f] = inShapes[0], u = cfg.units, returnSeq = cfg.returnSequences ?? false, returnState = cfg.returnState ?? false;
    const outShape = returnSeq ? [t, u] : [u];
    super(type, cfg.name, inShapes, returnState ? [(returnSeq ? t : 1) + states, u] : outShape);
    this.steps = t; this.features = f; this.units = u;
    this.useBias = cfg.useBias ?? true;
    this.maskedInput = maskedInput;
    this.masks = maskedInput && returnSeq && !returnState;
    if (returnState) {
      this.parts = [{ name: 'output', shape: outShape, masks: maskedInput && returnSeq }, { name: 'h', shape: [u], masks: false },
        ...(type === 'lstm' ? [{ name: 'c', shape: [u], masks: false }] : [])];
    }
    this.initialState = inShapes.length > 1;
    const resetAfter = type === 'gru' && (cfg.resetAfter ?? true);
    this.codes = { t, f, u, cell: CELL[type], act: ACT[cfg.activation ?? 'tanh'], ract: ACT[cfg.recurrentActivation ?? 'sigmoid'],
      returnSeq: returnSeq ? 1 : 0, backwards: cfg.goBackwards ? 1 : 0, resetAfter: resetAfter ? 1 : 0, masked: maskedInput ? 1 : 0,
      returnState: returnState ? 1 : 0 };
    this.p = handles('w', 'u', this.useBias && 'b');
    this.g = handles('w', 'u', this.useBias && 'b');
    this.buf = handles('desc', 'work');
    this.l1 = cfg.l1 ?? 0; this.l2 = cfg.l2 ?? 0;
    const gu = GATES[type] * u, kShape = [f, gu], rShape = [u, gu];
    const kf = fans(kShape), rf = fans(rShape);
    this.params.push({ name: 'w', shape: kShape, init: cfg.init ?? 'glorot_uniform', fanIn: kf.fanIn, fanOut: kf.fanOut, regularize: true });
    this.params.push({ name: 'u', shape: rShape, init: cfg.recurrentInit ?? 'glorot_uniform', fanIn: rf.fanIn, fanOut: rf.fanOut, regularize: true });
    if (this.useBias) this.params.push({ name: 'b', shape: resetAfter ? [2, gu] : [gu], init: 'zeros', fanIn: kf.fanIn, fanOut: kf.fanOut, regularize: false });
  }

  private descOf(batch: number): RnnDesc { return { n: batch, ...this.codes }; }

  /**
   * Bytes of `work` for `batch` examples: the wasm kernel's layout (assembly/rnn.ts header), which bind()
   * checks against the kernels' own rnn_work_bytes; the reference needs less.
   */
  private workBytes(batch: number): number {
    const { t, u, cell, masked } = this.codes, al = (v: number): number => Math.ceil(v / 16) * 16, nt = batch * t;
    return 4 * (al(nt * GATES[this.type as RnnType] * u) + 2 * al(nt * u) + (cell === 0 ? 0 : al(nt * u)) + (masked ? al(nt) : 0) +
      (cell === CELL.lstm ? al(batch * u) : 0));
  }

  override flops(): number { const { t, f, u } = this.codes, gu = GATES[this.type as RnnType] * u; return 2 * t * gu * (f + u); }
  override buffers(batch: number): BufferDecl[] {
    return [{ name: 'desc', bytes: RNN_DESC_BYTES, desc: true }, { name: 'work', bytes: this.workBytes(batch) }];
  }
  /** The kernels tell their own sizes from a descriptor in memory. */
  private ask(e: Engine, batch: number, what: (d: number) => number): number {
    const mark = e.mark(), d = e.reserve(RNN_DESC_BYTES, 'rnn descriptor');
    writeRnnDesc(e, d, this.descOf(batch));
    const bytes = what(d);
    e.release(mark);
    return bytes;
  }
  override scratchBytes(e: Engine, batch: number): number { return this.ask(e, batch, (d) => e.k.rnn_scratch_bytes(d)); }
  override bind(e: Engine, capacity: number): void {
    super.bind(e, capacity);
    const need = this.ask(e, capacity, (d) => e.k.rnn_work_bytes(d));
    if (need > this.workBytes(capacity)) throw new RedeError(`${this.type} '${this.name}': the kernels need ${need} bytes of work for batch ${capacity}, the layer planned ${this.workBytes(capacity)}`);
  }
  private desc(e: Engine, at: number, batch: number): number {
    return this.descriptor(e, at, batch, () => writeRnnDesc(e, at, this.descOf(batch)));
  }

  forwardCalls({ e, batch, x: [x, h0, c0], y, p, buf, scratch }: Site<this>): Call[] {
    return [['rnn_forward_f32', [this.desc(e, buf.desc, batch), x, h0 ?? 0, c0 ?? 0, p.w, p.u, this.useBias ? p.b : 0, y, buf.work, scratch]]];
  }

  /**
   * 0, or a byte address of [batch, steps, units] floats: each backward then leaves ∂L/∂h of every step there
   * (step order) — a probe of the gradient through time (src/experiments/adding-problem.ts).
   */
  stateGradsAt = 0;

  backward(s: Step, [x]: readonly number[], _y: number, dy: number, [dx, dh0, dc0]: readonly number[]): void {
    const desc = this.desc(s.e, this.buf.desc, s.batch), b = this.useBias;
    s.k.rnn_backward_f32(desc, x, this.p.w, this.p.u, b ? this.p.b : 0, dy, this.buf.work, dx || 0, dh0 || 0, dc0 || 0,
      this.g.w, this.g.u, b ? this.g.b : 0,
      s.accumulate ? 1 : 0, this.stateGradsAt, s.scratch);
  }

  config(): Record<string, unknown> { return { type: this.type, ...this.cfg }; }
}
