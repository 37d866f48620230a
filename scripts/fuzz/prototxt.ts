// The prototxt fuzz target's seeds, mutator and run (wired in targets.ts): Caffe net and solver files, in text
// format and as JSON, mutated as bytes, as lines (deleted, duplicated, swapped) and as values (a field's value
// swapped for a hostile one), fed through the text parser and then the readers an untrusted file reaches:
// parseSolver with its schedule and optimizer, or parseNet and netToConfig (which builds every layer).
import { readFileSync } from 'node:fs';
import { parsePrototxt } from '../../src/interop/caffe/prototxt';
import { netToConfig, parseNet } from '../../src/interop/caffe/net';
import { parseSolver, solverOptimizer, solverSchedule } from '../../src/interop/caffe/solver';
import { type FuzzRng, mutateBytes } from './mutate';

const LENET_NET = readFileSync(new URL('../../examples/caffe/lenet_train_test.prototxt', import.meta.url), 'utf8');
const LENET_SOLVER = readFileSync(new URL('../../examples/caffe/lenet_solver.prototxt', import.meta.url), 'utf8');

/** Every converted layer type and option at least once. */
const ALL_LAYERS = `name: "all" input: "data" input_shape { dim: 1 dim: 3 dim: 8 dim: 8 }
layer { name: "c1" type: "Convolution" bottom: "data" top: "c1" param { lr_mult: 1 decay_mult: 1 } param { lr_mult: 2 decay_mult: 0 }
  convolution_param { num_output: 4 kernel_h: 3 kernel_w: 1 pad_h: 1 pad_w: 0 stride: 1 group: 1 dilation: 1 bias_term: true
    weight_filler { type: "msra" } bias_filler { type: "constant" value: 0 } } }
layer { name: "bn" type: "BatchNorm" bottom: "c1" top: "c1" batch_norm_param { moving_average_fraction: 0.9 eps: 1e-5 } }
layer { name: "sc" type: "Scale" bottom: "c1" top: "c1" scale_param { bias_term: true } }
layer { name: "r1" type: "ReLU" bottom: "c1" top: "c1" relu_param { negative_slope: 0.1 } }
layer { name: "lrn" type: "LRN" bottom: "c1" top: "n1" lrn_param { local_size: 3 alpha: 0.0001 beta: 0.75 k: 2 norm_region: ACROSS_CHANNELS } }
layer { name: "c2" type: "Convolution" bottom: "data" top: "c2" convolution_param { num_output: 4 kernel_size: 3 pad: 1 weight_filler { type: "xavier" } } }
layer { name: "sum" type: "Eltwise" bottom: "n1" bottom: "c2" top: "sum" eltwise_param { operation: SUM coeff: 1 coeff: 1 } }
layer { name: "cat" type: "Concat" bottom: "sum" bottom: "c2" top: "cat" concat_param { axis: 1 } }
layer { name: "p1" type: "Pooling" bottom: "cat" top: "p1" pooling_param { pool: MAX kernel_size: 3 stride: 1 pad: 1 } }
layer { name: "p2" type: "Pooling" bottom: "p1" top: "p2" pooling_param { pool: AVE kernel_size: 2 stride: 2 } }
layer { name: "t" type: "TanH" bottom: "p2" top: "t" }
layer { name: "s" type: "Sigmoid" bottom: "t" top: "s" }
layer { name: "f" type: "Flatten" bottom: "s" top: "f" }
layer { name: "d" type: "Dropout" bottom: "f" top: "f" dropout_param { dropout_ratio: 0.3 } }
layer { name: "ip" type: "InnerProduct" bottom: "f" top: "ip" inner_product_param { num_output: 3 } }
layer { name: "sm" type: "Softmax" bottom: "ip" top: "prob" }
`;
const MEMORY_NET = `layer { name: "m" type: "MemoryData" top: "data" top: "label" memory_data_param { batch_size: 2 channels: 1 height: 6 width: 6 }
  transform_param { scale: 0.5 mean_value: 10 mirror: true } }
layer { name: "g" type: "Pooling" bottom: "data" top: "g" pooling_param { pool: AVE global_pooling: true } }
layer { name: "ip" type: "InnerProduct" bottom: "g" top: "ip" inner_product_param { num_output: 2 } }
layer { name: "acc" type: "Accuracy" bottom: "ip" bottom: "label" top: "acc" include { phase: TEST } accuracy_param { top_k: 2 } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }`;
const INPUT_NET = `layer { name: "in" type: "Input" top: "data" top: "label" input_param { shape { dim: 4 dim: 2 dim: 5 dim: 5 } } }
layer { name: "c" type: "Convolution" bottom: "data" top: "c" convolution_param { num_output: 2 kernel_size: 2 stride: 2 } exclude { phase: TEST } }
layer { name: "ip" type: "InnerProduct" bottom: "c" top: "ip" inner_product_param { num_output: 2 bias_term: false } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }`;
const SOLVERS = [
  LENET_SOLVER,
  'net: "n" base_lr: 0.1 lr_policy: "step" gamma: 0.1 stepsize: 100 max_iter: 1000 type: "Nesterov" momentum: 0.9 weight_decay: 1e-4 regularization_type: "L1"',
  'net: "n" base_lr: 0.1 lr_policy: "multistep" gamma: 0.5 stepvalue: 10 stepvalue: 20 max_iter: 30 type: "Adam" momentum: 0.9 momentum2: 0.999 delta: 1e-8',
  'net: "n" base_lr: 0.01 lr_policy: "poly" power: 2 max_iter: 50 type: "RMSProp" rms_decay: 0.98 clip_gradients: 5 test_initialization: false',
  'base_lr: 1 lr_policy: "sigmoid" gamma: -0.01 stepsize: 500 max_iter: 1000 solver_type: SGD random_seed: 7 average_loss: 10 snapshot_after_train: false',
  'base_lr: 0.01 lr_policy: "exp" gamma: 0.999 max_iter: 10 lr_policy: "fixed"',
  '{"net": "n", "base_lr": 0.01, "lr_policy": "multistep", "gamma": 0.1, "stepvalue": [5, 9], "max_iter": 10, "test_iter": [2], "display": 1}',
];
const SEEDS = [LENET_NET, ALL_LAYERS, MEMORY_NET, INPUT_NET, ...SOLVERS];

const HOSTILE_VALUES = ['0', '-1', '1', '2', '3', '1e308', '-1e308', '2147483648', '4294967296', '9007199254740993', '0x7fffffff', 'nan', 'inf', '-inf',
  '0.5', '1e-45', '""', '"x"', `"${'y'.repeat(200)}"`, '"__proto__"', '"constructor"', 'true', 'false', 'MAX', 'AVE', 'SUM', 'PROD', 'TRAIN', 'TEST',
  '"Convolution"', '"Pooling"', '"Python"', '"SGD"', '"AdaDelta"', '"inv"', '{ }', '{ dim: 0 }', '[1, 2]', '[]', '"\\377\\xff"', '"data"', '"label"'];

const enc = new TextEncoder(), dec = new TextDecoder();
const SEED_BYTES = SEEDS.map((s) => enc.encode(s));

function mutateText(rng: FuzzRng, s: string): string {
  for (let n = 1 + rng.int(3); n > 0; n--) {
    const op = rng.int(10);
    if (op < 3) { // a value swapped: after a random ': '
      const at: number[] = [];
      for (let i = s.indexOf(': '); i >= 0 && at.length < 4096; i = s.indexOf(': ', i + 1)) at.push(i);
      if (!at.length) continue;
      const i = rng.pick(at) + 2, end = s.slice(i).search(/[\s}]/);
      s = s.slice(0, i) + rng.pick(HOSTILE_VALUES) + s.slice(end < 0 ? s.length : i + end);
    } else if (op < 6) { // lines: delete, duplicate or swap two
      const lines = s.split('\n'), i = rng.int(lines.length), j = rng.int(lines.length);
      if (op === 3) lines.splice(i, 1);
      else if (op === 4) lines.splice(i, 0, lines[j]);
      else [lines[i], lines[j]] = [lines[j], lines[i]];
      s = lines.join('\n');
    } else if (op < 8) { // a field name renamed to another one of the seeds
      const names = [...s.matchAll(/[a-z_]+(?=\s*[:{])/g)];
      if (!names.length) continue;
      const m = rng.pick(names), other = rng.pick([...rng.pick(SEEDS).matchAll(/[a-z_]+(?=\s*[:{])/g)]);
      if (other) s = s.slice(0, m.index) + other[0] + s.slice(m.index! + m[0].length);
    } else { // bytes
      s = dec.decode(mutateBytes(rng, enc.encode(s), SEED_BYTES));
    }
  }
  return s;
}

export const prototxtParts = {
  make(rng: FuzzRng): unknown {
    return mutateText(rng, rng.pick(SEEDS));
  },
  async run(input: unknown): Promise<void> {
    const text = input as string;
    const json = /^\s*\{/.test(text);
    // The parser on its own first: a syntax error is the refusal.
    if (!json) parsePrototxt(text, { source: 'fuzz.prototxt' });
    if (json || !/\blayer\b/.test(text)) {
      const s = parseSolver(text, 'fuzz.prototxt');
      solverSchedule(s);
      solverOptimizer(s);
      return;
    }
    const spec = parseNet(text, 'fuzz.prototxt');
    netToConfig(spec, spec.train?.shape ?? [28, 28, 1]);
  },
  show: (input: unknown): string => JSON.stringify((input as string).slice(0, 600)),
};
