// Caffe's per-parameter param { lr_mult, decay_mult } through the solver: two SGD steps (and two Nesterov steps)
// of a one-layer net checked against Caffe's update written out by hand in float64 (SGDSolver::ApplyUpdate):
//   Regularize:         g += weight_decay · decay_mult · w          (biases too)
//   ComputeUpdateValue: V = momentum · V + base_lr · lr_mult · g    (Nesterov: W −= (1+μ)·V − μ·V_prev)
//   Update:             W −= V
// and the optimizer's perParam checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../../../src/api/model';
import { trainStep } from '../../../src/api/train-step';
import { Solver } from '../../../src/interop/caffe/solve';
import { Optimizer } from '../../../src/optim/optimizer';

// Two examples of 3 features, 2 classes; weights in rede's layout (dense kernel [in, out]).
const X = [[0.5, -1, 2], [1.5, 0.25, -0.75]], Y = [1, 0];
const W0 = [[0.2, -0.1], [0.05, 0.3], [-0.4, 0.15]], B0 = [0.1, -0.2];
const LR = 0.1, MU = 0.9, WD = 0.01;
const mults = { w: { lr: 0.5, decay: 2 }, b: { lr: 2, decay: 3 } };

const net = `name: "tiny"
layer { name: "data" type: "MemoryData" top: "data" top: "label" memory_data_param { batch_size: 2 channels: 3 height: 1 width: 1 } }
layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip"
  param { lr_mult: ${mults.w.lr} decay_mult: ${mults.w.decay} } param { lr_mult: ${mults.b.lr} decay_mult: ${mults.b.decay} }
  inner_product_param { num_output: 2 } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }`;
const solver = (type: string) => `net: "tiny" base_lr: ${LR} momentum: ${MU} weight_decay: ${WD} lr_policy: "fixed" max_iter: 2 type: "${type}"`;

/** Caffe's steps in float64: the weights after `steps` updates. */
function caffeSteps(steps: number, nesterov: boolean, m = mults): { w: number[][]; b: number[] } {
  const w = W0.map((r) => [...r]), b = [...B0];
  const vw = w.map((r) => r.map(() => 0)), vb = b.map(() => 0);
  for (let s = 0; s < steps; s++) {
    // SoftmaxWithLoss (normalized by the batch): dz = (softmax(z) − onehot) / B.
    const gw = w.map((r) => r.map(() => 0)), gb = b.map(() => 0);
    X.forEach((x, n) => {
      const z = b.map((bj, j) => bj + x.reduce((a, xi, i) => a + xi * w[i][j], 0));
      const e = z.map((v) => Math.exp(v - Math.max(...z))), sum = e.reduce((a, v) => a + v, 0);
      const dz = e.map((v, j) => (v / sum - (j === Y[n] ? 1 : 0)) / X.length);
      dz.forEach((d, j) => { gb[j] += d; x.forEach((xi, i) => (gw[i][j] += xi * d)); });
    });
    const update = (p: number[], g: number[], v: number[], lrMult: number, decayMult: number) => {
      for (let i = 0; i < p.length; i++) {
        const gi = g[i] + WD * decayMult * p[i], prev = v[i];
        v[i] = MU * v[i] + LR * lrMult * gi;
        p[i] -= nesterov ? (1 + MU) * v[i] - MU * prev : v[i];
      }
    };
    w.forEach((r, i) => update(r, gw[i], vw[i], m.w.lr, m.w.decay));
    update(b, gb, vb, m.b.lr, m.b.decay);
  }
  return { w, b };
}

async function redeSteps(type: string, steps: number): Promise<{ w: Float32Array; b: Float32Array }> {
  const s = Solver.fromText(solver(type), net);
  const conv = s.convert([1, 1, 3]);
  const model = await Model.create(conv.config, { seed: 1 });
  model.setWeights({ 'ip/kernel': { shape: [3, 2], data: W0.flat() }, 'ip/bias': { shape: [2], data: B0 } });
  const step = await trainStep({ nets: [model], optimizer: conv.optimizer, loss: 'sparse_categorical_crossentropy', batchSize: 2, seed: 1 });
  try {
    for (let i = 0; i < steps; i++) await step.run(Float32Array.from(X.flat()), Int32Array.from(Y));
  } finally {
    await step.close();
  }
  const got = model.getWeights();
  return { w: got.get('ip/kernel')!.data, b: got.get('ip/bias')!.data };
}

const close = (got: ArrayLike<number>, want: number[], what: string) => {
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) < 1e-6, `${what}[${i}]: rede ${got[i]}, Caffe ${want[i]}`);
};

test('caffe param: lr_mult and decay_mult of weights and bias give Caffe\'s SGD and Nesterov steps', async () => {
  for (const [type, nesterov] of [['SGD', false], ['Nesterov', true]] as const) {
    for (const steps of [1, 2]) {
      const got = await redeSteps(type, steps), want = caffeSteps(steps, nesterov);
      close(got.w, want.w.flat(), `${type} step ${steps} kernel`);
      close(got.b, want.b, `${type} step ${steps} bias`);
    }
  }
  // The multipliers matter here: with all of them 1 the bias moves elsewhere (the check can fail).
  const plain = caffeSteps(1, false, { w: { lr: 1, decay: 1 }, b: { lr: 1, decay: 1 } }), got = await redeSteps('SGD', 1);
  assert.ok(Math.abs(got.b[0] - plain.b[0]) > 1e-3, 'lr_mult 2 on the bias changed nothing');
});

test('caffe param: the converted optimizer states the multipliers; adaptive types keep one rate (noted)', () => {
  const sgd = Solver.fromText(solver('SGD'), net).convert([1, 1, 3]);
  assert.deepEqual(sgd.optimizer.perParam, { 'ip/kernel': { l1: 0, l2: WD * 2, lrMult: 0.5 }, 'ip/bias': { l1: 0, l2: WD * 3, lrMult: 2 } });
  assert.deepEqual(sgd.notes, []);
  const adam = Solver.fromText(solver('Adam'), net).convert([1, 1, 3]);
  assert.deepEqual(adam.optimizer.perParam, { 'ip/kernel': { l1: 0, l2: WD * 2 }, 'ip/bias': { l1: 0, l2: WD * 3 } });
  assert.ok(adam.notes.some((n) => /lr_mult: applied with SGD and Nesterov only/.test(n)), adam.notes.join('\n'));
  const l1 = Solver.fromText(`${solver('SGD')} regularization_type: "L1"`, net).convert([1, 1, 3]);
  assert.deepEqual(l1.optimizer.perParam!['ip/bias'], { l1: WD * 3, l2: 0, lrMult: 2 });
});

test('optimizer perParam: settings are checked, and must name the network\'s tensors', async () => {
  assert.throws(() => new Optimizer({ type: 'adam', perParam: { 'd/bias': { lrMult: 2 } } }), /optimizer adam: perParam 'd\/bias': lrMult 2 is supported with sgd only/);
  assert.throws(() => new Optimizer({ type: 'sgd', perParam: { 'd/bias': { lrMul: 2 } as never } }), /perParam 'd\/bias': unknown option 'lrMul' \(did you mean 'lrMult'\?\)/);
  assert.throws(() => new Optimizer({ type: 'sgd', perParam: { 'd/bias': { l2: -1 } } }), /perParam 'd\/bias': l2 must be a finite number ≥ 0, got -1/);
  assert.throws(() => new Optimizer({ type: 'sgd', perParam: [] as never }), /perParam must be an object/);
  new Optimizer({ type: 'adam', perParam: { 'd/bias': { lrMult: 1, l2: 0.1 } } }); // decay alone is fine with any type
  const model = await Model.create({ input: [3], layers: [{ type: 'dense', name: 'd', units: 2 }] }, { seed: 1 });
  await assert.rejects(trainStep({ nets: [model], optimizer: { type: 'sgd', perParam: { 'd/bias': {}, 'e/kernel': {} } }, loss: 'mse', batchSize: 2 }),
    /optimizer sgd: perParam names 'e\/kernel', which the network does not have \(its tensors: d\/kernel, d\/bias\)/);
});
