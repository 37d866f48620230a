// How sequences enter a recurrent layer (src/layers/rnn.ts):
//   embedding  ids [t] (integer ids held as floats) → [t, dim]: y = embeddings[id]; with maskZero id 0 is
//              padding: its row is 0 and the steps it marks are masked (skipped by a recurrent layer after it).
//   masking    [t, f] → [t, f]: Keras's Masking — a step whose values all equal maskValue becomes 0, and is masked.
// An id outside [0, vocab) is an error naming the layer and the id (the kernel writes zeros and counts them).
import { RedeError, shapeStr } from '../engine/errors';
import { Layer, expectInputs, handles, type Call, type Handles, type Init, type Shape, type Site, type Step } from './layer';

export interface EmbeddingConfig { name: string; inputDim: number; outputDim: number; maskZero?: boolean; init?: Init; l1?: number; l2?: number }

export class Embedding extends Layer {
  override readonly p: Handles<'table'>;
  override readonly g: Handles<'table'>;
  readonly vocab: number;
  readonly dim: number;
  readonly maskZero: boolean;

  constructor(readonly cfg: EmbeddingConfig, inShapes: readonly Shape[]) {
    const where = `embedding '${cfg.name}'`;
    expectInputs(where, inShapes, 1);
    if (inShapes[0].length !== 1) throw new RedeError(`${where}: input must be a sequence of ids [steps] per example, got ${shapeStr(inShapes[0])}`);
    for (const k of ['inputDim', 'outputDim'] as const) {
      if (!Number.isInteger(cfg[k]) || cfg[k] < 1) throw new RedeError(`${where}: ${k} must be a positive integer, got ${cfg[k]}`);
    }
    super('embedding', cfg.name, inShapes, [inShapes[0][0], cfg.outputDim]);
    this.vocab = cfg.inputDim; this.dim = cfg.outputDim; this.maskZero = cfg.maskZero ?? false;
    this.masks = this.maskZero;
    this.p = handles('table'); this.g = handles('table');
    this.l1 = cfg.l1 ?? 0; this.l2 = cfg.l2 ?? 0;
    // Keras initializes embeddings uniform in ±0.05; glorot over [vocab, dim] is the house default.
    this.params.push({ name: 'table', shape: [this.vocab, this.dim], init: cfg.init ?? 'glorot_uniform', fanIn: this.vocab, fanOut: this.dim, regularize: true });
  }

  private get rowsPer(): number { return this.inShapes[0][0]; }

  forwardCalls({ batch, x: [x], y, p }: Site<this>): Call[] {
    return [['embedding_forward_f32', [batch * this.rowsPer, this.dim, this.vocab, this.maskZero ? 1 : 0, x, p.table, y]]];
  }

  /** The training path checks the kernel's count of bad ids and names the first. */
  override forward(s: Step, x: readonly number[], y: number): void {
    const rows = s.batch * this.rowsPer;
    const bad = s.k.embedding_forward_f32(rows, this.dim, this.vocab, this.maskZero ? 1 : 0, x[0], this.p.table, y);
    if (bad > 0) {
      const ids = s.e.read(x[0], rows), i = ids.findIndex((v) => !(v > -0.5 && v < this.vocab - 0.5));
      throw new RedeError(`embedding '${this.name}': ${bad} id${bad === 1 ? ' is' : 's are'} not in [0, ${this.vocab}) (inputDim ${this.vocab}); the first, example ${Math.floor(i / this.rowsPer)} step ${i % this.rowsPer}, is ${ids[i]}`);
    }
  }

  backward(s: Step, [x]: readonly number[], _y: number, dy: number, [dx]: readonly number[]): void {
    s.k.embedding_backward_f32(s.batch * this.rowsPer, this.dim, this.vocab, this.maskZero ? 1 : 0, x, dy, this.g.table, s.accumulate ? 1 : 0);
    if (dx) s.k.fill_f32(dx, s.batch * this.rowsPer, 0); // ids are not differentiable
  }

  config(): Record<string, unknown> { return { type: 'embedding', ...this.cfg }; }
}

export class Masking extends Layer {
  readonly value: number;
  constructor(readonly cfg: { name: string; maskValue?: number }, inShapes: readonly Shape[]) {
    const where = `masking '${cfg.name}'`;
    expectInputs(where, inShapes, 1);
    if (inShapes[0].length !== 2) throw new RedeError(`${where}: input must be a sequence [steps, features] per example, got ${shapeStr(inShapes[0])}`);
    super('masking', cfg.name, inShapes, inShapes[0]);
    this.value = cfg.maskValue ?? 0;
    this.masks = true;
  }
  private rows(batch: number): number { return batch * this.inShapes[0][0]; }
  forwardCalls({ batch, x: [x], y }: Site): Call[] {
    return [['masking_forward_f32', [this.rows(batch), this.inShapes[0][1], this.value, x, y]]];
  }
  backward(s: Step, [x]: readonly number[], _y: number, dy: number, [dx]: readonly number[]): void {
    if (dx) s.k.masking_backward_f32(this.rows(s.batch), this.inShapes[0][1], this.value, x, dy, dx);
  }
  config(): Record<string, unknown> { return { type: 'masking', ...this.cfg }; }
}
