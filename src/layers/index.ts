// One function from a layer config to a layer: a plain switch, so a reader sees every built-in type. A layer
// defined outside rede (a user's, a test's) joins through defineLayer: configs are the only way into a model.
import { RedeError } from '../engine/errors';
import type { LayerConfig } from '../model/config';
import { ACTIVATIONS, Activation, Softmax } from './activation';
import { Conv2D, type Conv2DConfig } from './conv2d';
import { Conv2DTranspose, type Conv2DTransposeConfig } from './conv2d-transpose';
import { Dense, type DenseConfig } from './dense';
import { Dropout } from './dropout';
import type { Layer, OutputPart, Shape } from './layer';
import { Add, Concat } from './merge';
import { BatchNorm, LRN } from './norm';
import { AvgPool2D, GlobalAvgPool2D, MaxPool2D, type PoolConfig } from './pool';
import { Reshape } from './shape';
import { Embedding, Masking, type EmbeddingConfig } from './embedding';
import { RNN_ACTIVATIONS, RNN_RECURRENT_ACTIVATIONS, RNN_TYPES, Recurrent, type RnnConfig } from './rnn';
import { Bidirectional, MERGE_MODES, type BidirectionalConfig } from './bidirectional';
import { SELECT_PARTS, Select, type SelectConfig } from './select';
import { TimeDistributed, type TimeDistributedConfig } from './time-distributed';
import { UpSampling2D, type UpSampling2DConfig } from './upsampling';

export const LAYER_TYPES = ['conv2d', 'dense', 'maxpool2d', 'avgpool2d', 'globalavgpool2d', 'batchnorm', 'lrn', 'dropout',
  'flatten', 'reshape', 'relu', 'leaky_relu', 'elu', 'sigmoid', 'tanh', 'softmax', 'add', 'concat',
  'conv2d_transpose', 'upsampling2d', 'embedding', 'masking', 'simple_rnn', 'lstm', 'gru', 'time_distributed', 'select', 'bidirectional'] as const;

/** How an option's value must look: a finite number, one >= 0, a boolean, a number or [h, w], a conv
 *  padding, a list of positive integers, or one of some strings. Ranges are the layer's own check. */
export type Kind = 'number' | 'nonneg' | 'boolean' | 'pair' | 'padding' | 'shape' | readonly string[];

const INITS = ['glorot_uniform', 'glorot_normal', 'he_uniform', 'he_normal', 'lecun_uniform', 'zeros', 'ones'] as const;
const WEIGHTED = { useBias: 'boolean', activation: ACTIVATIONS, alpha: 'number', init: INITS, l1: 'nonneg', l2: 'nonneg' } as const;
const WINDOW = { pool: 'pair', stride: 'pair', padding: 'padding' } as const;
const RECURRENT = { units: 'number', activation: RNN_ACTIVATIONS, returnSequences: 'boolean', goBackwards: 'boolean', useBias: 'boolean',
  init: INITS, recurrentInit: INITS, l1: 'nonneg', l2: 'nonneg', returnState: 'boolean' } as const;

/** Every option each type takes (besides type, name, inputs and trainable): a misspelled option is an error, not a silent default. */
const OPTIONS: Record<(typeof LAYER_TYPES)[number], Readonly<Record<string, Kind>>> = {
  conv2d: { filters: 'number', kernel: 'pair', stride: 'pair', padding: 'padding', dilation: 'pair', groups: 'number', ...WEIGHTED },
  dense: { units: 'number', ...WEIGHTED },
  maxpool2d: WINDOW,
  avgpool2d: WINDOW,
  globalavgpool2d: {},
  batchnorm: { momentum: 'number', epsilon: 'number' },
  lrn: { radius: 'number', bias: 'number', alpha: 'number', beta: 'number' },
  dropout: { rate: 'number' },
  flatten: {},
  reshape: { shape: 'shape' },
  relu: {}, sigmoid: {}, tanh: {}, softmax: {},
  leaky_relu: { alpha: 'number' }, elu: { alpha: 'number' },
  add: {}, concat: {},
  conv2d_transpose: { filters: 'number', kernel: 'pair', stride: 'pair', padding: ['same', 'valid'], outputPadding: 'pair', ...WEIGHTED },
  upsampling2d: { size: 'pair', interpolation: ['nearest', 'bilinear'] },
  embedding: { inputDim: 'number', outputDim: 'number', maskZero: 'boolean', init: INITS, l1: 'nonneg', l2: 'nonneg' },
  masking: { maskValue: 'number' },
  simple_rnn: RECURRENT,
  lstm: { ...RECURRENT, recurrentActivation: RNN_RECURRENT_ACTIVATIONS },
  gru: { ...RECURRENT, recurrentActivation: RNN_RECURRENT_ACTIVATIONS, resetAfter: 'boolean' },
  time_distributed: { units: 'number', ...WEIGHTED },
  select: { part: SELECT_PARTS },
  bidirectional: { layer: RNN_TYPES, mergeMode: MERGE_MODES, ...RECURRENT, recurrentActivation: RNN_RECURRENT_ACTIVATIONS, resetAfter: 'boolean' },
};

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function fits(v: unknown, kind: Kind): boolean {
  if (typeof kind !== 'string') return typeof v === 'string' && kind.includes(v);
  switch (kind) {
    case 'number': return isNumber(v);
    case 'nonneg': return isNumber(v) && v >= 0;
    case 'boolean': return typeof v === 'boolean';
    case 'pair': return isNumber(v) || (Array.isArray(v) && v.length === 2 && v.every(isNumber));
    case 'padding': return v === 'same' || v === 'valid' || isNumber(v) || (Array.isArray(v) && v.length === 4 && v.every(isNumber));
    case 'shape': return Array.isArray(v) && v.length > 0 && v.every((d) => Number.isInteger(d) && d > 0);
  }
}

const WANT: Record<Exclude<Kind, readonly string[]>, string> = {
  number: 'a finite number', nonneg: 'a finite number >= 0', boolean: 'true or false', pair: 'a number or [h, w]',
  padding: "'same', 'valid', a number or [top, bottom, left, right]", shape: 'a list of positive integers',
};

const show = (v: unknown): string => (typeof v === 'string' ? `'${v}'` : typeof v === 'number' ? String(v) : JSON.stringify(v) ?? String(v));

/** The option list of a type; own keys only, so 'constructor' or '__proto__' is no type. */
export function isLayerType(type: unknown): type is (typeof LAYER_TYPES)[number] {
  return typeof type === 'string' && Object.hasOwn(OPTIONS, type);
}

/** A layer type from outside: its options (checked like a built-in's) and its constructor. */
interface Defined { options: Readonly<Record<string, Kind>>; build: (cfg: { name: string } & Record<string, unknown>, inShapes: readonly Shape[]) => Layer }
const DEFINED = new Map<string, Defined>();

/**
 * Makes `type` a layer type of model configs, built by `build`: the layer trains through its forwardCalls and
 * backward, and runs in InferenceModel as its own forward (a 'layer' op). A built-in name cannot be taken.
 */
export function defineLayer(type: string, options: Defined['options'], build: Defined['build']): void {
  if (isLayerType(type)) throw new RedeError(`defineLayer: '${type}' is a built-in layer type`);
  if (!/^[a-z][a-z0-9_]*$/.test(type)) throw new RedeError(`defineLayer: a type must be lower-case letters, digits and _, got ${show(type)}`);
  DEFINED.set(type, { options, build });
}

/**
 * `inMasks[i]`: whether input i is a masked sequence (Layer.masks of the layer it comes from); `inParts[i]`:
 * that layer's Layer.parts (several outputs in one tensor, which only a select layer reads).
 */
export function buildLayer(cfg: LayerConfig & { name: string }, inShapes: readonly Shape[], inMasks: readonly boolean[] = [],
  inParts: readonly (readonly OutputPart[] | null)[] = []): Layer {
  const { inputs: _inputs, trainable, ...c } = cfg as LayerConfig & { name: string; inputs?: string[] };
  if (trainable !== undefined && typeof trainable !== 'boolean') throw new RedeError(`${show(c.type)} '${cfg.name}': trainable must be true or false, got ${show(trainable)}`);
  const packed = inParts.findIndex((p) => p);
  if (packed >= 0 && c.type !== 'select') {
    throw new RedeError(`${String(c.type)} '${cfg.name}': input ${packed} packs several outputs (${inParts[packed]!.map((p) => p.name).join(', ')}: a recurrent layer with returnState); read each through a select layer, e.g. { type: 'select', part: 'h' }`);
  }
  const layer = buildOwn(c as LayerConfig & { name: string }, inShapes, inMasks, inParts);
  layer.trainable = trainable ?? true; // frozen: its parameters keep their values (the optimizers skip them)
  return layer;
}

function buildOwn(c: LayerConfig & { name: string }, inShapes: readonly Shape[], inMasks: readonly boolean[], inParts: readonly (readonly OutputPart[] | null)[]): Layer {
  const defined = typeof c.type === 'string' ? DEFINED.get(c.type) : undefined;
  if (!isLayerType(c.type) && !defined) {
    throw new RedeError(`layer '${c.name}': unknown type ${show(c.type)} (expected one of ${[...LAYER_TYPES, ...DEFINED.keys()].join(', ')})`);
  }
  const allowed = defined ? defined.options : OPTIONS[c.type as (typeof LAYER_TYPES)[number]];
  for (const [key, v] of Object.entries(c)) {
    if (key === 'type' || key === 'name') continue;
    if (!Object.hasOwn(allowed, key)) {
      const names = Object.keys(allowed);
      throw new RedeError(`${c.type} '${c.name}': unknown option '${key}' (expected ${names.length ? names.join(', ') : 'none'})`);
    }
    const kind = allowed[key];
    if (v !== undefined && !fits(v, kind)) {
      const want = typeof kind === 'string' ? WANT[kind] : `one of ${kind.map((k) => `'${k}'`).join(', ')}`;
      throw new RedeError(`${c.type} '${c.name}': ${key} must be ${want}, got ${show(v)}`);
    }
  }
  if (defined) return defined.build(c as unknown as { name: string } & Record<string, unknown>, inShapes);
  switch (c.type) {
    case 'conv2d': return new Conv2D(c as Conv2DConfig, inShapes);
    case 'dense': return new Dense(c as DenseConfig, inShapes);
    case 'maxpool2d': return new MaxPool2D(c as PoolConfig, inShapes);
    case 'avgpool2d': return new AvgPool2D(c as PoolConfig, inShapes);
    case 'globalavgpool2d': return new GlobalAvgPool2D(c, inShapes);
    case 'batchnorm': return new BatchNorm(c, inShapes);
    case 'lrn': return new LRN(c, inShapes);
    case 'dropout': return new Dropout(c, inShapes);
    case 'flatten': return new Reshape('flatten', c, inShapes);
    case 'reshape': return new Reshape('reshape', c, inShapes);
    case 'relu': case 'leaky_relu': case 'elu': case 'sigmoid': case 'tanh': return new Activation(c.type, c, inShapes);
    case 'softmax': return new Softmax(c, inShapes);
    case 'add': return new Add(c, inShapes);
    case 'concat': return new Concat(c, inShapes);
    case 'conv2d_transpose': return new Conv2DTranspose(c as Conv2DTransposeConfig, inShapes);
    case 'upsampling2d': return new UpSampling2D(c as UpSampling2DConfig, inShapes);
    case 'embedding': return new Embedding(c as EmbeddingConfig, inShapes);
    case 'masking': return new Masking(c, inShapes);
    case 'simple_rnn': case 'lstm': case 'gru': return new Recurrent(c.type, c as RnnConfig, inShapes, inMasks[0] ?? false);
    case 'time_distributed': return new TimeDistributed(c as TimeDistributedConfig, inShapes);
    case 'select': return new Select(c as SelectConfig, inShapes, inParts);
    case 'bidirectional': return new Bidirectional(c as BidirectionalConfig, inShapes, inMasks[0] ?? false);
  }
}
