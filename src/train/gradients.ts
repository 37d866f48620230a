// The loss and every parameter's gradient for one batch, without an optimizer step: the step program's
// gradients() (the same forward, loss and backward a training step runs, in training mode) and nothing of
// its update. Nothing the model keeps changes: weights, optimizer state and step counters are not touched,
// and the batch-norm running statistics the training-mode forward moves are put back bitwise. Only the
// gradient slice and the activations hold this batch afterwards. model.gradients() and probeGradients()
// (monitor.ts) call it.
import { RedeError } from '../engine/errors';
import { numelOf } from '../layers/layer';
import type { Labels } from './source';
import type { Trainer } from './trainer';

/**
 * Runs forward, loss and backward on (x, y); returns the batch's mean loss. The gradients are in slice 0,
 * unless the loss is not finite: then backward did not run (the caller says what that means).
 */
export function batchGradients(t: Trainer, x: Float32Array, y: Labels, where: string): number {
  const m = t.net, sparse = t.objective.sparse;
  if (!(x instanceof Float32Array)) throw new RedeError(`${where}: x must be a Float32Array of examples, got ${x === null ? 'null' : typeof x}`);
  const b = m.batchOf(x, 'x'), per = numelOf(m.inputShape), classes = numelOf(m.outputShape);
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) throw new RedeError(`${where}: x value ${i} (example ${Math.floor(i / per)}) is ${x[i]}`);
  if (sparse) {
    if (!(y instanceof Int32Array)) throw new RedeError(`${where}: the loss ${t.loss.type} needs integer labels (an Int32Array, one per example), got ${y?.constructor?.name ?? String(y)}`);
    if (y.length !== b) throw new RedeError(`${where}: ${y.length} labels for ${b} examples`);
    for (let i = 0; i < b; i++) if (!(y[i] >= 0 && y[i] < classes)) throw new RedeError(`${where}: label ${i} is ${y[i]}, expected an integer in [0, ${classes})`);
  } else {
    if (!(y instanceof Float32Array)) throw new RedeError(`${where}: the loss ${t.loss.type} needs float targets (a Float32Array, ${classes} per example), got ${y?.constructor?.name ?? String(y)}`);
    if (y.length !== b * classes) throw new RedeError(`${where}: y has ${y.length} values, expected ${b * classes} (${b} examples × ${classes})`);
    for (let i = 0; i < y.length; i++) if (!Number.isFinite(y[i])) throw new RedeError(`${where}: y value ${i} is ${y[i]}`);
  }
  const p = t.program;
  p.ensureCapacity(b);
  const state = m.stateFloats ? m.e.read(m.state, m.stateFloats) : null;
  const s = p.slots(b);
  s.x.set(x);
  if (sparse) s.labels!.set(y); else s.targets!.set(y);
  const loss = p.gradients(b, { step: t.step, seed: t.seed }).lossSum / b;
  if (state) m.e.write(m.state, state);
  return loss;
}
