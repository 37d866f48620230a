// Dropout with inverted scaling: in training y = x·mask/(1−rate), identity at inference. The mask is a
// counter hash of (seed, step, global element index), so it is the same whichever worker computes it, and
// backward regenerates it instead of storing it.
import { RedeError } from '../engine/errors';
import { Layer, expectInputs, numelOf, type Call, type Shape, type Site, type Step } from './layer';

export class Dropout extends Layer {
  readonly rate: number;
  constructor(readonly cfg: { name: string; rate: number }, inShapes: readonly Shape[]) {
    const where = `dropout '${cfg.name}'`;
    expectInputs(where, inShapes, 1);
    if (!(cfg.rate >= 0 && cfg.rate < 1)) throw new RedeError(`${where}: rate must be in [0, 1), got ${cfg.rate}`);
    super('dropout', cfg.name, inShapes, inShapes[0]);
    this.rate = cfg.rate;
  }
  /** Layers draw different masks: the layer's position is folded into the seed. */
  layerSeed = 0;
  forwardCalls(s: Site): Call[] {
    const per = numelOf(this.outShape), n = s.batch * per, [x] = s.x, y = s.y;
    if (s.training && this.rate > 0) return [['dropout_forward_f32', [x, y, n, this.rate, (s.seed ^ this.layerSeed) | 0, s.step, s.exampleOffset * per]]];
    return [['copy_rows_f32', [1, n, x, 0, y, 0]]];
  }
  backward(s: Step, _x: readonly number[], _y: number, dy: number, [dx]: readonly number[]): void {
    if (!dx) return;
    const per = numelOf(this.outShape), n = s.batch * per;
    if (s.training && this.rate > 0) s.k.dropout_backward_f32(dy, dx, n, this.rate, (s.seed ^ this.layerSeed) | 0, s.step, s.exampleOffset * per);
    else s.k.copy_rows_f32(1, n, dy, 0, dx, 0);
  }
  config(): Record<string, unknown> { return { type: 'dropout', ...this.cfg }; }
}
