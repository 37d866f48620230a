// bidirectional: Keras's Bidirectional wrapper around a simple_rnn, lstm or gru. Two recurrent layers of the
// same options read the same sequence, one forward and one with goBackwards flipped; their outputs merge:
//   yf = forward(x), yb = backward(x)   [b, t, u] (returnSequences) or [b, u]
//   y = [yf | rev(yb)] (concat, [b, t, 2u]), yf + rev(yb) (sum), yf ⊙ rev(yb) (mul), (yf + rev(yb)) / 2 (ave)
// where rev(yb) puts the backward direction's sequence back in time order (Keras does the same), so y at step
// τ sees x[..τ] forward and x[τ..] backward. With a masked input both directions skip the padding: the
// backward one walks the padded tail first, keeps its zero state there, and starts at the last real step.
// backward: the merge's gradient (rnn_merge_backward_f32) into dyf, dyb, each direction's backpropagation
// through time, and dx = dxf + dxb.
// Config: flat like a recurrent layer's, plus `layer` (the cell) and `mergeMode` (default concat):
//   { type: 'bidirectional', layer: 'lstm', units: 32, returnSequences: true, mergeMode: 'concat' }
// Weights: each direction's, under `forward/` and `backward/` (`bi/forward/kernel`, ... as Keras's
// forward_lstm/kernel). Not supported: returnState and an initial state (clear errors below).
import type { Engine } from '../engine/engine';
import { RedeError } from '../engine/errors';
import { Layer, numelOf, type BufferDecl, type Call, type Shape, type Site, type Step } from './layer';
import { RNN_TYPES, Recurrent, type RnnConfig, type RnnType } from './rnn';

export const MERGE_MODES = ['concat', 'sum', 'mul', 'ave'] as const;
export type MergeMode = (typeof MERGE_MODES)[number];
const MODE: Record<MergeMode, number> = { concat: 0, sum: 1, mul: 2, ave: 3 };

export interface BidirectionalConfig extends Omit<RnnConfig, 'returnState'> { layer: RnnType; mergeMode?: MergeMode; returnState?: never }

const DIRECTIONS = ['forward', 'backward'] as const;

export class Bidirectional extends Layer {
  readonly forwardLayer: Recurrent;
  readonly backwardLayer: Recurrent;
  readonly mode: MergeMode;
  /** Steps in each direction's output (t returning sequences, else 1) and its units. */
  private readonly rows: number;
  private readonly units: number;

  constructor(readonly cfg: BidirectionalConfig, inShapes: readonly Shape[], maskedInput = false) {
    const where = `bidirectional '${cfg.name}'`;
    if (!(RNN_TYPES as readonly unknown[]).includes(cfg.layer)) throw new RedeError(`${where}: layer must be one of ${RNN_TYPES.map((t) => `'${t}'`).join(', ')}, got ${JSON.stringify(cfg.layer)}`);
    if ((cfg as { returnState?: unknown }).returnState) throw new RedeError(`${where}: returnState is not supported in a bidirectional layer (use two recurrent layers, one with goBackwards)`);
    if (inShapes.length !== 1) throw new RedeError(`${where}: expects 1 input (the sequence; an initial state is not supported here), got ${inShapes.length}`);
    const { layer, mergeMode, type: _type, ...rnn } = cfg as BidirectionalConfig & { type?: string };
    const fw = new Recurrent(layer, { ...rnn, name: `${cfg.name}/forward` }, inShapes, maskedInput);
    const bw = new Recurrent(layer, { ...rnn, name: `${cfg.name}/backward`, goBackwards: !(cfg.goBackwards ?? false) }, inShapes, maskedInput);
    const mode = mergeMode ?? 'concat', u = fw.units, seq = cfg.returnSequences ?? false;
    const width = mode === 'concat' ? 2 * u : u;
    super('bidirectional', cfg.name, inShapes, seq ? [fw.steps, width] : [width]);
    this.forwardLayer = fw; this.backwardLayer = bw; this.mode = mode;
    this.rows = seq ? fw.steps : 1; this.units = u;
    this.masks = maskedInput && seq;
    this.l1 = fw.l1; this.l2 = fw.l2;
    for (const [dir, inner] of this.inner()) this.params.push(...inner.params.map((p) => ({ ...p, name: `${dir}/${p.name}` })));
    // Declared handles start at 0, so checkBound names any the model did not bind.
    for (const { name } of this.params) { this.p[name] = 0; this.g[name] = 0; }
    for (const { name } of this.buffers(1)) this.buf[name] = 0;
  }

  private inner(): [(typeof DIRECTIONS)[number], Recurrent][] { return [['forward', this.forwardLayer], ['backward', this.backwardLayer]]; }
  /** The direction layer a prefixed handle name belongs to, and its own name there. */
  private route(name: string): [Recurrent, string] {
    const cut = name.indexOf('/'), dir = name.slice(0, cut);
    if (cut < 0 || (dir !== 'forward' && dir !== 'backward')) return [this.forwardLayer, ''];
    return [dir === 'forward' ? this.forwardLayer : this.backwardLayer, name.slice(cut + 1)];
  }

  override flops(): number { return this.forwardLayer.flops() + this.backwardLayer.flops() + numelOf(this.outShape); }
  override buffers(batch: number): BufferDecl[] {
    const dirOut = batch * this.rows * this.units * 4, dx = batch * numelOf(this.inShapes[0]) * 4;
    return [
      ...this.inner().flatMap(([dir, inner]) => inner.buffers(batch).map((b) => ({ ...b, name: `${dir}/${b.name}` }))),
      { name: 'yf', bytes: dirOut }, { name: 'yb', bytes: dirOut }, { name: 'dyf', bytes: dirOut }, { name: 'dyb', bytes: dirOut }, { name: 'dxb', bytes: dx },
    ];
  }
  override scratchBytes(e: Engine, batch: number): number {
    return Math.max(this.forwardLayer.scratchBytes(e, batch), this.backwardLayer.scratchBytes(e, batch));
  }
  override bind(e: Engine, capacity: number): void {
    super.bind(e, capacity);
    this.forwardLayer.bind(e, capacity); this.backwardLayer.bind(e, capacity);
  }
  // The model binds this layer's prefixed handles; each direction's own handles (which its backward reads)
  // are bound at the same time to the same addresses. The generic maps hold the prefixed names.
  override bindParam(name: string, addr: number): void { this.bindHere('p', name, addr); const [l, n] = this.route(name); l.bindParam(n, addr); }
  override bindGrad(name: string, addr: number): void { this.bindHere('g', name, addr); const [l, n] = this.route(name); l.bindGrad(n, addr); }
  override bindBuffer(name: string, addr: number): void {
    this.bindHere('buf', name, addr);
    const [l, n] = this.route(name);
    if (n) l.bindBuffer(n, addr);
  }
  override checkBound(): void { super.checkBound(); this.forwardLayer.checkBound(); this.backwardLayer.checkBound(); }

  /** The handles this layer declares are its params' and buffers' names; kept in writable records. */
  override readonly p: Record<string, number> = {};
  override readonly g: Record<string, number> = {};
  override readonly buf: Record<string, number> = {};
  private bindHere(kind: 'p' | 'g' | 'buf', name: string, addr: number): void {
    const what = kind === 'p' ? 'parameter' : kind === 'g' ? 'gradient' : 'buffer', h = this[kind];
    if (!Object.hasOwn(h, name)) throw new RedeError(`bidirectional '${this.name}': no ${what} '${name}' to bind (declared: ${Object.keys(h).join(', ')})`);
    if (!Number.isInteger(addr) || addr <= 0) throw new RedeError(`bidirectional '${this.name}': ${what} '${name}' must be bound to a positive address, got ${addr}`);
    h[name] = addr;
  }

  /** A direction's site: its handles picked out of this layer's (the model's or an inference arena's). */
  private siteOf(dir: (typeof DIRECTIONS)[number], site: Site<this>, y: number): Site<Recurrent> {
    const p = site.p as Record<string, number>, buf = site.buf as Record<string, number>;
    return { ...site, y, p: { w: p[`${dir}/w`], u: p[`${dir}/u`], b: p[`${dir}/b`] ?? 0 }, buf: { desc: buf[`${dir}/desc`], work: buf[`${dir}/work`] }, s: {} };
  }

  forwardCalls(site: Site<this>): Call[] {
    const buf = site.buf as Record<string, number>, u = this.units, reverse = this.rows > 1 ? 1 : 0;
    return [
      ...this.forwardLayer.forwardCalls(this.siteOf('forward', site, buf.yf) as Site<Recurrent>),
      ...this.backwardLayer.forwardCalls(this.siteOf('backward', site, buf.yb) as Site<Recurrent>),
      ['rnn_merge_f32', [MODE[this.mode], site.batch, this.rows, u, reverse, buf.yf, buf.yb, site.y]],
    ];
  }

  backward(s: Step, x: readonly number[], _y: number, dy: number, [dx]: readonly number[]): void {
    const b = this.buf, reverse = this.rows > 1 ? 1 : 0;
    s.k.rnn_merge_backward_f32(MODE[this.mode], s.batch, this.rows, this.units, reverse, b.yf, b.yb, dy, b.dyf, b.dyb);
    this.forwardLayer.backward(s, x, b.yf, b.dyf, [dx || 0]);
    this.backwardLayer.backward(s, x, b.yb, b.dyb, [dx ? b.dxb : 0]);
    if (dx) s.k.add_acc_f32(b.dxb, dx, s.batch * numelOf(this.inShapes[0]));
  }

  config(): Record<string, unknown> { return { type: 'bidirectional', ...this.cfg }; }
}
