// The captioner's decoder: an LSTM with soft attention over an image's feature grid (Show, Attend and Tell,
// Xu et al. 2015, §3.1.2 and §4.2), over planned memory in the engine's arena.
//
// Sizes: n examples (≤ capacity N), T steps, L grid positions, D features per position, A attention units,
// H LSTM units, M embedding width, V vocabulary. Per example, with a_i the annotations (feats [L, D]):
//   h₀ = tanh(ā·W_ih + b_ih), c₀ = tanh(ā·W_ic + b_ic)            ā = (1/L) Σ_i a_i
//   pa_i = a_i·W_a + b_a                                            once per image
//   step t (input word y_{t−1}; y_{−1} = <start>):
//     z_t, α_t = attention(pa, h_{t−1}·W_h, w)                     assembly/attention.ts
//     (option location: pa_i ← pa_i + Σ_o α_{t−1}(i+o)·W_l[o] over the 3×3 neighbourhood, α_{−1} = 0)
//     (option centre: z_t ← z_t − ā, so that flat attention reads nothing)
//     x_t = [E[y_{t−1}], z_t]                                       gates = x_t·W_x + h_{t−1}·W_r + b_g (i, f, g, o)
//     c_t = f⊙c_{t−1} + i⊙g, h_t = o⊙tanh(c_t)
//     q_t = tanh(E[y_{t−1}] + h_t·L_h + z_t·L_z + b_d)              the deep output (eq. 7, with a tanh)
//     p_t = softmax(q_t·W_o + b_o)
// Training is teacher forcing: y_{t−1} is the reference word, the loss the mean cross-entropy over the batch's
// non-padding targets, plus optionally `sharpen`·(the mean entropy −Σ_i α_i log α_i of those steps' attention):
// a pressure to look somewhere at every word. Without it a decoder reads an object while saying its size and
// colour and then, its state knowing the shape, lets the attention go flat on the shape word itself. Backward runs the steps in reverse (backpropagation through time); the GEMMs are the
// kernels' gemm_f32, the attention's fused passes assembly/attention.ts, the elementwise gates plain loops
// (n·4H per step: small next to the GEMMs). Activations are kept time-major ([T, n, ·]) so that each step's
// rows are one contiguous GEMM operand.
import type { Engine } from '../engine/engine';
import { RedeError } from '../engine/errors';
import { MemoryPlan } from '../engine/plan';
import { normalAt } from '../data/rng';
import type { ParamEntry } from '../model/network';
import type { Layer } from '../layers/layer';

export interface DecoderSizes { L: number; D: number; A: number; H: number; M: number; V: number }

/** The decoder's parameters, in the flat buffer's order; shapes from the sizes. */
const PARAMS = (s: DecoderSizes, location: boolean): [string, number[]][] => [
  ['emb', [s.V, s.M]],
  ['wa', [s.D, s.A]], ['ba', [s.A]], ['wh', [s.H, s.A]], ['wv', [s.A]],
  ['wih', [s.D, s.H]], ['bih', [s.H]], ['wic', [s.D, s.H]], ['bic', [s.H]],
  ['wx', [s.M + s.D, 4 * s.H]], ['wr', [s.H, 4 * s.H]], ['bg', [4 * s.H]],
  ['lh', [s.H, s.M]], ['lz', [s.D, s.M]], ['bd', [s.M]],
  ['wo', [s.M, s.V]], ['bo', [s.V]],
  // Location-aware attention: a 3×3 convolution of the previous step's attention map onto the A units.
  ...(location ? [['wl', [LOC_TAPS, s.A]] as [string, number[]]] : []),
];
const LOC_TAPS = 9;
const FLOAT_ALIGN = 16;
const up = (n: number) => Math.ceil(n / FLOAT_ALIGN) * FLOAT_ALIGN;

/** The optimizers (src/optim/optimizer.ts) update entries of a layer; the decoder is one trainable owner. */
const OWNER = { name: 'decoder', trainable: true, l1: 0, l2: 0 } as unknown as Layer;

export class AttentionDecoder {
  readonly entries: ParamEntry[] = [];
  readonly paramFloats: number;
  /** Byte addresses: parameters, gradients, optimizer state (`slots` × paramFloats, zeroed). */
  readonly params: number;
  readonly grads: number;
  readonly optState: number;
  private readonly p: Record<string, number> = {};
  private readonly g: Record<string, number> = {};
  private readonly w: Record<string, number>;
  private readonly gemmScratch: number;
  private readonly grid: number;

  /** N: the most examples per call; T: the most steps. */
  /** initFromMean false: h₀, c₀ = tanh(b) (learned constants), so the image reaches the words only through attention. */
  /**
   * lstmContext: how many of the context's last channels enter the LSTM (default all D, as in Show, Attend and
   * Tell); the output layer always sees the whole context. With only the captioner's two coordinate channels
   * the state learns where it looked but not what it saw, so every word must read the image at its own step.
   */
  /**
   * centre: every step's context is z_t − ā (the attended features minus the image's mean feature), so a flat
   * attention carries no information about the image at all; only attention that singles out some cells does.
   * location: location-aware attention (Chorowski et al. 2015): the energy of cell i also sees a 3×3
   * convolution of the previous step's attention map around i, e_i = w·tanh(pa_i + h·W_h + Σ_o α_{t−1}(i+o)·W_l[o])
   * (α_{−1} = 0; the grid is √L × √L), so the attention can stay on an object or step off it.
   */
  constructor(readonly e: Engine, readonly s: DecoderSizes, readonly N: number, readonly T: number, seed: number, slots: number, readonly initFromMean = true,
    public sharpen = 0, readonly lstmContext = s.D, readonly centre = false, readonly location = false) {
    this.grid = Math.round(Math.sqrt(s.L));
    if (location && this.grid * this.grid !== s.L) throw new RedeError(`caption decoder: location-aware attention needs a square grid (L = g²), got L = ${s.L}`);
    if (!Number.isInteger(lstmContext) || lstmContext < 0 || lstmContext > s.D) throw new RedeError(`caption decoder: lstmContext must be an integer in [0, ${s.D}], got ${lstmContext}`);
    for (const [k, v] of Object.entries(s)) if (!Number.isInteger(v) || v < 1) throw new RedeError(`caption decoder: size ${k} must be a positive integer, got ${v}`);
    if (!Number.isInteger(N) || N < 1 || !Number.isInteger(T) || T < 1) throw new RedeError(`caption decoder: capacity and steps must be positive integers, got ${N} and ${T}`);
    let off = 0;
    for (const [name, shape] of PARAMS(s, location)) {
      const n = shape.reduce((a, b) => a * b, 1);
      this.entries.push({ layer: OWNER, name, key: `decoder/${name}`, shape, offset: off, n, regularize: false });
      off += up(n);
    }
    this.paramFloats = off;
    const { L, D, A, H, M, V } = s, G = 4 * H;
    const plan = new MemoryPlan();
    plan.f32('params', off, 'parameters');
    plan.f32('grads', off, 'gradients');
    plan.f32('opt', Math.max(1, slots) * off, 'optimizer');
    const act = (name: string, floats: number) => plan.f32(name, floats, 'activations');
    act('pa', N * L * A); act('mean', N * D); act('fmean', N * D);
    act('h', (T + 1) * N * H); act('c', (T + 1) * N * H); act('gates', T * N * G);
    act('u', T * N * L * A); act('alpha', T * N * L); act('ctx', T * N * D);
    act('x', T * N * (M + D)); if (location) { act('pat', T * N * L * A); act('col', T * N * L * LOC_TAPS); } act('q', T * N * M); act('probs', T * N * V);
    const tmp = (name: string, floats: number) => plan.f32(name, floats, 'scratch');
    tmp('ph', N * A); tmp('dpa', N * L * A); tmp('dfeats', N * L * D); tmp('dh', N * H); tmp('dc', N * H); tmp('dhp', N * H);
    tmp('dG', N * G); tmp('dx', N * (M + D)); tmp('dq', N * M); tmp('dctx', N * D); tmp('dlog', N * V); tmp('dmean', N * D);
    tmp('dph', N * A); tmp('attScratch', L); tmp('dalpha', N * L); tmp('dfmean', N * D); if (location) { tmp('dpat', N * L * A); tmp('dcol', N * L * LOC_TAPS); tmp('dcarry', N * L); }
    // The largest GEMM scratch of any product below: every (m, n, k) drawn from the sizes that occur.
    const dims = [...new Set([N * L, N, L, D, A, H, G, M, M + D, V, LOC_TAPS])];
    let gs = 0;
    for (const a of dims) for (const b of dims) for (const c of dims) gs = Math.max(gs, e.k.gemm_scratch_bytes(a, b, c));
    plan.bytes('gemm', gs, 'scratch');
    const l = e.allocate(plan, 'caption decoder');
    this.params = l.ptr.params; this.grads = l.ptr.grads; this.optState = l.ptr.opt;
    e.f32.fill(0, this.optState >>> 2, (this.optState >>> 2) + Math.max(1, slots) * off);
    this.gemmScratch = l.ptr.gemm;
    this.w = l.ptr;
    for (const en of this.entries) { this.p[en.name] = this.params + 4 * en.offset; this.g[en.name] = this.grads + 4 * en.offset; }
    this.initialize(seed);
  }

  /** Glorot-normal-like weights (std √(2 / (fan_in + fan_out))), zero biases, forget-gate bias 1. */
  initialize(seed: number): void {
    const f = this.e.f32;
    this.entries.forEach((en, k) => {
      const at = (this.params >>> 2) + en.offset;
      if (en.shape.length === 1) {
        // wv scores positions: small random values so the first attention is not exactly uniform.
        for (let i = 0; i < en.n; i++) f[at + i] = en.name === 'wv' ? 0.1 * normalAt(seed, 900 + k, i) : 0;
        if (en.name === 'bg') for (let i = this.s.H; i < 2 * this.s.H; i++) f[at + i] = 1;
        return;
      }
      const std = Math.sqrt(2 / (en.shape[0] + en.shape[1]));
      for (let i = 0; i < en.n; i++) f[at + i] = std * normalAt(seed, 900 + k, i);
    });
  }

  /**
   * The target words whose steps the entropy term applies to (null: every non-PAD target). Words that join
   * objects or end the caption ("left", "of", <end>) may need to look wide, at where the next object is or
   * whether there is one; the words that describe an object are read from it.
   */
  sharpenWords: ReadonlySet<number> | null = null;

  private sharpened(y: number): boolean { return y !== 0 && (this.sharpenWords === null || this.sharpenWords.has(y)); }

  /** The parameter `name` as a copy (tests, saving). */
  weight(name: string): Float32Array {
    const en = this.entries.find((x) => x.name === name);
    if (!en) throw new RedeError(`caption decoder: no parameter '${name}' (have ${this.entries.map((x) => x.name).join(', ')})`);
    return this.e.read(this.params + 4 * en.offset, en.n);
  }

  /** c = op(a)·op(b) (accumulate: c +=), row-major with the stored row lengths. */
  private gemm(ta: boolean, tb: boolean, m: number, n: number, k: number, a: number, lda: number, b: number, ldb: number, c: number, acc: boolean): void {
    this.e.k.gemm_f32(ta ? 1 : 0, tb ? 1 : 0, m, n, k, a, lda, b, ldb, c, n, acc ? 1 : 0, this.gemmScratch);
  }

  private checkN(where: string, n: number, T = 1): void {
    if (!Number.isInteger(n) || n < 1 || n > this.N) throw new RedeError(`caption decoder ${where}: batch must be 1..${this.N}, got ${n}`);
    if (!Number.isInteger(T) || T < 1 || T > this.T) throw new RedeError(`caption decoder ${where}: steps must be 1..${this.T}, got ${T}`);
  }

  /** Per image: pa = feats·W_a + b_a, ā, h₀, c₀. `feats` is the byte address of [n, L, D]. */
  begin(n: number, feats: number): void {
    this.checkN('begin', n);
    const { L, D, A, H } = this.s, f0 = this.e.f32, w = this.w, p = this.p;
    this.gemm(false, false, n * L, A, D, feats, D, p.wa, A, w.pa, false);
    let f = this.e.f32;
    for (let r = 0; r < n * L; r++) for (let j = 0; j < A; j++) f[(w.pa >>> 2) + r * A + j] += f[(p.ba >>> 2) + j];
    // ā, the image's mean feature, once: h₀/c₀ read it (initFromMean; else zeros), centring subtracts it.
    const mean = w.mean >>> 2, fm = w.fmean >>> 2, F = feats >>> 2;
    f.fill(0, fm, fm + n * D);
    if (this.initFromMean || this.centre) for (let b = 0; b < n; b++) for (let i = 0; i < L; i++) for (let d = 0; d < D; d++) f[fm + b * D + d] += f[F + (b * L + i) * D + d] / L;
    if (this.initFromMean) f.copyWithin(mean, fm, fm + n * D); else f.fill(0, mean, mean + n * D);
    this.gemm(false, false, n, H, D, w.mean, D, p.wih, H, w.h, false);
    this.gemm(false, false, n, H, D, w.mean, D, p.wic, H, w.c, false);
    f = this.e.f32;
    for (let b = 0; b < n; b++) for (let j = 0; j < H; j++) {
      f[(w.h >>> 2) + b * H + j] = Math.tanh(f[(w.h >>> 2) + b * H + j] + f[(p.bih >>> 2) + j]);
      f[(w.c >>> 2) + b * H + j] = Math.tanh(f[(w.c >>> 2) + b * H + j] + f[(p.bic >>> 2) + j]);
    }
    void f0;
  }

  /** Step t on input words `words` [n]: writes α_t, z_t, h_{t+1}, c_{t+1}, q_t, p_t (see the header). */
  step(t: number, n: number, feats: number, words: ArrayLike<number>): void {
    this.checkN('step', n, t + 1);
    const { L, D, A, H, M, V } = this.s, G = 4 * H, X = M + D, w = this.w, p = this.p;
    const hPrev = w.h + 4 * t * n * H, cPrev = w.c + 4 * t * n * H, hNext = hPrev + 4 * n * H, cNext = cPrev + 4 * n * H;
    // Rows of step t sit at t·n·width: the batch of one call is one contiguous block per step.
    const u = w.u + 4 * t * n * L * A, al = w.alpha + 4 * t * n * L, z = w.ctx + 4 * t * n * D, x = w.x + 4 * t * n * X;
    const gates = w.gates + 4 * t * n * G, q = w.q + 4 * t * n * M, pr = w.probs + 4 * t * n * V;
    this.gemm(false, false, n, A, H, hPrev, H, p.wh, A, w.ph, false);
    let pa = w.pa;
    if (this.location) {
      // pat = pa + im2col(α_{t−1})·W_l; at t = 0 there is no previous map (α_{−1} = 0).
      pa = w.pat + 4 * t * n * L * A;
      this.e.k.scale_copy_f32(w.pa, pa, n * L * A, 1);
      if (t > 0) {
        const col = w.col + 4 * t * n * L * LOC_TAPS;
        this.im2col(n, w.alpha + 4 * (t - 1) * n * L, col);
        this.gemm(false, false, n * L, A, LOC_TAPS, col, LOC_TAPS, p.wl, A, pa, true);
      }
    }
    this.e.k.attention_forward_f32(n, L, D, A, pa, w.ph, p.wv, feats, u, al, z);
    let f = this.e.f32;
    if (this.centre) { const Z = z >>> 2, fm = w.fmean >>> 2; for (let i = 0; i < n * D; i++) f[Z + i] -= f[fm + i]; }
    const E = p.emb >>> 2;
    for (let b = 0; b < n; b++) {
      const id = words[b];
      if (!(id >= 0 && id < V)) throw new RedeError(`caption decoder: word id ${id} at row ${b} is outside the vocabulary [0, ${V})`);
      f.copyWithin((x >>> 2) + b * X, E + id * M, E + (id + 1) * M);
      f.copyWithin((x >>> 2) + b * X + M, (z >>> 2) + b * D, (z >>> 2) + (b + 1) * D);
      f.fill(0, (x >>> 2) + b * X + M, (x >>> 2) + b * X + M + D - this.lstmContext); // channels the LSTM does not see
    }
    this.gemm(false, false, n, G, X, x, X, p.wx, G, gates, false);
    this.gemm(false, false, n, G, H, hPrev, H, p.wr, G, gates, true);
    f = this.e.f32;
    const gA = gates >>> 2, bg = p.bg >>> 2, cp = cPrev >>> 2, cn = cNext >>> 2, hn = hNext >>> 2;
    for (let b = 0; b < n; b++) {
      const r = gA + b * G;
      for (let j = 0; j < H; j++) {
        const i = sigmoid(f[r + j] + f[bg + j]), fg = sigmoid(f[r + H + j] + f[bg + H + j]);
        const g = Math.tanh(f[r + 2 * H + j] + f[bg + 2 * H + j]), o = sigmoid(f[r + 3 * H + j] + f[bg + 3 * H + j]);
        f[r + j] = i; f[r + H + j] = fg; f[r + 2 * H + j] = g; f[r + 3 * H + j] = o;
        const c = fg * f[cp + b * H + j] + i * g;
        f[cn + b * H + j] = c;
        f[hn + b * H + j] = o * Math.tanh(c);
      }
    }
    this.gemm(false, false, n, M, H, hNext, H, p.lh, M, q, false);
    this.gemm(false, false, n, M, D, z, D, p.lz, M, q, true);
    f = this.e.f32;
    const Q = q >>> 2, bd = p.bd >>> 2, xs = x >>> 2;
    for (let b = 0; b < n; b++) for (let j = 0; j < M; j++) f[Q + b * M + j] = Math.tanh(f[Q + b * M + j] + f[xs + b * X + j] + f[bd + j]);
    this.gemm(false, false, n, V, M, q, M, p.wo, V, pr, false);
    f = this.e.f32;
    const P = pr >>> 2, bo = p.bo >>> 2;
    for (let b = 0; b < n; b++) {
      let mx = -Infinity;
      for (let v = 0; v < V; v++) { f[P + b * V + v] += f[bo + v]; mx = Math.max(mx, f[P + b * V + v]); }
      let sum = 0;
      for (let v = 0; v < V; v++) { const ev = Math.exp(f[P + b * V + v] - mx); f[P + b * V + v] = ev; sum += ev; }
      for (let v = 0; v < V; v++) f[P + b * V + v] /= sum;
    }
  }

  /** Beam search: rows of h_{t+1}, c_{t+1} become the rows `parents` of the same step (others copy row 0). */
  reorder(t: number, n: number, parents: readonly number[]): void {
    const H = this.s.H, L = this.s.L, f = this.e.f32;
    // With location-aware attention step t + 1 also reads step t's attention map.
    const rows: [number, number][] = [[(this.w.h >>> 2) + (t + 1) * n * H, H], [(this.w.c >>> 2) + (t + 1) * n * H, H], ...(this.location ? [[(this.w.alpha >>> 2) + t * n * L, L] as [number, number]] : [])];
    for (const [at, width] of rows) {
      const old = f.slice(at, at + n * width);
      for (let j = 0; j < n; j++) f.set(old.subarray((parents[j] ?? 0) * width, ((parents[j] ?? 0) + 1) * width), at + j * width);
    }
  }

  /** col[b, i, o] = α[b, i + o] over the 3×3 neighbourhood o of cell i (0 outside the grid). */
  private im2col(n: number, alpha: number, col: number): void {
    const f = this.e.f32, g = this.grid, L = this.s.L, A0 = alpha >>> 2, C = col >>> 2;
    for (let b = 0; b < n; b++) for (let y = 0; y < g; y++) for (let x = 0; x < g; x++) {
      const r = C + (b * L + y * g + x) * LOC_TAPS;
      for (let dy = -1, o = 0; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++, o++) {
        const yy = y + dy, xx = x + dx;
        f[r + o] = yy >= 0 && yy < g && xx >= 0 && xx < g ? f[A0 + b * L + yy * g + xx] : 0;
      }
    }
  }

  /** The transpose of im2col: dα[b, i + o] += dcol[b, i, o] (dα is overwritten). */
  private col2im(n: number, dcol: number, dalpha: number): void {
    const f = this.e.f32, g = this.grid, L = this.s.L, DA = dalpha >>> 2, C = dcol >>> 2;
    f.fill(0, DA, DA + n * L);
    for (let b = 0; b < n; b++) for (let y = 0; y < g; y++) for (let x = 0; x < g; x++) {
      const r = C + (b * L + y * g + x) * LOC_TAPS;
      for (let dy = -1, o = 0; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++, o++) {
        const yy = y + dy, xx = x + dx;
        if (yy >= 0 && yy < g && xx >= 0 && xx < g) f[DA + b * L + yy * g + xx] += f[r + o];
      }
    }
  }

  /** Step t's word probabilities [n, V] (a view: valid until the next call). */
  probs(t: number, n: number): Float32Array {
    const at = (this.w.probs >>> 2) + t * n * this.s.V;
    return this.e.f32.subarray(at, at + n * this.s.V);
  }

  /** Step t's attention [n, L] (a view). */
  alpha(t: number, n: number): Float32Array {
    const at = (this.w.alpha >>> 2) + t * n * this.s.L;
    return this.e.f32.subarray(at, at + n * this.s.L);
  }

  /**
   * Teacher forcing on `targets` [n, stride] (each row: words, END, then PAD = 0 ignored): forward over
   * T = the longest row's steps, the mean cross-entropy over non-PAD targets, and (with `grads`) backward:
   * writes the parameter gradients and returns dL/dfeats at `dfeats()` ([n, L, D]).
   */
  loss(n: number, feats: number, targets: Int32Array, stride: number, start: number, o: { backward?: boolean } = {}): { loss: number; crossEntropy: number; tokens: number } {
    let T = 0, tokens = 0;
    for (let b = 0; b < n; b++) for (let t = 0; t < stride; t++) if (targets[b * stride + t] !== 0) { T = Math.max(T, t + 1); tokens++; }
    this.checkN('loss', n, T);
    this.begin(n, feats);
    const words = new Int32Array(n);
    let loss = 0, entropy = 0;
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < n; b++) words[b] = t === 0 ? start : targets[b * stride + t - 1] || start;
      this.step(t, n, feats, words);
      const pr = this.probs(t, n), V = this.s.V;
      for (let b = 0; b < n; b++) { const y = targets[b * stride + t]; if (y !== 0) loss -= Math.log(Math.max(pr[b * V + y], 1e-30)); }
      if (this.sharpen) {
        const a = this.alpha(t, n), L = this.s.L;
        for (let b = 0; b < n; b++) if (this.sharpened(targets[b * stride + t])) for (let i = 0; i < L; i++) entropy -= a[b * L + i] * Math.log(Math.max(a[b * L + i], 1e-30));
      }
    }
    if (o.backward) this.backward(n, T, feats, targets, stride, start, tokens);
    return { loss: (loss + this.sharpen * entropy) / tokens, crossEntropy: loss / tokens, tokens };
  }

  /** The address of dL/dfeats after loss(..., { backward: true }). */
  dfeats(): number { return this.w.dfeats; }

  private backward(n: number, T: number, feats: number, targets: Int32Array, stride: number, start: number, tokens: number): void {
    const { L, D, A, H, M, V } = this.s, G = 4 * H, X = M + D, w = this.w, p = this.p, g = this.g, k = this.e.k;
    k.fill_f32(this.grads, this.paramFloats, 0);
    k.fill_f32(w.dpa, n * L * A, 0); k.fill_f32(w.dfeats, n * L * D, 0);
    k.fill_f32(w.dh, n * H, 0); k.fill_f32(w.dc, n * H, 0); k.fill_f32(w.dfmean, n * D, 0);
    if (this.location) k.fill_f32(w.dcarry, n * L, 0); // dL/dα_t from step t + 1's energies
    const ones = (at: number, rows: number, cols: number, into: number) => { // into[j] += Σ_r at[r, j]
      const f = this.e.f32;
      for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) f[(into >>> 2) + j] += f[(at >>> 2) + r * cols + j];
    };
    for (let t = T - 1; t >= 0; t--) {
      const hPrev = w.h + 4 * t * n * H, hNext = hPrev + 4 * n * H, cPrev = w.c + 4 * t * n * H, cNext = cPrev + 4 * n * H;
      const u = w.u + 4 * t * n * L * A, al = w.alpha + 4 * t * n * L, z = w.ctx + 4 * t * n * D, x = w.x + 4 * t * n * X;
      const gates = w.gates + 4 * t * n * G, q = w.q + 4 * t * n * M, pr = w.probs + 4 * t * n * V;
      // dlogits = (p − onehot(y)) / tokens on non-PAD targets.
      let f = this.e.f32;
      const DL = w.dlog >>> 2, P = pr >>> 2;
      for (let b = 0; b < n; b++) {
        const y = targets[b * stride + t];
        for (let v = 0; v < V; v++) f[DL + b * V + v] = y === 0 ? 0 : (f[P + b * V + v] - (v === y ? 1 : 0)) / tokens;
      }
      this.gemm(true, false, M, V, n, q, M, w.dlog, V, g.wo, true);
      ones(w.dlog, n, V, g.bo);
      this.gemm(false, true, n, M, V, w.dlog, V, p.wo, V, w.dq, false);
      f = this.e.f32;
      const DQ = w.dq >>> 2, Q = q >>> 2;
      for (let i = 0; i < n * M; i++) f[DQ + i] *= 1 - f[Q + i] * f[Q + i]; // dq is now d(pre-tanh)
      ones(w.dq, n, M, g.bd);
      const E = g.emb >>> 2;
      for (let b = 0; b < n; b++) {
        const id = t === 0 ? start : targets[b * stride + t - 1] || start;
        for (let j = 0; j < M; j++) f[E + id * M + j] += f[DQ + b * M + j];
      }
      this.gemm(true, false, H, M, n, hNext, H, w.dq, M, g.lh, true);
      this.gemm(false, true, n, H, M, w.dq, M, p.lh, M, w.dh, true); // dh (from the step after) += dq·L_hᵀ
      this.gemm(true, false, D, M, n, z, D, w.dq, M, g.lz, true);
      this.gemm(false, true, n, D, M, w.dq, M, p.lz, M, w.dctx, false);
      // LSTM cell backward: dG = d(pre-activation gates); dc carries to c_{t−1}.
      f = this.e.f32;
      const GA = gates >>> 2, DG = w.dG >>> 2, DH = w.dh >>> 2, DC = w.dc >>> 2, CN = cNext >>> 2, CP = cPrev >>> 2;
      for (let b = 0; b < n; b++) {
        for (let j = 0; j < H; j++) {
          const r = GA + b * G, i = f[r + j], fg = f[r + H + j], gg = f[r + 2 * H + j], o = f[r + 3 * H + j];
          const tc = Math.tanh(f[CN + b * H + j]), dh = f[DH + b * H + j];
          const dc = f[DC + b * H + j] + dh * o * (1 - tc * tc);
          const dr = DG + b * G;
          f[dr + j] = dc * gg * i * (1 - i);
          f[dr + H + j] = dc * f[CP + b * H + j] * fg * (1 - fg);
          f[dr + 2 * H + j] = dc * i * (1 - gg * gg);
          f[dr + 3 * H + j] = dh * tc * o * (1 - o);
          f[DC + b * H + j] = dc * fg; // dc_{t−1}
        }
      }
      ones(w.dG, n, G, g.bg);
      this.gemm(true, false, X, G, n, x, X, w.dG, G, g.wx, true);
      this.gemm(true, false, H, G, n, hPrev, H, w.dG, G, g.wr, true);
      this.gemm(false, true, n, X, G, w.dG, G, p.wx, G, w.dx, false);
      this.gemm(false, true, n, H, G, w.dG, G, p.wr, G, w.dhp, false); // dh_{t−1} from the gates
      f = this.e.f32;
      const DX = w.dx >>> 2, DCT = w.dctx >>> 2;
      for (let b = 0; b < n; b++) {
        const id = t === 0 ? start : targets[b * stride + t - 1] || start;
        for (let j = 0; j < M; j++) f[E + id * M + j] += f[DX + b * X + j];
        for (let d = D - this.lstmContext; d < D; d++) f[DCT + b * D + d] += f[DX + b * X + M + d];
      }
      if (this.sharpen) { // d(sharpen·H/tokens)/dα_i = −sharpen (log α_i + 1) / tokens on the sharpened targets
        f = this.e.f32;
        const DA = w.dalpha >>> 2, AL = al >>> 2;
        for (let b = 0; b < n; b++) {
          const on = this.sharpened(targets[b * stride + t]);
          for (let i = 0; i < L; i++) f[DA + b * L + i] = on ? -this.sharpen * (Math.log(Math.max(f[AL + b * L + i], 1e-30)) + 1) / tokens : 0;
        }
      } else if (this.location) k.fill_f32(w.dalpha, n * L, 0);
      if (this.location) k.add_acc_f32(w.dcarry, w.dalpha, n * L);
      if (this.centre) ones(w.dctx, 1, n * D, w.dfmean); // z_t − ā: ā's gradient is −Σ_t dz_t
      const dalpha = this.sharpen || this.location ? w.dalpha : 0;
      if (this.location) {
        // This step's energies saw pat_t = pa + im2col(α_{t−1})·W_l: its gradient goes to pa, W_l and α_{t−1}.
        k.fill_f32(w.dpat, n * L * A, 0);
        k.attention_backward_f32(n, L, D, A, p.wv, feats, u, al, w.dctx, dalpha, w.dpat, w.dph, g.wv, w.dfeats, w.attScratch);
        k.add_acc_f32(w.dpat, w.dpa, n * L * A);
        if (t > 0) {
          const col = w.col + 4 * t * n * L * LOC_TAPS;
          this.gemm(true, false, LOC_TAPS, A, n * L, col, LOC_TAPS, w.dpat, A, g.wl, true);
          this.gemm(false, true, n * L, LOC_TAPS, A, w.dpat, A, p.wl, A, w.dcol, false);
          this.col2im(n, w.dcol, w.dcarry);
        }
      } else k.attention_backward_f32(n, L, D, A, p.wv, feats, u, al, w.dctx, dalpha, w.dpa, w.dph, g.wv, w.dfeats, w.attScratch);
      this.gemm(true, false, H, A, n, hPrev, H, w.dph, A, g.wh, true);
      this.gemm(false, true, n, H, A, w.dph, A, p.wh, A, w.dhp, true);
      k.scale_copy_f32(w.dhp, w.dh, n * H, 1);
    }
    // h₀, c₀ = tanh(ā·W + b); ā's gradient spreads evenly over the positions.
    let f = this.e.f32;
    const H0 = w.h >>> 2, C0 = w.c >>> 2, DH = w.dh >>> 2, DC = w.dc >>> 2;
    for (let i = 0; i < n * H; i++) { f[DH + i] *= 1 - f[H0 + i] * f[H0 + i]; f[DC + i] *= 1 - f[C0 + i] * f[C0 + i]; }
    ones(w.dh, n, H, g.bih); ones(w.dc, n, H, g.bic);
    this.gemm(true, false, D, H, n, w.mean, D, w.dh, H, g.wih, true);
    this.gemm(true, false, D, H, n, w.mean, D, w.dc, H, g.wic, true);
    this.gemm(false, true, n, D, H, w.dh, H, p.wih, H, w.dmean, false);
    this.gemm(false, true, n, D, H, w.dc, H, p.wic, H, w.dmean, true);
    f = this.e.f32;
    // ā's gradient to every cell: + dmean/L (h₀/c₀) and − dfmean/L (centring), rounded to f32 after each as stored.
    const DF = w.dfeats >>> 2, DM = w.dmean >>> 2, DFM = w.dfmean >>> 2;
    if (this.initFromMean || this.centre) for (let b = 0; b < n; b++) for (let i = 0; i < L; i++) for (let d = 0; d < D; d++) {
      let v = f[DF + (b * L + i) * D + d];
      if (this.initFromMean) v = Math.fround(v + f[DM + b * D + d] / L);
      if (this.centre) v -= f[DFM + b * D + d] / L;
      f[DF + (b * L + i) * D + d] = v;
    }
    // pa = feats·W_a + b_a.
    this.gemm(true, false, D, A, n * L, feats, D, w.dpa, A, g.wa, true);
    ones(w.dpa, n * L, A, g.ba);
    this.gemm(false, true, n * L, D, A, w.dpa, A, p.wa, A, w.dfeats, true);
  }
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));
