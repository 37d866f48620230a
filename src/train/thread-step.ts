// The step contract in this thread: the source writes the batch straight into the input slot, then the
// program's gradients and update. Nothing is allocated per step.
import type { Source } from './source';
import type { StepProgram } from './program';
import type { StepAt, StepExecutor, StepResult, TrainData } from './step';

export class ThreadStep implements StepExecutor {
  readonly workers = 1;
  private source: Source | null = null;

  constructor(readonly program: StepProgram, private readonly seed: () => number) {}

  async begin(data: TrainData): Promise<void> {
    this.program.ensureCapacity(data.batchSize);
    this.source = data.source;
  }

  async run(at: StepAt): Promise<StepResult> {
    if (!this.source) throw new Error('ThreadStep: run() before begin()');
    const b = at.length, s = this.program.slots(b);
    this.source.fill(at.epoch, at.batch, 0, b, s.x, s.labels, s.targets);
    return this.runFilled(b, at);
  }

  /** A step on `b` examples already in the input slot (a custom loop writes them itself). */
  runFilled(b: number, at: Pick<StepAt, 'step' | 'lrs'>): StepResult {
    const p = this.program;
    const { lossSum, correct } = p.gradients(b, { step: at.step, seed: this.seed(), countCorrect: true });
    const loss = lossSum / b;
    if (!Number.isFinite(loss)) return { loss, correct, examples: b, skipped: true };
    p.update(at.lrs, p.nextT());
    p.commit();
    return { loss, correct, examples: b, skipped: false };
  }

  async end(): Promise<void> { this.source = null; }
  pull(): void {}
  push(): void {}
  async close(): Promise<void> { this.source = null; }
}
