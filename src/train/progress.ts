// Training progress on a stream (stderr), Keras-style — fit's `verbose` and the `rede train` command use it: a live one-line bar redrawn in place when the stream is a
// terminal, and nothing but the per-epoch lines otherwise (logs and CI output stay readable).
//
//   epoch 3/10 [==========>         ] 120/250  ETA 0:04  loss 0.1234  acc 0.9612  2,034 ex/s
//   epoch 3/10  loss 0.1180  acc 0.9641  val_loss 0.0812  val_acc 0.9750  3.9 s  2,051 ex/s

import type { Callback, Logs, TrainContext } from './callbacks';

/** The part of a stream the progress display writes to (process.stderr, or a test's capture). */
export interface ProgressStream {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface BatchState {
  epoch: number;
  epochs: number;
  /** Batches done in this epoch, and their total. */
  batch: number;
  batches: number;
  /** Running means over this epoch so far. */
  loss: number;
  accuracy?: number;
  examples: number;
  /** Seconds since the epoch began. */
  seconds: number;
}

const BAR_WIDTH = 24;
/** Redraws at most this often: a terminal write per batch would cost more than a small batch. */
const REDRAW_MS = 100;

/** m:ss (or h:mm:ss) for an ETA. */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(r).padStart(2, '0')}`;
}

const rate = (examples: number, seconds: number): string =>
  `${Math.round(examples / Math.max(seconds, 1e-9)).toLocaleString('en-US')} ex/s`;

/** The live bar's text for one state (no control characters). */
export function barLine(s: BatchState): string {
  const frac = s.batches > 0 ? s.batch / s.batches : 1;
  const filled = Math.min(BAR_WIDTH, Math.floor(frac * BAR_WIDTH));
  const bar = '='.repeat(filled) + (filled < BAR_WIDTH ? '>' : '') + ' '.repeat(Math.max(0, BAR_WIDTH - filled - 1));
  const eta = s.batch > 0 ? (s.seconds / s.batch) * (s.batches - s.batch) : NaN;
  const parts = [
    `epoch ${s.epoch}/${s.epochs} [${bar}] ${String(s.batch).padStart(String(s.batches).length)}/${s.batches}`,
    `ETA ${Number.isFinite(eta) ? clock(eta) : '-:--'}`,
    `loss ${s.loss.toFixed(4)}`,
  ];
  if (s.accuracy !== undefined) parts.push(`acc ${s.accuracy.toFixed(4)}`);
  parts.push(rate(s.examples, s.seconds));
  return parts.join('  ');
}

/** The line printed when an epoch ends, from fit's epoch logs. */
export function epochLine(epoch: number, epochs: number, logs: Record<string, number>): string {
  const parts = [`epoch ${epoch}/${epochs}`];
  const show = (key: string, label: string) => { if (logs[key] !== undefined) parts.push(`${label} ${logs[key].toFixed(4)}`); };
  show('loss', 'loss');
  show('accuracy', 'acc');
  show('val_loss', 'val_loss');
  show('val_accuracy', 'val_acc');
  if (logs.seconds !== undefined) parts.push(`${logs.seconds.toFixed(1)} s`);
  if (logs.examples_per_s !== undefined) parts.push(`${Math.round(logs.examples_per_s).toLocaleString('en-US')} ex/s`);
  return parts.join('  ');
}

export class Progress {
  private lastDraw = -Infinity;
  private drawn = false;
  readonly live: boolean;

  constructor(readonly out: ProgressStream, opts: { live?: boolean } = {}) {
    this.live = opts.live ?? out.isTTY === true;
  }

  /** Redraws the bar (live mode only), throttled unless `force`. */
  batch(s: BatchState, force = false): void {
    if (!this.live) return;
    const t = Date.now();
    if (!force && t - this.lastDraw < REDRAW_MS && s.batch < s.batches) return;
    this.lastDraw = t;
    let text = barLine(s);
    const cols = this.out.columns;
    if (cols && text.length >= cols) text = text.slice(0, cols - 1);
    // \r to column 0, the line, then erase whatever a longer previous line left.
    this.out.write(`\r${text}\x1b[K`);
    this.drawn = true;
  }

  /** Replaces the bar (if any) with a permanent line. */
  line(text: string): void {
    this.clear();
    this.out.write(`${text}\n`);
  }

  /** Erases the bar so that other output starts on a clean line. */
  clear(): void {
    if (this.drawn) this.out.write('\r\x1b[K');
    this.drawn = false;
    this.lastDraw = -Infinity;
  }
}

/**
 * The callback that drives a Progress: per batch fit's running numbers for the epoch (mean loss, accuracy,
 * examples, speed — computed from the step results, so the same with workers as on one thread), per epoch a line
 * from fit's logs.
 */
export class ProgressLogger implements Callback {
  private batchNo = 0;
  private epoch = 0;
  constructor(readonly progress: Progress, readonly epochs: number) {}
  onEpochBegin(e: number): void { this.epoch = e; this.batchNo = 0; }
  onBatchEnd(_step: number, logs: Logs, ctx: TrainContext): void {
    this.batchNo++;
    this.progress.batch({
      epoch: this.epoch + 1, epochs: this.epochs, batch: this.batchNo, batches: ctx.batchesPerEpoch, examples: logs.examples,
      loss: logs.mean_loss, accuracy: logs.accuracy, seconds: logs.examples / logs.examples_per_s,
    });
  }
  onEpochEnd(e: number, logs: Logs): void { this.progress.line(epochLine(e + 1, this.epochs, logs)); }
  onTrainEnd(): void { this.progress.clear(); }
}

/**
 * fit's `verbose`: 0 silent, 1 a live bar and a line per epoch, 2 a line per epoch. By default 1 when stderr is a
 * terminal, else 0 (logs and CI output stay clean). Returns the callback, or null.
 */
export function verboseLogger(verbose: 0 | 1 | 2 | undefined, epochs: number): ProgressLogger | null {
  const stderr = (globalThis as { process?: { stderr?: ProgressStream } }).process?.stderr;
  const level = verbose ?? (stderr?.isTTY ? 1 : 0);
  if (level === 0 || !stderr) return null;
  return new ProgressLogger(new Progress(stderr, { live: level === 1 && stderr.isTTY === true }), epochs);
}
