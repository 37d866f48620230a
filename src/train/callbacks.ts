// Callbacks: per-batch and per-epoch hooks, plus the two every course uses (EarlyStopping, ModelCheckpoint).
import { RedeError } from '../engine/errors';

export type Logs = Record<string, number>;

export interface TrainContext {
  /** Ask fit to stop after the current epoch. */
  stop(): void;
  /** Current weights as a copy (for restoring the best). */
  snapshot(): Float32Array;
  restore(weights: Float32Array): void;
  /** Saves the model (weights, optimizer state, progress) atomically. */
  save(path: string): Promise<void>;
  epochs: number;
  batchesPerEpoch: number;
}

export interface Callback {
  onTrainBegin?(ctx: TrainContext): void | Promise<void>;
  onEpochBegin?(epoch: number, ctx: TrainContext): void | Promise<void>;
  onBatchEnd?(step: number, logs: Logs, ctx: TrainContext): void | Promise<void>;
  onEpochEnd?(epoch: number, logs: Logs, ctx: TrainContext): void | Promise<void>;
  onTrainEnd?(logs: Logs, ctx: TrainContext): void | Promise<void>;
}

const better = (mode: 'min' | 'max', a: number, b: number, delta: number): boolean =>
  mode === 'min' ? a < b - delta : a > b + delta;

const modeOf = (monitor: string): 'min' | 'max' => (/acc/.test(monitor) ? 'max' : 'min');

function read(logs: Logs, monitor: string, who: string): number {
  const v = logs[monitor];
  if (v === undefined) throw new RedeError(`${who}: monitored '${monitor}' is not in the epoch logs (have: ${Object.keys(logs).join(', ')})`);
  return v;
}

/** Stops when `monitor` has not improved by `minDelta` for `patience` epochs. */
export class EarlyStopping implements Callback {
  private best = NaN;
  private wait = 0;
  private bestWeights: Float32Array | null = null;
  stoppedEpoch = -1;
  constructor(readonly opts: { monitor?: string; patience?: number; minDelta?: number; mode?: 'min' | 'max'; restoreBestWeights?: boolean } = {}) {}
  onEpochEnd(epoch: number, logs: Logs, ctx: TrainContext): void {
    const monitor = this.opts.monitor ?? 'val_loss', mode = this.opts.mode ?? modeOf(monitor);
    const v = read(logs, monitor, 'EarlyStopping');
    if (Number.isNaN(this.best) || better(mode, v, this.best, this.opts.minDelta ?? 0)) {
      this.best = v; this.wait = 0;
      if (this.opts.restoreBestWeights) this.bestWeights = ctx.snapshot();
    } else if (++this.wait >= (this.opts.patience ?? 0)) {
      // Keras semantics: patience = epochs without improvement tolerated before stopping.
      this.stoppedEpoch = epoch;
      if (this.bestWeights) ctx.restore(this.bestWeights);
      ctx.stop();
    }
  }
}

/** Saves the model at the end of each epoch (or only when `monitor` improves). `{epoch}` in the path is replaced. */
export class ModelCheckpoint implements Callback {
  private best = NaN;
  constructor(readonly path: string, readonly opts: { monitor?: string; saveBestOnly?: boolean; mode?: 'min' | 'max' } = {}) {}
  async onEpochEnd(epoch: number, logs: Logs, ctx: TrainContext): Promise<void> {
    if (this.opts.saveBestOnly) {
      const monitor = this.opts.monitor ?? 'val_loss', mode = this.opts.mode ?? modeOf(monitor);
      const v = read(logs, monitor, 'ModelCheckpoint');
      if (!Number.isNaN(this.best) && !better(mode, v, this.best, 0)) return;
      this.best = v;
    }
    await ctx.save(this.path.replace('{epoch}', String(epoch + 1)));
  }
}
