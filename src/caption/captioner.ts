// The captioner: a CNN encoder (a rede Network of conv2d layers) turns a 64×64 RGB image into an 8×8 grid of
// feature vectors; two coordinate channels (the cell's centre, x and y in [−1, 1]) are appended so that "left
// of" and "above" can be read from where attention lands; the attention LSTM decoder (decoder.ts) writes the
// caption. Training is one custom step per batch: encoder forward → decoder teacher-forced loss and backward →
// the grid's gradient (without the coordinate channels) into the encoder's backward → one optimizer update for
// each of the two (rede's Optimizer over each flat buffer, with global-norm clipping).
// Decoding: greedy (the most probable word each step) or beam search (Koehn 2004's left-to-right beam: the K
// best partial captions by summed log-probability; a caption that emits <end> is finished; the best finished
// one wins). Both return every step's attention for the localization score and the figures.
import type { Engine } from '../engine/engine';
import { RedeError } from '../engine/errors';
import { checkNumber, checkOptions } from '../engine/options';
import { Network } from '../model/network';
import type { ModelConfig } from '../model/config';
import { Optimizer, type OptimizerSpec } from '../optim/optimizer';
import { AttentionDecoder, type DecoderSizes } from './decoder';

/** One conv layer of the encoder (ReLU, 'same' padding). */
export interface EncoderLayer { filters: number; kernel: number; stride?: number }

export interface CaptionerSizes {
  /**
   * The encoder's conv layers in order; their strides take the image to the square grid (64 → 8: three of
   * stride 2). What a cell sees is receptiveField(encoder) pixels wide: small, so that a cell's features
   * describe the object on that cell and not its neighbours.
   */
  encoder: EncoderLayer[];
  attention: number; hidden: number; embedding: number;
}

export interface CaptionerSpec {
  image: number; vocab: number; maxTokens: number; start: number; end: number;
}

const SIZE_KEYS = ['encoder', 'attention', 'hidden', 'embedding'] as const;
const LAYER_KEYS = ['filters', 'kernel', 'stride'] as const;

/** Checks the sizes like a layer config (unknown keys, positive integers); returns the layers with strides filled in. */
export function checkSizes(s: CaptionerSizes): Required<EncoderLayer>[] {
  checkOptions('captioner sizes', s, SIZE_KEYS);
  for (const k of ['attention', 'hidden', 'embedding'] as const) checkNumber('captioner sizes', k, s[k], { min: 1, integer: true });
  if (!Array.isArray(s.encoder) || s.encoder.length === 0) {
    throw new RedeError(`captioner sizes: encoder must be a non-empty list of conv layers {filters, kernel, stride}, got ${Array.isArray(s.encoder) ? '[]' : String(s.encoder)}`);
  }
  return s.encoder.map((l, i) => {
    const where = `captioner encoder layer ${i}`;
    checkOptions(where, l, LAYER_KEYS);
    return {
      filters: checkNumber(where, 'filters', l.filters, { min: 1, integer: true }),
      kernel: checkNumber(where, 'kernel', l.kernel, { min: 1, integer: true }),
      stride: checkNumber(where, 'stride', l.stride ?? 1, { min: 1, integer: true }),
    };
  });
}

/** The width in pixels of what one output cell sees: r += (k − 1)·j, j ·= s, layer by layer. */
export function receptiveField(layers: readonly EncoderLayer[]): number {
  let r = 1, j = 1;
  for (const l of layers) { r += (l.kernel - 1) * j; j *= l.stride ?? 1; }
  return r;
}

/** The encoder: image×image×3 → [g, g, last filters] (NHWC, so the grid's L = g² rows of D features each). */
export function encoderConfig(s: CaptionerSizes, image: number): ModelConfig {
  return {
    name: 'caption-encoder', input: [image, image, 3],
    layers: checkSizes(s).map((l) => ({ type: 'conv2d', filters: l.filters, kernel: l.kernel, stride: l.stride, padding: 'same', activation: 'relu' })),
  };
}

export interface Decoded {
  /** [n, maxTokens]: words, END, PAD. */
  tokens: Int32Array;
  /** [n, maxTokens, L]: the attention of each emitted word (zeros after the caption). */
  alphas: Float32Array;
}

const COORDS = 2;

export class Captioner {
  readonly encoder: Network;
  readonly decoder: AttentionDecoder;
  readonly grid: number;
  readonly L: number;
  readonly D: number;
  private readonly cnnD: number;
  private readonly feats: number;
  private readonly beamFeats: number;
  private readonly encOpt: Optimizer;
  private readonly decOpt: Optimizer;
  private readonly encState: number;

  constructor(readonly e: Engine, readonly sizes: CaptionerSizes, readonly spec: CaptionerSpec, readonly capacity: number, optimizer: OptimizerSpec,
    seed: number, readonly beamWidth = 3, o: { initFromMean?: boolean; sharpen?: number; lstmSees?: 'all' | 'where' | 'none'; centre?: boolean; location?: boolean } = {}) {
    this.encoder = Network.allocate(encoderConfig(sizes, spec.image), e, seed);
    const out = this.encoder.outputShape;
    if (out.length !== 3 || out[0] !== out[1]) throw new RedeError(`captioner: the encoder must give a square grid [g, g, d], got [${out.join(', ')}]`);
    this.grid = out[0]; this.L = out[0] * out[1]; this.cnnD = out[2]; this.D = out[2] + COORDS;
    this.encOpt = new Optimizer(optimizer); this.decOpt = new Optimizer(optimizer);
    const ds: DecoderSizes = { L: this.L, D: this.D, A: sizes.attention, H: sizes.hidden, M: sizes.embedding, V: spec.vocab };
    this.decoder = new AttentionDecoder(e, ds, Math.max(capacity, beamWidth), spec.maxTokens, seed + 1, this.decOpt.slots, o.initFromMean ?? true, o.sharpen ?? 0,
      { all: this.D, where: COORDS, none: 0 }[o.lstmSees ?? 'all'], o.centre ?? false, o.location ?? false);
    this.encState = e.reserve(4 * Math.max(1, this.encOpt.slots) * this.encoder.paramFloats, 'captioner encoder optimizer state');
    e.f32.fill(0, this.encState >>> 2, (this.encState >>> 2) + Math.max(1, this.encOpt.slots) * this.encoder.paramFloats);
    this.feats = e.reserve(4 * capacity * this.L * this.D, 'captioner feature grid');
    this.beamFeats = e.reserve(4 * beamWidth * this.L * this.D, 'captioner beam grid');
  }

  /** Encoder forward on n images [n, image, image, 3] → the grid [n, L, D] at `feats` (CNN features, then x, y). */
  private encode(x: Float32Array, n: number, training: boolean, step = 0): void {
    if (n < 1 || n > this.capacity) throw new RedeError(`captioner: batch must be 1..${this.capacity}, got ${n}`);
    const y = this.encoder.forward(x, { training, step });
    const f = this.e.f32, F = this.feats >>> 2, { L, D, cnnD, grid } = this;
    for (let b = 0; b < n; b++) {
      for (let i = 0; i < L; i++) {
        const row = F + (b * L + i) * D;
        f.set(y.subarray((b * L + i) * cnnD, (b * L + i + 1) * cnnD), row);
        f[row + cnnD] = ((i % grid) + 0.5) / grid * 2 - 1;
        f[row + cnnD + 1] = (Math.floor(i / grid) + 0.5) / grid * 2 - 1;
      }
    }
  }

  /**
   * One training step on n images and their captions ([n, maxTokens] each: words, END, PAD): returns the mean
   * objective (cross-entropy per word + the attention entropy term), the cross-entropy, and the gradient norms
   * before clipping.
   */
  trainStep(x: Float32Array, tokens: Int32Array, n: number, lr: number, step: number): { loss: number; crossEntropy: number; encNorm: number; decNorm: number } {
    this.encode(x, n, true, step);
    const { loss, crossEntropy } = this.decoder.loss(n, this.feats, tokens, this.spec.maxTokens, this.spec.start, { backward: true });
    const f = this.e.f32, dF = this.decoder.dfeats() >>> 2, { L, D, cnnD } = this;
    const dy = new Float32Array(n * L * cnnD);
    for (let r = 0; r < n * L; r++) dy.set(f.subarray(dF + r * D, dF + r * D + cnnD), r * cnnD);
    this.encoder.backward(dy, { step });
    const k = this.e.k, enc = this.encoder, dec = this.decoder;
    const encNorm = this.encOpt.clip(k, enc.entries, enc.grads), decNorm = this.decOpt.clip(k, dec.entries, dec.grads);
    if (Number.isFinite(loss) && Number.isFinite(encNorm) && Number.isFinite(decNorm)) {
      this.encOpt.apply(k, enc.entries, enc.params, enc.grads, this.encState, enc.paramFloats, lr);
      this.decOpt.apply(k, dec.entries, dec.params, dec.grads, dec.optState, dec.paramFloats, lr);
    }
    return { loss, crossEntropy, encNorm, decNorm };
  }

  /** Teacher-forced mean cross-entropy per word, no update (validation). */
  evalLoss(x: Float32Array, tokens: Int32Array, n: number): number {
    this.encode(x, n, false);
    return this.decoder.loss(n, this.feats, tokens, this.spec.maxTokens, this.spec.start).crossEntropy;
  }

  /** Greedy decoding of n images. */
  greedy(x: Float32Array, n: number): Decoded {
    this.encode(x, n, false);
    const { maxTokens: T, vocab: V, start, end } = this.spec, L = this.L, dec = this.decoder;
    const tokens = new Int32Array(n * T), alphas = new Float32Array(n * T * L), words = new Int32Array(n).fill(start), done = new Uint8Array(n);
    dec.begin(n, this.feats);
    for (let t = 0; t < T; t++) {
      dec.step(t, n, this.feats, words);
      const p = dec.probs(t, n), a = dec.alpha(t, n);
      let open = 0;
      for (let b = 0; b < n; b++) {
        if (done[b]) continue;
        // Outputs are END and the words: ids below END (pad, start) are never emitted.
        let best = end;
        for (let v = end + 1; v < V; v++) if (p[b * V + v] > p[b * V + best]) best = v;
        tokens[b * T + t] = best;
        alphas.set(a.subarray(b * L, (b + 1) * L), (b * T + t) * L);
        words[b] = best;
        if (best === end) done[b] = 1; else open++;
      }
      if (!open) break;
    }
    return { tokens, alphas };
  }

  /** Beam search (width beamWidth) of n images, one image at a time. */
  beam(x: Float32Array, n: number): Decoded {
    this.encode(x, n, false);
    const { maxTokens: T, vocab: V, start, end } = this.spec, { L, D } = this, K = this.beamWidth, dec = this.decoder;
    const tokens = new Int32Array(n * T), alphas = new Float32Array(n * T * L);
    for (let b = 0; b < n; b++) {
      const f = this.e.f32, src = (this.feats >>> 2) + b * L * D;
      for (let k = 0; k < K; k++) f.copyWithin((this.beamFeats >>> 2) + k * L * D, src, src + L * D);
      dec.begin(K, this.beamFeats);
      interface Hyp { words: number[]; alphas: Float32Array[]; score: number }
      let beams: Hyp[] = [{ words: [], alphas: [], score: 0 }];
      const finished: Hyp[] = [];
      for (let t = 0; t < T && beams.length; t++) {
        const input = new Int32Array(K);
        beams.forEach((h, k) => { input[k] = h.words.length ? h.words[h.words.length - 1] : start; });
        dec.step(t, K, this.beamFeats, input);
        const p = dec.probs(t, K), a = dec.alpha(t, K);
        const cand: { k: number; v: number; score: number }[] = [];
        beams.forEach((h, k) => { for (let v = end; v < V; v++) cand.push({ k, v, score: h.score + Math.log(Math.max(p[k * V + v], 1e-30)) }); });
        cand.sort((u, w) => w.score - u.score || u.k - w.k || u.v - w.v);
        const next: Hyp[] = [], parents: number[] = [];
        for (const c of cand) {
          if (next.length >= K - finished.length || next.length >= K) break;
          const h = beams[c.k], hyp: Hyp = { words: [...h.words, c.v], alphas: [...h.alphas, a.slice(c.k * L, (c.k + 1) * L)], score: c.score };
          if (c.v === end) { finished.push(hyp); if (finished.length >= K) break; continue; }
          next.push(hyp); parents.push(c.k);
        }
        if (finished.length >= K) break;
        dec.reorder(t, K, parents);
        beams = next;
      }
      const pool = finished.length ? finished : beams;
      const best = pool.reduce((u, w) => (w.score > u.score ? w : u));
      best.words.slice(0, T).forEach((w, t) => { tokens[b * T + t] = w; alphas.set(best.alphas[t], (b * T + t) * L); });
    }
    return { tokens, alphas };
  }
}
