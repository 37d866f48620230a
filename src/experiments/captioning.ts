// From image to text (the seed's Figure 3: LeCun, Bengio & Hinton 2015; Show, Attend and Tell, Xu et al. 2015):
// a CNN extracts an 8×8 grid of features from a generated scene (src/data/shapes-captions.ts), and an LSTM with
// soft attention over the grid "translates" it into a caption, looking at a different place for each word.
// Measured: corpus BLEU-1..4 (src/caption/bleu.ts) of greedy and beam-search captions on the test split and on
// the held-out colour–shape combinations, and the localization rate: how often a shape word's attention argmax
// falls inside the box of the object it names (src/caption/localization.ts). Figures: the image and each word's
// attention beneath the word, for a few test images.
// Training is a documented custom loop (src/caption/captioner.ts trainStep: encoder forward, decoder loss and
// backward through time, encoder backward, one Adam update each), with a linear warm-up, a linear decay, and a
// wall-clock budget (`maxSeconds`: the decay follows it, training stops there and the report says so).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Engine } from '../engine/engine';
import { permutation } from '../data/rng';
import {
  END, HELD_OUT, COLOURS, SHAPES, DESCRIBING_TOKENS, MAX_TOKENS, SIZE, START, VOCAB, imageFloats, isShapeToken, shapesCaptions, wordsOf,
  type CaptionSplit,
} from '../data/shapes-captions';
import { Captioner, receptiveField, type CaptionerSizes, type Decoded, type EncoderLayer } from '../caption/captioner';
import { corpusBleu, type Bleu } from '../caption/bleu';
import { localization, phraseLocalization, type Localization } from '../caption/localization';
import { attentionFigurePng } from '../caption/figure';
import { figure, PALETTE } from '../viz/svg';
import {
  check, DEFAULT_OUT_DIR, machineLine, markdownTable, now, pct, secs, since, writeReport,
  type Check, type ExperimentOptions, type ExperimentResult,
} from './report';

export interface CaptioningSettings {
  train: number; val: number; test: number; heldout: number;
  epochs: number; batch: number; lr: number; warmupSteps: number; clipNorm: number;
  sizes: CaptionerSizes; beam: number; figures: number;
  /** Weight of the attention-entropy term (src/caption/decoder.ts); 0: plain cross-entropy. */
  sharpen: number;
  /** The steps it applies to: every word, or only those that say a size, colour or shape (decoder sharpenWords). */
  sharpenOn: 'all' | 'describing';
  /** Steps [from, to] over which that weight rises linearly from 0 to `sharpen` (null: `sharpen` from the start). */
  sharpenRamp: [number, number] | null;
  /** The context minus the image's mean feature, so that flat attention reads nothing (decoder option centre). */
  centre: boolean;
  /** Location-aware attention: the energy also sees a 3×3 convolution of the previous step's attention. */
  location: boolean;
  /** What of the context enters the LSTM: all of it (Show, Attend and Tell), only where it is (the coordinates), or none. */
  lstmSees: 'all' | 'where' | 'none';
  /** h₀, c₀ from the mean feature (Show, Attend and Tell) or learned constants. */
  initFromMean: boolean;
  /** Stop training after this many seconds (the report states where it stopped). */
  maxSeconds: number;
}

/** Conv layers of the given filters and kernels at strides 2, 2, 2, 1 (64 → 8). */
function convs(filters: readonly number[], kernels: readonly number[], strides: readonly number[] = [2, 2, 2, 1]): EncoderLayer[] {
  return filters.map((f, i) => ({ filters: f, kernel: kernels[i], stride: strides[i] }));
}

const FULL: CaptioningSettings = {
  train: 8000, val: 300, test: 1000, heldout: 1000, epochs: 30, batch: 32, lr: 3e-3, warmupSteps: 50, clipNorm: 5,
  // Kernels 2, 2, 2 at stride 2 (no padding needed) and a 1×1 layer: each cell's features describe exactly its own
  // 8×8 pixels, so a cell beside an object knows nothing of it and the attention must land on the object to read
  // it. With kernels 6, 4, 4, 3 every cell saw 40 pixels, and the attention read objects from a cell beside them.
  sizes: { encoder: convs([16, 32, 64, 64], [2, 2, 2, 1]), attention: 64, hidden: 128, embedding: 32 }, beam: 3, figures: 4, maxSeconds: 2000,
  // The image reaches the words only through the current step's attention (constant h₀, c₀; nothing of the
  // context in the LSTM), the attention must be peaked where a word describes an object (entropy term on the
  // size, colour and shape steps, ramped in; "left of", "above" and <end> may look wide, at whether and where
  // there is another object), and it can follow its last map.
  sharpen: 0.2, sharpenOn: 'describing', sharpenRamp: [200, 400], lstmSees: 'none', initFromMean: false, centre: false, location: true,
};
const QUICK: CaptioningSettings = {
  train: 192, val: 32, test: 48, heldout: 48, epochs: 1, batch: 16, lr: 3e-3, warmupSteps: 2, clipNorm: 5,
  sizes: { encoder: convs([8, 8, 16, 16], [2, 2, 2, 1]), attention: 16, hidden: 32, embedding: 8 }, beam: 2, figures: 2, maxSeconds: 60,
  sharpen: 0.2, sharpenOn: 'describing', sharpenRamp: null, lstmSees: 'none', initFromMean: false, centre: false, location: true,
};

export interface CaptioningRow {
  split: string; decoding: 'greedy' | 'beam'; images: number; bleu: Bleu; localization: Localization; exact: number;
  /** Diagnostic: the attention summed over each object phrase. */
  phrase: Localization;
}

function gather(s: CaptionSplit, from: number, n: number, order?: Int32Array): Int32Array {
  const out = new Int32Array(n * MAX_TOKENS);
  for (let r = 0; r < n; r++) {
    const i = order ? order[from + r] : from + r;
    out.set(s.tokens.subarray(i * MAX_TOKENS, (i + 1) * MAX_TOKENS), r * MAX_TOKENS);
  }
  return out;
}

/** Decodes a whole split in batches; returns every caption's tokens and attention. */
function decodeSplit(cap: Captioner, s: CaptionSplit, batch: number, how: 'greedy' | 'beam'): Decoded {
  const L = cap.L, tokens = new Int32Array(s.n * MAX_TOKENS), alphas = new Float32Array(s.n * MAX_TOKENS * L);
  for (let b = 0; b < s.n; b += batch) {
    const n = Math.min(batch, s.n - b), x = imageFloats(s, b, n);
    const d = how === 'greedy' ? cap.greedy(x, n) : cap.beam(x, n);
    tokens.set(d.tokens, b * MAX_TOKENS); alphas.set(d.alphas, b * MAX_TOKENS * L);
  }
  return { tokens, alphas };
}

function score(cap: Captioner, s: CaptionSplit, d: Decoded, how: 'greedy' | 'beam'): CaptioningRow {
  const cands: string[][] = [], refs: string[][][] = [];
  let exact = 0;
  for (let i = 0; i < s.n; i++) {
    const words = wordsOf(d.tokens.subarray(i * MAX_TOKENS, (i + 1) * MAX_TOKENS));
    cands.push(words); refs.push([s.captions[i].split(' ')]);
    if (words.join(' ') === s.captions[i]) exact++;
  }
  return {
    split: s.name, decoding: how, images: s.n, bleu: corpusBleu(cands, refs),
    localization: localization(d.tokens, d.alphas, s.objects, MAX_TOKENS, cap.grid, SIZE, isShapeToken, END), exact: exact / s.n,
    phrase: phraseLocalization(d.tokens, d.alphas, s.objects, MAX_TOKENS, cap.grid, SIZE, isShapeToken, END, VOCAB.indexOf('a')),
  };
}

/** `tune` overrides the settings (the report states what ran). */
export async function captioning(o: ExperimentOptions = {}, tune: Partial<CaptioningSettings> = {}): Promise<ExperimentResult> {
  const t0 = now();
  const quick = o.quick ?? false, seed = o.seed ?? 1, log = o.log ?? (() => {});
  const s: CaptioningSettings = { ...(quick ? QUICK : FULL), ...tune };
  const outDir = o.outDir ?? DEFAULT_OUT_DIR;
  mkdirSync(outDir, { recursive: true });
  const e = await Engine.create();
  const train = shapesCaptions('train', s.train, seed), val = shapesCaptions('val', s.val, seed);
  const test = shapesCaptions('test', s.test, seed), heldout = shapesCaptions('heldout', s.heldout, seed);
  log(`captioning: generated ${s.train} / ${s.val} / ${s.test} / ${s.heldout} scenes (${secs(since(t0))})`);
  const B = s.batch;
  const cap = new Captioner(e, s.sizes, { image: SIZE, vocab: VOCAB.length, maxTokens: MAX_TOKENS, start: START, end: END }, B,
    { type: 'adam', lr: s.lr, clipNorm: s.clipNorm }, seed, s.beam, { sharpen: s.sharpenRamp ? 0 : s.sharpen, lstmSees: s.lstmSees, initFromMean: s.initFromMean, centre: s.centre, location: s.location });
  if (s.sharpenOn === 'describing') cap.decoder.sharpenWords = DESCRIBING_TOKENS;

  // Training: shuffled batches (a seeded permutation per epoch), warm-up then linear decay to 10%.
  const perEpoch = Math.floor(train.n / B), totalSteps = perEpoch * s.epochs, order = new Int32Array(train.n), x = new Float32Array(B * SIZE * SIZE * 3);
  const curve: { epoch: number; loss: number; valLoss: number; seconds: number }[] = [];
  const tTrain = now();
  let step = 0, stoppedAt: number | null = null;
  const valLoss = () => {
    let sum = 0, cnt = 0;
    for (let b = 0; b < val.n; b += B) { const n = Math.min(B, val.n - b); sum += n * cap.evalLoss(imageFloats(val, b, n), gather(val, b, n), n); cnt += n; }
    return sum / cnt;
  };
  for (let epoch = 0; epoch < s.epochs && stoppedAt === null; epoch++) {
    permutation(order, seed + 3, epoch);
    let sum = 0, batches = 0;
    for (let b = 0; b < perEpoch; b++, step++) {
      // Progress: the larger of the steps' and the time budget's fraction, so a run cut by maxSeconds still ends decayed.
      const progress = Math.min(1, Math.max((step - s.warmupSteps) / Math.max(1, totalSteps - s.warmupSteps), since(tTrain) / s.maxSeconds));
      const lr = s.lr * (step < s.warmupSteps ? (step + 1) / s.warmupSteps : 1 - 0.9 * progress);
      if (s.sharpenRamp) cap.decoder.sharpen = s.sharpen * Math.min(1, Math.max(0, (step - s.sharpenRamp[0]) / Math.max(1, s.sharpenRamp[1] - s.sharpenRamp[0])));
      imageFloats(train, b * B, B, x, order);
      sum += cap.trainStep(x, gather(train, b * B, B, order), B, lr, step).crossEntropy; batches++;
      if (since(tTrain) > s.maxSeconds) { stoppedAt = step + 1; break; }
    }
    const vl = valLoss();
    curve.push({ epoch: epoch + (stoppedAt !== null ? batches / perEpoch : 1), loss: sum / batches, valLoss: vl, seconds: since(tTrain) });
    log(`captioning: epoch ${epoch + 1}: loss ${(sum / batches).toFixed(4)}, val loss ${vl.toFixed(4)} (${secs(since(tTrain))})`);
  }
  const trainSeconds = since(tTrain);

  // Evaluation: greedy and beam search on test and held-out.
  const rows: CaptioningRow[] = [];
  const decoded = new Map<string, Decoded>();
  for (const split of [test, heldout]) {
    for (const how of ['greedy', 'beam'] as const) {
      const d = decodeSplit(cap, split, B, how);
      decoded.set(`${split.name}-${how}`, d);
      const r = score(cap, split, d, how);
      rows.push(r);
      log(`captioning: ${split.name} ${how}: BLEU-4 ${r.bleu.bleu[3].toFixed(3)}, localization ${pct(r.localization.rate)} (phrase ${pct(r.phrase.rate)}), exact ${pct(r.exact)}`);
    }
  }

  // Figure 3: a few test images, greedy captions, each word's attention beneath it.
  const figures: string[] = [], shown: { file: string; caption: string; reference: string }[] = [];
  const g = decoded.get('test-greedy')!, per = SIZE * SIZE * 3;
  for (let i = 0; i < Math.min(s.figures, test.n); i++) {
    const words = wordsOf(g.tokens.subarray(i * MAX_TOKENS, (i + 1) * MAX_TOKENS));
    const file = `captioning-attention-${i}.png`;
    writeFileSync(join(outDir, file), attentionFigurePng(test.images.subarray(i * per, (i + 1) * per), SIZE, words,
      g.alphas.subarray(i * MAX_TOKENS * cap.L, (i * MAX_TOKENS + words.length) * cap.L), cap.grid));
    figures.push(join(outDir, file));
    shown.push({ file, caption: words.join(' '), reference: test.captions[i] });
  }

  const f3 = (v: number) => v.toFixed(3);
  const table = markdownTable(
    ['split', 'decoding', 'images', 'BLEU-1', 'BLEU-2', 'BLEU-3', 'BLEU-4', 'exact', 'localization (shape words)', 'phrase attention in box'],
    rows.map((r) => [r.split === 'heldout' ? 'held-out combinations' : r.split, r.decoding, r.images, ...r.bleu.bleu.map(f3), pct(r.exact),
      `${pct(r.localization.rate)} (${r.localization.hits}/${r.localization.words})`, pct(r.phrase.rate)]),
    [false, false, true, true, true, true, true, true, true, true],
  );
  const best = (split: string) => rows.filter((r) => r.split === split).reduce((a, b) => (b.bleu.bleu[3] > a.bleu.bleu[3] ? b : a));
  const tb = best('test');
  const checks: Check[] = quick
    ? [check('training lowers the loss (first epoch\'s mean below the untrained ln V)', curve[0].loss < Math.log(VOCAB.length), `${curve[0].loss.toFixed(3)} vs ln ${VOCAB.length} = ${Math.log(VOCAB.length).toFixed(3)}`)]
    : [
      check('test split: BLEU-4 ≥ 0.80', tb.bleu.bleu[3] >= 0.8, `${f3(tb.bleu.bleu[3])} (${tb.decoding})`),
      check('test split: attention localization ≥ 80% of shape words', tb.localization.rate >= 0.8, `${pct(tb.localization.rate)} (${tb.decoding})`),
    ];
  const svg = figure([
    { kind: 'line', title: 'Training', xLabel: 'epoch', yLabel: 'cross-entropy per word', logY: true, series: [
      { name: 'train (epoch mean)', x: curve.map((c) => c.epoch), y: curve.map((c) => c.loss), color: PALETTE[0], markers: true },
      { name: 'val', x: curve.map((c) => c.epoch), y: curve.map((c) => c.valLoss), color: PALETTE[1], markers: true },
    ] },
  ], { cols: 1, title: 'Captioner training' });
  const heldNames = HELD_OUT.map(([c, sh]) => `${COLOURS[c]} ${SHAPES[sh]}`).join(', ');
  const z = s.sizes, encoder = z.encoder.map((l) => `conv ${l.filters} ${l.kernel}×${l.kernel}/${l.stride ?? 1}`).join(' → ');
  const seconds = since(t0);
  const files = writeReport(outDir, {
    name: 'captioning', title: 'From image to text: a captioner with attention, scored on where it looks', quick,
    intro: 'A CNN turns a generated scene (one to three coloured shapes on 64×64 pixels) into an 8×8 grid of features; an LSTM with soft ' +
      'additive attention over the grid (Show, Attend and Tell) writes the caption word by word. BLEU (Papineni et al. 2002, corpus level, ' +
      'with brevity penalty, one reference per image) scores the words; the localization rate scores the attention: for each generated shape ' +
      'word, whether the attention\'s argmax cell has its centre inside the box of the object that word names (the k-th shape word names the ' +
      `k-th object in reading order). The held-out split has scenes with colour–shape pairs never seen in training (${heldNames}).`,
    settings: `${s.train} training scenes, ${s.val} validation, ${s.test} test, ${s.heldout} held-out; seed ${seed}. Encoder: ${encoder} (ReLU, same padding) → ` +
      `${cap.grid}×${cap.grid}×${cap.D - 2}, each cell seeing ${receptiveField(z.encoder)} pixels, plus 2 coordinate channels (D = ${cap.D}). Decoder: LSTM ${z.hidden} units, attention ${z.attention} units, embedding ${z.embedding}, deep output; h₀/c₀ ` +
      `${s.initFromMean ? 'from the mean feature' : 'learned constants'}; the LSTM's input is the previous word's embedding and ` +
      `${{ all: 'the whole context', where: 'the context\'s two coordinate channels (where it looked), the output layer the whole context', none: 'nothing of the context (only the output layer sees it)' }[s.lstmSees]}; vocabulary ${VOCAB.length}. Teacher forcing; Adam lr ${s.lr} (warm-up ${s.warmupSteps} steps, then linear decay to 10% over the steps or the time budget, whichever runs out first), global-norm clip ` +
      `${s.clipNorm}; attention-entropy weight ${s.sharpen}${s.sharpenOn === 'describing' ? ' on the steps that say a size, colour or shape' : ''}${s.sharpenRamp ? ` (from 0, rising linearly over steps ${s.sharpenRamp[0]}–${s.sharpenRamp[1]})` : ''}; ` +
      `${s.centre ? 'context minus the mean feature (flat attention reads nothing); ' : ''}${s.location ? 'location-aware attention (3×3 convolution of the previous attention map in the energy); ' : ''}batch ${B}; ${s.epochs} epochs${stoppedAt !== null ? ` planned, stopped by the time budget after step ${stoppedAt} of ${totalSteps}` : ` (${totalSteps} steps)`}, ` +
      `${secs(trainSeconds)} of training. Beam width ${s.beam}.`,
    table,
    figures: [{ file: 'captioning-curves.svg', svg, caption: 'Cross-entropy per word: training (epoch means) and validation.' }],
    checks, machine: machineLine(e.variant), seconds,
    notes: [
      ...shown.map((f) => `![${f.caption}](${f.file}) — generated: “${f.caption}”; reference: “${f.reference}”.`),
      ...(quick ? ['Quick mode: a tiny model on a few scenes for one epoch; it checks that the pipeline runs and writes its files.'] : []),
    ],
    data: { settings: s, seed, curve, stoppedAt, trainSeconds, rows, figures: shown },
  });
  files.push(...figures);
  return { name: 'captioning', table, files, checks, seconds };
}
