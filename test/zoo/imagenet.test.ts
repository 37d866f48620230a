// The ImageNet lineage: exact parameter counts at 224×224×3 → 1000 for each definition the zoo states (the
// reference counts are torchvision's, Keras', or the original networks' as deployed in Caffe), and the
// per-example shapes the papers give at 224, from the graph alone (nothing is allocated).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelConfig } from '../../src/model/config';
import { alexnet } from '../../src/zoo/alexnet';
import { zfnet } from '../../src/zoo/zfnet';
import { vgg } from '../../src/zoo/vgg';
import { googlenet } from '../../src/zoo/googlenet';
import { resnet } from '../../src/zoo/resnet';
import { models } from '../../src/zoo/index';
import { configStats } from './stats';

const IMAGENET = [224, 224, 3];

/** [config, exact parameters, where the number comes from]. */
const COUNTS: [ModelConfig, number, string][] = [
  [alexnet(IMAGENET, 1000), 60_965_224, 'Caffe bvlc_alexnet (paper: groups, LRN)'],
  [alexnet(IMAGENET, 1000, { variant: 'torchvision' }), 61_100_840, 'torchvision alexnet'],
  [zfnet(IMAGENET, 1000), 62_357_608, 'Zeiler & Fergus Fig. 3 layer sizes'],
  [vgg(11, IMAGENET, 1000), 132_863_336, 'torchvision vgg11'],
  [vgg(13, IMAGENET, 1000), 133_047_848, 'torchvision vgg13'],
  [vgg(16, IMAGENET, 1000), 138_357_544, 'Keras VGG16 / torchvision vgg16'],
  [vgg(19, IMAGENET, 1000), 143_667_240, 'torchvision vgg19'],
  [vgg(16, IMAGENET, 1000, { batchnorm: true }), 138_365_992, 'torchvision vgg16_bn'],
  [googlenet(IMAGENET, 1000), 6_998_552, 'Caffe bvlc_googlenet without aux heads'],
  [googlenet(IMAGENET, 1000, { aux: true }), 13_378_280, 'Caffe bvlc_googlenet with aux heads'],
  [googlenet(IMAGENET, 1000, { variant: 'torchvision' }), 6_624_904, 'torchvision googlenet (aux_logits=False)'],
  [googlenet(IMAGENET, 1000, { variant: 'torchvision', aux: true }), 13_004_888, 'torchvision googlenet (aux_logits=True)'],
  [resnet(18, IMAGENET, 1000), 11_689_512, 'torchvision resnet18'],
  [resnet(34, IMAGENET, 1000), 21_797_672, 'torchvision resnet34'],
  [resnet(50, IMAGENET, 1000), 25_557_032, 'torchvision resnet50'],
  [resnet(101, IMAGENET, 1000), 44_549_160, 'torchvision resnet101'],
  [resnet(152, IMAGENET, 1000), 60_192_808, 'torchvision resnet152'],
];

test('zoo: exact parameter counts at 224×224×3 → 1000', () => {
  for (const [config, expected, source] of COUNTS) {
    assert.equal(configStats(config).params, expected, `${config.name}: expected ${expected.toLocaleString('en-US')} (${source})`);
  }
});

/** Layer name → per-example output shape at 224, as each paper (or torchvision) gives it. */
const SHAPES: [ModelConfig, Record<string, number[]>][] = [
  [alexnet(), { conv1: [55, 55, 96], pool1: [27, 27, 96], conv2: [27, 27, 256], pool2: [13, 13, 256], conv5: [13, 13, 256], pool5: [6, 6, 256], flatten: [9216], fc8: [1000] }],
  [alexnet(IMAGENET, 1000, { variant: 'torchvision' }), { conv1: [55, 55, 64], pool2: [13, 13, 192], pool5: [6, 6, 256], fc8: [1000] }],
  [zfnet(), { conv1: [110, 110, 96], pool1: [55, 55, 96], conv2: [26, 26, 256], pool2: [13, 13, 256], conv5: [13, 13, 256], pool5: [6, 6, 256], fc8: [1000] }],
  [vgg(11), { block1_conv1: [224, 224, 64], block1_pool: [112, 112, 64], block2_conv1: [112, 112, 128], block3_conv2: [56, 56, 256], block5_conv2: [14, 14, 512], block5_pool: [7, 7, 512], flatten: [25088], predictions: [1000] }],
  [vgg(13), { block1_conv2: [224, 224, 64], block4_conv2: [28, 28, 512], block5_pool: [7, 7, 512], predictions: [1000] }],
  [vgg(19), { block3_conv4: [56, 56, 256], block4_conv4: [28, 28, 512], block5_conv4: [14, 14, 512], block5_pool: [7, 7, 512], predictions: [1000] }],
  [vgg(16), { block1_conv2: [224, 224, 64], block1_pool: [112, 112, 64], block3_pool: [28, 28, 256], block5_pool: [7, 7, 512], flatten: [25088], predictions: [1000] }],
  [googlenet(), {
    'conv1.conv': [112, 112, 64], maxpool1: [56, 56, 64], 'conv3.conv': [56, 56, 192], maxpool2: [28, 28, 192],
    inception3a: [28, 28, 256], inception3b: [28, 28, 480], inception4a: [14, 14, 512], inception4d: [14, 14, 528],
    inception4e: [14, 14, 832], inception5a: [7, 7, 832], inception5b: [7, 7, 1024], avgpool: [1024], fc: [1000],
  }],
  [googlenet(IMAGENET, 1000, { variant: 'torchvision', aux: true }), {
    'inception3a.branch3.1.conv': [28, 28, 32], maxpool4: [7, 7, 832], inception5b: [7, 7, 1024],
    'aux1.pool': [4, 4, 512], 'aux1.flatten': [2048], 'aux2.pool': [4, 4, 528], 'aux1.fc2': [1000], 'aux2.fc2': [1000], fc: [1000],
  }],
  [resnet(18), { conv1: [112, 112, 64], maxpool: [56, 56, 64], 'layer1.1.relu': [56, 56, 64], 'layer2.0.downsample.1': [28, 28, 128], 'layer3.1.relu': [14, 14, 256], 'layer4.1.relu': [7, 7, 512], avgpool: [512], fc: [1000] }],
  [resnet(34), { 'layer1.2.relu': [56, 56, 64], 'layer3.5.relu': [14, 14, 256], 'layer4.2.relu': [7, 7, 512], fc: [1000] }],
  [resnet(50), { 'layer1.0.downsample.1': [56, 56, 256], 'layer1.2.relu': [56, 56, 256], 'layer2.0.conv2': [28, 28, 128], 'layer2.3.relu': [28, 28, 512], 'layer3.5.relu': [14, 14, 1024], 'layer4.2.relu': [7, 7, 2048], avgpool: [2048], fc: [1000] }],
  [resnet(101), { 'layer3.22.relu': [14, 14, 1024], 'layer4.2.relu': [7, 7, 2048], fc: [1000] }],
  [resnet(152), { 'layer2.7.relu': [28, 28, 512], 'layer3.35.relu': [14, 14, 1024], 'layer4.2.relu': [7, 7, 2048], fc: [1000] }],
];

test('zoo: output shapes at 224 follow the papers', () => {
  for (const [config, expected] of SHAPES) {
    const { shapes } = configStats(config);
    for (const [name, shape] of Object.entries(expected)) {
      assert.ok(shapes.has(name), `${config.name}: no layer '${name}'`);
      assert.deepEqual([...shapes.get(name)!], shape, `${config.name}: ${name}`);
    }
  }
});

test('zoo: architecture details the counts alone would not catch', () => {
  // AlexNet's two-GPU split: conv2, conv4, conv5 see half the channels (grouped), conv3 all of them.
  const groups = Object.fromEntries(alexnet().layers.filter((l) => l.type === 'conv2d').map((l) => [l.name, (l as { groups?: number }).groups ?? 1]));
  assert.deepEqual(groups, { conv1: 1, conv2: 2, conv3: 1, conv4: 2, conv5: 2 });
  // Two LRNs in AlexNet (after conv1 and conv2) and ZFNet (after pool1 and pool2); none in torchvision's.
  assert.equal(alexnet().layers.filter((l) => l.type === 'lrn').length, 2);
  assert.equal(zfnet().layers.filter((l) => l.type === 'lrn').length, 2);
  assert.equal(alexnet(IMAGENET, 1000, { variant: 'torchvision' }).layers.filter((l) => l.type === 'lrn').length, 0);
  // GoogLeNet's "5×5" branch: 5×5 in the paper, 3×3 in torchvision (its quirk); 1×1 reductions before both.
  const kernelOf = (c: ModelConfig, name: string) => (c.layers.find((l) => l.name === name) as { kernel: number }).kernel;
  assert.equal(kernelOf(googlenet(), 'inception3a.branch3.1.conv'), 5);
  assert.equal(kernelOf(googlenet(IMAGENET, 1000, { variant: 'torchvision' }), 'inception3a.branch3.1.conv'), 3);
  assert.equal(kernelOf(googlenet(), 'inception3a.branch3.0.conv'), 1);
  // ResNets: no conv has a bias (each feeds a batch norm); downsampling blocks project, others are identity.
  for (const d of [18, 50] as const) {
    const c = resnet(d);
    assert.ok(c.layers.filter((l) => l.type === 'conv2d').every((l) => (l as { useBias?: boolean }).useBias === false), `resnet${d}: a conv has a bias`);
    const projections = c.layers.filter((l) => l.name?.endsWith('.downsample.0')).map((l) => l.name);
    assert.deepEqual(projections, d === 18 ? ['layer2.0.downsample.0', 'layer3.0.downsample.0', 'layer4.0.downsample.0']
      : ['layer1.0.downsample.0', 'layer2.0.downsample.0', 'layer3.0.downsample.0', 'layer4.0.downsample.0']);
  }
});

test('zoo: vgg11/13/16/19 are registered, with the paper\'s conv counts (8, 10, 13, 16) and its counts of weights', () => {
  const expected = { vgg11: [8, 132_863_336], vgg13: [10, 133_047_848], vgg16: [13, 138_357_544], vgg19: [16, 143_667_240] };
  for (const [name, [convs, params]] of Object.entries(expected)) {
    const config = models[name]();
    assert.equal(config.name, name);
    assert.equal(config.layers.filter((l) => l.type === 'conv2d').length, convs, `${name}: convs`);
    assert.equal(config.layers.filter((l) => l.type === 'dense').length, 3, `${name}: fc layers`);
    assert.equal(configStats(config).params, params, `${name}: params`);
  }
});

test('zoo: classes and input shape are honoured; bad options are named', () => {
  assert.deepEqual([...configStats(resnet(18, [64, 64, 3], 7)).output], [7]);
  assert.deepEqual([...configStats(googlenet([96, 96, 3], 5, { aux: false })).output], [5]);
  assert.throws(() => resnet(20 as 18), /resnet: depth must be one of 18, 34, 50, 101, 152, got 20/);
  assert.throws(() => vgg(12 as 16), /vgg: depth must be one of 11, 13, 16, 19, got 12/);
  assert.throws(() => alexnet(IMAGENET, 1000, { variant: 'caffe' as 'paper' }), /alexnet: variant must be 'paper' or 'torchvision'/);
  assert.throws(() => googlenet(IMAGENET, 1000, { variant: 'v3' as 'paper' }), /googlenet: variant must be 'paper' or 'torchvision'/);
});
