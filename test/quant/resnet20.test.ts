// int8 ResNet-20 against its f32 self on Fashion-MNIST: a trained model (test/fixtures/resnet20-fashion.rede,
// the weights of `rede train --model resnet20 --data fashion-mnist --subset 8000 --epochs 3 --batch-size 64
// --optimizer momentum --lr 0.05 --seed 1`, test accuracy 0.8552; docs/int8.md) is quantized here (minmax,
// the first 100 training images) and both run through rede/infer on a test slice: the int8 model must pick
// f32's class on ≥ 99 % of it, and its accuracy must be within 0.5 points of f32's on the slice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Model } from '../../src/api/model';
import { quantize } from '../../src/quant/quantize';
import { fashionMnist } from '../../src/data/fashion-mnist';
import { load } from '../../src/infer/entry/index';

const SLICE = 300, CALIBRATE = 100, PX = 28 * 28;

test(`int8 ResNet-20 picks f32's class on ≥ 99 % of ${SLICE} Fashion-MNIST test images`, async () => {
  const bytes = new Uint8Array(readFileSync(new URL('../fixtures/resnet20-fashion.rede', import.meta.url)));
  const { train, test: held } = await fashionMnist();
  const m = await Model.fromBytes(bytes);
  const qm = quantize(m, train.x.subarray(0, CALIBRATE * PX));
  const x = held.x.subarray(0, SLICE * PX), y = held.y.subarray(0, SLICE);
  const f32 = await load(bytes, { batchSize: 32 }), int8 = await load(qm.toBytes(), { batchSize: 32 });
  const a = f32.predictClasses(x), b = int8.predictClasses(x);
  let same = 0, rightF = 0, rightQ = 0;
  for (let i = 0; i < SLICE; i++) { same += +(a[i] === b[i]); rightF += +(a[i] === y[i]); rightQ += +(b[i] === y[i]); }
  console.log(`# agreement ${same}/${SLICE}; accuracy f32 ${(rightF / SLICE).toFixed(4)}, int8 ${(rightQ / SLICE).toFixed(4)}`);
  assert.ok(same >= 0.99 * SLICE, `int8 agrees with f32 on ${same} of ${SLICE}`);
  assert.ok(rightF / SLICE > 0.8, `the fixture's f32 accuracy on the slice is ${rightF / SLICE}: not the trained model?`);
  assert.ok(rightF - rightQ <= 0.005 * SLICE, `int8 accuracy ${rightQ / SLICE} vs f32 ${rightF / SLICE}`);
});
