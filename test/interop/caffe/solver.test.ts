// Caffe solvers: every lr_policy against Caffe's formulas (written here from Caffe's documentation of
// SolverParameter and SGDSolver::GetLearningRate, independently of src/) at every iteration, and as the training
// loop applies them; the optimizer mapping, JSON and text giving the same solver, and the errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { RedeError } from '../../../src/engine/errors';
import { learningRate } from '../../../src/optim/schedules';
import { makeDataset } from '../../../src/data/dataset';
import { Solver } from '../../../src/interop/caffe/solve';
import { parseSolver, solverOptimizer, solverSchedule, solverSeed, type CaffeSolver } from '../../../src/interop/caffe/solver';

/** Caffe's rate at iteration `iter` for the solver's fields (caffe.proto's comments on lr_policy). */
function caffeRate(s: { base_lr: number; lr_policy: string; gamma?: number; power?: number; stepsize?: number; stepvalue?: number[]; max_iter: number }, iter: number): number {
  const { base_lr: b, gamma: g = 0, power: p = 0, stepsize: k = 0 } = s;
  switch (s.lr_policy) {
    case 'fixed': return b;
    case 'step': return b * Math.pow(g, Math.floor(iter / k));
    case 'exp': return b * Math.pow(g, iter);
    case 'inv': return b * Math.pow(1 + g * iter, -p);
    case 'multistep': {
      let current = 0; // Caffe advances current_step while iter >= stepvalue[current_step]
      while (current < s.stepvalue!.length && iter >= s.stepvalue![current]) current++;
      return b * Math.pow(g, current);
    }
    case 'poly': return b * Math.pow(1 - iter / s.max_iter, p);
    case 'sigmoid': return b * (1 / (1 + Math.exp(-g * (iter - k))));
  }
  throw new Error(s.lr_policy);
}

const POLICIES: [string, string][] = [
  ['fixed', 'base_lr: 0.01 lr_policy: "fixed" max_iter: 1000'],
  ['step', 'base_lr: 0.01 lr_policy: "step" gamma: 0.1 stepsize: 300 max_iter: 1000'],
  ['exp', 'base_lr: 0.01 lr_policy: "exp" gamma: 0.997 max_iter: 1000'],
  ['inv', 'base_lr: 0.01 lr_policy: "inv" gamma: 0.0001 power: 0.75 max_iter: 10000'],
  ['multistep', 'base_lr: 0.01 lr_policy: "multistep" gamma: 0.5 stepvalue: 100 stepvalue: 250 stepvalue: 600 max_iter: 1000'],
  ['multistep (a repeated step value)', 'base_lr: 0.01 lr_policy: "multistep" gamma: 0.5 stepvalue: 100 stepvalue: 100 max_iter: 1000'],
  ['poly', 'base_lr: 0.01 lr_policy: "poly" power: 0.5 max_iter: 1000'],
  ['sigmoid', 'base_lr: 0.01 lr_policy: "sigmoid" gamma: -0.01 stepsize: 500 max_iter: 1000'],
  ['sigmoid (rising)', 'base_lr: 0.01 lr_policy: "sigmoid" gamma: 0.05 stepsize: 200 max_iter: 1000'],
  // More of each family: other rates, a growing exp, a step of 1, poly's linear and quadratic decay, and
  // Caffe's own examples (cifar10 quick's fixed, caffenet's step, googlenet's poly, lenet_multistep's values).
  ['step (stepsize 1)', 'base_lr: 0.5 lr_policy: "step" gamma: 0.99 stepsize: 1 max_iter: 1000'],
  ['step (caffenet)', 'base_lr: 0.01 lr_policy: "step" gamma: 0.1 stepsize: 100000 max_iter: 450000'],
  ['exp (growing)', 'base_lr: 0.001 lr_policy: "exp" gamma: 1.002 max_iter: 1000'],
  ['inv (power 1)', 'base_lr: 0.1 lr_policy: "inv" gamma: 0.01 power: 1 max_iter: 1000'],
  ['multistep (lenet_multistep)', 'base_lr: 0.01 lr_policy: "multistep" gamma: 0.9 stepvalue: 5000 stepvalue: 7000 stepvalue: 8000 stepvalue: 9000 stepvalue: 9500 max_iter: 10000'],
  ['poly (power 1)', 'base_lr: 0.1 lr_policy: "poly" power: 1 max_iter: 1000'],
  ['poly (power 2)', 'base_lr: 0.1 lr_policy: "poly" power: 2 max_iter: 777'],
  ['poly (googlenet)', 'base_lr: 0.01 lr_policy: "poly" power: 0.5 max_iter: 2400000'],
  ['sigmoid (steep)', 'base_lr: 0.1 lr_policy: "sigmoid" gamma: -1 stepsize: 50 max_iter: 1000'],
];

for (const [name, text] of POLICIES) {
  test(`caffe solver: lr_policy ${name} gives Caffe's rate at every iteration, boundaries included`, () => {
    const s = parseSolver(text, `${name}.prototxt`), sched = solverSchedule(s);
    // Every iteration up to 10,000, then every 997th (the long ones: caffenet's, googlenet's), the boundaries.
    const iters = new Set<number>();
    for (let i = 0; i <= Math.min(s.max_iter, 10000); i++) iters.add(i);
    for (let i = 10000; i <= s.max_iter; i += 997) iters.add(i);
    for (const v of [0, 1, 99, 100, 101, 249, 250, 251, 299, 300, 301, 499, 500, 501, 599, 600, 601, 999, 1000, 99999, 100000, 100001, s.max_iter - 1, s.max_iter]) {
      if (v <= s.max_iter) iters.add(v);
    }
    for (const iter of iters) {
      const want = caffeRate(s, iter), got = learningRate(s.base_lr, sched, iter, 0);
      assert.ok(Math.abs(got - want) <= 1e-12 * Math.max(1, Math.abs(want)), `${name} at iter ${iter}: rede ${got}, Caffe ${want}`);
    }
    // The schedule depends on the step only, never on the epoch (Caffe has no epochs).
    assert.equal(learningRate(s.base_lr, sched, 333, 0), learningRate(s.base_lr, sched, 333, 7));
  });
}

test('caffe solver: the LeNet solver file reads with its fields and Caffe\'s defaults', () => {
  const s = parseSolver(readFileSync('examples/caffe/lenet_solver.prototxt', 'utf8'), 'lenet_solver.prototxt');
  const want: Partial<CaffeSolver> = { net: 'examples/mnist/lenet_train_test.prototxt', test_iter: [100], test_interval: 500, base_lr: 0.01, momentum: 0.9,
    weight_decay: 0.0005, lr_policy: 'inv', gamma: 0.0001, power: 0.75, display: 100, max_iter: 10000, snapshot: 5000,
    snapshot_prefix: 'examples/mnist/lenet', type: 'SGD', regularization_type: 'L2', random_seed: -1, test_initialization: true,
    average_loss: 1, snapshot_after_train: true, delta: 1e-8, momentum2: 0.999, rms_decay: 0.99 };
  for (const [k, v] of Object.entries(want)) assert.deepEqual(s[k as keyof CaffeSolver], v, k);
  assert.deepEqual(solverOptimizer(s), { type: 'sgd', lr: 0.01, momentum: 0.9 });
  assert.deepEqual(solverSchedule(s), { type: 'inv', gamma: 0.0001, power: 0.75 });
  assert.equal(solverSeed(s, 1), 1);
  assert.equal(solverSeed(parseSolver('base_lr: 1 lr_policy: "fixed" max_iter: 1 random_seed: 42'), 1), 42);
});

test('caffe solver: the same fields as JSON give the same solver (repeated fields as lists)', () => {
  const text = 'net: "n.prototxt" base_lr: 0.1 lr_policy: "multistep" gamma: 0.5 stepvalue: 10 stepvalue: 20 max_iter: 30 test_iter: 4 test_interval: 10 type: "Adam" momentum: 0.9 test_initialization: false';
  const json = JSON.stringify({ net: 'n.prototxt', base_lr: 0.1, lr_policy: 'multistep', gamma: 0.5, stepvalue: [10, 20], max_iter: 30, test_iter: [4], test_interval: 10, type: 'Adam', momentum: 0.9, test_initialization: false });
  const a = parseSolver(text, 's'), b = parseSolver(json, 's');
  assert.deepEqual(a, b);
  assert.deepEqual(parseSolver('  {"base_lr": 1, "lr_policy": "fixed", "max_iter": 5, "test_iter": 3}', 's').test_iter, [3]);
});

test('caffe solver: every type maps to its rede optimizer with Caffe\'s hyper-parameters', () => {
  const base = 'base_lr: 0.5 lr_policy: "fixed" max_iter: 10 ';
  const opt = (extra: string) => solverOptimizer(parseSolver(base + extra));
  assert.deepEqual(opt('type: "SGD"'), { type: 'sgd', lr: 0.5, momentum: 0 });
  assert.deepEqual(opt('type: "Nesterov" momentum: 0.95'), { type: 'sgd', lr: 0.5, momentum: 0.95, nesterov: true });
  assert.deepEqual(opt('solver_type: NESTEROV momentum: 0.9'), { type: 'sgd', lr: 0.5, momentum: 0.9, nesterov: true });
  assert.deepEqual(opt('type: "RMSProp" rms_decay: 0.98 delta: 1e-6'), { type: 'rmsprop', lr: 0.5, alpha: 0.98, eps: 1e-6 });
  assert.deepEqual(opt('type: "Adam" momentum: 0.9 momentum2: 0.99 delta: 1e-7 clip_gradients: 10'), { type: 'adam', lr: 0.5, beta1: 0.9, beta2: 0.99, eps: 1e-7, clipNorm: 10 });
  assert.deepEqual(opt('type: "AdaGrad" delta: 1e-7'), { type: 'adagrad', lr: 0.5, eps: 1e-7 });
  assert.deepEqual(opt('type: "AdaDelta" momentum: 0.95 delta: 1e-6'), { type: 'adadelta', lr: 0.5, alpha: 0.95, eps: 1e-6 });
  assert.deepEqual(opt('solver_type: ADAGRAD'), { type: 'adagrad', lr: 0.5, eps: 1e-8 });
  assert.deepEqual(opt('clip_gradients: -1'), { type: 'sgd', lr: 0.5, momentum: 0 }); // Caffe's default −1: off
  assert.equal(parseSolver(base + 'regularization_type: "L1" weight_decay: 0.01').regularization_type, 'L1');
});

test('caffe solver: bad files are refused naming the file, line, column, field and value', () => {
  const bad = (text: string, re: RegExp) => assert.throws(() => parseSolver(text, 's.prototxt'), (e: unknown) => e instanceof RedeError && re.test(e.message), text);
  const ok = 'base_lr: 0.01 lr_policy: "fixed" max_iter: 10';
  bad(`${ok}\nbase_lrr: 1`, /^s\.prototxt:2:1: solver: unknown field 'base_lrr' \(did you mean 'base_lr'\?\)$/);
  bad(`${ok}\nmax_iter: 2`, /^s\.prototxt:2:1: solver field max_iter: given 2 times, expected at most once$/);
  bad('base_lr: "0.1" lr_policy: "fixed" max_iter: 1', /^s\.prototxt:1:1: solver field base_lr: expected a number, got "0\.1"$/);
  bad('base_lr: -1 lr_policy: "fixed" max_iter: 1', /base_lr: expected a number > 0, got -1/);
  bad('base_lr: 1 lr_policy: "cosine" max_iter: 1', /lr_policy: expected one of fixed, step, exp, inv, multistep, poly, sigmoid, got "cosine"/);
  bad('base_lr: 1 lr_policy: "fixed" max_iter: 1.5', /max_iter: expected an integer, got 1\.5/);
  bad('base_lr: 1 lr_policy: "fixed" max_iter: 1 momentum: 1.5', /momentum: expected a number ≤ 1, got 1\.5/);
  bad('base_lr: 1 lr_policy: "fixed" max_iter: 1 type: "Adagrad"', /type: expected one of SGD, Nesterov, AdaGrad, RMSProp, AdaDelta, Adam, got "Adagrad"/);
  bad('base_lr: 1 lr_policy: "fixed" max_iter: 1 test_initialization: maybe', /test_initialization: expected true or false, got maybe/);
  bad('base_lr: 1 lr_policy: "fixed" max_iter: 1 base_lr: nan', /given 2 times/);
  bad('base_lr: nan lr_policy: "fixed" max_iter: 1', /base_lr: expected a number, got nan/);
  bad('base_lr: inf lr_policy: "fixed" max_iter: 1', /base_lr: expected a finite number, got inf/);
  bad('lr_policy: "fixed" max_iter: 1', /^s\.prototxt: solver: base_lr is required/);
  bad('base_lr: 1 max_iter: 1', /lr_policy is required/);
  bad('base_lr: 1 lr_policy: "fixed"', /max_iter is required/);
  bad('base_lr: 1 lr_policy: "step" gamma: 0.1 max_iter: 1', /lr_policy "step" needs stepsize/);
  bad('base_lr: 1 lr_policy: "inv" gamma: 0.1 max_iter: 1', /lr_policy "inv" needs power/);
  bad('base_lr: 1 lr_policy: "multistep" gamma: 0.1 max_iter: 1', /needs stepvalue/);
  bad('base_lr: 1 lr_policy: "multistep" gamma: 0.1 stepvalue: 5 stepvalue: 4 max_iter: 9', /solver lr_policy "multistep": schedule multistep: milestones must not decrease, got 5 then 4/);
  bad('base_lr: 1 lr_policy: "sigmoid" stepsize: 3 max_iter: 1', /lr_policy "sigmoid" needs gamma/);
  bad('base_lr: 1 lr_policy: "fixed" max_iter: 1 type: "RMSProp" momentum: 0.9', /type RMSProp takes no momentum/);
  bad('base_lr: 1 lr_policy: "fixed" max_iter: 1 type: "AdaGrad" momentum: 0.9', /type AdaGrad takes no momentum/);
  bad('base_lr: 1 lr_policy: "fixed" max_iter: 1 iter_size: 2', /iter_size 2 .* is not supported/);
  bad('base_lr: 1 lr_policy: "fixed" max_iter: 1 test_iter: 1 test_iter: 2', /2 test_iter values/);
  bad('base_lr: 1 lr_policy: "fixed" max_iter: 1 type: "SGD" solver_type: SGD', /give type or the deprecated solver_type, not both/);
  bad('{"base_lr": 1, "lr_policy": "fixed", "max_iter": [1, 2]}', /^s\.prototxt: solver field max_iter: given 2 times/);
  bad('{"base_lr": null}', /field base_lr must be a number, string, boolean or object/);
  bad('{"base_lr": 1', /not valid JSON/);
  bad('[1]', /expected a field name, got '\['/);
});

test('schedules: step counts epochs unless unit is step; multistep and sigmoid options are checked', async () => {
  const { checkSchedule } = await import('../../../src/optim/schedules');
  assert.equal(learningRate(1, { type: 'step', every: 2, gamma: 0.5 }, 1000, 3), 0.5); // epoch 3: one step
  assert.equal(learningRate(1, { type: 'step', every: 2, gamma: 0.5, unit: 'step' }, 5, 0), 0.25);
  assert.throws(() => checkSchedule({ type: 'step', every: 2, unit: 'iter' }), /schedule step: unit must be 'epoch' or 'step', got "iter"/);
  assert.throws(() => checkSchedule({ type: 'multistep', milestones: [] }), /milestones must be a non-empty list of steps, got \[\]/);
  assert.throws(() => checkSchedule({ type: 'multistep', milestones: [1.5] }), /milestones\[0\] must be an integer/);
  assert.throws(() => checkSchedule({ type: 'sigmoid', gamma: 0.1 }), /schedule sigmoid: center is required/);
  assert.throws(() => checkSchedule({ type: 'sigmoid', gamma: NaN, center: 1 }), /gamma must be a finite number/);
  assert.throws(() => checkSchedule({ type: 'warm' }), /unknown type "warm" \(expected constant, step, multistep, sigmoid, exponential, cosine, inv, poly\)/);
  // A far-off sigmoid saturates to 0 or the base rate, never NaN.
  assert.equal(learningRate(1, { type: 'sigmoid', gamma: -1, center: 0 }, 1e6, 0), 0);
  assert.equal(learningRate(1, { type: 'sigmoid', gamma: 1, center: 0 }, 1e6, 0), 1);
});

test('caffe solver: the training loop applies Caffe\'s rate of each iteration, for every policy', async () => {
  // A one-layer net on 16 examples, display 1: the rate of every iteration as the loop passed it to the step.
  const net = `layer { name: "data" type: "MemoryData" top: "data" top: "label" memory_data_param { batch_size: 4 channels: 3 height: 1 width: 1 } }
layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" inner_product_param { num_output: 2 } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }`;
  const x = Float32Array.from({ length: 48 }, (_, i) => ((i * 37) % 11) / 11), y = Int32Array.from({ length: 16 }, (_, i) => i % 2);
  const data = { train: makeDataset(x, y, [1, 1, 3], 2), test: null };
  for (const policy of ['"fixed"', '"step" gamma: 0.5 stepsize: 7', '"exp" gamma: 0.9', '"inv" gamma: 0.1 power: 0.75', '"multistep" gamma: 0.3 stepvalue: 5 stepvalue: 12 stepvalue: 13',
    '"poly" power: 1.5', '"sigmoid" gamma: -0.4 stepsize: 10']) {
    const text = `net: "n" base_lr: 0.05 momentum: 0.9 lr_policy: ${policy} max_iter: 20 display: 1 random_seed: 1`;
    const solver = Solver.fromText(text, net);
    const run = await solver.train(data);
    assert.deepEqual(run.losses.map((l) => l.iter), Array.from({ length: 20 }, (_, i) => i));
    for (const { iter, lr } of run.losses) {
      const want = caffeRate(solver.solver, iter);
      assert.ok(Math.abs(lr - want) <= 1e-12 * want, `${solver.solver.lr_policy} at iter ${iter}: the loop used ${lr}, Caffe ${want}`);
    }
  }
});
