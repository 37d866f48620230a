// Caffe's SolverParameter (caffe.proto), read from a .prototxt or the same fields as JSON, and its mapping
// onto rede: lr_policy → a Schedule (src/optim/schedules.ts, step = Caffe's iter), type → an Optimizer,
// weight_decay → the weighted layers' l1/l2 (rede's ĝ = g + l2·w + l1·sign(w) is Caffe's Regularize()).
//
// Caffe's learning rate at iteration iter (SGDSolver::GetLearningRate):
//   fixed      base_lr                                 exp      base_lr · gamma^iter
//   step       base_lr · gamma^floor(iter / stepsize)  inv      base_lr · (1 + gamma·iter)^(−power)
//   multistep  base_lr · gamma^(#stepvalue ≤ iter)     poly     base_lr · (1 − iter/max_iter)^power
//   sigmoid    base_lr / (1 + exp(−gamma·(iter − stepsize)))
import { RedeError } from '../../engine/errors';
import type { OptimizerConfig, OptimizerCommon } from '../../optim/optimizer';
import { checkSchedule, type Schedule } from '../../optim/schedules';
import { Fields, jsonFields } from './fields';
import { parsePrototxt } from './prototxt';

export const LR_POLICIES = ['fixed', 'step', 'exp', 'inv', 'multistep', 'poly', 'sigmoid'] as const;
export const SOLVER_TYPES = ['SGD', 'Nesterov', 'AdaGrad', 'RMSProp', 'AdaDelta', 'Adam'] as const;
export type LrPolicy = (typeof LR_POLICIES)[number];
export type SolverType = (typeof SOLVER_TYPES)[number];

/** A solver as Caffe reads it, with Caffe's defaults filled in. */
export interface CaffeSolver {
  /** The file it came from (errors, and relative paths). */
  source: string;
  net?: string;
  base_lr: number;
  lr_policy: LrPolicy;
  gamma?: number;
  power?: number;
  stepsize?: number;
  stepvalue: number[];
  max_iter: number;
  type: SolverType;
  momentum: number;
  /** Adam's β2. */
  momentum2: number;
  /** RMSProp's decay. */
  rms_decay: number;
  /** AdaGrad's, RMSProp's, AdaDelta's and Adam's ε. */
  delta: number;
  weight_decay: number;
  regularization_type: 'L1' | 'L2';
  /** A global L2-norm bound on the gradients (Caffe's ClipGradients); absent: no clipping. */
  clip_gradients?: number;
  test_iter: number[];
  test_interval: number;
  test_initialization: boolean;
  display: number;
  average_loss: number;
  snapshot: number;
  snapshot_prefix?: string;
  snapshot_after_train: boolean;
  /** −1 (Caffe's default): not set. */
  random_seed: number;
}

/** Fields rede reads (and the ones it accepts and ignores: where the solver runs, how snapshots are encoded). */
const KNOWN = ['net', 'base_lr', 'lr_policy', 'gamma', 'power', 'stepsize', 'stepvalue', 'max_iter', 'type', 'solver_type', 'momentum',
  'momentum2', 'rms_decay', 'delta', 'weight_decay', 'regularization_type', 'clip_gradients', 'test_iter', 'test_interval',
  'test_initialization', 'display', 'average_loss', 'snapshot', 'snapshot_prefix', 'snapshot_after_train', 'random_seed', 'iter_size'];
const IGNORED = ['solver_mode', 'device_id', 'debug_info', 'snapshot_format', 'snapshot_diff', 'test_compute_loss', 'layer_wise_reduce'];
/** Caffe's deprecated enum spelling of `type`. */
const LEGACY_TYPES: Record<string, SolverType> = { SGD: 'SGD', NESTEROV: 'Nesterov', ADAGRAD: 'AdaGrad', RMSPROP: 'RMSProp', ADADELTA: 'AdaDelta', ADAM: 'Adam' };

/** Reads a solver from its text: Caffe's text format, or JSON (text starting with '{'). */
export function parseSolver(text: string, source = 'solver'): CaffeSolver {
  let fields;
  if (/^\s*\{/.test(text)) {
    let json: unknown;
    try { json = JSON.parse(text); } catch (e) { throw new RedeError(`${source}: not valid JSON (${(e as Error).message})`); }
    fields = jsonFields(source, json);
  } else {
    fields = parsePrototxt(text, { source });
  }
  return readSolver(new Fields(source, fields, 'solver'));
}

function readSolver(f: Fields): CaffeSolver {
  f.only([...KNOWN, ...IGNORED]);
  const fail = (what: string): never => { throw new RedeError(`${f.source}: solver: ${what}`); };
  const int = { integer: true, min: 0 };
  const base_lr = f.number('base_lr', { min: 0, exclusiveMin: true }) ?? fail('base_lr is required (the base learning rate)');
  const lr_policy = f.enum('lr_policy', LR_POLICIES) ?? fail(`lr_policy is required (one of ${LR_POLICIES.join(', ')})`);
  const max_iter = f.number('max_iter', { integer: true, min: 1 }) ?? fail('max_iter is required (the number of training iterations)');
  const typed = f.enum('type', SOLVER_TYPES), legacy = f.enum('solver_type', Object.keys(LEGACY_TYPES));
  if (typed !== undefined && legacy !== undefined) fail('give type or the deprecated solver_type, not both');
  const iterSize = f.number('iter_size', { integer: true, min: 1 });
  if (iterSize !== undefined && iterSize !== 1) fail(`iter_size ${iterSize} (gradient accumulation over several batches) is not supported; use a batch ${iterSize}× as large`);
  const s: CaffeSolver = {
    source: f.source,
    net: f.string('net'),
    base_lr, lr_policy, max_iter,
    gamma: f.number('gamma'),
    power: f.number('power'),
    stepsize: f.number('stepsize', { integer: true, min: 1 }),
    stepvalue: f.numbers('stepvalue', int),
    type: typed ?? (legacy !== undefined ? LEGACY_TYPES[legacy] : 'SGD'),
    momentum: f.number('momentum', { min: 0, max: 1 }) ?? 0,
    momentum2: f.number('momentum2', { min: 0, max: 1 }) ?? 0.999,
    rms_decay: f.number('rms_decay', { min: 0, max: 1 }) ?? 0.99,
    delta: f.number('delta', { min: 0, exclusiveMin: true }) ?? 1e-8,
    weight_decay: f.number('weight_decay', { min: 0 }) ?? 0,
    regularization_type: f.enum('regularization_type', ['L1', 'L2'] as const) ?? 'L2',
    test_iter: f.numbers('test_iter', int),
    test_interval: f.number('test_interval', int) ?? 0,
    test_initialization: f.bool('test_initialization') ?? true,
    display: f.number('display', int) ?? 0,
    average_loss: f.number('average_loss', { integer: true, min: 1 }) ?? 1,
    snapshot: f.number('snapshot', int) ?? 0,
    snapshot_prefix: f.string('snapshot_prefix'),
    snapshot_after_train: f.bool('snapshot_after_train') ?? true,
    random_seed: f.number('random_seed', { integer: true, min: -1 }) ?? -1,
  };
  const clip = f.number('clip_gradients');
  if (clip !== undefined && clip >= 0) s.clip_gradients = clip; // Caffe: a negative value (its default −1) is off
  if (s.test_iter.length > 1) fail(`${s.test_iter.length} test_iter values (one per test net); rede's nets have one test phase`);
  // What each policy needs, as Caffe's GetLearningRate reads it (Caffe's missing values would be 0).
  const need = (name: 'gamma' | 'power' | 'stepsize') => { if (s[name] === undefined) fail(`lr_policy "${lr_policy}" needs ${name}`); };
  switch (lr_policy) {
    case 'step': need('gamma'); need('stepsize'); break;
    case 'exp': need('gamma'); break;
    case 'inv': need('gamma'); need('power'); break;
    case 'multistep':
      need('gamma');
      if (s.stepvalue.length === 0) fail('lr_policy "multistep" needs stepvalue (one or more iterations)');
      break;
    case 'poly': need('power'); break;
    case 'sigmoid': need('gamma'); need('stepsize'); break;
  }
  // Caffe refuses these combinations (its AdaGrad and RMSProp solvers check momentum == 0).
  if ((s.type === 'AdaGrad' || s.type === 'RMSProp') && s.momentum !== 0) fail(`type ${s.type} takes no momentum (Caffe refuses it too), got momentum ${s.momentum}`);
  solverSchedule(s); // its checks, before any work
  return s;
}

/** The solver's lr_policy as a rede schedule over steps (rede's step = Caffe's iter). */
export function solverSchedule(s: CaffeSolver): Schedule {
  const gamma = s.gamma!, power = s.power!, stepsize = s.stepsize!;
  const sched: Schedule = ((): Schedule => {
    switch (s.lr_policy) {
      case 'fixed': return { type: 'constant' };
      case 'step': return { type: 'step', every: stepsize, gamma, unit: 'step' };
      case 'exp': return { type: 'exponential', gamma, decaySteps: 1 };
      case 'inv': return { type: 'inv', gamma, power };
      case 'multistep': return { type: 'multistep', milestones: s.stepvalue, gamma };
      case 'poly': return { type: 'poly', maxSteps: s.max_iter, power };
      case 'sigmoid': return { type: 'sigmoid', gamma, center: stepsize };
    }
  })();
  try {
    return checkSchedule(sched)!;
  } catch (e) {
    throw new RedeError(`${s.source}: solver lr_policy "${s.lr_policy}": ${(e as Error).message}`);
  }
}

/**
 * The solver's type as a rede optimizer (its rate is base_lr; the schedule scales it). With a net's `params`
 * (net.ts: lr_mult and decay_mult per weight name), each tensor gets Caffe's local_decay = weight_decay ·
 * decay_mult as its l2 (or l1) — biases included, as Caffe's Regularize() — and, for SGD and Nesterov,
 * local_rate = rate · lr_mult (rede's perParam lrMult; the adaptive types keep one rate: solve.ts notes it).
 */
export function solverOptimizer(s: CaffeSolver, params?: ReadonlyMap<string, { lrMult: number; decayMult: number }>): OptimizerConfig & OptimizerCommon {
  const common: OptimizerCommon = s.clip_gradients === undefined ? {} : { clipNorm: s.clip_gradients };
  if (params && params.size) {
    const linear = s.type === 'SGD' || s.type === 'Nesterov', perParam: NonNullable<OptimizerCommon['perParam']> = {};
    for (const [key, { lrMult, decayMult }] of params) {
      const decay = s.weight_decay * decayMult;
      perParam[key] = s.regularization_type === 'L1' ? { l1: decay, l2: 0 } : { l1: 0, l2: decay };
      if (linear && lrMult !== 1) perParam[key].lrMult = lrMult;
    }
    common.perParam = perParam;
  }
  switch (s.type) {
    // Caffe's SGD keeps v = μ·v + lr·ĝ, torch's (rede's) v = μ·v + ĝ applied as lr·v: the same steps while lr
    // is constant; under a schedule Caffe's history carries the older rates (docs/caffe.md).
    case 'SGD': return { type: 'sgd', lr: s.base_lr, momentum: s.momentum, ...common };
    case 'Nesterov': return { type: 'sgd', lr: s.base_lr, momentum: s.momentum, nesterov: true, ...common };
    case 'RMSProp': return { type: 'rmsprop', lr: s.base_lr, alpha: s.rms_decay, eps: s.delta, ...common };
    // Caffe's Adam adds ε to √v before the bias correction √(1−β2^t) is applied, torch after: ε differs by that factor.
    case 'Adam': return { type: 'adam', lr: s.base_lr, beta1: s.momentum, beta2: s.momentum2, eps: s.delta, ...common };
    case 'AdaGrad': return { type: 'adagrad', lr: s.base_lr, eps: s.delta, ...common };
    // Caffe's AdaDelta decays both averages by momentum.
    case 'AdaDelta': return { type: 'adadelta', lr: s.base_lr, alpha: s.momentum, eps: s.delta, ...common };
  }
}

/** Caffe's random_seed, or `fallback` when it is unset (−1). */
export function solverSeed(s: CaffeSolver, fallback: number): number {
  return s.random_seed >= 0 ? s.random_seed : fallback;
}
