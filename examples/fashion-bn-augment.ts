// A small CNN with batch normalization, dropout and augmentation on Fashion-MNIST (Xiao et al. 2017).
// Asserts its target, so it is also a test:
//   node --import tsx examples/fashion-bn-augment.ts            full run: 60,000 images, 15 epochs, ≥ 0.93
//   QUICK=1 node --import tsx examples/fashion-bn-augment.ts    4,000 images, 3 epochs, ≥ 0.80 (test/examples)
// Needs the dataset in /usr/share/datasets/fashion-mnist (`apt-get install dataset-fashion-mnist`), or the
// four IDX .gz files in the directory named by FASHION_MNIST_DIR.
import { Model, data, type ModelConfig } from '../src/index';

/** conv-BN-ReLU ×2 with pooling, then a BN dense layer and dropout before the logits. */
export const fashionCnn = (): ModelConfig => ({
  name: 'fashion-cnn',
  input: [28, 28, 1],
  layers: [
    { type: 'conv2d', filters: 32, kernel: 3, padding: 'same', useBias: false }, // BN's shift is the bias
    { type: 'batchnorm' }, { type: 'relu' },
    { type: 'maxpool2d', pool: 2 }, //                                            [14, 14, 32]
    { type: 'conv2d', filters: 64, kernel: 3, padding: 'same', useBias: false },
    { type: 'batchnorm' }, { type: 'relu' },
    { type: 'maxpool2d', pool: 2 }, //                                            [7, 7, 64]
    { type: 'flatten' },
    { type: 'dense', units: 256, useBias: false },
    { type: 'batchnorm' }, { type: 'relu' },
    // One dropout only: with 0.25 after the convolutions as well (and 2-pixel shifts) this net underfit
    // (train 0.917, test 0.925 after 15 epochs).
    { type: 'dropout', rate: 0.25 },
    { type: 'dense', units: 10 },
  ],
});

const quick = process.env.QUICK === '1';
const run = quick
  ? { train: 4000, test: 1000, epochs: 3, target: 0.8 }
  : { train: Infinity, test: Infinity, epochs: 15, target: 0.93 };

const fashion = await data.fashionMnist(process.env.FASHION_MNIST_DIR || undefined);
const train = data.subset(fashion.train, 0, Math.min(run.train, fashion.train.y.length));
const test = data.subset(fashion.test, 0, Math.min(run.test, fashion.test.y.length));

const batchSize = 64, seed = 1;
const model = await Model.create(fashionCnn(), { seed });
model.compile({
  optimizer: { type: 'adam', lr: 0.002 },
  loss: 'sparse_categorical_crossentropy',
  metrics: ['accuracy'],
  // Cosine decay to 0 over the run: the last epochs at a small rate settle the weights.
  schedule: { type: 'cosine', totalSteps: run.epochs * Math.ceil(train.y.length / batchSize) },
});
console.log(`fashion-bn-augment${quick ? ' (QUICK)' : ''}: ${model.paramCount.toLocaleString('en-US')} parameters, ` +
  `${train.y.length} training / ${test.y.length} test images, ${run.epochs} epochs, engine ${model.e.variant}`);

const t0 = performance.now();
await model.fit(train, {
  epochs: run.epochs, batchSize, seed, validationData: test,
  // Clothes are left–right symmetric enough to mirror; shifts of up to 1 pixel.
  augment: { shift: 1, flip: true },
  callbacks: [{
    onEpochEnd: (epoch, l) => console.log(`epoch ${epoch + 1}/${run.epochs}  loss ${l.loss.toFixed(4)}  acc ${l.accuracy.toFixed(4)}  ` +
      `val_acc ${l.val_accuracy.toFixed(4)}  ${l.seconds.toFixed(1)} s  ${Math.round(l.examples_per_s)} ex/s`),
  }],
});
const seconds = (performance.now() - t0) / 1000;
const { accuracy } = model.evaluate(test);
console.log(`test accuracy ${accuracy.toFixed(4)} (target ${run.target}) in ${seconds.toFixed(0)} s`);
if (!(accuracy >= run.target)) {
  console.error(`FAIL: fashion-bn-augment reached ${accuracy.toFixed(4)}, below its target ${run.target}`);
  process.exitCode = 1;
}
