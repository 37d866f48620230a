// Checked activation, bias and elementwise calls over tensors. Elementwise operands must have equal shapes; an
// output may be one of the inputs exactly (in place) but may not partially overlap any input.
// Bias: x, y, dy [..., cols] (NHWC activations or dense rows), b, db [cols].
// Backward inputs: ReLU and LeakyReLU take the forward input x; ELU, sigmoid and tanh take the forward output y.
import type { Engine } from '../engine/engine';
import { RedeError, shapeStr } from '../engine/errors';
import { numel, type Tensor } from '../engine/tensor';

/** Largest tensor the kernels address with i32 element counts: 2^29 floats. */
const MAX_FLOATS = 2 ** 29;

function checkDims(where: string, name: string, t: Tensor): number {
  if (t.shape.length < 1 || !t.shape.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new RedeError(`${where}: ${name} must have positive integer dims, got ${shapeStr(t.shape)}`);
  }
  const n = numel(t.shape);
  if (n > MAX_FLOATS) throw new RedeError(`${where}: ${name} ${shapeStr(t.shape)} has more than 2^29 elements`);
  return n;
}

/**
 * Checks that every tensor has the first one's shape and lies in the arena, and that each output is either
 * exactly an input or disjoint from it (and from the other outputs). Returns the element count.
 */
function checkElementwise(e: Engine, where: string, inputs: Record<string, Tensor>, outputs: Record<string, Tensor>): number {
  const all = { ...inputs, ...outputs };
  const [firstName, first] = Object.entries(all)[0];
  const n = checkDims(where, firstName, first);
  for (const [name, t] of Object.entries(all)) {
    checkDims(where, name, t);
    if (t.shape.length !== first.shape.length || t.shape.some((d, i) => d !== first.shape[i])) {
      throw new RedeError(`${where}: ${name} ${shapeStr(t.shape)} must have the shape of ${firstName} ${shapeStr(first.shape)}`);
    }
    e.checkRegion(where, name, t.ptr, n * 4);
  }
  const outs = Object.entries(outputs);
  for (const [oi, [oname, out]] of outs.entries()) {
    const others = [...Object.entries(inputs), ...outs.slice(oi + 1)];
    for (const [name, t] of others) {
      const sameAllowed = name in inputs;
      if (out.ptr === t.ptr && sameAllowed) continue;
      if (Math.abs(out.ptr - t.ptr) < n * 4) {
        throw new RedeError(`${where}: ${oname} (byte ${out.ptr}) overlaps ${name} (byte ${t.ptr}) of ${n * 4} bytes; ${sameAllowed ? 'only an exact alias (in place) is allowed' : 'outputs must be disjoint'}`);
      }
    }
  }
  return n;
}

/** Throws unless the two byte ranges are disjoint. */
function checkDisjoint(where: string, a: string, pa: number, bytesA: number, b: string, pb: number, bytesB: number): void {
  if (pa < pb + bytesB && pb < pa + bytesA) throw new RedeError(`${where}: ${a} (byte ${pa}, +${bytesA}) and ${b} (byte ${pb}, +${bytesB}) overlap`);
}

function checkAlpha(where: string, alpha: number, positive: boolean): void {
  if (!Number.isFinite(alpha) || (positive && !(alpha > 0))) {
    throw new RedeError(`${where}: alpha must be a finite number${positive ? ' > 0' : ''}, got ${alpha}`);
  }
}

/** Rows × cols of a [..., cols] tensor against a bias of shape [cols]. */
function biasGeometry(where: string, name: string, t: Tensor, bName: string, b: Tensor): [rows: number, cols: number] {
  const n = checkDims(where, name, t);
  checkDims(where, bName, b);
  const cols = t.shape[t.shape.length - 1];
  if (b.shape.length !== 1 || b.shape[0] !== cols) {
    throw new RedeError(`${where}: ${bName} must be [${cols}] (the last dim of ${name} ${shapeStr(t.shape)}), got ${shapeStr(b.shape)}`);
  }
  return [n / cols, cols];
}

/** y = x + b along the last dim (y may be x). */
export function biasAdd(e: Engine, x: Tensor, b: Tensor, y: Tensor): void {
  const where = 'bias_add_f32';
  const [rows, cols] = biasGeometry(where, 'x', x, 'b', b);
  checkElementwise(e, where, { x }, { y });
  e.checkRegion(where, 'b', b.ptr, cols * 4);
  checkDisjoint(where, 'b', b.ptr, cols * 4, 'y', y.ptr, rows * cols * 4);
  e.k.bias_add_f32(rows, cols, x.ptr, b.ptr, y.ptr);
}

/** db = (accumulate ? db : 0) + Σ over all but the last dim of dy. */
export function biasGrad(e: Engine, dy: Tensor, db: Tensor, o: { accumulate?: boolean } = {}): void {
  const where = 'bias_grad_f32';
  const [rows, cols] = biasGeometry(where, 'dy', dy, 'db', db);
  e.checkRegion(where, 'dy', dy.ptr, rows * cols * 4);
  e.checkRegion(where, 'db', db.ptr, cols * 4);
  checkDisjoint(where, 'db', db.ptr, cols * 4, 'dy', dy.ptr, rows * cols * 4);
  e.k.bias_grad_f32(rows, cols, dy.ptr, db.ptr, o.accumulate ? 1 : 0);
}

export function reluForward(e: Engine, x: Tensor, y: Tensor): void {
  e.k.relu_forward_f32(checkElementwise(e, 'relu_forward_f32', { x }, { y }), x.ptr, y.ptr);
}
/** dx = x > 0 ? dy : 0, from the forward input x. */
export function reluBackward(e: Engine, x: Tensor, dy: Tensor, dx: Tensor): void {
  e.k.relu_backward_f32(checkElementwise(e, 'relu_backward_f32', { x, dy }, { dx }), x.ptr, dy.ptr, dx.ptr);
}

export function leakyReluForward(e: Engine, x: Tensor, y: Tensor, alpha = 0.3): void {
  checkAlpha('leaky_relu_forward_f32', alpha, false);
  e.k.leaky_relu_forward_f32(checkElementwise(e, 'leaky_relu_forward_f32', { x }, { y }), alpha, x.ptr, y.ptr);
}
/** dx = x > 0 ? dy : α·dy, from the forward input x. */
export function leakyReluBackward(e: Engine, x: Tensor, dy: Tensor, dx: Tensor, alpha = 0.3): void {
  checkAlpha('leaky_relu_backward_f32', alpha, false);
  e.k.leaky_relu_backward_f32(checkElementwise(e, 'leaky_relu_backward_f32', { x, dy }, { dx }), alpha, x.ptr, dy.ptr, dx.ptr);
}

/** y = x > 0 ? x : α(e^x − 1), α > 0. */
export function eluForward(e: Engine, x: Tensor, y: Tensor, alpha = 1): void {
  checkAlpha('elu_forward_f32', alpha, true);
  e.k.elu_forward_f32(checkElementwise(e, 'elu_forward_f32', { x }, { y }), alpha, x.ptr, y.ptr);
}
/** dx = y > 0 ? dy : dy·(y + α), from the forward output y. */
export function eluBackward(e: Engine, y: Tensor, dy: Tensor, dx: Tensor, alpha = 1): void {
  checkAlpha('elu_backward_f32', alpha, true);
  e.k.elu_backward_f32(checkElementwise(e, 'elu_backward_f32', { y, dy }, { dx }), alpha, y.ptr, dy.ptr, dx.ptr);
}

export function sigmoidForward(e: Engine, x: Tensor, y: Tensor): void {
  e.k.sigmoid_forward_f32(checkElementwise(e, 'sigmoid_forward_f32', { x }, { y }), x.ptr, y.ptr);
}
/** dx = dy·y·(1 − y), from the forward output y. */
export function sigmoidBackward(e: Engine, y: Tensor, dy: Tensor, dx: Tensor): void {
  e.k.sigmoid_backward_f32(checkElementwise(e, 'sigmoid_backward_f32', { y, dy }, { dx }), y.ptr, dy.ptr, dx.ptr);
}

export function tanhForward(e: Engine, x: Tensor, y: Tensor): void {
  e.k.tanh_forward_f32(checkElementwise(e, 'tanh_forward_f32', { x }, { y }), x.ptr, y.ptr);
}
/** dx = dy·(1 − y²), from the forward output y. */
export function tanhBackward(e: Engine, y: Tensor, dy: Tensor, dx: Tensor): void {
  e.k.tanh_backward_f32(checkElementwise(e, 'tanh_backward_f32', { y, dy }, { dx }), y.ptr, dy.ptr, dx.ptr);
}

/** y = a + b. */
export function add(e: Engine, a: Tensor, b: Tensor, y: Tensor): void {
  e.k.add_f32(a.ptr, b.ptr, y.ptr, checkElementwise(e, 'add_f32', { a, b }, { y }));
}
/** y += x. */
export function addAcc(e: Engine, x: Tensor, y: Tensor): void {
  e.k.add_acc_f32(x.ptr, y.ptr, checkElementwise(e, 'add_acc_f32', { x }, { y }));
}
/** y = a ⊙ b. */
export function mul(e: Engine, a: Tensor, b: Tensor, y: Tensor): void {
  e.k.mul_f32(a.ptr, b.ptr, y.ptr, checkElementwise(e, 'mul_f32', { a, b }, { y }));
}
/** y = α·x (y may be x). */
export function scaleCopy(e: Engine, x: Tensor, y: Tensor, alpha: number): void {
  checkAlpha('scale_copy_f32', alpha, false);
  e.k.scale_copy_f32(x.ptr, y.ptr, checkElementwise(e, 'scale_copy_f32', { x }, { y }), alpha);
}
/** y += α·x. */
export function axpy(e: Engine, x: Tensor, y: Tensor, alpha: number): void {
  checkAlpha('axpy_f32', alpha, false);
  e.k.axpy_f32(x.ptr, y.ptr, checkElementwise(e, 'axpy_f32', { x }, { y }), alpha);
}
