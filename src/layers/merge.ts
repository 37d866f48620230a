// Layers with several inputs. Add (ResNet's skip connection): y = Σ xᵢ, dxᵢ = dy.
// Concat (Inception) along the last axis: each input's channels go to a slice of every output row.
import { RedeError, shapeStr } from '../engine/errors';
import { Layer, numelOf, type Call, type Shape, type Site, type Step } from './layer';

export class Add extends Layer {
  constructor(readonly cfg: { name: string }, inShapes: readonly Shape[]) {
    const where = `add '${cfg.name}'`;
    if (inShapes.length < 2) throw new RedeError(`${where}: needs at least 2 inputs, got ${inShapes.length}`);
    for (const s of inShapes) {
      if (shapeStr(s) !== shapeStr(inShapes[0])) throw new RedeError(`${where}: inputs must have the same shape, got ${inShapes.map(shapeStr).join(' and ')}`);
    }
    super('add', cfg.name, inShapes, inShapes[0]);
  }
  override flops(): number { return (this.inShapes.length - 1) * numelOf(this.outShape); }
  forwardCalls({ batch, x, y }: Site): Call[] {
    const n = batch * numelOf(this.outShape);
    return [['add_f32', [x[0], x[1], y, n]], ...x.slice(2).map((xi): Call => ['add_acc_f32', [xi, y, n]])];
  }
  backward(s: Step, _x: readonly number[], _y: number, dy: number, dx: readonly number[]): void {
    const n = s.batch * numelOf(this.outShape);
    for (const d of dx) if (d) s.k.copy_rows_f32(1, n, dy, 0, d, 0);
  }
  config(): Record<string, unknown> { return { type: 'add', ...this.cfg }; }
}

export class Concat extends Layer {
  constructor(readonly cfg: { name: string }, inShapes: readonly Shape[]) {
    const where = `concat '${cfg.name}'`;
    if (inShapes.length < 2) throw new RedeError(`${where}: needs at least 2 inputs, got ${inShapes.length}`);
    const lead = inShapes[0].slice(0, -1);
    for (const s of inShapes) {
      if (s.length !== inShapes[0].length || shapeStr(s.slice(0, -1)) !== shapeStr(lead)) {
        throw new RedeError(`${where}: inputs must agree on every axis but the last, got ${inShapes.map(shapeStr).join(', ')}`);
      }
    }
    super('concat', cfg.name, inShapes, [...lead, inShapes.reduce((c, s) => c + s[s.length - 1], 0)]);
  }
  private rows(batch: number): number { return batch * numelOf(this.outShape) / this.outShape[this.outShape.length - 1]; }
  forwardCalls({ batch, x, y }: Site): Call[] {
    const rows = this.rows(batch), C = this.outShape[this.outShape.length - 1];
    let off = 0;
    return this.inShapes.map((sh, i): Call => {
      const c = sh[sh.length - 1], at = y + off * 4;
      off += c;
      return ['copy_rows_f32', [rows, c, x[i], c, at, C]];
    });
  }
  backward(s: Step, _x: readonly number[], _y: number, dy: number, dx: readonly number[]): void {
    const rows = this.rows(s.batch), C = this.outShape[this.outShape.length - 1];
    let off = 0;
    this.inShapes.forEach((sh, i) => {
      const c = sh[sh.length - 1];
      if (dx[i]) s.k.copy_rows_f32(rows, c, dy + off * 4, C, dx[i], c);
      off += c;
    });
  }
  config(): Record<string, unknown> { return { type: 'concat', ...this.cfg }; }
}
