// The batcher: a seeded shuffle per epoch and batches written straight into caller-provided arrays
// (typically views into the wasm arena), so a training step allocates nothing.
//
// Epoch e visits the examples in order perm(e), a Fisher–Yates permutation driven by the counter hash of
// (seed, e): every worker computes the same order independently. Batch b holds perm(e)[b·B .. b·B + B).
// A worker may write only its shard [from, to) of a batch; example k of a batch is written, and augmented
// from (seed, e, dataset index), identically whoever writes it.
import { RedeError } from '../engine/errors';
import { type AugmentOptions, checkAugment, inverseAffine, sampleAugment, warpAffine } from './augment';
import { type Dataset, exampleSize, numExamples, validateDataset } from './dataset';
import { hash4, permutation } from './rng';

export interface BatcherOptions {
  batchSize: number;
  seed: number;
  /** Shuffle every epoch (default true); false visits examples in dataset order. */
  shuffle?: boolean;
  /** The last partial batch: 'drop' it (default) or 'keep' it as a smaller batch. */
  lastBatch?: 'drop' | 'keep';
  /** Augment each example (training only); absent: copy as is. */
  augment?: AugmentOptions;
}

// Distinct sub-seeds so the shuffle and augmentation draws never share hash inputs.
const SHUFFLE_TAG = 0x5f1, AUGMENT_TAG = 0xa09;

export class Batcher {
  readonly batchSize: number;
  readonly batchesPerEpoch: number;
  private readonly per: number;
  private readonly order: Int32Array;
  private orderEpoch = -1;
  private readonly shuffleSeed: number;
  private readonly augmentSeed: number;

  constructor(readonly data: Dataset, readonly options: BatcherOptions) {
    const { batchSize, seed } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RedeError(`Batcher: batchSize must be an integer >= 1, got ${batchSize}`);
    if (!Number.isInteger(seed)) throw new RedeError(`Batcher: seed must be an integer, got ${seed}`);
    validateDataset(data);
    if (options.augment) checkAugment(options.augment);
    const n = numExamples(data);
    this.batchSize = batchSize;
    this.batchesPerEpoch = options.lastBatch === 'keep' ? Math.ceil(n / batchSize) : Math.floor(n / batchSize);
    this.per = exampleSize(data);
    this.order = new Int32Array(n);
    this.shuffleSeed = hash4(seed, SHUFFLE_TAG);
    this.augmentSeed = hash4(seed, AUGMENT_TAG);
  }

  /** The dataset order of `epoch` (a view reused by the next epoch's call: copy it to keep it). */
  epochOrder(epoch: number): Int32Array {
    if (!Number.isInteger(epoch) || epoch < 0) throw new RedeError(`Batcher: epoch must be an integer >= 0, got ${epoch}`);
    if (epoch !== this.orderEpoch) {
      if (this.options.shuffle === false) for (let i = 0; i < this.order.length; i++) this.order[i] = i;
      else permutation(this.order, this.shuffleSeed, epoch, 0);
      this.orderEpoch = epoch;
    }
    return this.order;
  }

  /** Examples in batch `batch` (batchSize, or fewer for a kept last batch). */
  batchLength(batch: number): number {
    if (!Number.isInteger(batch) || batch < 0 || batch >= this.batchesPerEpoch) {
      throw new RedeError(`Batcher: batch ${batch} is not in [0, ${this.batchesPerEpoch})`);
    }
    return Math.min(this.batchSize, numExamples(this.data) - batch * this.batchSize);
  }

  /**
   * Write examples [from, to) of batch `batch` of `epoch` to rows 0 .. to−from of x (NHWC) and y.
   * Returns the number of examples written. x and y may be longer than needed.
   */
  fillShard(epoch: number, batch: number, from: number, to: number, x: Float32Array, y: Int32Array): number {
    const len = this.batchLength(batch);
    if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to > len || from > to) {
      throw new RedeError(`Batcher.fillShard: shard [${from}, ${to}) is not inside batch ${batch} of ${len} examples`);
    }
    const count = to - from, per = this.per;
    if (x.length < count * per || y.length < count) {
      throw new RedeError(`Batcher.fillShard: ${count} examples of ${per} values need x of ${count * per} and y of ${count}, got x ${x.length} and y ${y.length}`);
    }
    const order = this.epochOrder(epoch);
    const { x: src, y: labels, shape } = this.data;
    const aug = this.options.augment;
    const start = batch * this.batchSize + from;
    for (let k = 0; k < count; k++) {
      const i = order[start + k];
      y[k] = labels[i];
      if (aug) {
        const m = inverseAffine(sampleAugment(aug, this.augmentSeed, epoch, i), shape[0], shape[1]);
        warpAffine(src, i * per, x, k * per, shape[0], shape[1], shape[2], m, aug.fill ?? 0);
      } else {
        x.set(src.subarray(i * per, (i + 1) * per), k * per);
      }
    }
    return count;
  }

  /** Write the whole of batch `batch` of `epoch`; returns its length. */
  fill(epoch: number, batch: number, x: Float32Array, y: Int32Array): number {
    return this.fillShard(epoch, batch, 0, this.batchLength(batch), x, y);
  }
}
