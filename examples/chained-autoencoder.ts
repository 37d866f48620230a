// Two chained models trained by a custom loop through the step contract: an encoder (784 → 32) into a
// decoder (32 → 784) on the embedded digits, the target being the input (a reconstruction loss). The same
// loop runs on one thread and across worker threads. Asserts that the reconstruction error falls, and that a
// frozen decoder keeps its weights bitwise while the encoder still learns through it.
//   node --import tsx examples/chained-autoencoder.ts [--workers 2]      600 steps of batch 64
//   QUICK=1 node --import tsx examples/chained-autoencoder.ts            150 steps (test/examples)
import { Model, data, trainStep } from '../src/index';

const quick = process.env.QUICK === '1';
const at = process.argv.indexOf('--workers');
const workers = at > 0 ? Number(process.argv[at + 1]) : 1;
const steps = quick ? 150 : 600, batchSize = 64;

const digits = await data.mnistDigits();
const x = digits.train.x, n = digits.train.y.length, per = 784;
const encoder = await Model.create({ name: 'encoder', input: [784], layers: [
  { type: 'dense', units: 128, activation: 'relu' }, { type: 'dense', units: 32, activation: 'relu' }] }, { seed: 1 });
const decoder = await Model.create({ name: 'decoder', input: [32], layers: [
  { type: 'dense', units: 128, activation: 'relu' }, { type: 'dense', units: 784 }] }, { seed: 2 });

// The autoencoder: both trainable, Adam, squared error against the input itself.
const step = await trainStep({ nets: [encoder, decoder], optimizer: { type: 'adam', lr: 2e-3 }, loss: 'mse', batchSize, workers });
const batch = (i: number) => x.subarray(((i * batchSize) % (n - batchSize)) * per, (((i * batchSize) % (n - batchSize)) + batchSize) * per);
const losses: number[] = [];
const t0 = performance.now();
for (let i = 0; i < steps; i++) {
  const xb = batch(i);
  losses.push((await step.run(xb, xb)).loss);
}
await step.close();
const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
const first = mean(losses.slice(0, 10)), last = mean(losses.slice(-10));
console.log(`chained-autoencoder${quick ? ' (QUICK)' : ''}: ${steps} steps of ${batchSize} with ${step.workers} worker${step.workers > 1 ? 's' : ''} in ` +
  `${((performance.now() - t0) / 1000).toFixed(1)} s: mse ${first.toFixed(4)} → ${last.toFixed(4)}`);

// Fine-tune the encoder alone through a frozen decoder (a GAN's generator step has this shape).
const frozen = decoder.e.read(decoder.params, decoder.paramFloats);
const encBefore = encoder.e.read(encoder.params, encoder.paramFloats);
const tune = await trainStep({ nets: [encoder, { net: decoder, trainable: false }], optimizer: { type: 'sgd', lr: 0.01 }, loss: 'mse', batchSize, workers });
for (let i = 0; i < 5; i++) { const xb = batch(i); await tune.run(xb, xb); }
await tune.close();
const same = decoder.e.read(decoder.params, decoder.paramFloats).every((v, i) => Object.is(v, frozen[i]));
const moved = encoder.e.read(encoder.params, encoder.paramFloats).some((v, i) => v !== encBefore[i]);
console.log(`frozen decoder unchanged bitwise: ${same}; encoder moved: ${moved}`);

if (!(last < 0.6 * first) || !same || !moved) {
  console.error(`FAIL: chained-autoencoder: mse ${first.toFixed(4)} → ${last.toFixed(4)} (needs < 0.6×), frozen unchanged ${same}, encoder moved ${moved}`);
  process.exit(1);
}
