// rede's objective (src/train/objective.ts, src/train/loss.ts) as tf ops, so tfjs differentiates the same
// number the wasm kernels compute: Σ_h weight_h · mean loss_h, cross-entropy from logits (a final softmax
// layer, or a layer's own softmax activation, is folded: the loss reads its input / its logits), binary
// cross-entropy from logits, MSE; label smoothing as (1 − ε)·onehot + ε/classes. Top-k hits count a row when
// fewer than k outputs are strictly above the label's (ties are hits), as countTopK does.
import type * as TF from '@tensorflow/tfjs';
import { numelOf } from '../layers/layer';
import type { Network } from '../model/network';
import type { Loss } from '../train/loss';
import type { Objective } from '../train/objective';
import type { Forward } from './graph';
import type { Tf } from './tfjs';

/** Sparse labels (int32 [b]) or float targets [b, cols]. */
export type Truth = { labels: TF.Tensor1D; targets?: undefined } | { labels?: undefined; targets: TF.Tensor2D };

/** What each head's loss reads, [b, cols]: the logits of a folded softmax, else the node's output. */
export function headOutputs(tf: Tf, net: Network, objective: Objective, fw: Forward, x: TF.Tensor): TF.Tensor2D[] {
  return net.outputs.map((node, h) => {
    const loss = objective.losses[h], n = net.graph.nodes[node], cols = numelOf(n.layer.outShape);
    let out = fw.act[node];
    if (n.layer.type === 'softmax' && loss.softmax) out = n.inputs[0] < 0 ? x : fw.act[n.inputs[0]];
    else if (loss.softmax && fw.logits[node]) out = fw.logits[node]!;
    return tf.reshape(out, [-1, cols]) as TF.Tensor2D;
  });
}

function lossOf(tf: Tf, loss: Loss, z: TF.Tensor2D, truth: Truth): TF.Scalar {
  const cols = z.shape[1];
  const dense = (t: TF.Tensor) => tf.mean(tf.neg(tf.sum(tf.mul(t, tf.logSoftmax(z)), 1))) as TF.Scalar;
  switch (loss.type) {
    case 'sparse_categorical_crossentropy': {
      const onehot = tf.oneHot(truth.labels!, cols);
      const eps = loss.labelSmoothing;
      return dense(eps > 0 ? tf.add(tf.mul(onehot, 1 - eps), eps / cols) : onehot);
    }
    case 'categorical_crossentropy': return dense(truth.targets!);
    case 'binary_crossentropy': // −t·ln σ(v) − (1 − t)·ln(1 − σ(v)) = max(v, 0) − v·t + ln(1 + e^−|v|)
      return tf.mean(tf.add(tf.sub(tf.relu(z), tf.mul(z, truth.targets!)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))))) as TF.Scalar;
    case 'mse': return tf.mean(tf.square(tf.sub(z, truth.targets!))) as TF.Scalar;
  }
}

/** Σ_h weight_h · mean loss_h over the batch. */
export function objectiveLoss(tf: Tf, objective: Objective, outs: readonly TF.Tensor2D[], truth: Truth): TF.Scalar {
  let total: TF.Scalar | null = null;
  outs.forEach((z, h) => {
    const w = objective.weights[h], L = tf.mul(lossOf(tf, objective.losses[h], z, truth), w) as TF.Scalar;
    total = total ? tf.add(total, L) as TF.Scalar : L;
  });
  return total!;
}

/** Rows whose label is among the top k of z (ties count as hits), as a float scalar. */
export function topKHits(tf: Tf, z: TF.Tensor2D, labels: TF.Tensor1D, k: number): TF.Scalar {
  const v = tf.sum(tf.mul(z, tf.oneHot(labels, z.shape[1])), 1, true);
  const above = tf.sum(tf.cast(tf.greater(z, v), 'float32'), 1);
  return tf.sum(tf.cast(tf.less(above, k), 'float32')) as TF.Scalar;
}
