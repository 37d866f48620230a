// Embedding lookup and masking: the two ways a sequence enters a recurrent layer (assembly/rnn.ts).
//   ids [rows] (integer ids held as f32, rounded to nearest)   table, dtable [vocab, dim]   y, dy [rows, dim]
// Embedding: y[i] = table[round(ids[i])]. With maskZero, id 0 is padding: its row is 0, so a recurrent layer
// after it (masked) skips that step. An id outside [0, vocab) or not finite writes a zero row and is counted:
// the layer turns a count > 0 into an error naming the id (a kernel must never trap on data).
// Masking (Keras's Masking): a row whose values all equal `value` becomes 0, so the recurrent layer skips it.

import { at } from './simd';
/** The row index of an id, or −1 if it is not an id of the table (or is padding with maskZero). */
// @ts-ignore: decorator
@inline function rowOf(id: f32, vocab: i32, maskZero: i32): i32 {
  if (!(id > -0.5 && id < <f32>vocab - 0.5)) return -2; // NaN fails the test too
  const k = <i32>nearest<f32>(id);
  return maskZero && k == 0 ? -1 : k;
}

/** y[i] = table[round(ids[i])] (0 for padding and for bad ids); returns how many ids were bad. */
export function embedding_forward_f32(rows: i32, dim: i32, vocab: i32, maskZero: i32, ids: usize, table: usize, y: usize): i32 {
  let bad = 0;
  const bytes = <usize>dim << 2;
  for (let i = 0; i < rows; i++) {
    const k = rowOf(load<f32>(at(ids, i)), vocab, maskZero), dst = at(y, i * dim);
    if (k < 0) { memory.fill(dst, 0, bytes); if (k == -2) bad++; }
    else memory.copy(dst, at(table, k * dim), bytes);
  }
  return bad;
}

/** dtable (+)= Σ over rows of dy[i] into row round(ids[i]), in row order (deterministic); padding and bad ids add nothing. */
export function embedding_backward_f32(rows: i32, dim: i32, vocab: i32, maskZero: i32, ids: usize, dy: usize, dtable: usize, accumulate: i32): void {
  if (!accumulate) memory.fill(dtable, 0, <usize>(vocab * dim) << 2);
  for (let i = 0; i < rows; i++) {
    const k = rowOf(load<f32>(at(ids, i)), vocab, maskZero);
    if (k < 0) continue;
    const src = at(dy, i * dim), dst = at(dtable, k * dim);
    let j = 0;
    for (; j + 4 <= dim; j += 4) v128.store(at(dst, j), f32x4.add(v128.load(at(dst, j)), v128.load(at(src, j))));
    for (; j < dim; j++) store<f32>(at(dst, j), load<f32>(at(dst, j)) + load<f32>(at(src, j)));
  }
}

function isMasked(row: usize, cols: i32, value: f32): bool {
  for (let j = 0; j < cols; j++) if (load<f32>(at(row, j)) != value) return false;
  return true;
}

/** y = x, except rows whose values all equal `value`, which become 0. y may be x. */
export function masking_forward_f32(rows: i32, cols: i32, value: f32, x: usize, y: usize): void {
  const bytes = <usize>cols << 2;
  for (let i = 0; i < rows; i++) {
    const src = at(x, i * cols), dst = at(y, i * cols);
    if (isMasked(src, cols, value)) memory.fill(dst, 0, bytes);
    else if (dst != src) memory.copy(dst, src, bytes);
  }
}

/** dx = dy on kept rows, 0 on masked ones (read from the forward input x). dx may be dy. */
export function masking_backward_f32(rows: i32, cols: i32, value: f32, x: usize, dy: usize, dx: usize): void {
  const bytes = <usize>cols << 2;
  for (let i = 0; i < rows; i++) {
    const src = at(dy, i * cols), dst = at(dx, i * cols);
    if (isMasked(at(x, i * cols), cols, value)) memory.fill(dst, 0, bytes);
    else if (dst != src) memory.copy(dst, src, bytes);
  }
}
