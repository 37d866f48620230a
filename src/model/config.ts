// rede's model definition format (Caffe's idea: a model is configuration, not code). A model is a list of
// layer configs; each layer reads the previous layer's output unless it names its `inputs` (a DAG: residual
// Add, inception Concat). The whole thing is plain JSON: printable, savable, diffable.
import type { Shape } from '../layers/layer';

export type Padding = 'same' | 'valid' | number | [number, number, number, number];
export type Activation = 'linear' | 'relu' | 'leaky_relu' | 'elu' | 'sigmoid' | 'tanh' | 'softmax';

interface Common {
  /** Unique name; defaults to `${type}_${index}`. */
  name?: string;
  /** Names of the layers (or 'input') this one reads; defaults to the previous layer. */
  inputs?: string[];
  /** false freezes the layer's parameters: training leaves them bitwise as they are (default true). */
  trainable?: boolean;
}
interface Regularized { l1?: number; l2?: number }

export type LayerConfig = Common & (
  | ({ type: 'conv2d'; filters: number; kernel: number | [number, number]; stride?: number | [number, number];
      padding?: Padding; dilation?: number | [number, number]; groups?: number; useBias?: boolean;
      activation?: Activation; alpha?: number; init?: string } & Regularized)
  | ({ type: 'dense'; units: number; useBias?: boolean; activation?: Activation; alpha?: number; init?: string } & Regularized)
  | { type: 'maxpool2d' | 'avgpool2d'; pool: number | [number, number]; stride?: number | [number, number]; padding?: Padding }
  | { type: 'globalavgpool2d' }
  | { type: 'batchnorm'; momentum?: number; epsilon?: number }
  | { type: 'lrn'; radius?: number; bias?: number; alpha?: number; beta?: number }
  | { type: 'dropout'; rate: number }
  | { type: 'flatten' }
  | { type: 'reshape'; shape: number[] }
  | { type: 'relu' | 'sigmoid' | 'tanh' | 'softmax' }
  | { type: 'leaky_relu' | 'elu'; alpha?: number }
  | { type: 'add' }
  | { type: 'concat' }
  | ({ type: 'conv2d_transpose'; filters: number; kernel: number | [number, number]; stride?: number | [number, number];
      padding?: 'same' | 'valid'; outputPadding?: number | [number, number]; useBias?: boolean;
      activation?: Exclude<Activation, 'softmax'>; alpha?: number; init?: string } & Regularized)
  | { type: 'upsampling2d'; size?: number | [number, number]; interpolation?: 'nearest' | 'bilinear' }
  // Sequences (per example [steps, features]; src/layers/rnn.ts, embedding.ts, time-distributed.ts).
  | ({ type: 'embedding'; inputDim: number; outputDim: number; maskZero?: boolean; init?: string } & Regularized)
  | { type: 'masking'; maskValue?: number }
  | ({ type: 'simple_rnn' | 'lstm' | 'gru'; units: number; activation?: 'tanh' | 'relu' | 'sigmoid' | 'linear';
      recurrentActivation?: 'sigmoid' | 'hard_sigmoid'; returnSequences?: boolean; goBackwards?: boolean; resetAfter?: boolean;
      returnState?: boolean; useBias?: boolean; init?: string; recurrentInit?: string } & Regularized)
  | { type: 'select'; part: 'output' | 'h' | 'c' | 'forward_h' | 'forward_c' | 'backward_h' | 'backward_c' }
  | ({ type: 'bidirectional'; layer: 'simple_rnn' | 'lstm' | 'gru'; mergeMode?: 'concat' | 'sum' | 'mul' | 'ave'; units: number;
      activation?: 'tanh' | 'relu' | 'sigmoid' | 'linear'; recurrentActivation?: 'sigmoid' | 'hard_sigmoid'; returnSequences?: boolean;
      goBackwards?: boolean; returnState?: boolean; resetAfter?: boolean; useBias?: boolean; init?: string; recurrentInit?: string } & Regularized)
  | ({ type: 'time_distributed'; units: number; useBias?: boolean; activation?: Activation; alpha?: number; init?: string } & Regularized)
);

export type LayerType = LayerConfig['type'];

export interface ModelConfig {
  name?: string;
  /** Per-example input shape: [h, w, c] (NHWC), [features], or a sequence [steps, features] ([steps] of ids for an embedding). */
  input: Shape;
  layers: LayerConfig[];
  /** The output layer's name; defaults to the last layer. */
  output?: string;
  /**
   * Several outputs (Keras's multi-output model), the main one first: e.g. GoogLeNet's logits and its two
   * auxiliary classifiers, each trained with its own loss weight (compile's lossWeights). Not with `output`.
   */
  outputs?: string[];
}
