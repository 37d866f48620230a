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
// forward_lstm/kernel).
// returnState (Keras: [output, forward_h, forward_c, backward_h, backward_c]): the one output packs the merged
// output and then each direction's last state per example, flat ([rows·width + 2·k·u], k = 2 for an LSTM, else
// 1); select layers pick the parts (src/layers/select.ts). Initial state (Keras's initial_state, the same
// order): inputs [seq, forward h0, (c0), backward h0, (c0)], each [u].
import type { Engine } from '../engine/engine';
import { RedeError } from '../engine/errors';
import { Layer, numelOf, type BufferDecl, type Call, type Shape, type Site, type Step } from './layer';
import { RNN_TYPES, Recurrent, type RnnConfig, type RnnType } from './rnn';

export const MERGE_MODES = ['concat', 'sum', 'mul', 'ave'] as const;
export type MergeMode = (typeof MERGE_MODES)[number];
const MODE: Record<MergeMode, number> = { concat: 0, sum: 1, mul: 2, ave: 3 };

export interface BidirectionalConfig extends RnnConfig { layer: RnnType; mergeMode?: MergeMode }

const DIRECTIONS = ['forward', 'backward'] as const;

export class Bidirectional extends Layer {
  readonly forwardLayer: Recurrent;
  readonly backwardLayer: Recurrent;
  readonly mode: MergeMode;
  /** Steps in each direction's output (t returning sequences, else 1) and its units. */
  private readonly rows: number;
  private readonly units: number;
  /** The merged output's width; state rows per direction (returnState: 2 LSTM, 1 else; 0 without). */
  private readonly width: number;
  private readonly states: number;

  constructor(readonly cfg: BidirectionalConfig, inShapes: readonly Shape[], maskedInput = false) {
    const where = `bidirectional '${cfg.name}'`;
    if (!(RNN_TYPES as readonly unknown[]).includes(cfg.layer)) throw new RedeError(`${where}: layer must be one of ${RNN_TYPES.map((t) => `'${t}'`).join(', ')}, got ${JSON.stringify(cfg.layer)}`);
    const k = cfg.layer === 'lstm' ? 2 : 1, names = cfg.layer === 'lstm' ? 'h0, c0' : 'h0';
    if (inShapes.length !== 1 && inShapes.length !== 1 + 2 * k) {
      throw new RedeError(`${where}: expects 1 input (the sequence) or ${1 + 2 * k} (the sequence, then the initial state: forward ${names}, backward ${names}), got ${inShapes.length}`);
    }
    const { layer, mergeMode, type: _type, ...rnn } = cfg as BidirectionalConfig & { type?: string };
    const init = inShapes.length > 1, seqShape = inShapes[0];
    const fw = new Recurrent(layer, { ...rnn, name: `${cfg.name}/forward` }, init ? [seqShape, ...inShapes.slice(1, 1 + k)] : [seqShape], maskedInput);
    const bw = new Recurrent(layer, { ...rnn, name: `${cfg.name}/backward`, goBackwards: !(cfg.goBackwards ?? false) },
      init ? [seqShape, ...inShapes.slice(1 + k)] : [seqShape], maskedInput);
    const mode = mergeMode ?? 'concat', u = fw.units, seq = cfg.returnSequences ?? false, returnState = cfg.returnState ?? false;
    const width = mode === 'concat' ? 2 * u : u, merged = seq ? [fw.steps, width] : [width];
    super('bidirectional', cfg.name, inShapes, returnState ? [(seq ? fw.steps : 1) * width + 2 * k * u] : merged);
    this.forwardLayer = fw; this.backwardLayer = bw; this.mode = mode;
    this.rows = seq ? fw.steps : 1; this.units = u; this.width = width; this.states = returnState ? k : 0;
    this.masks = maskedInput && seq && !returnState;
    if (returnState) {
      const st = (n: string) => ({ name: n, shape: [u], masks: false });
      this.parts = [{ name: 'output', shape: merged, masks: maskedInput && seq },
        ...DIRECTIONS.flatMap((d) => [st(`${d}_h`), ...(k === 2 ? [st(`${d}_c`)] : [])])];
    }
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
    const dirOut = batch * (this.rows + this.states) * this.units * 4, dx = batch * numelOf(this.inShapes[0]) * 4;
    const merged = batch * this.rows * this.width * 4;
    return [
      ...this.inner().flatMap(([dir, inner]) => inner.buffers(batch).map((b) => ({ ...b, name: `${dir}/${b.name}` }))),
      { name: 'yf', bytes: dirOut }, { name: 'yb', bytes: dirOut }, { name: 'dyf', bytes: dirOut }, { name: 'dyb', bytes: dirOut }, { name: 'dxb', bytes: dx },
      // returnState: the merged output before it is packed with the states, and its gradient
      ...(this.states ? [{ name: 'ym', bytes: merged }, { name: 'dym', bytes: merged }] : []),
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

  /** Each direction's inputs: the sequence, then its part of the initial state (if given). */
  private inputsOf(dir: (typeof DIRECTIONS)[number], x: readonly number[]): number[] {
    const k = (x.length - 1) / 2;
    return [x[0], ...(dir === 'forward' ? x.slice(1, 1 + k) : x.slice(1 + k))];
  }

  forwardCalls(site: Site<this>): Call[] {
    const buf = site.buf as Record<string, number>, u = this.units, reverse = this.rows > 1 ? 1 : 0, n = site.batch;
    const inRows = this.rows + this.states, calls: Call[] = [
      ...this.forwardLayer.forwardCalls({ ...this.siteOf('forward', site, buf.yf), x: this.inputsOf('forward', site.x) } as Site<Recurrent>),
      ...this.backwardLayer.forwardCalls({ ...this.siteOf('backward', site, buf.yb), x: this.inputsOf('backward', site.x) } as Site<Recurrent>),
    ];
    if (!this.states) return [...calls, ['rnn_merge_f32', [MODE[this.mode], n, this.rows, u, inRows, reverse, buf.yf, buf.yb, site.y]]];
    // returnState: merge into ym, then pack [merged | forward states | backward states] per example into y.
    const merged = this.rows * this.width, total = numelOf(this.outShape), ks = this.states * u, skip = 4 * this.rows * u;
    return [...calls,
      ['rnn_merge_f32', [MODE[this.mode], n, this.rows, u, inRows, reverse, buf.yf, buf.yb, buf.ym]],
      ['copy_rows_f32', [n, merged, buf.ym, merged, site.y, total]],
      ['copy_rows_f32', [n, ks, buf.yf + skip, inRows * u, site.y + 4 * merged, total]],
      ['copy_rows_f32', [n, ks, buf.yb + skip, inRows * u, site.y + 4 * (merged + ks), total]]];
  }

  backward(s: Step, x: readonly number[], _y: number, dy: number, dx: readonly number[]): void {
    const b = this.buf, reverse = this.rows > 1 ? 1 : 0, u = this.units, n = s.batch, inRows = this.rows + this.states;
    let dMerged = dy;
    if (this.states) {
      // Unpack dy: the merged output's part into dym, each direction's state rows after its output rows.
      const merged = this.rows * this.width, total = numelOf(this.outShape), ks = this.states * u, skip = 4 * this.rows * u;
      s.k.copy_rows_f32(n, merged, dy, total, b.dym, merged);
      s.k.copy_rows_f32(n, ks, dy + 4 * merged, total, b.dyf + skip, inRows * u);
      s.k.copy_rows_f32(n, ks, dy + 4 * (merged + ks), total, b.dyb + skip, inRows * u);
      dMerged = b.dym;
    }
    s.k.rnn_merge_backward_f32(MODE[this.mode], n, this.rows, u, inRows, reverse, b.yf, b.yb, dMerged, b.dyf, b.dyb);
    const dxs = this.inputsOf('forward', dx), dxsb = this.inputsOf('backward', dx), want = dx[0] || 0;
    this.forwardLayer.backward(s, this.inputsOf('forward', x), b.yf, b.dyf, [want, ...dxs.slice(1)]);
    this.backwardLayer.backward(s, this.inputsOf('backward', x), b.yb, b.dyb, [want ? b.dxb : 0, ...dxsb.slice(1)]);
    if (want) s.k.add_acc_f32(b.dxb, want, n * numelOf(this.inShapes[0]));
  }

  config(): Record<string, unknown> { return { type: 'bidirectional', ...this.cfg }; }
}
