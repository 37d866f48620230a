// Checked loss and softmax calls over tensors. Shapes: logits, probs, targets, dlogits [rows, classes];
// labels [rows] (i32 class indices); per-row losses [rows]; elementwise losses (BCE, MSE): every operand the
// same shape. Each forward returns the mean loss and, when `losses` is given, leaves the per-row (per-element)
// losses there; each backward writes scale·∂(Σ losses)/∂input, scale defaulting to 1/(number of losses), the
// gradient of the mean. Outputs may alias an f32 input exactly (in place), never partially.
import type { Engine } from '../engine/engine';
import { RedeError, shapeStr } from '../engine/errors';
import { numel, type Tensor } from '../engine/tensor';

/** Largest tensor the kernels address with i32 element counts: 2^29 floats. */
const MAX_FLOATS = 2 ** 29;

interface Region { name: string; ptr: number; bytes: number }

function checkDims(where: string, name: string, t: Tensor, rank?: number): number {
  if ((rank !== undefined ? t.shape.length !== rank : t.shape.length < 1) || !t.shape.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new RedeError(`${where}: ${name} must be ${rank === 2 ? '[rows, classes]' : rank === 1 ? '[rows]' : 'a tensor'} with positive integer dims, got ${shapeStr(t.shape)}`);
  }
  const n = numel(t.shape);
  if (n > MAX_FLOATS) throw new RedeError(`${where}: ${name} ${shapeStr(t.shape)} has more than 2^29 elements`);
  return n;
}

function checkShape(where: string, name: string, t: Tensor, expected: readonly number[], of: string): void {
  if (t.shape.length !== expected.length || t.shape.some((d, i) => d !== expected[i])) {
    throw new RedeError(`${where}: ${name} must be ${shapeStr(expected)} (${of}), got ${shapeStr(t.shape)}`);
  }
}

/** Every region in the arena; each output disjoint from the other outputs and from each input unless `alias`
 *  lists that input for it (an exact alias is then allowed). */
function checkRegions(e: Engine, where: string, inputs: Region[], outputs: Region[], alias: Record<string, string[]> = {}): void {
  for (const r of [...inputs, ...outputs]) e.checkRegion(where, r.name, r.ptr, r.bytes);
  outputs.forEach((o, i) => {
    for (const r of [...inputs, ...outputs.slice(i + 1)]) {
      if (o.ptr === r.ptr && o.bytes === r.bytes && alias[o.name]?.includes(r.name)) continue;
      if (o.ptr < r.ptr + r.bytes && r.ptr < o.ptr + o.bytes) {
        throw new RedeError(`${where}: ${o.name} (byte ${o.ptr}, +${o.bytes}) overlaps ${r.name} (byte ${r.ptr}, +${r.bytes})`);
      }
    }
  });
}

const region = (name: string, t: Tensor): Region => ({ name, ptr: t.ptr, bytes: numel(t.shape) * 4 });

function checkScale(where: string, scale: number): void {
  if (!Number.isFinite(scale)) throw new RedeError(`${where}: scale must be finite, got ${scale}`);
}

/** Every label an integer class index in [0, classes): RedeError naming the first bad row otherwise. */
function checkLabels(e: Engine, where: string, labels: Tensor, rows: number, classes: number): void {
  const iv = e.i32, at = labels.ptr >>> 2;
  for (let r = 0; r < rows; r++) {
    const label = iv[at + r];
    if (label < 0 || label >= classes) {
      throw new RedeError(`${where}: labels[${r}] = ${label} is not a class index in [0, ${classes}) (logits [${rows}, ${classes}])`);
    }
  }
}

/** Runs a forward that writes per-row losses, into `losses` or into scratch released afterwards. */
function withLosses(e: Engine, count: number, losses: Tensor | undefined, run: (ptr: number) => number): number {
  if (losses) return run(losses.ptr);
  const mark = e.mark();
  try {
    return run(e.reserve(count * 4, 'per-row losses'));
  } finally {
    e.release(mark);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Softmax alone.

/** y = softmax(x) along the last dim (y may be x). */
export function softmaxForward(e: Engine, x: Tensor, y: Tensor): void {
  const where = 'softmax_forward_f32';
  const n = checkDims(where, 'x', x);
  checkShape(where, 'y', y, x.shape, 'the shape of x');
  const classes = x.shape[x.shape.length - 1];
  checkRegions(e, where, [region('x', x)], [region('y', y)], { y: ['x'] });
  e.k.softmax_forward_f32(n / classes, classes, x.ptr, y.ptr);
}

/** dx = y ⊙ (dy − Σ dy·y) along the last dim, from the forward output y (dx may be dy). */
export function softmaxBackward(e: Engine, y: Tensor, dy: Tensor, dx: Tensor): void {
  const where = 'softmax_backward_f32';
  const n = checkDims(where, 'y', y);
  checkShape(where, 'dy', dy, y.shape, 'the shape of y');
  checkShape(where, 'dx', dx, y.shape, 'the shape of y');
  const classes = y.shape[y.shape.length - 1];
  checkRegions(e, where, [region('y', y), region('dy', dy)], [region('dx', dx)], { dx: ['dy'] });
  e.k.softmax_backward_f32(n / classes, classes, y.ptr, dy.ptr, dx.ptr);
}

// ---------------------------------------------------------------------------------------------------------------
// Softmax cross-entropy with sparse labels.

/** probs = softmax(logits) (probs may be logits); returns mean_r −ln probs[r, labels[r]]. */
export function softmaxCrossEntropySparseForward(e: Engine, logits: Tensor, labels: Tensor, probs: Tensor, losses?: Tensor): number {
  const where = 'softmax_xent_sparse_forward_f32';
  checkDims(where, 'logits', logits, 2);
  const [rows, classes] = logits.shape;
  checkShape(where, 'labels', labels, [rows], `one i32 label per row of logits ${shapeStr(logits.shape)}`);
  checkShape(where, 'probs', probs, logits.shape, 'the shape of logits');
  if (losses) checkShape(where, 'losses', losses, [rows], `one per row of logits ${shapeStr(logits.shape)}`);
  checkRegions(e, where, [region('logits', logits), region('labels', labels)],
    [region('probs', probs), ...(losses ? [region('losses', losses)] : [])], { probs: ['logits'] });
  checkLabels(e, where, labels, rows, classes);
  return withLosses(e, rows, losses, (lp) => e.k.softmax_xent_sparse_forward_f32(rows, classes, logits.ptr, labels.ptr, probs.ptr, lp));
}

/** dlogits = scale·(probs − onehot(labels)); scale defaults to 1/rows (dlogits may be probs). */
export function softmaxCrossEntropySparseBackward(e: Engine, probs: Tensor, labels: Tensor, dlogits: Tensor, scale?: number): void {
  const where = 'softmax_xent_sparse_backward_f32';
  checkDims(where, 'probs', probs, 2);
  const [rows, classes] = probs.shape;
  checkShape(where, 'labels', labels, [rows], `one i32 label per row of probs ${shapeStr(probs.shape)}`);
  checkShape(where, 'dlogits', dlogits, probs.shape, 'the shape of probs');
  const s = scale ?? 1 / rows;
  checkScale(where, s);
  checkRegions(e, where, [region('probs', probs), region('labels', labels)], [region('dlogits', dlogits)], { dlogits: ['probs'] });
  checkLabels(e, where, labels, rows, classes);
  e.k.softmax_xent_sparse_backward_f32(rows, classes, probs.ptr, labels.ptr, s, dlogits.ptr);
}

// ---------------------------------------------------------------------------------------------------------------
// Softmax cross-entropy with soft targets (one-hot, label smoothing, any distribution per row).

/** probs = softmax(logits) (probs may be logits); returns mean_r −Σ_j targets[r, j]·ln probs[r, j]. */
export function softmaxCrossEntropyForward(e: Engine, logits: Tensor, targets: Tensor, probs: Tensor, losses?: Tensor): number {
  const where = 'softmax_xent_forward_f32';
  checkDims(where, 'logits', logits, 2);
  const [rows, classes] = logits.shape;
  checkShape(where, 'targets', targets, logits.shape, 'the shape of logits');
  checkShape(where, 'probs', probs, logits.shape, 'the shape of logits');
  if (losses) checkShape(where, 'losses', losses, [rows], `one per row of logits ${shapeStr(logits.shape)}`);
  checkRegions(e, where, [region('logits', logits), region('targets', targets)],
    [region('probs', probs), ...(losses ? [region('losses', losses)] : [])], { probs: ['logits'] });
  return withLosses(e, rows, losses, (lp) => e.k.softmax_xent_forward_f32(rows, classes, logits.ptr, targets.ptr, probs.ptr, lp));
}

/** dlogits = scale·(T·probs − targets), T = the row's target sum (1 for distributions); scale defaults to 1/rows. */
export function softmaxCrossEntropyBackward(e: Engine, probs: Tensor, targets: Tensor, dlogits: Tensor, scale?: number): void {
  const where = 'softmax_xent_backward_f32';
  checkDims(where, 'probs', probs, 2);
  const [rows, classes] = probs.shape;
  checkShape(where, 'targets', targets, probs.shape, 'the shape of probs');
  checkShape(where, 'dlogits', dlogits, probs.shape, 'the shape of probs');
  const s = scale ?? 1 / rows;
  checkScale(where, s);
  checkRegions(e, where, [region('probs', probs), region('targets', targets)], [region('dlogits', dlogits)], { dlogits: ['probs', 'targets'] });
  e.k.softmax_xent_backward_f32(rows, classes, probs.ptr, targets.ptr, s, dlogits.ptr);
}

// ---------------------------------------------------------------------------------------------------------------
// Binary cross-entropy on logits, and mean squared error: elementwise, every operand one shape.

function elementwiseLoss(e: Engine, where: string, a: [string, Tensor], t: Tensor, out: [string, Tensor] | undefined, alias: boolean): number {
  const n = checkDims(where, a[0], a[1]);
  checkShape(where, 't', t, a[1].shape, `the shape of ${a[0]}`);
  if (out) checkShape(where, out[0], out[1], a[1].shape, `the shape of ${a[0]}`);
  checkRegions(e, where, [region(a[0], a[1]), region('t', t)], out ? [region(out[0], out[1])] : [],
    alias && out ? { [out[0]]: [a[0], 't'] } : {});
  return n;
}

/** Mean over elements of max(x, 0) − x·t + ln(1 + e^−|x|) (stable for any x); t ∈ [0, 1]. */
export function bceWithLogitsForward(e: Engine, x: Tensor, t: Tensor, losses?: Tensor): number {
  const where = 'bce_logits_forward_f32';
  const n = elementwiseLoss(e, where, ['x', x], t, losses ? ['losses', losses] : undefined, false);
  return withLosses(e, n, losses, (lp) => e.k.bce_logits_forward_f32(n, x.ptr, t.ptr, lp));
}

/** dx = scale·(σ(x) − t); scale defaults to 1/n (dx may be x). */
export function bceWithLogitsBackward(e: Engine, x: Tensor, t: Tensor, dx: Tensor, scale?: number): void {
  const where = 'bce_logits_backward_f32';
  const n = elementwiseLoss(e, where, ['x', x], t, ['dx', dx], true);
  const s = scale ?? 1 / n;
  checkScale(where, s);
  e.k.bce_logits_backward_f32(n, x.ptr, t.ptr, s, dx.ptr);
}

/** Mean over elements of (y − t)². */
export function mseForward(e: Engine, y: Tensor, t: Tensor, losses?: Tensor): number {
  const where = 'mse_forward_f32';
  const n = elementwiseLoss(e, where, ['y', y], t, losses ? ['losses', losses] : undefined, false);
  return withLosses(e, n, losses, (lp) => e.k.mse_forward_f32(n, y.ptr, t.ptr, lp));
}

/** dy = scale·2·(y − t); scale defaults to 1/n (dy may be y). */
export function mseBackward(e: Engine, y: Tensor, t: Tensor, dy: Tensor, scale?: number): void {
  const where = 'mse_backward_f32';
  const n = elementwiseLoss(e, where, ['y', y], t, ['dy', dy], true);
  const s = scale ?? 1 / n;
  checkScale(where, s);
  e.k.mse_backward_f32(n, y.ptr, t.ptr, s, dy.ptr);
}
