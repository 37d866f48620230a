// Inverted dropout with a counter-based mask: element i (global index, counting from the start of the whole
// tensor) is kept iff hash(seed, step, i) ≥ p·2³², so any thread computing any slice of the tensor draws the
// same mask, and backward regenerates it instead of storing it.
//   x, y, dy, dx: [n] — a slice whose first element has global index firstIndex.
//   forward  y  = x ·mask/(1-p)        backward dx = dy·mask/(1-p)
// The hash: (k0, k1) = mixes of (seed, step); u = lowbias32(lowbias32(i + k0) ^ k1), where lowbias32 is
// Chris Wellons' 32-bit integer finalizer (xor-shift / multiply; multipliers 0x7feb352d, 0x846ca68b). The key
// enters twice, around a nonlinear round, so masks for different steps are not shifts of one another.

@inline function lowbias32(x: u32): u32 {
  x ^= x >>> 16; x *= 0x7feb352d;
  x ^= x >>> 15; x *= 0x846ca68b;
  x ^= x >>> 16;
  return x;
}

@inline function lowbias32x4(x: v128): v128 {
  x = v128.xor(x, i32x4.shr_u(x, 16)); x = i32x4.mul(x, i32x4.splat(0x7feb352d));
  x = v128.xor(x, i32x4.shr_u(x, 15)); x = i32x4.mul(x, i32x4.splat(<i32>0x846ca68b));
  return v128.xor(x, i32x4.shr_u(x, 16));
}

@inline function key0(seed: i32, step: i32): u32 {
  return lowbias32(<u32>seed ^ lowbias32(<u32>step + 0x9e3779b9));
}

@inline function key1(seed: i32, step: i32): u32 {
  return lowbias32(<u32>step ^ lowbias32(<u32>seed + 0x632be5ab));
}

/** Keep threshold: element kept iff its hash ≥ floor(p·2³²) (p in [0, 1)). */
@inline function threshold(p: f32): u32 {
  const t = Math.floor(<f64>p * 4294967296.0);
  return t >= 4294967295.0 ? 0xffffffff : <u32>t;
}

/** dst[i] = keep(firstIndex + i) ? src[i]/(1-p) : 0 — forward (src = x) and backward (src = dy) alike. */
function applyMask(src: usize, dst: usize, n: i32, p: f32, seed: i32, step: i32, firstIndex: i32): void {
  const k0 = key0(seed, step), k1 = key1(seed, step), t = threshold(p);
  const scale: f32 = <f32>1 / (<f32>1 - p);
  const k0v = i32x4.splat(<i32>k0), k1v = i32x4.splat(<i32>k1), tv = i32x4.splat(<i32>t);
  const sv = f32x4.splat(scale), four = i32x4.splat(4);
  let idx = i32x4.add(i32x4.splat(firstIndex), i32x4(0, 1, 2, 3));
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const h = lowbias32x4(v128.xor(lowbias32x4(i32x4.add(idx, k0v)), k1v));
    const keep = i32x4.ge_u(h, tv);
    const o = <usize>i << 2;
    v128.store(dst + o, v128.and(f32x4.mul(v128.load(src + o), sv), keep));
    idx = i32x4.add(idx, four);
  }
  for (; i < n; i++) {
    const h = lowbias32(lowbias32(<u32>(firstIndex + i) + k0) ^ k1);
    const o = <usize>i << 2;
    store<f32>(dst + o, h >= t ? load<f32>(src + o) * scale : <f32>0);
  }
}

/** y = x·mask/(1-p); x, y: [n]; element i has global index firstIndex + i. y may be x. */
export function dropout_forward_f32(x: usize, y: usize, n: i32, p: f32, seed: i32, step: i32, firstIndex: i32): void {
  applyMask(x, y, n, p, seed, step, firstIndex);
}

/** dx = dy·mask/(1-p) with the forward's (seed, step, firstIndex); dy, dx: [n]. dx may be dy. */
export function dropout_backward_f32(dy: usize, dx: usize, n: i32, p: f32, seed: i32, step: i32, firstIndex: i32): void {
  applyMask(dy, dx, n, p, seed, step, firstIndex);
}
