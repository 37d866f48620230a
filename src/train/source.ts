// Where fit's batches come from: a Dataset (through the Batcher: seeded shuffle, augmentation) or plain
// arrays (x rows with i32 labels or f32 targets; seeded shuffle, no augmentation).
import { RedeError } from '../engine/errors';
import { Batcher } from '../data/batcher';
import type { AugmentOptions } from '../data/augment';
import type { Dataset } from '../data/dataset';
import { hash4, permutation } from '../data/rng';

export interface Source {
  readonly count: number;
  readonly batchesPerEpoch: number;
  batchLength(batch: number): number;
  /** Writes examples [from, to) of a batch: x rows, and labels (i32) or targets (f32 rows). */
  fill(epoch: number, batch: number, from: number, to: number, x: Float32Array, labels: Int32Array | null, targets: Float32Array | null): void;
}

export type Labels = Int32Array | Float32Array;

export function datasetSource(ds: Dataset, o: { batchSize: number; seed: number; shuffle: boolean; augment?: AugmentOptions; keepLast: boolean }): Source {
  const b = new Batcher(ds, { batchSize: o.batchSize, seed: o.seed, shuffle: o.shuffle, augment: o.augment, lastBatch: o.keepLast ? 'keep' : 'drop' });
  return {
    count: ds.y.length,
    batchesPerEpoch: b.batchesPerEpoch,
    batchLength: (i) => b.batchLength(i),
    fill(epoch, batch, from, to, x, labels) {
      if (!labels) throw new RedeError('fit: a Dataset has class labels; use a sparse_categorical_crossentropy loss (or pass arrays of targets)');
      b.fillShard(epoch, batch, from, to, x, labels);
    },
  };
}

export function arraySource(x: Float32Array, y: Labels, per: number, yPer: number, o: { batchSize: number; seed: number; shuffle: boolean; keepLast: boolean }): Source {
  const n = x.length / per;
  const order = new Int32Array(n);
  let orderEpoch = -1;
  const seed = hash4(o.seed, 0x5f1);
  const batches = o.keepLast ? Math.ceil(n / o.batchSize) : Math.floor(n / o.batchSize);
  const len = (i: number) => Math.min(o.batchSize, n - i * o.batchSize);
  return {
    count: n,
    batchesPerEpoch: batches,
    batchLength: len,
    fill(epoch, batch, from, to, xd, labels, targets) {
      if (epoch !== orderEpoch) {
        if (o.shuffle) permutation(order, seed, epoch, 0); else for (let i = 0; i < n; i++) order[i] = i;
        orderEpoch = epoch;
      }
      for (let k = from; k < to; k++) {
        const src = order[batch * o.batchSize + k], row = k - from;
        xd.set(x.subarray(src * per, (src + 1) * per), row * per);
        if (y instanceof Int32Array) {
          if (!labels) throw new RedeError('fit: integer labels need a sparse_categorical_crossentropy loss');
          labels[row] = y[src];
        } else {
          if (!targets) throw new RedeError('fit: float targets need a dense loss (categorical_crossentropy, binary_crossentropy or mse)');
          targets.set(y.subarray(src * yPer, (src + 1) * yPer), row * yPer);
        }
      }
    },
  };
}
