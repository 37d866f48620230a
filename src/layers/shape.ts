// Flatten and Reshape change the shape, not the values: forward and backward are plain copies.
import { RedeError, shapeStr } from '../engine/errors';
import { Layer, expectInputs, numelOf, type Call, type Shape, type Site, type Step } from './layer';

export class Reshape extends Layer {
  constructor(type: 'flatten' | 'reshape', readonly cfg: { name: string; shape?: number[] }, inShapes: readonly Shape[]) {
    const where = `${type} '${cfg.name}'`;
    expectInputs(where, inShapes, 1);
    const n = numelOf(inShapes[0]);
    const out = type === 'flatten' ? [n] : cfg.shape;
    if (!out || !out.every((d) => Number.isInteger(d) && d > 0) || numelOf(out) !== n) {
      throw new RedeError(`${where}: cannot reshape ${shapeStr(inShapes[0])} (${n} values) to ${JSON.stringify(cfg.shape)}`);
    }
    super(type, cfg.name, inShapes, out);
  }
  forwardCalls({ batch, x: [x], y }: Site): Call[] {
    return [['copy_rows_f32', [1, batch * numelOf(this.outShape), x, 0, y, 0]]];
  }
  backward(s: Step, _x: readonly number[], _y: number, dy: number, [dx]: readonly number[]): void {
    if (dx) s.k.copy_rows_f32(1, s.batch * numelOf(this.outShape), dy, 0, dx, 0);
  }
  config(): Record<string, unknown> { return { type: this.type, ...this.cfg }; }
}
