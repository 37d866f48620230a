// The step contract (src/train/step.ts) on TensorFlow.js: fit's one loop (src/train/loop.ts) drives it as it
// drives ThreadStep and GroupStep — the same source fills the batch (seeded shuffle, augmentation), the loop
// applies the schedule, callbacks, non-finite handling, validation and checkpoints. One step here:
//   x, labels → tf forward (graph.ts) → objective (objective.ts) → tf.valueAndGrads → optimizer (optim.ts)
// pull() copies weights, batch-norm statistics, optimizer state and the last gradient into the network's
// memory, push() the other way: the loop calls them where it reads or writes the weights (snapshots,
// checkpoints, epoch ends), so everything that reads a network sees what tfjs trained.
import type * as TF from '@tensorflow/tfjs';
import { RedeError } from '../engine/errors';
import type { Dataset } from '../data/dataset';
import { toExamples, type InputData, type LabelData } from '../data/input';
import { numelOf } from '../layers/layer';
import type { Network } from '../model/network';
import type { Logs } from '../train/callbacks';
import type { StepAt, StepExecutor, StepResult, TrainData } from '../train/step';
import { Trainer, type CompileOptions } from '../train/trainer';
import type { Source } from '../train/source';
import { checkTrainable, type Forward, type TfGraph } from './graph';
import { headOutputs, objectiveLoss, topKHits, type Truth } from './objective';
import { TfOptimizer } from './optim';

/** Host-side batch buffers the source writes into, sized for `rows` examples. */
class Staging {
  readonly x: Float32Array;
  readonly labels: Int32Array | null;
  readonly targets: Float32Array | null;
  constructor(readonly net: Network, sparse: boolean, readonly rows: number) {
    this.x = new Float32Array(rows * numelOf(net.inputShape));
    this.labels = sparse ? new Int32Array(rows) : null;
    this.targets = sparse ? null : new Float32Array(rows * numelOf(net.outputShape));
  }
  fill(src: Source, epoch: number, batch: number, b: number): void { src.fill(epoch, batch, 0, b, this.x, this.labels, this.targets); }
  /** The first b rows as tf tensors (the caller disposes them). */
  tensors(tf: TfGraph['tf'], b: number): { x: TF.Tensor; truth: Truth } {
    const per = numelOf(this.net.inputShape), cols = numelOf(this.net.outputShape);
    const x = tf.tensor(this.x.subarray(0, b * per), [b, ...this.net.inputShape]);
    const truth: Truth = this.labels ? { labels: tf.tensor1d(this.labels.subarray(0, b), 'int32') } : { targets: tf.tensor2d(this.targets!.subarray(0, b * cols), [b, cols]) };
    return { x, truth };
  }
}

export class TfjsStep implements StepExecutor {
  readonly workers = 1;
  private source: Source | null = null;
  private staging: Staging | null = null;
  private readonly opt: TfOptimizer;
  /** The last applied step's gradients (pull writes them into gradient slice 0). */
  private grads: TF.Tensor[] = [];

  constructor(readonly g: TfGraph, readonly t: Trainer) {
    this.opt = new TfOptimizer(g.tf, t.optimizer, t.net, t.optState);
  }

  async begin(data: TrainData): Promise<void> {
    checkTrainable(this.g.tf, this.t.net);
    this.source = data.source;
    const rows = Math.min(data.batchSize, data.source.count);
    if (!this.staging || this.staging.rows < rows) this.staging = new Staging(this.t.net, this.t.objective.sparse, rows);
    this.push(); // the network's memory is where weights live between calls
  }

  async run(at: StepAt): Promise<StepResult> {
    if (!this.source || !this.staging) throw new RedeError('train: a step before begin() bound the data');
    const { tf } = this.g, t = this.t, b = at.length;
    this.staging.fill(this.source, at.epoch, at.batch, b);
    const { x, truth } = this.staging.tensors(tf, b);
    const o = { training: true, step: at.step, seed: t.seed };
    // Set inside the gradient scope (kept there), read after it.
    const side = { hits: null as TF.Scalar | null, state: new Map() as Forward['state'] };
    const { value, grads } = tf.valueAndGrads((...p: TF.Tensor[]) => {
      const fw = this.g.forward(x, p, o);
      side.state = fw.state;
      const outs = headOutputs(tf, t.net, t.objective, fw, x);
      if (truth.labels) side.hits = tf.keep(topKHits(tf, outs[0], truth.labels, 1));
      return objectiveLoss(tf, t.objective, outs, truth);
    })(this.g.params);
    const hits = side.hits ?? tf.scalar(0), pair = tf.stack([value, hits]);
    const [loss, correct] = pair.dataSync();
    tf.dispose([x, truth.labels ?? truth.targets!, value, pair, hits]);
    // Like the wasm engine, the training forward has moved the running statistics even when the step is skipped.
    this.g.commitState(side.state);
    if (!Number.isFinite(loss)) { tf.dispose(grads); return { loss, correct, examples: b, skipped: true }; }
    const next = this.opt.update(this.g.params, grads, at.lrs[0], t.program.nextT()[0]);
    tf.dispose([...this.g.params, ...this.grads]);
    this.g.params = next;
    this.grads = grads;
    t.program.commit();
    return { loss, correct, examples: b, skipped: false };
  }

  async end(): Promise<void> { this.source = null; }

  pull(): void {
    this.g.pull();
    this.opt.pull();
    const net = this.t.net;
    this.grads.forEach((g, i) => net.e.write(net.grads + net.entries[i].offset * 4, g.dataSync() as Float32Array));
  }

  push(): void {
    this.g.push();
    this.opt.push();
  }

  async close(): Promise<void> {
    this.source = null;
    this.opt.dispose();
    this.g.tf.dispose(this.grads);
    this.grads = [];
  }
}

/** compile()'s trainer on the tfjs backend: evaluate (fit's validation too) runs forward through tf. */
export class TfjsTrainer extends Trainer {
  constructor(net: Network, o: CompileOptions, readonly g: TfGraph) { super(net, o); }

  override evaluate(x: Dataset | InputData, y: LabelData | undefined, batchSize = 64): Logs {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RedeError(`evaluate: batchSize must be a positive integer, got ${batchSize}`);
    const { tf } = this.g, net = this.net, sparse = this.objective.sparse;
    const src = this.source(x, y, { batchSize, seed: 0, shuffle: false }, 'evaluate');
    const staging = new Staging(net, sparse, Math.min(batchSize, src.count));
    const tops = this.metrics.map((name) => (name === 'accuracy' ? 1 : Number(name.slice(3))));
    const hits = tops.map(() => 0);
    let lossSum = 0, seen = 0;
    this.g.push();
    for (let bi = 0; bi < src.batchesPerEpoch; bi++) {
      const b = src.batchLength(bi);
      staging.fill(src, 0, bi, b);
      const r = tf.tidy(() => {
        const { x: xt, truth } = staging.tensors(tf, b);
        const fw = this.g.forward(xt, this.g.params, { training: false, step: 0, seed: this.seed });
        const outs = headOutputs(tf, net, this.objective, fw, xt);
        const parts = [objectiveLoss(tf, this.objective, outs, truth), ...(sparse ? tops.map((k) => topKHits(tf, outs[0], truth.labels!, k)) : [])];
        return tf.stack(parts).dataSync();
      });
      lossSum += r[0] * b;
      if (sparse) tops.forEach((_, i) => { hits[i] += r[1 + i]; });
      seen += b;
    }
    const logs: Logs = { loss: lossSum / seen };
    if (sparse) this.metrics.forEach((name, i) => { logs[name] = hits[i] / seen; });
    return logs;
  }
}

/** The first output for every example of x, in batches, inference mode (as src/train/trainer.ts's predict). */
export function tfPredict(g: TfGraph, input: InputData, batchSize = 64): Float32Array {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RedeError(`predict: batchSize must be a positive integer, got ${batchSize}`);
  const { tf, net } = g, { data: x, n } = toExamples('predict', 'x', input, net.inputShape);
  const per = numelOf(net.inputShape), outPer = numelOf(net.outputShape), out = new Float32Array(n * outPer);
  g.push();
  for (let i = 0; i < n; i += batchSize) {
    const b = Math.min(batchSize, n - i);
    out.set(tf.tidy(() => {
      const fw = g.forward(tf.tensor(x.subarray(i * per, (i + b) * per), [b, ...net.inputShape]), g.params, { training: false, step: 0, seed: net.seed });
      return fw.act[net.graph.output].dataSync() as Float32Array;
    }), i * outPer);
  }
  return out;
}
