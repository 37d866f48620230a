// Elementwise activations as layers: y = f(x) over every value; backward from x (ReLU, LeakyReLU) or from
// y (sigmoid, tanh, ELU), whichever the kernel's formula needs. Softmax normalizes the last axis.
import { RedeError } from '../engine/errors';
import { Layer, expectInputs, numelOf, type Call, type Shape, type Site, type Step } from './layer';

export type ActivationType = 'relu' | 'leaky_relu' | 'elu' | 'sigmoid' | 'tanh';

export class Activation extends Layer {
  readonly alpha: number;
  constructor(type: ActivationType, readonly cfg: { name: string; alpha?: number }, inShapes: readonly Shape[]) {
    expectInputs(`${type} '${cfg.name}'`, inShapes, 1);
    super(type, cfg.name, inShapes, inShapes[0]);
    this.alpha = cfg.alpha ?? (type === 'leaky_relu' ? 0.2 : 1);
    if (!Number.isFinite(this.alpha)) throw new RedeError(`${type} '${cfg.name}': alpha must be a finite number, got ${cfg.alpha}`);
  }
  override flops(): number { return numelOf(this.outShape); }
  forwardCalls({ batch, x: [x], y }: Site): Call[] {
    const n = batch * numelOf(this.outShape);
    switch (this.type as ActivationType) {
      case 'relu': return [['relu_forward_f32', [n, x, y]]];
      case 'leaky_relu': return [['leaky_relu_forward_f32', [n, this.alpha, x, y]]];
      case 'elu': return [['elu_forward_f32', [n, this.alpha, x, y]]];
      case 'sigmoid': return [['sigmoid_forward_f32', [n, x, y]]];
      case 'tanh': return [['tanh_forward_f32', [n, x, y]]];
    }
  }
  backward(s: Step, [x]: readonly number[], y: number, dy: number, [dx]: readonly number[]): void {
    if (!dx) return;
    const n = s.batch * numelOf(this.outShape), k = s.k;
    switch (this.type as ActivationType) {
      case 'relu': k.relu_backward_f32(n, x, dy, dx); break;
      case 'leaky_relu': k.leaky_relu_backward_f32(n, this.alpha, x, dy, dx); break;
      case 'elu': k.elu_backward_f32(n, this.alpha, y, dy, dx); break;
      case 'sigmoid': k.sigmoid_backward_f32(n, y, dy, dx); break;
      case 'tanh': k.tanh_backward_f32(n, y, dy, dx); break;
    }
  }
  config(): Record<string, unknown> { return { type: this.type, ...this.cfg }; }
}

export class Softmax extends Layer {
  constructor(readonly cfg: { name: string }, inShapes: readonly Shape[]) {
    expectInputs(`softmax '${cfg.name}'`, inShapes, 1);
    super('softmax', cfg.name, inShapes, inShapes[0]);
  }
  private get classes(): number { return this.outShape[this.outShape.length - 1]; }
  forwardCalls({ batch, x: [x], y }: Site): Call[] {
    return [['softmax_forward_f32', [batch * numelOf(this.outShape) / this.classes, this.classes, x, y]]];
  }
  backward(s: Step, _x: readonly number[], y: number, dy: number, [dx]: readonly number[]): void {
    if (!dx) return;
    const rows = s.batch * numelOf(this.outShape) / this.classes;
    s.k.softmax_backward_f32(rows, this.classes, y, dy, dx);
  }
  config(): Record<string, unknown> { return { type: 'softmax', ...this.cfg }; }
}
