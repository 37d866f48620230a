// Short captioner trials (not a test, not the experiment): trains on 4,000 generated scenes and prints, every
// 200 steps, greedy BLEU-1..4 and the shape-word localization on 200 validation scenes, and for three of them
// each word's attention argmax cell (x,y on the 8×8 grid) and weight beside the objects' boxes in grid units.
// Used to choose docs/experiments/captioning.md's decoder variant:
//   node --import tsx scripts/caption-trial.mts STEPS LR KERNELS mean|nomean SHARPEN all|where|none
//   e.g. node --import tsx scripts/caption-trial.mts 400 3e-3 "[5,3,3,3]" mean 0 all
// An optional 8th argument RAMP="from,to" raises the entropy weight linearly from 0 at step `from` to SHARPEN at `to`
// ("-": none); a 9th, a comma list of decoder flags (src/caption/decoder.ts): "centre" (context z_t − ā),
// "location" (location-aware attention), e.g. "centre,location"; "describe": the entropy term only on the steps
// that say a size, colour or shape (decoder sharpenWords).
import { Engine } from '../src/engine/engine';
import { Captioner } from '../src/caption/captioner';
import { corpusBleu } from '../src/caption/bleu';
import { localization } from '../src/caption/localization';
import { permutation } from '../src/data/rng';
import { shapesCaptions, imageFloats, DESCRIBING_TOKENS, VOCAB, MAX_TOKENS, START, END, wordsOf, isShapeToken } from '../src/data/shapes-captions';
const e = await Engine.create();
const B = 32, STEPS = Number(process.argv[2] ?? 400), LR = Number(process.argv[3] ?? 2e-3);
// KERNELS: four kernel sizes (filters 16, 32, 64, 64 at strides 2, 2, 2, 1), or a JSON list of layers
// {filters, kernel, stride} (src/caption/captioner.ts's EncoderLayer).
const KS = JSON.parse(process.argv[4] ?? "[5,3,3,1]"), MEAN = process.argv[5] !== "nomean";
const SH = Number(process.argv[6] ?? 0), RAMP = process.argv[8] && process.argv[8] !== '-' ? process.argv[8].split(',').map(Number) : null;
const FLAGS = (process.argv[9] ?? "").split(",");
const cap = new Captioner(e, { encoder: typeof KS[0] === "number" ? KS.map((k: number, i: number) => ({ filters: [16, 32, 64, 64][i], kernel: k, stride: [2, 2, 2, 1][i] })) : KS, attention: 64, hidden: 128, embedding: 32 }, { image: 64, vocab: VOCAB.length, maxTokens: MAX_TOKENS, start: START, end: END }, B, { type: "adam", lr: LR, clipNorm: 5 }, 1, 3, { initFromMean: MEAN, sharpen: SH, lstmSees: (process.argv[7] ?? "all") as "all" | "where" | "none", centre: FLAGS.includes("centre"), location: FLAGS.includes("location") });
if (FLAGS.includes("describe")) cap.decoder.sharpenWords = DESCRIBING_TOKENS;
const tr = shapesCaptions('train', 4000), va = shapesCaptions('val', 200);
const x = new Float32Array(B * 64 * 64 * 3), tok = new Int32Array(B * MAX_TOKENS), order = new Int32Array(tr.n);
let t0 = performance.now(), sum = 0;
const evalv = () => {
  const cands: string[][] = [], refs: string[][][] = [];
  let hits = 0, words = 0, exactHits = 0, exactWords = 0;
  const offsets = new Map<string, number>();
  for (let b = 0; b < va.n; b += B) {
    const n = Math.min(B, va.n - b);
    const d = cap.greedy(imageFloats(va, b, n), n);
    for (let i = 0; i < n; i++) { cands.push(wordsOf(d.tokens.subarray(i * MAX_TOKENS, (i + 1) * MAX_TOKENS))); refs.push([va.captions[b + i].split(' ')]); }
    const l = localization(d.tokens, d.alphas, va.objects.slice(b, b + n), MAX_TOKENS, cap.grid, 64, isShapeToken, END);
    hits += l.hits; words += l.words;
    // Diagnostic: on captions that are exactly right, the misses' offset (cells from the argmax to the box's
    // nearest cell centre, x and y), to tell attention beside the object from a wrong caption.
    for (let i = 0; i < n; i++) {
      if (cands[b + i].join(' ') !== va.captions[b + i]) continue;
      const T = MAX_TOKENS, objs = va.objects[b + i], cell = 64 / cap.grid;
      for (let t = 0, k = 0; t < T; t++) {
        const id = d.tokens[i * T + t]; if (id === END || id === 0) break; if (!isShapeToken(id)) continue;
        const a = d.alphas.subarray((i * T + t) * cap.L, (i * T + t + 1) * cap.L); let bi = 0; for (let q = 1; q < cap.L; q++) if (a[q] > a[bi]) bi = q;
        const [x0, y0, x1, y1] = objs[k++].box, cx = bi % cap.grid, cy = Math.floor(bi / cap.grid);
        const off = (c: number, lo: number, hi: number) => { const p = (c + 0.5) * cell; return p < lo ? -Math.ceil((lo - p) / cell) : p >= hi ? Math.ceil((p - hi + 1e-9) / cell) : 0; };
        const ox = off(cx, x0, x1), oy = off(cy, y0, y1), key = `${ox},${oy}`;
        exactWords++; if (key === '0,0') exactHits++; else offsets.set(key, (offsets.get(key) ?? 0) + 1);
      }
    }
    if (b === 0) for (let i = 0; i < 3; i++) {
      const T = MAX_TOKENS, ws = [];
      for (let t = 0; t < T; t++) { const id = d.tokens[i * T + t]; if (id === END || id === 0) break; const a = d.alphas.subarray((i * T + t) * cap.L, (i * T + t + 1) * cap.L); let bi = 0; for (let k = 1; k < cap.L; k++) if (a[k] > a[bi]) bi = k; ws.push(`${VOCAB[id]}@${bi % cap.grid},${Math.floor(bi / cap.grid)}:${a[bi].toFixed(2)}`); }
      console.log('  ', ws.join(' '), JSON.stringify(va.objects[i].map((o) => o.box.map((v) => (v / (64 / cap.grid)).toFixed(1)))));
    }
  }
  const bl = corpusBleu(cands, refs);
  console.log('BLEU', bl.bleu.map((v) => v.toFixed(3)).join(' '), 'loc', (hits / words).toFixed(3), '|', cands[0].join(' '), '//', va.captions[0]);
  console.log('  exact captions: loc', (exactHits / Math.max(1, exactWords)).toFixed(3), `(${exactHits}/${exactWords}); miss offsets (dx,dy cells):`, [...offsets].sort((u, v) => v[1] - u[1]).slice(0, 8).map(([k, v]) => `${k}×${v}`).join(' '));
};
for (let it = 0; it < STEPS; it++) {
  const per = Math.floor(tr.n / B), ep = Math.floor(it / per), b = it % per;
  if (b === 0) permutation(order, 5, ep);
  imageFloats(tr, b * B, B, x, order);
  for (let r = 0; r < B; r++) tok.set(tr.tokens.subarray(order[b * B + r] * MAX_TOKENS, (order[b * B + r] + 1) * MAX_TOKENS), r * MAX_TOKENS);
  const lr = LR * (it < 50 ? (it + 1) / 50 : 1);
  if (RAMP) cap.decoder.sharpen = SH * Math.min(1, Math.max(0, (it - RAMP[0]) / (RAMP[1] - RAMP[0])));
  sum += cap.trainStep(x, tok, B, lr, it).crossEntropy;
  if ((it + 1) % 50 === 0) { console.log(it + 1, (sum / 50).toFixed(3), ((performance.now() - t0) / 1000).toFixed(0), 's'); sum = 0; }
  if ((it + 1) % 200 === 0) evalv();
}
