// The step contract across the worker group: the workers assemble their shards of each batch themselves from
// shared copies of the data (sent once per begin), so a step is a few Atomics words each way. The group keeps
// its own copy of the weights and optimizer state in shared memory: pull() copies them (and the last summed
// gradient) into the networks, push() back — fit does so at epoch ends, around the callbacks.
import { RedeError } from '../engine/errors';
import type { Dataset } from '../data/dataset';
import { numelOf } from '../layers/layer';
import type { StepProgram } from '../train/program';
import type { Labels } from '../train/source';
import type { StepAt, StepExecutor, StepResult, TrainData } from '../train/step';
import type { WorkerGroup } from './group';
import type { DataSpec } from './worker';

export class GroupStep implements StepExecutor {
  constructor(readonly group: WorkerGroup, readonly program: StepProgram) {}

  get workers(): number { return this.group.spec.workers; }
  private get optStates(): number[] { return this.program.links.map((l) => l.opt?.state ?? 0); }
  private get nets() { return this.program.links.map((l) => l.net); }

  async begin(data: TrainData): Promise<void> {
    this.push();
    await this.group.begin(shareData(this.program, data.x, data.y), { batchSize: data.batchSize, seed: data.seed, shuffle: data.shuffle, augment: data.augment });
  }

  async run(at: StepAt): Promise<StepResult> {
    const p = this.program;
    const r = await this.group.step({ epoch: at.epoch, batch: at.batch, length: at.length, step: at.step, lrs: at.lrs, ts: p.nextT() });
    const skipped = r.skipped || !Number.isFinite(r.loss);
    if (!skipped) p.commit();
    return { loss: r.loss, correct: r.correct, examples: at.length, skipped };
  }

  /** Ends the steps; a failed group is finished off: every worker has ended when this resolves. */
  async end(): Promise<void> {
    if (this.group.dead) await this.group.close();
    else await this.group.end();
  }

  /** A failed group keeps nothing worth copying: the networks keep what they had at the last pull. */
  pull(): void { if (!this.group.dead) this.group.pull(this.nets, this.optStates); }
  push(): void { if (!this.group.dead) this.group.push(this.nets, this.optStates); }
  async close(): Promise<void> { await this.group.close(); }
}

/** A typed array over a SharedArrayBuffer (the same one when it already is): sent once to every worker. */
function shared<T extends Float32Array | Int32Array>(a: T): T {
  if (typeof SharedArrayBuffer !== 'undefined' && a.buffer instanceof SharedArrayBuffer) return a;
  const copy = new (a.constructor as { new(b: SharedArrayBuffer): T })(new SharedArrayBuffer(a.byteLength));
  copy.set(a);
  return copy;
}

/** The training data as the workers receive it: shared copies (made once per begin) and their layout. */
export function shareData(p: StepProgram, x: Dataset | Float32Array, y: Labels | undefined): DataSpec {
  if (!(x instanceof Float32Array)) return { kind: 'dataset', x: shared(x.x), y: shared(x.y), shape: x.shape, classes: x.classes };
  if (!y) throw new RedeError('fit: y is required when x is an array');
  const per = numelOf(p.first.inputShape), n = x.length / per;
  return { kind: 'arrays', x: shared(x), y: shared(y), per, yPer: y.length / n };
}
