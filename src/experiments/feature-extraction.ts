// Lecture 2.6.1, the problem of feature extraction: conventional networks struggle with raw natural data,
// so features are extracted by hand (PCA, shape and texture attributes) — but the relevant features are not
// always the ones extracted. Softmax regression and a small MLP on raw pixels, on PCA features (k = 10, 30,
// 50, 100; rede's own PCA: GEMM covariance + subspace iteration) and on hand-made shape/texture features,
// against a small CNN that learns its own features from the pixels (2.6.3).
import { fashionMnist } from '../data/fashion-mnist';
import { subset, type Dataset } from '../data/dataset';
import { Engine } from '../engine/engine';
import { RedeError } from '../engine/errors';
import type { LayerConfig, ModelConfig } from '../model/config';
import { Model } from '../api/model';
import { figure, scatterChart, type Series } from '../viz/svg';
import { fitPca, projectPca } from './pca';
import {
  check, DEFAULT_OUT_DIR, machineLine, markdownTable, now, pct, secs, since, writeReport,
  type ExperimentOptions, type ExperimentResult,
} from './report';

// ---- hand-made features -----------------------------------------------------------------------------

/** The hand-made feature groups and their sizes for 28×28 images (241 values in all). */
export const HAND_FEATURE_GROUPS = [
  { name: 'projections', size: 56, what: 'ink per row and per column (28 + 28)' },
  { name: 'zoning', size: 49, what: 'mean intensity of each 4×4 zone of a 7×7 grid' },
  { name: 'gradient histograms', size: 128, what: 'gradient-orientation histograms (HOG-like): 8 unsigned orientations in each 7×7-pixel cell of a 4×4 grid, each cell L2-normalized' },
  { name: 'moments', size: 8, what: 'ink mass, centroid (x, y), spread (σx, σy, σxy), bounding-box width and height' },
] as const;

export const HAND_FEATURES = HAND_FEATURE_GROUPS.reduce((s, g) => s + g.size, 0);

const SIDE = 28, CELL = 7, BINS = 8, ZONE = 4;

/** Hand-made shape and texture features of n 28×28 grey images (x [n, 784], values in [0, 1]) → [n, 241]. */
export function handFeatures(x: Float32Array, n: number): Float32Array {
  const P = SIDE * SIDE;
  if (x.length !== n * P) throw new RedeError(`handFeatures: x has ${x.length} values, expected ${n} images of 28×28`);
  const out = new Float32Array(n * HAND_FEATURES);
  const gx = new Float32Array(P), gy = new Float32Array(P);
  for (let im = 0; im < n; im++) {
    const img = x.subarray(im * P, (im + 1) * P);
    let o = im * HAND_FEATURES;
    // Projections: the profile of ink along each row and each column.
    for (let r = 0; r < SIDE; r++) { let s = 0; for (let c = 0; c < SIDE; c++) s += img[r * SIDE + c]; out[o++] = s / SIDE; }
    for (let c = 0; c < SIDE; c++) { let s = 0; for (let r = 0; r < SIDE; r++) s += img[r * SIDE + c]; out[o++] = s / SIDE; }
    // Zoning: a coarse 7×7 picture.
    for (let zr = 0; zr < SIDE / ZONE; zr++) for (let zc = 0; zc < SIDE / ZONE; zc++) {
      let s = 0;
      for (let r = 0; r < ZONE; r++) for (let c = 0; c < ZONE; c++) s += img[(zr * ZONE + r) * SIDE + zc * ZONE + c];
      out[o++] = s / (ZONE * ZONE);
    }
    // Gradient-orientation histograms (Dalal & Triggs 2005, simplified): central differences, unsigned angle
    // in [0, π) split linearly between the two nearest of 8 bins, weighted by the gradient magnitude.
    for (let r = 0; r < SIDE; r++) for (let c = 0; c < SIDE; c++) { // borders: one-sided (clamped) neighbours
      const up = r > 0 ? r - 1 : 0, down = r < SIDE - 1 ? r + 1 : r, lf = c > 0 ? c - 1 : 0, rt = c < SIDE - 1 ? c + 1 : c;
      gx[r * SIDE + c] = img[r * SIDE + rt] - img[r * SIDE + lf];
      gy[r * SIDE + c] = img[down * SIDE + c] - img[up * SIDE + c];
    }
    for (let cr = 0; cr < SIDE / CELL; cr++) for (let cc = 0; cc < SIDE / CELL; cc++) {
      const hist = out.subarray(o, o + BINS);
      for (let r = cr * CELL; r < (cr + 1) * CELL; r++) for (let c = cc * CELL; c < (cc + 1) * CELL; c++) {
        const dx = gx[r * SIDE + c], dy = gy[r * SIDE + c], mag = Math.sqrt(dx * dx + dy * dy);
        if (mag === 0) continue;
        let a = Math.atan2(dy, dx);
        if (a < 0) a += Math.PI;
        const pos = (a / Math.PI) * BINS - 0.5, b0 = Math.floor(pos), f = pos - b0;
        hist[(b0 + BINS) % BINS] += mag * (1 - f);
        hist[(b0 + 1) % BINS] += mag * f;
      }
      let ss = 0;
      for (let b = 0; b < BINS; b++) ss += hist[b] * hist[b];
      const inv = 1 / Math.sqrt(ss + 1e-2);
      for (let b = 0; b < BINS; b++) hist[b] *= inv;
      o += BINS;
    }
    // Moments of the ink distribution, and the bounding box of pixels above 0.2.
    let m = 0, mx = 0, my = 0;
    for (let r = 0; r < SIDE; r++) for (let c = 0; c < SIDE; c++) { const v = img[r * SIDE + c]; m += v; mx += v * c; my += v * r; }
    const cx = m > 0 ? mx / m : (SIDE - 1) / 2, cy = m > 0 ? my / m : (SIDE - 1) / 2;
    let sxx = 0, syy = 0, sxy = 0, top = SIDE, bottom = -1, left = SIDE, right = -1;
    for (let r = 0; r < SIDE; r++) for (let c = 0; c < SIDE; c++) {
      const v = img[r * SIDE + c];
      sxx += v * (c - cx) ** 2; syy += v * (r - cy) ** 2; sxy += v * (c - cx) * (r - cy);
      if (v > 0.2) { top = Math.min(top, r); bottom = Math.max(bottom, r); left = Math.min(left, c); right = Math.max(right, c); }
    }
    const mm = Math.max(m, 1e-6);
    out[o++] = m / P; out[o++] = cx / SIDE; out[o++] = cy / SIDE;
    out[o++] = Math.sqrt(sxx / mm) / SIDE; out[o++] = Math.sqrt(syy / mm) / SIDE; out[o++] = sxy / mm / (SIDE * SIDE);
    out[o++] = right >= left ? (right - left + 1) / SIDE : 0; out[o++] = bottom >= top ? (bottom - top + 1) / SIDE : 0;
  }
  return out;
}

/** Per-column z-scores with the training set's mean and std (a constant column is only centred). */
export function standardizeColumns(train: Float32Array, others: Float32Array[], d: number): void {
  const n = train.length / d, mean = new Float64Array(d), sq = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) { const v = train[r * d + j]; mean[j] += v; sq[j] += v * v; }
  const inv = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    mean[j] /= n;
    const sd = Math.sqrt(Math.max(0, sq[j] / n - mean[j] * mean[j]));
    inv[j] = sd > 1e-8 ? 1 / sd : 1;
  }
  for (const a of [train, ...others]) for (let i = 0; i < a.length; i++) a[i] = (a[i] - mean[i % d]) * inv[i % d];
}

// ---- the experiment -----------------------------------------------------------------------------------

export type Classifier = 'softmax' | 'mlp' | 'cnn';

export interface MethodResult {
  features: string;
  dims: number;
  classifier: Classifier;
  params: number;
  accuracy: number;
  /** Seconds to compute the features for train + test (PCA: projection only; the fit is reported once). */
  featureSeconds: number;
  trainSeconds: number;
}

interface Settings { train: number; test: number; ks: number[]; epochs: number; cnnEpochs: number; batch: number; hidden: number; scatter: number }

const FULL: Settings = { train: 20000, test: 10000, ks: [10, 30, 50, 100], epochs: 15, cnnEpochs: 6, batch: 64, hidden: 128, scatter: 2000 };
const QUICK: Settings = { train: 3000, test: 1000, ks: [10, 30, 50, 100], epochs: 10, cnnEpochs: 6, batch: 64, hidden: 128, scatter: 500 };

/**
 * Adam learning rates. Softmax regression on standardized (for PCA: whitened) features is a convex problem
 * that lr 0.001 leaves far from its optimum in a few hundred steps; 0.01 converges.
 */
const LR = { softmax: 1e-2, mlp: 2e-3, cnn: 2e-3 } as const;

/** The classifiers on feature vectors: softmax regression, or one hidden ReLU layer. */
export function featureClassifier(kind: 'softmax' | 'mlp', dims: number, hidden = 128, classes = 10): ModelConfig {
  const layers: LayerConfig[] = kind === 'mlp'
    ? [{ type: 'dense', units: hidden, activation: 'relu' }, { type: 'dense', units: classes }]
    : [{ type: 'dense', units: classes }];
  return { name: `${kind}-${dims}`, input: [dims], layers };
}

/** The CNN that learns its own features: two conv-ReLU-pool stages, a hidden dense layer, the classifier. */
export function smallCnn(classes = 10): ModelConfig {
  return {
    name: 'small-cnn', input: [SIDE, SIDE, 1], layers: [
      { type: 'conv2d', filters: 16, kernel: 3, padding: 'same', activation: 'relu' }, { type: 'maxpool2d', pool: 2 }, // [14, 14, 16]
      { type: 'conv2d', filters: 32, kernel: 3, padding: 'same', activation: 'relu' }, { type: 'maxpool2d', pool: 2 }, // [7, 7, 32]
      { type: 'flatten' }, { type: 'dense', units: 64, activation: 'relu' }, { type: 'dense', units: classes },
    ],
  };
}

async function trainOn(e: Engine, config: ModelConfig, train: Dataset | [Float32Array, Int32Array], test: Dataset | [Float32Array, Int32Array],
  epochs: number, batch: number, seed: number, lr: number): Promise<{ accuracy: number; seconds: number; params: number }> {
  const mark = e.mark();
  try {
    const m = await Model.create(config, { engine: e, seed });
    m.compile({ optimizer: { type: 'adam', lr }, loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    const t0 = now();
    if (Array.isArray(train)) await m.fit(train[0], train[1], { epochs, batchSize: batch, seed });
    else await m.fit(train, { epochs, batchSize: batch, seed });
    const seconds = since(t0);
    const logs = Array.isArray(test) ? m.evaluate(test[0], test[1], { batchSize: 256 }) : m.evaluate(test, undefined, { batchSize: 256 });
    return { accuracy: logs.accuracy, seconds, params: m.paramCount };
  } finally {
    e.release(mark);
  }
}

export async function featureExtraction(o: ExperimentOptions = {}): Promise<ExperimentResult> {
  const t0 = now();
  const quick = o.quick ?? false, seed = o.seed ?? 1, log = o.log ?? (() => {});
  const s = quick ? QUICK : FULL;
  const data = await fashionMnist(o.dataDir);
  // Fashion-MNIST's files are already in random class order, so prefixes are fair samples.
  const train = subset(data.train, 0, s.train), test = subset(data.test, 0, s.test);
  const P = SIDE * SIDE, ntr = train.y.length, nte = test.y.length;
  const e = await Engine.create();
  const results: MethodResult[] = [];
  const run = async (features: string, dims: number, classifier: 'softmax' | 'mlp', xtr: Float32Array, xte: Float32Array, featureSeconds: number) => {
    const r = await trainOn(e, featureClassifier(classifier, dims, s.hidden), [xtr, train.y], [xte, test.y], s.epochs, s.batch, seed, LR[classifier]);
    results.push({ features, dims, classifier, params: r.params, accuracy: r.accuracy, featureSeconds, trainSeconds: r.seconds });
    log(`feature-extraction: ${classifier.padEnd(7)} on ${features.padEnd(18)} ${pct(r.accuracy)} (${secs(r.seconds)})`);
  };

  // Raw pixels (already in [0, 1]).
  for (const c of ['softmax', 'mlp'] as const) await run('raw pixels', P, c, train.x, test.x, 0);

  // PCA: fitted once on the training images (k = max), then the first k coordinates, standardized.
  const kmax = Math.max(...s.ks);
  let t = now();
  const pca = fitPca(e, train.x, ntr, P, kmax, { seed });
  const pcaSeconds = since(t);
  log(`feature-extraction: PCA of ${ntr} images (784×784 covariance, top ${kmax}) in ${secs(pcaSeconds)}, ${pca.iterations} subspace iterations`);
  const explained = (k: number) => pca.eigenvalues.slice(0, k).reduce((a, v) => a + v, 0) / pca.totalVariance;
  for (const k of s.ks) {
    t = now();
    const ztr = projectPca(e, pca, train.x, ntr, k), zte = projectPca(e, pca, test.x, nte, k);
    standardizeColumns(ztr, [zte], k);
    const fs = since(t);
    for (const c of ['softmax', 'mlp'] as const) await run(`PCA k=${k}`, k, c, ztr, zte, fs);
  }

  // Hand-made shape and texture features.
  t = now();
  const htr = handFeatures(train.x, ntr), hte = handFeatures(test.x, nte);
  standardizeColumns(htr, [hte], HAND_FEATURES);
  const handSeconds = since(t);
  for (const c of ['softmax', 'mlp'] as const) await run('hand-made', HAND_FEATURES, c, htr, hte, handSeconds);

  // The CNN learns its features from the pixels.
  const cnn = await trainOn(e, smallCnn(), train, test, s.cnnEpochs, s.batch, seed, LR.cnn);
  results.push({ features: 'learned (CNN)', dims: P, classifier: 'cnn', params: cnn.params, accuracy: cnn.accuracy, featureSeconds: 0, trainSeconds: cnn.seconds });
  log(`feature-extraction: CNN on raw pixels ${pct(cnn.accuracy)} (${secs(cnn.seconds)})`);

  const table = markdownTable(
    ['features', 'dims', 'classifier', 'parameters', 'test accuracy', 'feature time', 'training time'],
    results.map((r) => [r.features, r.dims, r.classifier === 'cnn' ? `CNN (${smallCnnSummary})` : r.classifier === 'mlp' ? `MLP (${s.hidden} ReLU)` : 'softmax regression',
      r.params.toLocaleString('en-US'), pct(r.accuracy), r.featureSeconds ? secs(r.featureSeconds) : '—', secs(r.trainSeconds)]),
    [false, true, false, true, true, true, true],
  );

  // Figures: the test set on the first two principal components; accuracy against k.
  const z2 = projectPca(e, pca, test.x.subarray(0, Math.min(s.scatter, nte) * P), Math.min(s.scatter, nte), 2);
  const nsc = z2.length / 2;
  const scatter = scatterChart({
    title: `Fashion-MNIST test images on the first two principal components (${nsc})`,
    xLabel: `PC 1 (${pct(pca.eigenvalues[0] / pca.totalVariance)} of the variance)`, yLabel: `PC 2 (${pct(pca.eigenvalues[1] / pca.totalVariance)})`,
    x: Float32Array.from({ length: nsc }, (_, i) => z2[2 * i]), y: Float32Array.from({ length: nsc }, (_, i) => z2[2 * i + 1]),
    group: test.y.subarray(0, nsc), groups: data.test.classNames ?? Array.from({ length: 10 }, (_, i) => String(i)), width: 700, height: 520,
  });
  const acc = (f: string, c: Classifier) => results.find((r) => r.features === f && r.classifier === c)!.accuracy;
  const flat = (name: string, v: number, i: number): Series => ({ name, x: [s.ks[0], kmax], y: [v, v], dash: true, color: ['#59a14f', '#76b7b2', '#b07aa1', '#9c755f', '#bab0ac'][i] });
  const accChart = figure([{
    kind: 'line', title: 'Test accuracy against the number of PCA features', xLabel: 'PCA components k', yLabel: 'test accuracy',
    series: [
      { name: 'softmax on PCA', x: s.ks, y: s.ks.map((k) => acc(`PCA k=${k}`, 'softmax')), markers: true, color: '#4e79a7' },
      { name: 'MLP on PCA', x: s.ks, y: s.ks.map((k) => acc(`PCA k=${k}`, 'mlp')), markers: true, color: '#f28e2b' },
      flat('CNN (learned features)', cnn.accuracy, 0),
      flat('MLP on hand-made', acc('hand-made', 'mlp'), 1),
      flat('MLP on raw pixels', acc('raw pixels', 'mlp'), 2),
      flat('softmax on raw pixels', acc('raw pixels', 'softmax'), 3),
    ],
  }]);
  const figures = [
    { file: 'feature-extraction-pca.svg', svg: scatter, caption: 'Test images projected on the first two principal components of the training images, coloured by class.' },
    { file: 'feature-extraction-accuracy.svg', svg: accChart, caption: 'Test accuracy of softmax regression and an MLP on k PCA features; dashed: the other methods.' },
  ];

  const bestPcaSoftmax = Math.max(...s.ks.map((k) => acc(`PCA k=${k}`, 'softmax')));
  const checks = [
    check('the CNN, learning its own features, beats softmax regression on PCA features (best k)', cnn.accuracy > bestPcaSoftmax,
      `${pct(cnn.accuracy)} vs ${pct(bestPcaSoftmax)}`),
    check('the CNN beats softmax regression on raw pixels', cnn.accuracy > acc('raw pixels', 'softmax'), `${pct(cnn.accuracy)} vs ${pct(acc('raw pixels', 'softmax'))}`),
  ];
  const best = results.filter((r) => r.classifier !== 'cnn').reduce((a, r) => (r.accuracy > a.accuracy ? r : a));
  const seconds = since(t0);
  const files = writeReport(o.outDir ?? DEFAULT_OUT_DIR, {
    name: 'feature-extraction', title: 'Hand-made features against learned ones (lecture 2.6.1)', quick,
    intro: 'Conventional networks are usually given extracted features — PCA, shape and texture attributes — instead of raw ' +
      'images; the features relevant for the task are not always the ones extracted. Here the same two classifiers ' +
      '(softmax regression and an MLP) see raw pixels, PCA features and hand-made features, and a small CNN learns its own.',
    settings: `Fashion-MNIST: the first ${ntr.toLocaleString('en-US')} training and ${nte.toLocaleString('en-US')} test images. ` +
      `Softmax regression: Adam (lr ${LR.softmax}); MLP: Adam (lr ${LR.mlp}); both batch ${s.batch}, ${s.epochs} epochs. CNN: Adam (lr ${LR.cnn}), ${s.cnnEpochs} epochs. ` +
      `PCA and hand-made features are standardized with the training set's mean and std. PCA (top ${kmax} of the 784×784 covariance, ` +
      `fitted on the training images) took ${secs(pcaSeconds)} (${pca.iterations} subspace iterations, residual ${pca.residual.toExponential(1)}·λ₁); ` +
      `k = ${s.ks.join(', ')} explain ${s.ks.map((k) => pct(explained(k))).join(', ')} of the variance. Hand-made features (${HAND_FEATURES}): ` +
      `${HAND_FEATURE_GROUPS.map((g) => `${g.name} (${g.size}: ${g.what})`).join('; ')}. Seed ${seed}.`,
    table, figures, checks, machine: machineLine(e.variant), seconds,
    notes: [`Best fixed-feature pipeline: ${best.classifier} on ${best.features}, ${pct(best.accuracy)}; the CNN: ${pct(cnn.accuracy)}.`,
      'Training times are wall-clock on a shared machine; accuracies are reproducible for a seed and engine variant.'],
    data: { settings: s, seed, pca: { seconds: pcaSeconds, iterations: pca.iterations, residual: pca.residual, eigenvalues: Array.from(pca.eigenvalues), totalVariance: pca.totalVariance }, results },
  });
  return { name: 'feature-extraction', table, files, checks, seconds };
}

const smallCnnSummary = 'conv16-conv32-fc64';
