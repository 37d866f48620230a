// The inference plan against Model.predict: same outputs (within float tolerance: folding batch norm into
// the weights reorders the arithmetic) on ResNet-20 (BN folding, fused residual add + ReLU, strided 1×1
// projections), a small DAG with a standalone BN, an add of two non-conv values and a concat, and LeNet-5
// (dense layers, pooling, flatten alias); with 1 and 2 threads and with bands of a few rows (so sub-band
// descriptors at the image's top and bottom edges are exercised). Plus the memory plan's invariants.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine';
import { Model } from '../../src/api/model';
import type { ModelConfig } from '../../src/model/config';
import { BatchNorm } from '../../src/layers/norm';
import { numelOf } from '../../src/layers/layer';
import { inferHooks } from '../../src/infer/hooks';
import { InferenceModel } from '../../src/infer/model';
import { lower, lowerGraph, opInputs } from '../../src/infer/lower';
import { buildGraph } from '../../src/model/graph';
import { resnet18 } from '../../src/zoo/resnet';
import { planActivations } from '../../src/infer/plan';
import { resnet20 } from '../../src/zoo/small';
import { lenet5 } from '../../src/zoo/lenet5';
import { assertClose } from '../helpers/close';
import { Rng } from '../helpers/rand';
import { tfjs } from '../helpers/tfjs';
import { tfjsGraph } from '../helpers/tfjs-graph';

/** Batch norms with non-trivial statistics and affine parameters, so that folding is really tested. */
function randomizeBatchNorms(m: Model, rng: Rng): void {
  for (const L of m.layers) {
    if (!(L instanceof BatchNorm)) continue;
    const f = m.e.f32, c = L.c;
    for (let i = 0; i < c; i++) {
      f[(L.p.gamma >>> 2) + i] = rng.uniform(0.5, 1.5);
      f[(L.p.beta >>> 2) + i] = rng.uniform(-0.3, 0.3);
      f[(L.s.running_mean >>> 2) + i] = rng.uniform(-0.2, 0.2);
      f[(L.s.running_var >>> 2) + i] = rng.uniform(0.5, 2);
    }
  }
}

const smallDag: ModelConfig = {
  name: 'dag',
  input: [9, 7, 3],
  layers: [
    { type: 'conv2d', name: 'c1', filters: 8, kernel: 3, padding: 'same', useBias: true },
    { type: 'batchnorm', name: 'bn1' },
    { type: 'relu', name: 'r1' },
    { type: 'conv2d', name: 'c2', filters: 8, kernel: 3, stride: 2, padding: 'same', inputs: ['r1'] },
    { type: 'batchnorm', name: 'bn2' },
    { type: 'conv2d', name: 'c3', filters: 8, kernel: 1, stride: 2, inputs: ['r1'], useBias: false },
    { type: 'add', name: 'a1', inputs: ['bn2', 'c3'] },
    { type: 'relu', name: 'r2' },
    { type: 'batchnorm', name: 'bn3', inputs: ['r2'] },
    { type: 'maxpool2d', name: 'mp', pool: 2, stride: 1, padding: 'same', inputs: ['r2'] },
    { type: 'add', name: 'a2', inputs: ['bn3', 'mp'] },
    { type: 'conv2d', name: 'c4', filters: 5, kernel: 1, inputs: ['a2'], activation: 'relu' },
    { type: 'conv2d', name: 'dw', filters: 8, kernel: 3, padding: 'same', groups: 8, inputs: ['a2'] },
    { type: 'concat', name: 'cat', inputs: ['c4', 'dw', 'r2'] },
    { type: 'globalavgpool2d', name: 'gap' },
    { type: 'dense', name: 'fc', units: 6 },
  ],
};

async function agree(config: ModelConfig, engine: Engine, opts: { workers?: number; bandBytes?: number; packStageBytes?: number }, examples = 2): Promise<InferenceModel> {
  const rng = new Rng(7);
  const m = await Model.create(config, { engine, seed: 3 });
  randomizeBatchNorms(m, rng);
  const x = rng.array(examples * numelOf(config.input));
  const expected = m.predict(x);
  const inf = await InferenceModel.from(m, opts);
  try {
    assertClose(inf.predict(x), expected, `${config.name} workers=${opts.workers ?? 1} band=${opts.bandBytes ?? 'default'}`, { rtol: 1e-4, atol: 1e-4 });
    // Twice: nothing left over from the previous call changes the result (buffers are reused).
    assertClose(inf.predict(x), expected, `${config.name} second call`, { rtol: 1e-4, atol: 1e-4 });
  } finally {
    await inf.close();
  }
  return inf;
}

test('infer: ResNet-20, small DAG (BN, add, concat, depthwise) and LeNet-5 equal Model.predict, 1 thread', async () => {
  const e = await Engine.create();
  const r = await agree(resnet20([16, 16, 3]), e, {});
  assert.equal(r.summary.folded.batchnorm, 21, 'every conv→BN folded (19 convs + 2 projections)');
  assert.ok(r.summary.ops.every((op) => op.kind !== 'add' && op.kind !== 'batchnorm'), 'ResNet-20: adds fused into convs, no BN left');
  await agree(resnet20([16, 16, 3]), e, { bandBytes: 1 }); // one output row per band
  const d = await agree(smallDag, e, { bandBytes: 1 });
  assert.ok(d.summary.ops.some((op) => op.kind === 'batchnorm'), 'a BN after a ReLU stays a BN');
  assert.ok(d.summary.ops.some((op) => op.kind === 'add'), 'an add of two non-conv values stays an add');
  await agree(lenet5(), e, {}, 3);
  await agree(lenet5(), e, { packStageBytes: 1 }, 1); // weights packed 8 columns at a time (84 = 10·8 + 4)
});

test('infer: the lowered graph run by tfjs ops equals Model.predict (ResNet-20, DAG with BN/concat/depthwise, LeNet-5, activations + LRN)', async () => {
  // Independent of rede's kernels: the same folded weights through tf.fused.conv2d, tf.maxPool, tf.batchNorm...
  const tf = await tfjs();
  const acts: ModelConfig = { name: 'acts', input: [6, 6, 4], layers: [
    { type: 'conv2d', name: 'c', filters: 6, kernel: 3, padding: 'same' }, { type: 'lrn', name: 'n', radius: 2, bias: 1, alpha: 0.2, beta: 0.75 },
    { type: 'leaky_relu', name: 'l', alpha: 0.1 }, { type: 'avgpool2d', name: 'ap', pool: 2 }, { type: 'tanh', name: 't' },
    { type: 'flatten', name: 'f' }, { type: 'dense', name: 'd', units: 7 }, { type: 'sigmoid', name: 's' }, { type: 'dense', name: 'o', units: 3 },
    { type: 'softmax', name: 'sm' }] };
  for (const [config, n] of [[resnet20([16, 16, 3]), 2], [smallDag, 3], [lenet5(), 3], [acts, 4]] as const) {
    const rng = new Rng(9), m = await Model.create(config, { seed: 4 });
    randomizeBatchNorms(m, rng);
    const x = rng.array(n * numelOf(config.input)), expected = m.predict(x);
    const net = tfjsGraph(tf, lower(m));
    const y = tf.tidy(() => net.forward(tf.tensor4d(x, [n, ...config.input] as [number, number, number, number])));
    assertClose(y.dataSync() as Float32Array, expected, `${config.name}: tfjs on the lowered graph`, { rtol: 1e-4, atol: 1e-4 });
    y.dispose(); net.dispose();
  }
});

test('infer: the reference kernels give the same results', async () => {
  await agree(smallDag, await Engine.create({ variant: 'ref' }), { bandBytes: 1 });
});

test('infer: 2 threads (row split, column split at small maps, dense column split) equal Model.predict', async () => {
  const e = await Engine.create();
  await agree(resnet20([16, 16, 3]), e, { workers: 2 });
  await agree(resnet20([16, 16, 3]), e, { workers: 2, bandBytes: 1 });
  await agree(smallDag, e, { workers: 2 });
  const wide: ModelConfig = { name: 'wide', input: [5, 5, 4], layers: [
    { type: 'conv2d', name: 'c', filters: 40, kernel: 3, padding: 'same', activation: 'relu' }, { type: 'flatten' },
    { type: 'dense', name: 'd', units: 70, activation: 'relu' }, { type: 'dense', name: 'o', units: 3 }] };
  await agree(wide, e, { workers: 2 });
});

test('infer: activation plan: no two blocks (values, op scratch) alive at once share bytes; reuse beats one buffer each', async () => {
  const m = await Model.create(resnet20([32, 32, 3]), { seed: 1 });
  const g = lower(m), rng = new Rng(3);
  for (const temps of [[], g.ops.map((_, i) => (i % 3 === 1 ? 0 : Math.floor(rng.uniform(1, 40000))))]) {
    const p = planActivations(g, temps);
    // Blocks: each value over its lifetime, each op's scratch over that op alone.
    const blocks = [
      ...g.values.map((v, i) => ({ at: p.offset[i], bytes: Math.ceil(v.floats * 4 / 64) * 64, live: p.live[i], what: `value ${i}` })),
      ...g.ops.map((_, i) => ({ at: p.tempOffset[i], bytes: Math.ceil((temps[i] ?? 0) / 64) * 64, live: [i, i], what: `scratch of op ${i}` })),
    ].filter((b) => b.at >= 0);
    assert.equal(blocks.length, g.values.filter((_, i) => p.offset[i] >= 0).length + temps.filter((t) => t > 0).length);
    for (let a = 0; a < blocks.length; a++) for (let b = a + 1; b < blocks.length; b++) {
      const A = blocks[a], B = blocks[b];
      const overlapT = A.live[0] <= B.live[1] && B.live[0] <= A.live[1];
      const overlapM = A.at < B.at + B.bytes && B.at < A.at + A.bytes;
      assert.ok(!(overlapT && overlapM), `${A.what} and ${B.what} are alive together and share bytes`);
    }
    for (const b of blocks) assert.ok(b.at + b.bytes <= p.bytes, `${b.what} ends past the pool`);
    // Every op's inputs are alive when it runs and its output from then on.
    g.ops.forEach((op, i) => { for (const v of opInputs(op)) assert.ok(p.live[v][0] <= i && i <= p.live[v][1]); });
    assert.ok(p.bytes >= p.peakLiveBytes && p.bytes < p.naiveBytes / 2, `pool ${p.bytes} vs peak ${p.peakLiveBytes}, naive ${p.naiveBytes}`);
  }
});

test('infer: ResNet-18 activations fit in its two largest values (greedy plan, batch 1, 224×224×3)', () => {
  const zeros = { param: (_L: unknown, _n: string, n: number) => new Float32Array(n), state: (_L: unknown, _n: string, n: number) => new Float32Array(n) };
  const g = lowerGraph(buildGraph(resnet18()), zeros), p = planActivations(g);
  const sizes = g.values.map((v) => Math.ceil(v.floats * 4 / 64) * 64).sort((a, b) => b - a);
  assert.equal(g.ops.length, 20 + 1 + 1 + 1, '20 convs (BN, add, ReLU fused), max pool, global pool, fc');
  assert.ok(p.bytes <= sizes[0] + sizes[1], `pool ${p.bytes} > two largest ${sizes[0] + sizes[1]}`);
  assert.equal(p.bytes, p.peakLiveBytes);
});

test('infer: ResNet-18 arena (1 thread, 224×224×3) < weights + the two largest activations + one im2col band', async () => {
  // Each op's scratch lives in the activation pool while the op runs, so the arena needs no separate
  // scratch region: the pool's peak is conv1 (input + output + its band), below 2 largest + 1 band.
  const zeros = { param: (_L: unknown, _n: string, n: number) => new Float32Array(n), state: (_L: unknown, _n: string, n: number) => new Float32Array(n).fill(1) };
  const inf = await InferenceModel.fromLowered(lowerGraph(buildGraph(resnet18()), zeros));
  const m = inf.memory, bound = m.weights + m.largestTwo + m.colBand;
  assert.equal(m.total, m.weights + m.activations + m.scratch);
  assert.equal(m.activations, m.peakLive, 'the greedy plan reaches the peak of bytes alive at once');
  assert.ok(m.total < bound, `arena ${m.total} >= bound ${bound} (weights ${m.weights} + two largest ${m.largestTwo} + band ${m.colBand})`);
  await inf.close();
});

test('infer: a dead helper thread makes predict throw (no hang)', async () => {
  const m = await Model.create(resnet20([16, 16, 3]), { seed: 1 });
  const inf = await InferenceModel.from(m, { workers: 2, helperTimeoutMs: 300 });
  const x = new Float32Array(16 * 16 * 3).fill(0.5);
  inf.predict(x);
  await (inf as unknown as { helpers: { terminate(): Promise<void> }[] }).helpers[0].terminate();
  assert.throws(() => inf.predict(x), /helper thread did not finish op \d+ \('.*'\) within 300 ms/);
  assert.throws(() => inf.predict(x), /after close/);
});

test('infer: a helper that stalls right after reporting ready still runs the first op (no lost wake-up)', async () => {
  // The main thread may post op 0 while a helper has said 'ready' but not yet waited: on a loaded machine
  // this happened, and a helper that took its baseline late never saw op 0.
  const m = await Model.create(resnet20([16, 16, 3]), { seed: 1 });
  inferHooks.helperStallAfterReadyMs = 300;
  const inf = await InferenceModel.from(m, { workers: 2, helperTimeoutMs: 5000 }).finally(() => { inferHooks.helperStallAfterReadyMs = 0; });
  const x = new Float32Array(16 * 16 * 3).fill(0.25);
  const a = inf.predict(x), b = m.predict(x);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1e-4 * (1 + Math.abs(b[i])), `output ${i}: ${a[i]} vs ${b[i]}`);
  await inf.close();
});

test('infer: a NaN or infinite input is refused like Model.predict refuses it; options are checked', async () => {
  const m = await Model.create(resnet20([16, 16, 3]), { seed: 1 });
  const inf = await InferenceModel.from(m);
  const x = new Float32Array(2 * 16 * 16 * 3).fill(0.25);
  x[16 * 16 * 3 + 5] = NaN;
  assert.throws(() => inf.predict(x), /infer: input value 773 \(example 1\) is NaN/);
  assert.throws(() => m.predict(x), /x value 773 \(example 1\) is NaN/);
  await inf.close();
  await assert.rejects(InferenceModel.from(m, { worker: 2 } as never), /infer: unknown option 'worker' \(did you mean 'workers'\?\)/);
});

test('infer: bad input is an error naming the shapes', async () => {
  const m = await Model.create(lenet5(), { seed: 1 });
  const inf = await InferenceModel.from(m);
  assert.throws(() => inf.predict(new Float32Array(10)), /input has 10 values.*\[28, 28, 1\]/);
  await assert.rejects(InferenceModel.from(m, { workers: 0 }), /workers must be an integer/);
});
