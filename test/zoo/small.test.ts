// The small-input zoo (28×28 Fashion-MNIST, 32×32 CIFAR): exact counts and shapes from the graph, the
// registry, and that each small model trains: a few steps on one fixed batch of 8 lower its loss.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine';
import type { ModelConfig } from '../../src/model/config';
import { models } from '../../src/zoo/index';
import { resnet20, resnet32, resnet56, miniInception, vggSmall } from '../../src/zoo/small';
import { withModel } from '../helpers/model';
import { Rng } from '../helpers/rand';
import { configStats } from './stats';

const FASHION = [28, 28, 1], CIFAR = [32, 32, 3];

test('zoo small: exact parameter counts at 28×28×1 and 32×32×3 → 10', () => {
  const counts: [ModelConfig, number][] = [
    // CIFAR ResNets with option-B shortcuts: the paper's option-A counts (269,722 · 464,154 · 853,018 at
    // 32×32×3) plus 2,752 for the two projections.
    [resnet20(FASHION), 272_186], [resnet32(FASHION), 466_618], [resnet56(FASHION), 855_482],
    [resnet20(CIFAR), 272_474], [resnet32(CIFAR), 466_906], [resnet56(CIFAR), 855_770],
    [miniInception(FASHION), 1_649_386], [miniInception(CIFAR), 1_651_114],
    [vggSmall(FASHION), 585_066], [vggSmall(CIFAR), 815_018],
  ];
  for (const [config, expected] of counts) assert.equal(configStats(config).params, expected, `${config.name} at [${config.input.join(', ')}]`);
});

test('zoo small: mini-Inception has Zhang et al.\'s 1,649,402 parameters when counted as they count', () => {
  // Their Table 1 (28×28×3 crops) counts conv weights and a bias per output channel, and no batch norm
  // parameters (the same number for "Inception w/o BatchNorm"). rede's convs feed batch norms, so they have no
  // bias, and each BN channel holds gamma and beta: one parameter more per conv channel than their count.
  const config = miniInception([28, 28, 3], 10);
  const { params, types, shapes } = configStats(config);
  const bnChannels = [...types].filter(([, t]) => t === 'batchnorm').reduce((s, [name]) => s + shapes.get(name)!.at(-1)!, 0);
  assert.equal(bnChannels, 1712);
  assert.equal(params - bnChannels, 1_649_402);
});

test('zoo small: shapes at 28 and 32', () => {
  const cases: [ModelConfig, Record<string, number[]>][] = [
    [resnet20(FASHION), { 'layer1.2.relu': [28, 28, 16], 'layer2.0.downsample.1': [14, 14, 32], 'layer3.2.relu': [7, 7, 64], fc: [10] }],
    [resnet56(CIFAR), { 'layer1.8.relu': [32, 32, 16], 'layer2.8.relu': [16, 16, 32], 'layer3.8.relu': [8, 8, 64], fc: [10] }],
    [miniInception(FASHION), { inc2: [28, 28, 80], down1: [14, 14, 160], inc6: [14, 14, 144], down2: [7, 7, 240], inc8: [7, 7, 336], fc: [10] }],
    [miniInception(CIFAR), { down1: [16, 16, 160], down2: [8, 8, 240], fc: [10] }],
    [vggSmall(FASHION), { block1_pool: [14, 14, 32], block3_pool: [3, 3, 128], flatten: [1152], predictions: [10] }],
    [vggSmall(CIFAR), { block3_pool: [4, 4, 128], flatten: [2048], predictions: [10] }],
  ];
  for (const [config, expected] of cases) {
    const { shapes } = configStats(config);
    for (const [name, shape] of Object.entries(expected)) assert.deepEqual([...(shapes.get(name) ?? [])], shape, `${config.name}: ${name}`);
  }
});

test('zoo registry: every model is there, builds from its defaults and honours input and classes', () => {
  const names = ['lenet5', 'alexnet', 'zfnet', 'vgg16', 'googlenet', 'resnet18', 'resnet34', 'resnet50', 'resnet101', 'resnet152',
    'resnet20', 'resnet32', 'resnet56', 'mini_inception', 'vgg_small'];
  for (const name of names) assert.ok(models[name], `models has no '${name}'`);
  const small = new Set(['lenet5', 'resnet20', 'resnet32', 'resnet56', 'mini_inception', 'vgg_small']);
  for (const [name, make] of Object.entries(models)) {
    const defaults = configStats(make());
    assert.deepEqual([...defaults.output], [small.has(name) ? 10 : 1000], `${name}: default classes`);
    if (small.has(name)) assert.deepEqual([...configStats(make(CIFAR, 100)).output], [100], `${name} at 32×32×3, 100 classes`);
    else assert.deepEqual([...configStats(make([224, 224, 3], 10)).output], [10], `${name} with 10 classes`);
  }
});

/** A learnable batch of 8 "Fashion-MNIST" images: class k is a bright bar at a class-specific row, plus noise. */
function fixedBatch(): { x: Float32Array; y: Int32Array } {
  const rng = new Rng(7), n = 8, x = new Float32Array(n * 28 * 28), y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = (i * 3) % 10;
    for (let p = 0; p < 784; p++) x[i * 784 + p] = 0.2 * rng.next();
    const row = 3 + 2 * y[i];
    for (let c = 4; c < 24; c++) x[i * 784 + row * 28 + c] = 1;
  }
  return { x, y };
}

test('zoo small: each trains — three steps on a fixed batch of 8 lower the loss', async () => {
  const e = await Engine.create();
  const { x, y } = fixedBatch();
  for (const make of [resnet20, resnet32, resnet56, miniInception, vggSmall]) {
    const config = make(FASHION, 10);
    await withModel(e, config, async (m) => {
      m.compile({ optimizer: { type: 'adam', lr: 1e-3 }, loss: 'sparse_categorical_crossentropy' });
      const h = await m.fit(x, y, { epochs: 3, batchSize: 8, shuffle: false });
      const losses = h.history.loss; // one step per epoch: each is that step's (pre-update) batch loss
      assert.equal(losses.length, 3);
      assert.ok(losses.every(Number.isFinite), `${config.name}: losses ${losses}`);
      assert.ok(losses[2] < 0.8 * losses[0], `${config.name}: loss did not fall: ${losses.map((l) => l.toFixed(4)).join(' → ')}`);
    });
  }
});
