// Reductions over flat f32 buffers: the chunked all-reduce of the gradient slices (summed in slice order, so
// every worker count gives the same bits for the same slices), in-place scaling, the squared norm for
// gradient clipping, and fill. `n` counts floats; strides count floats.

/**
 * dst[i] = Σ_{s=0}^{k-1} src[s·stride + i] for i < n, added in slice order ((s0 + s1) + s2) + …
 * dst may be the first slice itself (src), the in-place all-reduce; it must not overlap any other slice.
 */
export function sum_slices_f32(dst: usize, src: usize, n: i32, k: i32, stride: i32): void {
  const sb = <usize>stride << 2;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    let p = src + off;
    let acc = v128.load(p);
    for (let s = 1; s < k; s++) {
      p += sb;
      acc = f32x4.add(acc, v128.load(p));
    }
    v128.store(dst + off, acc);
  }
  for (; i < n; i++) {
    const off = <usize>i << 2;
    let p = src + off;
    let acc = load<f32>(p);
    for (let s = 1; s < k; s++) {
      p += sb;
      acc += load<f32>(p);
    }
    store<f32>(dst + off, acc);
  }
}

/** x[i] *= s for i < n (gradient clipping, averaging over workers). */
export function scale_inplace_f32(x: usize, n: i32, s: f32): void {
  const sv = f32x4.splat(s);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const p = x + (<usize>i << 2);
    v128.store(p, f32x4.mul(v128.load(p), sv));
  }
  for (; i < n; i++) {
    const p = x + (<usize>i << 2);
    store<f32>(p, load<f32>(p) * s);
  }
}

/**
 * Σ x[i]² for i < n, in f64: each square of an f32 is exact in f64, so the only rounding is the f64 sum
 * (two lanes, then the tail). For gradient-norm clipping and per-layer gradient norms.
 */
export function sum_squares_f32(x: usize, n: i32): f64 {
  let acc0 = f64x2.splat(0), acc1 = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    const lo = f64x2.promote_low_f32x4(v);
    const hi = f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3));
    acc0 = f64x2.add(acc0, f64x2.mul(lo, lo));
    acc1 = f64x2.add(acc1, f64x2.mul(hi, hi));
  }
  const acc = f64x2.add(acc0, acc1);
  let s = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
  for (; i < n; i++) {
    const v = <f64>load<f32>(x + (<usize>i << 2));
    s += v * v;
  }
  return s;
}

/** x[i] = value for i < n (zeroing gradients, initialising optimizer state). */
export function fill_f32(x: usize, n: i32, value: f32): void {
  const v = f32x4.splat(value);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(x + (<usize>i << 2), v);
  for (; i < n; i++) store<f32>(x + (<usize>i << 2), value);
}
