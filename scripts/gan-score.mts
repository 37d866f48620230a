// Scores generated digits from another implementation (scripts/gan-torch.py) with the GAN experiment's own
// measuring classifier: the same training (all training digits, the first 2,000 test digits, 5 epochs, seed 1
// — src/experiments/gan.ts's FULL settings) and the same classifier score and Fréchet distance (`quality`).
// Each file: n × 784 float32 little-endian pixels in [0, 1], or a saved generator (FILE.rede, as `rede experiment gan`
// writes: 2,000 samples from standard-normal noise, normalAt seed 77). With each score, its two factors (scoreFactors in
// src/experiments/sample-quality.ts): exp H(p(y)) (class spread, ≤ 10) ÷ exp E[H(p(y|x))] (doubt, ≥ 1), and
// how many samples each digit wins; the held-out real images first, for reference.
//   node --import tsx scripts/gan-score.mts [--cache DIR] SAMPLES.f32|GENERATOR.rede ...
// --cache DIR keeps the trained classifier in DIR (judge-features.rede, judge-head.rede) for later calls.
// --truncation T1,T2,... also scores each generator with its noise truncated to [-T, T] (truncatedNormalAt: the
// same draws where they fall inside), one line per T — how much surer samples get for how much less variety.
// Each file's first 100 images are drawn beside it as FILE.png (a 10 × 10 grid).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Model } from '../src/api/model';
import { Engine } from '../src/engine/engine';
import { firstOf, imageSet } from '../src/experiments/images';
import { greyGridPng } from '../src/viz/grid';
import { judgeReference, measuringClassifier, quality, type Judge, type Quality } from '../src/experiments/gan';
import { normalAt, truncatedNormalAt } from '../src/data/rng';

const args = process.argv.slice(2), at = args.indexOf('--cache');
const cache = at >= 0 ? args.splice(at, 2)[1] : null;
const tAt = args.indexOf('--truncation');
const taus = tAt >= 0 ? args.splice(tAt, 2)[1].split(',').map(Number) : [];
for (const t of taus) if (!(t >= 0.25)) throw new Error(`gan-score: --truncation takes values ≥ 0.25, got ${t}`);
if (args.length === 0) throw new Error('gan-score: give one or more sample files (n × 784 float32), got none');
const e = await Engine.create();
const data = await imageSet('digits');
const train = data.train, test = firstOf(data.test, 2000), SEED = 1, EPOCHS = 5;
const paths = cache ? [join(cache, 'judge-features.rede'), join(cache, 'judge-head.rede'), join(cache, 'judge-accuracy.txt')] : [];
let judge: Judge;
if (cache && paths.every((f) => existsSync(f))) {
  const [features, head] = await Promise.all(paths.slice(0, 2).map((f) => Model.fromBytes(readFileSync(f), { engine: e })));
  judge = { features, head, accuracy: Number(readFileSync(paths[2], 'utf8')) };
} else {
  judge = (await measuringClassifier(e, train, test, EPOCHS, SEED)).judge;
  if (cache) {
    mkdirSync(cache, { recursive: true });
    writeFileSync(paths[0], judge.features.toBytes()); writeFileSync(paths[1], judge.head.toBytes()); writeFileSync(paths[2], String(judge.accuracy));
  }
}
const ref = judgeReference(judge, train, test);
console.log(`gan-score: classifier test accuracy ${(100 * judge.accuracy).toFixed(1)}%, real images' score ${ref.real.score.toFixed(2)}, real-vs-real Fréchet ${ref.realVsReal.toFixed(2)}`);
const factors = (q: Quality): string => `spread ${q.spread.toFixed(2)} ÷ doubt ${q.doubt.toFixed(3)}; wins per digit ${q.wins.join(' ')}`;
console.log(`held-out real images: ${factors(ref.real)}`);
const score = (f: string, x: Float32Array): void => {
  if (x.length === 0 || x.length % 784 !== 0) throw new Error(`gan-score: ${f} holds ${x.length} floats, expected a positive multiple of 784`);
  const q = quality(judge, x, ref.reference);
  if (x.length >= 100 * 784) writeFileSync(`${f}.png`, greyGridPng(x.subarray(0, 100 * 784), 100, 28, 28, 10));
  console.log(`${f}: score ${q.score.toFixed(2)} (${(100 * q.score / ref.real.score).toFixed(0)}% of real), Fréchet ${q.frechet.toFixed(1)}, n ${x.length / 784}; ${factors(q)}`);
};
for (const f of args) {
  if (f.endsWith('.rede')) {
    const G = await Model.fromBytes(readFileSync(f), { engine: e }), latent = G.config.input[0] as number;
    if (G.config.input.length !== 1) throw new Error(`gan-score: ${f} takes input ${JSON.stringify(G.config.input)}, expected a noise vector [latent]`);
    score(f, G.predict(Float32Array.from({ length: 2000 * latent }, (_, i) => normalAt(77, 0, i)), { batchSize: 250 }));
    for (const t of taus) score(`${f}.truncated-${t}`, G.predict(Float32Array.from({ length: 2000 * latent }, (_, i) => truncatedNormalAt(t, 77, 0, i)), { batchSize: 250 }));
  } else {
    const b = readFileSync(f);
    score(f, new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)));
  }
}
