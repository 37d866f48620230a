// The step contract: everything that trains — fit's epoch loop, a custom loop (an autoencoder, a GAN's
// alternating steps), later a second backend — drives an executor through these few calls. Two implement it
// today: ThreadStep (this thread, thread-step.ts) and GroupStep (the worker group, src/parallel/group-step.ts).
import type { AugmentOptions } from '../data/augment';
import type { Dataset } from '../data/dataset';
import type { Labels, Source } from './source';

/** The training data a fit binds: the checked arrays or dataset, and the batch order over them. */
export interface TrainData {
  x: Dataset | Float32Array;
  y?: Labels;
  /** Batches of the epoch (seeded shuffle, augmentation): read in this thread, rebuilt in each worker. */
  source: Source;
  batchSize: number;
  seed: number;
  shuffle: boolean;
  augment?: AugmentOptions;
}

/** Which batch one step trains on, and with what. */
export interface StepAt {
  epoch: number;
  /** Batch index within the epoch, and its length (the last batch may be short). */
  batch: number;
  length: number;
  /** Global step number: with the seed it fixes dropout masks. */
  step: number;
  /** Learning rate per network of the chain (frozen ones ignored). */
  lrs: readonly number[];
}

export interface StepResult {
  /** Mean loss over the batch (Σ of the heads' weighted losses). */
  loss: number;
  /** Top-1 hits of the first output (sparse labels), for accuracy. */
  correct: number;
  examples: number;
  /** Non-finite loss: no update was applied; the weights are those before the step. */
  skipped: boolean;
}

export interface StepExecutor {
  readonly workers: number;
  /** Binds the training data for the steps that follow. */
  begin(data: TrainData): Promise<void>;
  /** One step: forward, loss, backward, the reduction of gradient slices, the optimizer update. */
  run(at: StepAt): Promise<StepResult>;
  /** Ends the steps on this data (workers return to their message loop). */
  end(): Promise<void>;
  /**
   * Copies the executor's weights, state, optimizer state and last summed gradient into the networks (pull), or
   * the networks' weights and states into the executor (push). In this thread both are no-ops: they are the same memory.
   */
  pull(): void;
  push(): void;
  /** Releases what the executor holds (threads); a closed executor is not used again. */
  close(): Promise<void>;
}
