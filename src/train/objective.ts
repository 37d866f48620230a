// What a step minimizes: one loss per output of the last network, Σ_h weight_h · mean loss_h (Keras's
// loss_weights). Every head reads the same labels or targets (GoogLeNet's auxiliary classifiers predict the same
// class as its main one). A cross-entropy head that ends in a softmax layer is trained through that layer's
// input: the fused softmax + cross-entropy gradient is written where the softmax's backward would have written
// it, and the softmax node is skipped in backward (faster, and stable). A dense or conv2d layer with its own
// softmax activation is folded the same way: the loss reads its logits (Layer.logits) and writes dL/dlogits into
// its dy, and its backward starts from there.
import { RedeError } from '../engine/errors';
import { numelOf } from '../layers/layer';
import type { Network } from '../model/network';
import { Loss, type LossSpec } from './loss';

/** One output's loss, at the addresses of the network's current plan. */
export interface Head {
  node: number;
  loss: Loss;
  weight: number;
  /** Where the loss reads the outputs, and writes their gradient. */
  out: number;
  dout: number;
  cols: number;
  /** Whether the node's softmax is folded into the loss: a softmax layer (its backward is skipped), or a layer's own. */
  folded: boolean;
  /** Folded, and the softmax is the layer's own activation: its backward runs from dL/dlogits. */
  own: boolean;
}

export class Objective {
  readonly losses: Loss[];
  readonly weights: number[];

  constructor(readonly outputs: number, loss: LossSpec | LossSpec[], weights?: number[]) {
    const specs = Array.isArray(loss) ? loss : Array.from({ length: outputs }, () => loss);
    if (specs.length !== outputs) throw new RedeError(`compile: loss has ${specs.length} entries, the model has ${outputs} outputs`);
    this.losses = specs.map((s) => new Loss(s));
    const w = weights ?? specs.map(() => 1);
    if (!Array.isArray(w) || w.length !== outputs || !w.every((v) => typeof v === 'number' && v >= 0 && Number.isFinite(v))) {
      throw new RedeError(`compile: lossWeights must be ${outputs} non-negative numbers (one per output), got ${JSON.stringify(weights)}`);
    }
    this.weights = w;
    const kinds = new Set(this.losses.map((l) => l.sparse));
    if (kinds.size > 1) throw new RedeError('compile: the outputs share one set of labels: use sparse losses for all, or dense ones for all');
  }

  /** Sparse integer labels (else f32 targets), for every head. */
  get sparse(): boolean { return this.losses[0].sparse; }

  /** The heads at `net`'s current plan (addresses change when it is re-planned). */
  heads(net: Network): Head[] {
    return net.outputs.map((node, h) => {
      const loss = this.losses[h], n = net.graph.nodes[node];
      const cols = numelOf(n.layer.outShape), weight = this.weights[h];
      if (n.layer.type === 'softmax' && loss.softmax) {
        const src = n.inputs[0];
        return { node, loss, weight, out: src < 0 ? net.inputAct : net.act[src], dout: net.dxOf(node, 0), cols, folded: true, own: false };
      }
      const logits = loss.softmax ? n.layer.logits() : 0;
      if (logits) return { node, loss, weight, out: logits, dout: net.dact[node], cols, folded: true, own: true };
      return { node, loss, weight, out: net.act[node], dout: net.dact[node], cols, folded: false, own: false };
    });
  }

  /** The folded softmax layers of `heads`: backward skips them. */
  static skipped(heads: readonly Head[]): ReadonlySet<number> | undefined {
    const s = heads.filter((h) => h.folded && !h.own).map((h) => h.node);
    return s.length ? new Set(s) : undefined;
  }

  /** The heads whose layer's own softmax is folded: their backward runs from dL/dlogits. */
  static fromLogits(heads: readonly Head[]): ReadonlySet<number> | undefined {
    const s = heads.filter((h) => h.own).map((h) => h.node);
    return s.length ? new Set(s) : undefined;
  }

  /**
   * Σ_h weight_h · (mean loss of head h) over `rows` examples; with `grad`, each head's dL/dout scaled by
   * weight_h · `scale` (scale: 1/rows for the batch mean, 1/B for a micro-shard of a batch of B).
   */
  run(net: Network, heads: readonly Head[], rows: number, grad: boolean, scale = 1 / rows): number {
    let total = 0;
    for (const h of heads) {
      const L = h.loss.run(net.e, {
        rows, cols: h.cols, out: h.out, labels: net.labels, targets: net.targets, probs: net.probs, losses: net.losses,
        dout: grad ? h.dout : 0, scale: h.weight * scale,
      });
      total += h.weight * L;
    }
    return total;
  }

  config(): { loss: LossSpec | LossSpec[]; lossWeights?: number[] } {
    const specs = this.losses.map((l) => l.config());
    return this.losses.length === 1 ? { loss: specs[0] } : { loss: specs, lossWeights: [...this.weights] };
  }
}

/** Rows among the first `rows` whose label is in the top-k outputs of `head` (ties count as hits). */
export function countTopK(net: Network, head: Head, rows: number, topk: number): number {
  const f = net.e.f32, lab = net.e.i32, cols = head.cols;
  let correct = 0;
  for (let r = 0; r < rows; r++) {
    const row = (head.out >>> 2) + r * cols, v = f[row + lab[(net.labels >>> 2) + r]];
    let above = 0;
    for (let c = 0; c < cols; c++) if (f[row + c] > v) above++;
    if (above < topk) correct++;
  }
  return correct;
}
