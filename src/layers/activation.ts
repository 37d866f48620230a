// Elementwise activations as layers: y = f(x) over every value; backward from x (ReLU, LeakyReLU) or from
// y (sigmoid, tanh, ELU), whichever the kernel's formula needs. Softmax normalizes the last axis.
// The same kernels run as a dense or conv2d layer's own `activation` (an epilogue on its output, in place):
// epilogueCalls / epilogueBackward below, shared with the inference compiler.
import { RedeError } from '../engine/errors';
import type { Kernels } from '../engine/generated/kernels';
import { Layer, expectInputs, numelOf, type Call, type Shape, type Site, type Step } from './layer';

export type ActivationType = 'relu' | 'leaky_relu' | 'elu' | 'sigmoid' | 'tanh';

/** Every activation a dense or conv2d layer can name (Keras's strings): none, the elementwise ones, softmax. */
export const ACTIVATIONS = ['linear', 'relu', 'leaky_relu', 'elu', 'sigmoid', 'tanh', 'softmax'] as const;
export type ActivationName = (typeof ACTIVATIONS)[number];

/** Activations whose layer's weights start He-initialized (He et al. 2015); Glorot for the rest. */
export const RECTIFIERS: readonly string[] = ['relu', 'leaky_relu', 'elu'];

/** Default α: LeakyReLU's slope for x < 0, ELU's saturation value. */
const defaultAlpha = (type: string): number => (type === 'leaky_relu' ? 0.2 : 1);

/** y = f(x) over n values (y may be x). */
function forwardCall(type: ActivationType, n: number, alpha: number, x: number, y: number): Call {
  switch (type) {
    case 'relu': return ['relu_forward_f32', [n, x, y]];
    case 'leaky_relu': return ['leaky_relu_forward_f32', [n, alpha, x, y]];
    case 'elu': return ['elu_forward_f32', [n, alpha, x, y]];
    case 'sigmoid': return ['sigmoid_forward_f32', [n, x, y]];
    case 'tanh': return ['tanh_forward_f32', [n, x, y]];
  }
}

/** dx from dy over n values; x is read for its sign only (ReLU, LeakyReLU), y for the others. dx may be dy. */
function backwardRun(k: Kernels, type: ActivationType, n: number, alpha: number, x: number, y: number, dy: number, dx: number): void {
  switch (type) {
    case 'relu': k.relu_backward_f32(n, x, dy, dx); break;
    case 'leaky_relu': k.leaky_relu_backward_f32(n, alpha, x, dy, dx); break;
    case 'elu': k.elu_backward_f32(n, alpha, y, dy, dx); break;
    case 'sigmoid': k.sigmoid_backward_f32(n, y, dy, dx); break;
    case 'tanh': k.tanh_backward_f32(n, y, dy, dx); break;
  }
}

export class Activation extends Layer {
  readonly alpha: number;
  constructor(type: ActivationType, readonly cfg: { name: string; alpha?: number }, inShapes: readonly Shape[]) {
    expectInputs(`${type} '${cfg.name}'`, inShapes, 1);
    super(type, cfg.name, inShapes, inShapes[0]);
    this.alpha = cfg.alpha ?? defaultAlpha(type);
    if (!Number.isFinite(this.alpha)) throw new RedeError(`${type} '${cfg.name}': alpha must be a finite number, got ${cfg.alpha}`);
  }
  override flops(): number { return numelOf(this.outShape); }
  forwardCalls({ batch, x: [x], y }: Site): Call[] {
    return [forwardCall(this.type as ActivationType, batch * numelOf(this.outShape), this.alpha, x, y)];
  }
  backward(s: Step, [x]: readonly number[], y: number, dy: number, [dx]: readonly number[]): void {
    if (dx) backwardRun(s.k, this.type as ActivationType, s.batch * numelOf(this.outShape), this.alpha, x, y, dy, dx);
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

/** A dense or conv2d layer's own activation, run on its output [rows, cols] (softmax: over cols). */
export interface Epilogue { type: ActivationName; alpha: number }

export const LINEAR: Epilogue = Object.freeze({ type: 'linear', alpha: 0 });

/**
 * The activation option of layer `where`, checked. Backward runs from the output alone (the pre-activation is
 * overwritten in place), which is exact for these: y > 0 ⇔ x > 0 for ReLU, LeakyReLU with α ≥ 0 and ELU with
 * α > 0, and sigmoid, tanh, softmax differentiate from y.
 */
export function epilogueOf(where: string, activation: unknown, alpha: unknown): Epilogue {
  const type = activation ?? 'linear';
  if (typeof type !== 'string' || !(ACTIVATIONS as readonly string[]).includes(type)) {
    throw new RedeError(`${where}: activation must be one of ${ACTIVATIONS.map((a) => `'${a}'`).join(', ')}, got ${typeof type === 'string' ? `'${type}'` : JSON.stringify(type)}`);
  }
  if (alpha !== undefined && type !== 'leaky_relu' && type !== 'elu') throw new RedeError(`${where}: alpha applies to activation 'leaky_relu' or 'elu', not '${type}'`);
  const a = alpha ?? defaultAlpha(type);
  if (typeof a !== 'number' || !Number.isFinite(a)) throw new RedeError(`${where}: alpha must be a finite number, got ${String(alpha)}`);
  if (type === 'leaky_relu' && a < 0) throw new RedeError(`${where}: alpha of a leaky_relu activation must be >= 0 (its backward reads the sign of the output), got ${a}; use a leaky_relu layer for a negative slope`);
  if (type === 'elu' && a <= 0) throw new RedeError(`${where}: alpha of an elu activation must be > 0, got ${a}`);
  return { type: type as ActivationName, alpha: type === 'leaky_relu' || type === 'elu' ? a : 0 };
}

/** y = act(x) over rows × cols (x may be y: in place). Linear: no call, so x must then be y. */
export function epilogueCalls(a: Epilogue, rows: number, cols: number, x: number, y: number): Call[] {
  if (a.type === 'linear') return [];
  if (a.type === 'softmax') return [['softmax_forward_f32', [rows, cols, x, y]]];
  return [forwardCall(a.type, rows * cols, a.alpha, x, y)];
}

/** dy ← dL/d(pre-activation) from dL/dy, in place, from the output y alone (see epilogueOf). */
export function epilogueBackward(k: Kernels, a: Epilogue, rows: number, cols: number, y: number, dy: number): void {
  if (a.type === 'linear') return;
  if (a.type === 'softmax') k.softmax_backward_f32(rows, cols, y, dy, dy);
  else backwardRun(k, a.type, rows * cols, a.alpha, y, y, dy, dy);
}
