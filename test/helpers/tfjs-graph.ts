// A lowered rede graph (src/infer/lower.ts: batch norm folded, bias / residual / ReLU as conv and dense
// epilogues, and the conv's or dense layer's own activation) run by @tensorflow/tfjs ops instead of rede's kernels: the independent side of the inference
// benchmark and of evaluating a trained model twice. Any batch size; NHWC as in rede.
import type * as TF from '@tensorflow/tfjs';
import type { LayerOp, Lowered } from '../../src/infer/lower';
import type { Epilogue } from '../../src/layers/activation';
import { Conv2DTranspose } from '../../src/layers/conv2d-transpose';
import { UpSampling2D } from '../../src/layers/upsampling';

export interface TfjsGraph {
  /** Logits (or the model's output) for x [batch, ...input]; call inside tf.tidy. */
  forward(x: TF.Tensor4D): TF.Tensor;
  /** Frees the weight tensors. */
  dispose(): void;
}

/** A conv or dense op's activation (softmax over the last axis, as rede's epilogue). */
function activate(tf: typeof TF, y: TF.Tensor, a: Epilogue, name: string): TF.Tensor {
  switch (a.type) {
    case 'linear': return y;
    case 'relu': return tf.relu(y);
    case 'leaky_relu': return tf.leakyRelu(y, a.alpha);
    case 'elu': if (a.alpha === 1) return tf.elu(y); break;
    case 'sigmoid': return tf.sigmoid(y);
    case 'tanh': return tf.tanh(y);
    case 'softmax': return tf.softmax(y);
  }
  throw new Error(`tfjs graph: activation ${a.type} (alpha ${a.alpha}) of '${name}' is not mapped`);
}

export function tfjsGraph(tf: typeof TF, g: Lowered): TfjsGraph {
  // Weights become tensors once, outside any timed or repeated call.
  const consts = g.ops.map((op) => {
    if (op.kind === 'conv') {
      const o = op.geo;
      return { w: tf.tensor4d(op.w, [o.kh, o.kw, o.cin / o.groups, o.cout]), b: op.b ? tf.tensor1d(op.b) : undefined };
    }
    if (op.kind === 'dense') return { w: tf.tensor2d(op.w, [op.k, op.n]), b: op.b ? tf.tensor1d(op.b) : undefined };
    if (op.kind === 'layer' && op.layer instanceof Conv2DTranspose) {
      // rede's [kh, kw, filters, cin] is tfjs's [kh, kw, outC, inC]
      const L = op.layer, o = L.geo;
      return { w: tf.tensor4d(op.params.w, [o.kh, o.kw, L.filters, o.cout]), b: L.useBias ? tf.tensor1d(op.params.b) : undefined };
    }
    return null;
  });
  const forward = (x: TF.Tensor4D): TF.Tensor => {
    const v = new Map<number, TF.Tensor>([[0, x]]);
    g.ops.forEach((op, i) => {
      let y: TF.Tensor;
      switch (op.kind) {
        case 'conv': {
          const o = op.geo, k = consts[i]!;
          if (o.groups > 1) {
            // Depthwise (one filter per channel): rede's HWIO [kh, kw, 1, c] is tfjs's [kh, kw, c, 1] in memory.
            if (o.groups !== o.cin || o.cout !== o.cin) throw new Error(`tfjs graph: grouped conv '${op.name}' (groups ${o.groups}, ${o.cin} → ${o.cout}) is not mapped`);
            y = tf.depthwiseConv2d(v.get(op.x) as TF.Tensor4D, k.w.reshape([o.kh, o.kw, o.cin, 1]) as TF.Tensor4D, [o.strideH, o.strideW],
              [[0, 0], [o.padTop, o.padBottom], [o.padLeft, o.padRight], [0, 0]], 'NHWC', [o.dilationH, o.dilationW]);
            if (k.b) y = tf.add(y, k.b);
            if (op.res >= 0) y = tf.add(y, v.get(op.res)!);
            y = activate(tf, y, op.act, op.name);
            break;
          }
          y = tf.fused.conv2d({ x: v.get(op.x) as TF.Tensor4D, filter: k.w as TF.Tensor4D, strides: [o.strideH, o.strideW],
            pad: [[0, 0], [o.padTop, o.padBottom], [o.padLeft, o.padRight], [0, 0]], dilations: [o.dilationH, o.dilationW],
            bias: k.b, activation: op.act.type === 'relu' && op.res < 0 ? 'relu' : 'linear' }); // fused where tfjs fuses it
          if (op.res >= 0) y = tf.add(y, v.get(op.res)!);
          if (op.act.type !== 'relu' || op.res >= 0) y = activate(tf, y, op.act, op.name);
          break;
        }
        case 'dense': {
          const k = consts[i]!;
          y = tf.fused.matMul({ a: v.get(op.x)!.reshape([-1, op.k]) as TF.Tensor2D, b: k.w as TF.Tensor2D, bias: k.b, activation: op.act.type === 'relu' && op.res < 0 ? 'relu' : 'linear' });
          if (op.res >= 0) y = tf.add(y, v.get(op.res)!);
          if (op.act.type !== 'relu' || op.res >= 0) y = activate(tf, y, op.act, op.name);
          break;
        }
        case 'maxpool': case 'avgpool': {
          const o = op.geo, pad = o.padTop || o.padBottom || o.padLeft || o.padRight ? 'same' : 'valid';
          const f = op.kind === 'maxpool' ? tf.maxPool : tf.avgPool;
          y = f(v.get(op.x) as TF.Tensor4D, [o.kh, o.kw], [o.strideH, o.strideW], pad);
          break;
        }
        case 'gap': y = tf.mean(v.get(op.x)!, [1, 2]); break;
        case 'add': { y = tf.addN(op.xs.map((s) => v.get(s)!)); if (op.relu) y = tf.relu(y); break; }
        case 'concat': y = tf.concat(op.xs.map((s) => v.get(s)!), -1); break;
        case 'act': {
          const x = v.get(op.x)!;
          if (op.type === 'relu') y = tf.relu(x);
          else if (op.type === 'leaky_relu') y = tf.leakyRelu(x, op.alpha);
          else if (op.type === 'elu' && op.alpha === 1) y = tf.elu(x);
          else if (op.type === 'sigmoid') y = tf.sigmoid(x);
          else if (op.type === 'tanh') y = tf.tanh(x);
          else throw new Error(`tfjs graph: activation ${op.type} (alpha ${op.alpha}) of '${op.name}' is not mapped`);
          break;
        }
        case 'batchnorm': {
          const t = (a: Float32Array) => tf.tensor1d(a);
          y = tf.batchNorm(v.get(op.x)!, t(op.mean), t(op.variance), t(op.beta), t(op.gamma), op.epsilon);
          if (op.relu) y = tf.relu(y);
          break;
        }
        case 'lrn': y = tf.localResponseNormalization(v.get(op.x) as TF.Tensor4D, op.radius, op.bias, op.alpha, op.beta); break;
        case 'softmax': y = tf.softmax(v.get(op.x)!); break;
        case 'layer': y = layerOp(tf, op, v.get(op.x)!, consts[i]); break;
        default: throw new Error(`tfjs graph: op ${(op as { kind: string }).kind} is not mapped`);
      }
      v.set(op.y, y);
    });
    return v.get(g.output)!;
  };
  return { forward, dispose: () => tf.dispose(consts.flatMap((c) => (c ? [c.w, ...(c.b ? [c.b] : [])] : []))) };
}

/** The generic layer ops tfjs has an op for: rede's transposed convolution (weights k) and upsampling. */
function layerOp(tf: typeof TF, op: LayerOp, input: TF.Tensor, k: { w: TF.Tensor; b?: TF.Tensor } | null): TF.Tensor {
  const L = op.layer;
  // A reshape before the layer is an alias in the lowered graph: its value keeps the shape it was made with.
  const [h, w, c] = L.inShapes[0];
  const x = tf.reshape(input, [input.shape[0], h, w, c]) as TF.Tensor4D;
  if (L instanceof Conv2DTranspose && k) {
    const o = L.geo, [oh, ow, f] = L.outShape;
    let y: TF.Tensor = tf.conv2dTranspose(x, k.w as TF.Tensor4D, [x.shape[0], oh, ow, f], [o.strideH, o.strideW], L.cfg.padding ?? 'valid');
    if (k.b) y = tf.add(y, k.b);
    return L.relu ? tf.relu(y) : y;
  }
  if (L instanceof UpSampling2D) {
    const [oh, ow] = L.outShape;
    // Keras's bilinear: half-pixel centers (tfjs-layers' upSampling2d omits them)
    return L.interpolation === 'bilinear' ? tf.image.resizeBilinear(x, [oh, ow], false, true) : tf.image.resizeNearestNeighbor(x, [oh, ow]);
  }
  throw new Error(`tfjs graph: layer op '${op.name}' (${L.type}) is not mapped`);
}
