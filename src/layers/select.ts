// select: one part of a layer output that packs several (Layer.parts) — a recurrent layer with returnState
// packs Keras's [output, h, c] per example back to back. rede's graph gives every layer one output tensor, so
// Keras's list of outputs is that tensor plus a select layer per part a model reads:
//   { type: 'lstm', name: 'enc', units: 32, returnState: true },
//   { type: 'select', name: 'enc_h', inputs: ['enc'], part: 'h' }
//   x [b, Σ parts] → y [b, part]: the part's floats of each example;  dx = dy there, 0 elsewhere
// (several selects of one tensor: the network sums their dx, as for any tensor read twice).
import { RedeError, shapeStr } from '../engine/errors';
import { Layer, expectInputs, numelOf, type Call, type OutputPart, type Shape, type Site, type Step } from './layer';

/** A recurrent layer's [output, h, c]; a bidirectional one's [output, forward_h, forward_c, backward_h, backward_c]. */
export const SELECT_PARTS = ['output', 'h', 'c', 'forward_h', 'forward_c', 'backward_h', 'backward_c'] as const;
export interface SelectConfig { name: string; part: (typeof SELECT_PARTS)[number] }

export class Select extends Layer {
  /** The part's first float within an example, and the floats of the part and of a whole example. */
  readonly offset: number;
  readonly floats: number;
  readonly total: number;

  constructor(readonly cfg: SelectConfig, inShapes: readonly Shape[], inParts: readonly (readonly OutputPart[] | null)[]) {
    const where = `select '${cfg.name}'`;
    expectInputs(where, inShapes, 1);
    const parts = inParts[0];
    if (!parts) throw new RedeError(`${where}: its input ${shapeStr(inShapes[0])} is one tensor; select reads a layer with several outputs (a recurrent layer with returnState)`);
    if (cfg.part === undefined) throw new RedeError(`${where}: part is required (one of ${parts.map((p) => `'${p.name}'`).join(', ')})`);
    const at = parts.findIndex((p) => p.name === cfg.part);
    if (at < 0) throw new RedeError(`${where}: its input has no part '${cfg.part}' (it has ${parts.map((p) => `'${p.name}'`).join(', ')})`);
    super('select', cfg.name, inShapes, parts[at].shape);
    this.offset = parts.slice(0, at).reduce((n, p) => n + numelOf(p.shape), 0);
    this.floats = numelOf(parts[at].shape);
    this.total = numelOf(inShapes[0]);
    this.masks = parts[at].masks;
  }
  forwardCalls({ batch, x: [x], y }: Site): Call[] {
    return [['copy_rows_f32', [batch, this.floats, x + 4 * this.offset, this.total, y, this.floats]]];
  }
  backward(s: Step, _x: readonly number[], _y: number, dy: number, [dx]: readonly number[]): void {
    if (!dx) return;
    s.k.fill_f32(dx, s.batch * this.total, 0);
    s.k.copy_rows_f32(s.batch, this.floats, dy, this.floats, dx + 4 * this.offset, this.total);
  }
  config(): Record<string, unknown> { return { type: 'select', ...this.cfg }; }
}
