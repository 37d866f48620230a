// Loss kernels, f32 data with f64 per-row sums. Softmax runs over the contiguous class dimension of each row
// (SIMD, exp from act.ts); the elementwise losses (binary cross-entropy, MSE) are small and scalar.
// Every forward writes per-row (or per-element) losses and returns their mean; every backward takes `scale`
// (normally 1/batch for the mean) and writes, never accumulates, the gradient.
import { at } from './simd';
import './act'; // exp_f32x4 / exp_f32 are declared @global there

/** ln x for a positive normal f64 (here always ≥ 1): x = 2^e·m with m ∈ [√½, √2), ln m = 2·atanh(z),
 *  z = (m − 1)/(m + 1), |z| ≤ 0.1716, atanh by its series to z^17 (truncation < 1e-14). */
function ln_f64(x: f64): f64 {
  const bits = reinterpret<u64>(x);
  let e = <i32>((bits >> 52) & 0x7ff) - 1023;
  let m = reinterpret<f64>((bits & 0x000fffffffffffff) | 0x3ff0000000000000);
  if (m > 1.4142135623730951) { m *= 0.5; e++; }
  const z = (m - 1) / (m + 1), z2 = z * z;
  let s = 1.0 / 17;
  for (let k = 15; k >= 1; k -= 2) s = s * z2 + 1.0 / <f64>k;
  return <f64>e * 0.6931471805599453 + 2 * z * s;
}

/** Row max over classes (SIMD with a scalar tail); the row has ≥ 1 class. */
function row_max(row: usize, classes: i32): f32 {
  let m: f32 = load<f32>(row);
  let j = 0;
  if (classes >= 4) {
    let mv = v128.load(row);
    for (j = 4; j + 4 <= classes; j += 4) mv = f32x4.max(mv, v128.load(at(row, j)));
    m = max(max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
  }
  for (; j < classes; j++) m = max(m, load<f32>(at(row, j)));
  return m;
}

/** out[j] = e^(x[j] − m) for the row; returns Σ out[j] (f32 lanes, summed in f64 at the end). */
function row_exp_sum(x: usize, out: usize, classes: i32, m: f32): f64 {
  const mv = f32x4.splat(m);
  let sv = f32x4.splat(0);
  let j = 0;
  for (; j + 4 <= classes; j += 4) {
    const ev = exp_f32x4(f32x4.sub(v128.load(at(x, j)), mv));
    v128.store(at(out, j), ev);
    sv = f32x4.add(sv, ev);
  }
  let s: f64 = <f64>f32x4.extract_lane(sv, 0) + <f64>f32x4.extract_lane(sv, 1) + <f64>f32x4.extract_lane(sv, 2) + <f64>f32x4.extract_lane(sv, 3);
  for (; j < classes; j++) {
    const ev = exp_f32(load<f32>(at(x, j)) - m);
    store<f32>(at(out, j), ev);
    s += ev;
  }
  return s;
}

/** y[j] *= f for the row. */
function row_scale(y: usize, classes: i32, f: f32): void {
  const fv = f32x4.splat(f);
  let j = 0;
  for (; j + 4 <= classes; j += 4) v128.store(at(y, j), f32x4.mul(v128.load(at(y, j)), fv));
  for (; j < classes; j++) store<f32>(at(y, j), load<f32>(at(y, j)) * f);
}

/** Stable softmax of one row into p; returns ln Σ e^(x − max) + max = logsumexp(x), for the loss. */
function softmax_row(x: usize, p: usize, classes: i32): f64 {
  const m = row_max(x, classes);
  const s = row_exp_sum(x, p, classes, m);
  row_scale(p, classes, <f32>(1.0 / s));
  return <f64>m + ln_f64(s);
}

// ---------------------------------------------------------------------------------------------------------------
// Softmax alone (a Softmax layer): x, y, dy, dx [rows, classes].

/** y[r, :] = softmax(x[r, :]) (max subtracted first). y may be x. */
export function softmax_forward_f32(rows: i32, classes: i32, x: usize, y: usize): void {
  for (let r = 0; r < rows; r++) softmax_row(at(x, r * classes), at(y, r * classes), classes);
}

/** From the output y: dx = y ⊙ (dy − Σ_j dy[j]·y[j]) per row. dx may be dy. */
export function softmax_backward_f32(rows: i32, classes: i32, y: usize, dy: usize, dx: usize): void {
  for (let r = 0; r < rows; r++) {
    const yr = at(y, r * classes), gr = at(dy, r * classes), dr = at(dx, r * classes);
    let dot: f64 = 0;
    for (let j = 0; j < classes; j++) dot += <f64>load<f32>(at(yr, j)) * <f64>load<f32>(at(gr, j));
    const dv = f32x4.splat(<f32>dot);
    let j = 0;
    for (; j + 4 <= classes; j += 4) {
      v128.store(at(dr, j), f32x4.mul(v128.load(at(yr, j)), f32x4.sub(v128.load(at(gr, j)), dv)));
    }
    for (; j < classes; j++) store<f32>(at(dr, j), load<f32>(at(yr, j)) * (load<f32>(at(gr, j)) - <f32>dot));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Softmax cross-entropy, sparse labels: logits, probs, dlogits [rows, classes]; labels (i32), losses [rows].
// loss_r = logsumexp(logits[r]) − logits[r, label_r] (never log(0)); ∂loss_r/∂logits[r] = p[r] − onehot(label_r).

/**
 * probs = softmax(logits) per row (probs may be logits), losses[r] = −ln p[r, labels[r]]; returns the mean loss.
 * A label outside [0, classes) (the checked wrapper rejects them first) is never read through: its loss is NaN.
 */
export function softmax_xent_sparse_forward_f32(rows: i32, classes: i32, logits: usize, labels: usize, probs: usize, losses: usize): f32 {
  let total: f64 = 0;
  for (let r = 0; r < rows; r++) {
    const xr = at(logits, r * classes);
    const label = load<i32>(at(labels, r));
    const xLabel: f64 = <u32>label < <u32>classes ? <f64>load<f32>(at(xr, label)) : NaN; // read before probs may overwrite logits
    const loss = softmax_row(xr, at(probs, r * classes), classes) - xLabel;
    store<f32>(at(losses, r), <f32>loss);
    total += loss;
  }
  return <f32>(total / <f64>rows);
}

/** dlogits = scale·(probs − onehot(labels)). dlogits may be probs. An out-of-range label subtracts nothing. */
export function softmax_xent_sparse_backward_f32(rows: i32, classes: i32, probs: usize, labels: usize, scale: f32, dlogits: usize): void {
  for (let r = 0; r < rows; r++) {
    const pr = at(probs, r * classes), dr = at(dlogits, r * classes);
    const sv = f32x4.splat(scale);
    let j = 0;
    for (; j + 4 <= classes; j += 4) v128.store(at(dr, j), f32x4.mul(v128.load(at(pr, j)), sv));
    for (; j < classes; j++) store<f32>(at(dr, j), load<f32>(at(pr, j)) * scale);
    const label = load<i32>(at(labels, r));
    if (<u32>label < <u32>classes) store<f32>(at(dr, label), (load<f32>(at(pr, label)) - 1) * scale);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Softmax cross-entropy, soft targets (one-hot, label-smoothed, any distribution): targets [rows, classes].
// loss_r = −Σ_j t[j]·ln p[j] = T·logsumexp(x) − Σ_j t[j]·x[j] with T = Σ_j t[j];  ∂loss_r/∂x = T·p − t.

/** probs = softmax(logits) (may be logits), losses[r] = −Σ_j targets[r, j]·ln probs[r, j]; returns the mean over rows. */
export function softmax_xent_forward_f32(rows: i32, classes: i32, logits: usize, targets: usize, probs: usize, losses: usize): f32 {
  let total: f64 = 0;
  for (let r = 0; r < rows; r++) {
    const xr = at(logits, r * classes), tr = at(targets, r * classes);
    let tsum: f64 = 0, tx: f64 = 0; // before the softmax, which may overwrite logits with probs
    for (let j = 0; j < classes; j++) {
      const t = <f64>load<f32>(at(tr, j));
      tsum += t;
      tx += t * <f64>load<f32>(at(xr, j));
    }
    const loss = tsum * softmax_row(xr, at(probs, r * classes), classes) - tx;
    store<f32>(at(losses, r), <f32>loss);
    total += loss;
  }
  return <f32>(total / <f64>rows);
}

/** dlogits = scale·(T·probs − targets), T = Σ_j targets[r, j] (1 for a distribution). dlogits may be probs. */
export function softmax_xent_backward_f32(rows: i32, classes: i32, probs: usize, targets: usize, scale: f32, dlogits: usize): void {
  for (let r = 0; r < rows; r++) {
    const pr = at(probs, r * classes), tr = at(targets, r * classes), dr = at(dlogits, r * classes);
    let tsum: f64 = 0;
    for (let j = 0; j < classes; j++) tsum += <f64>load<f32>(at(tr, j));
    const tv = f32x4.splat(<f32>tsum), sv = f32x4.splat(scale);
    let j = 0;
    for (; j + 4 <= classes; j += 4) {
      const d = f32x4.sub(f32x4.mul(tv, v128.load(at(pr, j))), v128.load(at(tr, j)));
      v128.store(at(dr, j), f32x4.mul(d, sv));
    }
    for (; j < classes; j++) store<f32>(at(dr, j), (<f32>tsum * load<f32>(at(pr, j)) - load<f32>(at(tr, j))) * scale);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Binary cross-entropy on logits: x, t, losses, dx [n] (t ∈ [0, 1]).
// loss = −t·ln σ(x) − (1 − t)·ln(1 − σ(x)) = max(x, 0) − x·t + ln(1 + e^−|x|), stable for any x; ∂/∂x = σ(x) − t.

/** losses[i] = max(x, 0) − x·t + ln(1 + e^−|x|); returns the mean over the n elements. */
export function bce_logits_forward_f32(n: i32, x: usize, t: usize, losses: usize): f32 {
  let total: f64 = 0;
  for (let i = 0; i < n; i++) {
    const xi = load<f32>(at(x, i)), ti = load<f32>(at(t, i));
    const loss = <f64>max(xi, 0) - <f64>xi * <f64>ti + ln_f64(1 + <f64>exp_f32(-abs(xi)));
    store<f32>(at(losses, i), <f32>loss);
    total += loss;
  }
  return <f32>(total / <f64>n);
}

/** dx = scale·(σ(x) − t), σ(x) = 1/(1 + e^−x). dx may be x. */
export function bce_logits_backward_f32(n: i32, x: usize, t: usize, scale: f32, dx: usize): void {
  const one = f32x4.splat(1), sv = f32x4.splat(scale);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const s = f32x4.div(one, f32x4.add(one, exp_f32x4(f32x4.neg(v128.load(at(x, i))))));
    v128.store(at(dx, i), f32x4.mul(f32x4.sub(s, v128.load(at(t, i))), sv));
  }
  for (; i < n; i++) {
    const s: f32 = 1 / (1 + exp_f32(-load<f32>(at(x, i))));
    store<f32>(at(dx, i), (s - load<f32>(at(t, i))) * scale);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Mean squared error: y (prediction), t (target), losses, dy [n].

/** losses[i] = (y − t)²; returns the mean over the n elements. */
export function mse_forward_f32(n: i32, y: usize, t: usize, losses: usize): f32 {
  let total: f64 = 0;
  for (let i = 0; i < n; i++) {
    const d = <f64>load<f32>(at(y, i)) - <f64>load<f32>(at(t, i));
    store<f32>(at(losses, i), <f32>(d * d));
    total += d * d;
  }
  return <f32>(total / <f64>n);
}

/** dy = scale·2·(y − t) (scale = 1/n for the mean). dy may be y. */
export function mse_backward_f32(n: i32, y: usize, t: usize, scale: f32, dy: usize): void {
  const s2 = f32x4.splat(2 * scale);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(dy, i), f32x4.mul(f32x4.sub(v128.load(at(y, i)), v128.load(at(t, i))), s2));
  for (; i < n; i++) store<f32>(at(dy, i), (load<f32>(at(y, i)) - load<f32>(at(t, i))) * (2 * scale));
}
