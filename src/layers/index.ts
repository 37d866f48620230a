// One function from a layer config to a layer: a plain switch (no registry), so a reader sees every type.
import { RedeError } from '../engine/errors';
import type { LayerConfig } from '../model/config';
import { Activation } from './activation';
import { Softmax } from './activation';
import { Conv2D, type Conv2DConfig } from './conv2d';
import { Dense, type DenseConfig } from './dense';
import { Dropout } from './dropout';
import type { Layer, Shape } from './layer';
import { Add, Concat } from './merge';
import { BatchNorm, LRN } from './norm';
import { AvgPool2D, GlobalAvgPool2D, MaxPool2D, type PoolConfig } from './pool';
import { Reshape } from './shape';

export const LAYER_TYPES = ['conv2d', 'dense', 'maxpool2d', 'avgpool2d', 'globalavgpool2d', 'batchnorm', 'lrn', 'dropout',
  'flatten', 'reshape', 'relu', 'leaky_relu', 'elu', 'sigmoid', 'tanh', 'softmax', 'add', 'concat'] as const;

/** Every option each type takes (besides type, name, inputs): a misspelled option is an error, not a silent default. */
const OPTIONS: Record<(typeof LAYER_TYPES)[number], readonly string[]> = {
  conv2d: ['filters', 'kernel', 'stride', 'padding', 'dilation', 'groups', 'useBias', 'activation', 'init', 'l1', 'l2'],
  dense: ['units', 'useBias', 'activation', 'init', 'l1', 'l2'],
  maxpool2d: ['pool', 'stride', 'padding'],
  avgpool2d: ['pool', 'stride', 'padding'],
  globalavgpool2d: [],
  batchnorm: ['momentum', 'epsilon'],
  lrn: ['radius', 'bias', 'alpha', 'beta'],
  dropout: ['rate'],
  flatten: [],
  reshape: ['shape'],
  relu: [], sigmoid: [], tanh: [], softmax: [],
  leaky_relu: ['alpha'], elu: ['alpha'],
  add: [], concat: [],
};

export function buildLayer(cfg: LayerConfig & { name: string }, inShapes: readonly Shape[]): Layer {
  const { inputs: _inputs, ...c } = cfg as LayerConfig & { name: string; inputs?: string[] };
  const allowed = OPTIONS[c.type as keyof typeof OPTIONS];
  if (allowed) {
    for (const key of Object.keys(c)) {
      if (key !== 'type' && key !== 'name' && !allowed.includes(key)) {
        throw new RedeError(`${c.type} '${c.name}': unknown option '${key}' (expected ${allowed.length ? allowed.join(', ') : 'none'})`);
      }
    }
  }
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
    default:
      throw new RedeError(`layer '${cfg.name}': unknown type '${(cfg as { type: string }).type}' (expected one of ${LAYER_TYPES.join(', ')})`);
  }
}
