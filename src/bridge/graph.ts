// A rede network as TensorFlow.js ops: the same graph (src/model/graph.ts), the same layouts (NHWC, HWIO conv
// kernels, [in, out] dense kernels, rede's resolved padding), rede's own weights. Each parameter and batch-norm
// statistic is one tf tensor, copied from the network's memory (push) and back (pull): the network stays the
// home of the weights, so save, getWeights and the wasm engine read what tfjs trained.
//
// Forward only: tfjs differentiates it (tf.valueAndGrads) for the step (step.ts). Dropout draws rede's own
// counter-hash masks (src/ref/dropout.ts), so a seed gives the same masks on both backends. Training-mode batch
// norm updates its running statistics as rede does (PyTorch's convention: momentum, unbiased variance).
import { RedeError } from '../engine/errors';
import { Conv2D } from '../layers/conv2d';
import { Conv2DTranspose } from '../layers/conv2d-transpose';
import { Dense } from '../layers/dense';
import { Dropout } from '../layers/dropout';
import { BatchNorm, LRN } from '../layers/norm';
import { numelOf, type Layer, type Shape } from '../layers/layer';
import { Activation } from '../layers/activation';
import type { Epilogue } from '../layers/activation';
import { UpSampling2D } from '../layers/upsampling';
import type { Network } from '../model/network';
import { dropoutHash } from '../ref/dropout';
import type { Tf } from './tfjs';
import type * as TF from '@tensorflow/tfjs';

/** Layer types the tfjs backend builds (custom layers from defineLayer are not among them). */
export const TFJS_LAYERS = ['conv2d', 'dense', 'maxpool2d', 'avgpool2d', 'globalavgpool2d', 'batchnorm', 'lrn', 'dropout', 'flatten',
  'reshape', 'relu', 'leaky_relu', 'elu', 'sigmoid', 'tanh', 'softmax', 'add', 'concat', 'conv2d_transpose', 'upsampling2d'];

export interface ForwardOptions { training: boolean; step: number; seed: number }

export interface Forward {
  /** Every node's output [batch, ...outShape]. */
  act: TF.Tensor[];
  /** Per node: the logits before a layer's own softmax activation (dense / conv2d), else undefined. */
  logits: (TF.Tensor | undefined)[];
  /** Training mode: each batch norm's new running statistics (written by commitState). */
  state: Map<number, { mean: TF.Tensor; variance: TF.Tensor }>;
}

/** Why a layer cannot run on tfjs, or null. Checked for every layer before anything is built. */
function unsupported(L: Layer, type: string): string | null {
  // The config's type, not the layer's: a layer from defineLayer may reuse a built-in class.
  if (!TFJS_LAYERS.includes(type) || type !== L.type) return `layer type '${type}' is not supported on the tfjs backend (supported: ${TFJS_LAYERS.join(', ')})`;
  if (L instanceof Conv2D && (L.geo.dilationH > 1 || L.geo.dilationW > 1)) return `dilation ${L.geo.dilationH}×${L.geo.dilationW} is not supported on the tfjs backend (tfjs has no gradient for dilated conv2d)`;
  if (L instanceof Conv2DTranspose && L.cfg.outputPadding !== undefined) return `outputPadding ${JSON.stringify(L.cfg.outputPadding)} is not supported on the tfjs backend (tf.conv2dTranspose has no output padding)`;
  if (L instanceof UpSampling2D && L.interpolation === 'bilinear') return "interpolation 'bilinear' is not supported on the tfjs backend (tfjs-cpu's gradient of resizeBilinear with half-pixel centers is wrong); use 'nearest'";
  return null;
}

/** Throws the first layer of `net` the tfjs backend cannot build, naming it. */
export function checkSupported(net: Network): void {
  net.layers.forEach((L, i) => {
    const type = String(net.config.layers[i].type);
    const why = unsupported(L, type);
    if (why) throw new RedeError(`tfjs backend: ${type} '${L.name}': ${why}`);
  });
}

/** The tfjs kernels a layer's gradient needs beyond elementwise ones (tfjs-backend-wasm 4.22 lacks the conv ones). */
function gradientKernels(L: Layer): string[] {
  if (L instanceof Conv2D) return L.geo.groups > 1 && L.geo.groups === L.geo.cin ? ['DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput'] : ['Conv2DBackpropFilter', 'Conv2DBackpropInput'];
  if (L instanceof Conv2DTranspose) return ['Conv2DBackpropFilter', 'Conv2D'];
  switch (L.type) {
    case 'maxpool2d': return ['MaxPoolGrad'];
    case 'avgpool2d': return ['AvgPoolGrad'];
    case 'lrn': return ['LRNGrad'];
    case 'upsampling2d': return ['ResizeNearestNeighborGrad'];
  }
  return [];
}

/** Throws unless tfjs's current backend has every kernel training `net` needs, naming the layer and the kernel. */
export function checkTrainable(tf: Tf, net: Network): void {
  const backend = tf.getBackend();
  for (const L of net.layers) {
    const missing = gradientKernels(L).find((k) => !tf.getKernel(k, backend));
    if (missing) throw new RedeError(`tfjs backend: ${L.type} '${L.name}' cannot train on tfjs's '${backend}' backend: it has no ${missing} kernel (predict and evaluate work; train on 'cpu', 'webgl', 'webgpu' or 'tensorflow')`);
  }
}

export class TfGraph {
  /** One tensor per network parameter entry (net.entries order). */
  params: TF.Tensor[] = [];
  /** Per batch-norm node: running mean and variance. */
  state = new Map<number, { mean: TF.Tensor; variance: TF.Tensor }>();
  /** Per layer: its parameters' indices in `params`, by handle name. */
  private paramIndex = new Map<Layer, Record<string, number>>();

  constructor(readonly tf: Tf, readonly net: Network) {
    checkSupported(net);
    net.entries.forEach((en, i) => { (this.paramIndex.get(en.layer) ?? this.paramIndex.set(en.layer, {}).get(en.layer)!)[en.name] = i; });
    this.push();
  }

  /** The network's weights and batch-norm statistics into tf tensors (the old ones are freed). */
  push(): void {
    const { tf, net } = this;
    const old = [...this.params, ...[...this.state.values()].flatMap((s) => [s.mean, s.variance])];
    this.params = net.entries.map((en) => tf.tensor(net.e.read(net.params + en.offset * 4, en.n), [...en.shape]));
    this.state.clear();
    net.layers.forEach((L, i) => {
      if (!(L instanceof BatchNorm)) return;
      this.state.set(i, { mean: tf.tensor1d(net.e.read(L.s.running_mean, L.c)), variance: tf.tensor1d(net.e.read(L.s.running_var, L.c)) });
    });
    tf.dispose(old);
  }

  /** The tf tensors back into the network's memory. */
  pull(): void {
    const net = this.net;
    net.entries.forEach((en, i) => net.e.write(net.params + en.offset * 4, this.params[i].dataSync() as Float32Array));
    for (const [i, s] of this.state) {
      const L = net.layers[i] as BatchNorm;
      net.e.write(L.s.running_mean, s.mean.dataSync() as Float32Array);
      net.e.write(L.s.running_var, s.variance.dataSync() as Float32Array);
    }
  }

  /** Replaces the running statistics with a training forward's (the tensors are the caller's, kept). */
  commitState(next: Forward['state']): void {
    for (const [i, s] of next) {
      const old = this.state.get(i)!;
      this.state.set(i, s);
      this.tf.dispose([old.mean, old.variance]);
    }
  }

  dispose(): void {
    this.tf.dispose([...this.params, ...[...this.state.values()].flatMap((s) => [s.mean, s.variance])]);
    this.params = [];
    this.state.clear();
  }

  /**
   * The forward of x [batch, ...input] with parameters `p` (this.params, or the tensors tf differentiates by).
   * Runs inside the caller's tidy or gradient scope; the running statistics returned are tf.keep'd.
   */
  forward(x: TF.Tensor, p: readonly TF.Tensor[], o: ForwardOptions): Forward {
    const { tf, net } = this, nodes = net.graph.nodes, b = x.shape[0];
    const act: TF.Tensor[] = [], logits: (TF.Tensor | undefined)[] = [], state: Forward['state'] = new Map();
    const param = (L: Layer, name: string): TF.Tensor => p[this.paramIndex.get(L)![name]];
    nodes.forEach((node, i) => {
      const L = node.layer, xs = node.inputs.map((s) => (s < 0 ? x : act[s]));
      const as4 = (t: TF.Tensor, s: Shape = L.inShapes[0]) => tf.reshape<TF.Rank.R4>(t, [b, ...s] as number[] as [number, number, number, number]);
      let y: TF.Tensor;
      if (L instanceof Conv2D) {
        const g = L.geo, pad: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [g.padTop, g.padBottom], [g.padLeft, g.padRight], [0, 0]];
        const w = param(L, 'w') as TF.Tensor4D, xi = as4(xs[0]), s: [number, number] = [g.strideH, g.strideW];
        let z: TF.Tensor;
        if (g.groups === 1) z = tf.conv2d(xi, w, s, pad);
        else if (g.groups === g.cin) {
          // Depthwise: rede's [kh, kw, 1, cin·m] holds output channel c·m + j where tfjs's [kh, kw, cin, m] does.
          z = tf.depthwiseConv2d(xi, tf.reshape(w, [g.kh, g.kw, g.cin, g.cout / g.cin]) as TF.Tensor4D, s, pad);
        } else {
          const xg = tf.split(xi, g.groups, 3), wg = tf.split(w, g.groups, 3);
          z = tf.concat(xg.map((xj, j) => tf.conv2d(xj as TF.Tensor4D, wg[j] as TF.Tensor4D, s, pad)), 3);
        }
        if (L.useBias) z = tf.add(z, param(L, 'b'));
        [y, logits[i]] = this.epilogue(z, L.act);
      } else if (L instanceof Dense) {
        let z: TF.Tensor = tf.matMul(tf.reshape(xs[0], [b, L.inFeatures]) as TF.Tensor2D, param(L, 'w') as TF.Tensor2D);
        if (L.useBias) z = tf.add(z, param(L, 'b'));
        [y, logits[i]] = this.epilogue(z, L.act);
      } else if (L instanceof BatchNorm) {
        const axes = L.inShapes[0].map((_, a) => a); // every axis but the channels (batch is axis 0)
        const gamma = param(L, 'gamma'), beta = param(L, 'beta'), run = this.state.get(i)!;
        if (o.training) {
          const { mean, variance } = tf.moments(xs[0], axes);
          y = tf.batchNorm(xs[0], mean, variance, beta, gamma, L.epsilon);
          const rows = b * numelOf(L.inShapes[0]) / L.c, m = L.momentum;
          state.set(i, {
            mean: tf.keep(tf.add(tf.mul(run.mean, 1 - m), tf.mul(mean, m))),
            variance: tf.keep(tf.add(tf.mul(run.variance, 1 - m), tf.mul(variance, m * (rows > 1 ? rows / (rows - 1) : 1)))),
          });
        } else {
          y = tf.batchNorm(xs[0], run.mean, run.variance, beta, gamma, L.epsilon);
        }
      } else if (L instanceof Dropout) {
        y = o.training && L.rate > 0 ? tf.mul(xs[0], this.dropoutMask(L, b, o)) : xs[0];
      } else if (L instanceof LRN) {
        const c = L.outShape[L.outShape.length - 1];
        const x4 = tf.reshape(xs[0], [-1, 1, 1, c]) as TF.Tensor4D;
        y = tf.localResponseNormalization(x4, L.radius, L.bias, L.alpha, L.beta);
      } else if (L instanceof Activation) {
        y = this.activation(xs[0], L.type, L.alpha);
      } else if (L instanceof Conv2DTranspose) {
        const g = L.geo, [oh, ow, f] = L.outShape;
        y = tf.conv2dTranspose(as4(xs[0]), param(L, 'w') as TF.Tensor4D, [b, oh, ow, f], [g.strideH, g.strideW], L.cfg.padding ?? 'valid');
        if (L.useBias) y = tf.add(y, param(L, 'b'));
        if (L.relu) y = tf.relu(y);
      } else if (L instanceof UpSampling2D) {
        y = tf.image.resizeNearestNeighbor(as4(xs[0]), [L.outShape[0], L.outShape[1]] as [number, number]);
      } else {
        y = this.simple(L, xs, b);
      }
      act.push(tf.reshape(y, [b, ...L.outShape]));
    });
    return { act, logits, state };
  }

  /** The layers without parameters whose tf op is one line. */
  private simple(L: Layer, xs: TF.Tensor[], b: number): TF.Tensor {
    const tf = this.tf;
    switch (L.type) {
      case 'maxpool2d': case 'avgpool2d': {
        const g = (L as unknown as { geo: import('../ops/conv').ConvGeom; cfg: { padding?: 'same' | 'valid' } });
        const x4 = tf.reshape<TF.Rank.R4>(xs[0], [b, ...L.inShapes[0]] as number[] as [number, number, number, number]), pad = g.cfg.padding ?? 'valid';
        return L.type === 'maxpool2d' ? tf.maxPool(x4, [g.geo.kh, g.geo.kw], [g.geo.strideH, g.geo.strideW], pad) : tf.avgPool(x4, [g.geo.kh, g.geo.kw], [g.geo.strideH, g.geo.strideW], pad);
      }
      case 'globalavgpool2d': return tf.mean(tf.reshape(xs[0], [b, ...L.inShapes[0]]), [1, 2]);
      case 'flatten': case 'reshape': return xs[0];
      case 'softmax': return tf.softmax(xs[0]);
      case 'add': return xs.length === 2 ? tf.add(xs[0], xs[1]) : tf.addN(xs);
      case 'concat': return tf.concat(xs, -1);
    }
    throw new RedeError(`tfjs backend: ${L.type} '${L.name}' has no tf mapping`); // checkSupported keeps this unreachable
  }

  /** An elementwise activation (rede's formulas; ELU with any α). */
  private activation(x: TF.Tensor, type: string, alpha: number): TF.Tensor {
    const tf = this.tf;
    switch (type) {
      case 'relu': return tf.relu(x);
      case 'leaky_relu': return tf.leakyRelu(x, alpha);
      // α·(e^min(x,0) − 1) + relu(x): tfjs cannot differentiate through a where()'s condition
      case 'elu': return alpha === 1 ? tf.elu(x) : tf.add(tf.relu(x), tf.mul(tf.sub(tf.exp(tf.minimum(x, 0)), 1), alpha));
      case 'sigmoid': return tf.sigmoid(x);
      case 'tanh': return tf.tanh(x);
    }
    throw new RedeError(`tfjs backend: activation '${type}' has no tf mapping`);
  }

  /** A dense or conv2d layer's own activation: [output, logits when it is a softmax]. */
  private epilogue(z: TF.Tensor, a: Epilogue): [TF.Tensor, TF.Tensor | undefined] {
    if (a.type === 'linear') return [z, undefined];
    if (a.type === 'softmax') return [this.tf.softmax(z), z];
    return [this.activation(z, a.type, a.alpha), undefined];
  }

  /** rede's dropout mask for (seed, step) over this batch, scaled by 1/(1 − rate): the wasm kernel's bits. */
  private dropoutMask(L: Dropout, b: number, o: ForwardOptions): TF.Tensor {
    const per = numelOf(L.outShape), n = b * per, mask = new Float32Array(n);
    const pf = Math.fround(L.rate), t = Math.min(Math.floor(pf * 4294967296), 4294967295), scale = Math.fround(1 / Math.fround(1 - pf));
    const seed = (o.seed ^ L.layerSeed) | 0, step = o.step | 0;
    for (let i = 0; i < n; i++) mask[i] = dropoutHash(seed, step, i >>> 0) >= t ? scale : 0;
    return this.tf.tensor(mask, [b, ...L.outShape] as number[]);
  }
}
