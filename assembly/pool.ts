// 2-D pooling, f32, NHWC, SIMD over the contiguous channel dimension (4 channels a vector; a forward pass runs
// the channels past the last multiple of 4 as one overlapping vector where c ≥ 4, a scalar tail below that).
//   x, dx  [n, h, w, c]       y, dy, argmax  [n, oh, ow, c]
// Window geometry: output (oy, ox) covers input rows oy·sh − padTop … + kh − 1 and columns ox·sw − padLeft … + kw − 1;
// cells outside [0, h) × [0, w) are padding. The caller computes padTop/padLeft and oh/ow (TensorFlow's 'valid'
// and 'same', asymmetric 'same' included: the extra padded row/column goes at the bottom/right), and guarantees
// every window holds at least one real cell. Padding never takes part: max pooling ignores it (a padded cell never
// wins) and average pooling divides by the number of real cells in the window, as TensorFlow does for 'same'.
// The kernels clip every window to the input, so they never read or write outside x, y, dx, dy.
//
// The geometry travels as a pointer to an i32 descriptor, as for convolution (assembly/conv.ts): the same 12
// numbers feed every kernel here, and as 12 positional arguments beside 3 pointers they invited a swapped
// stride and padding that no type checker sees. Slot order: scripts/abi.mjs (`pool`), generated into
// assembly/abi.ts and src/engine/generated/abi.ts (writePoolDesc); a layer writes its descriptor at plan time.
//   desc[0..11] = n, h, w, c, kh, kw, strideH, strideW, padTop, padLeft, oh, ow
// Each kernel loads the fields into locals once, at the top.
import {
  descI32, POOL_N, POOL_H, POOL_W, POOL_C, POOL_KH, POOL_KW, POOL_STRIDE_H, POOL_STRIDE_W, POOL_PAD_TOP, POOL_PAD_LEFT,
  POOL_OH, POOL_OW,
} from './abi';
import { at } from './simd';

@inline function max_i32(a: i32, b: i32): i32 { return a > b ? a : b; }
@inline function min_i32(a: i32, b: i32): i32 { return a < b ? a : b; }

// ---------------------------------------------------------------------------------------------------------------
// Max pooling. argmax[o] is the flat element index into x (over the whole [n, h, w, c] tensor) of the value that
// output o took, so backward is a scatter: dx[argmax[o]] += dy[o]. Ties go to the first cell in row-major window
// order (as TensorFlow.js); NaN never wins a comparison.

/** Max and argmax over one window for channels ch … ch + 3 (row0 = b·h: the image's first row in the batch). */
@inline function maxWindow4(x: usize, y: usize, argmax: usize, o: i32, first: i32, ch: i32, row0: i32, w: i32, c: i32,
  iy0: i32, iy1: i32, ix0: i32, ix1: i32): void {
  const lane = i32x4(0, 1, 2, 3);
  let m = v128.load(at(x, first + ch));
  let idx = i32x4.add(i32x4.splat(first + ch), lane);
  for (let iy = iy0; iy < iy1; iy++) {
    for (let ix = ix0; ix < ix1; ix++) {
      const e = ((row0 + iy) * w + ix) * c + ch;
      const v = v128.load(at(x, e));
      const gt = f32x4.gt(v, m);
      m = v128.bitselect(v, m, gt);
      idx = v128.bitselect(i32x4.add(i32x4.splat(e), lane), idx, gt);
    }
  }
  v128.store(at(y, o + ch), m);
  v128.store(at(argmax, o + ch), idx);
}

/** The same for a whole 2×2 window at x[first] (the common 2×2/2 pool): unrolled, as the loops cost more than the compares. */
@inline function maxWindow2x2(x: usize, y: usize, argmax: usize, o: i32, first: i32, ch: i32, w: i32, c: i32): void {
  const lane = i32x4(0, 1, 2, 3), e0 = first + ch, e1 = e0 + c, e2 = e0 + w * c, e3 = e2 + c;
  let m = v128.load(at(x, e0)), idx = i32x4.add(i32x4.splat(e0), lane);
  let v = v128.load(at(x, e1)), gt = f32x4.gt(v, m);
  m = v128.bitselect(v, m, gt); idx = v128.bitselect(i32x4.add(i32x4.splat(e1), lane), idx, gt);
  v = v128.load(at(x, e2)); gt = f32x4.gt(v, m);
  m = v128.bitselect(v, m, gt); idx = v128.bitselect(i32x4.add(i32x4.splat(e2), lane), idx, gt);
  v = v128.load(at(x, e3)); gt = f32x4.gt(v, m);
  m = v128.bitselect(v, m, gt); idx = v128.bitselect(i32x4.add(i32x4.splat(e3), lane), idx, gt);
  v128.store(at(y, o + ch), m);
  v128.store(at(argmax, o + ch), idx);
}

/** y = max over each window, argmax = its flat index in x. An empty window (never, from the checked wrapper) gives y = 0, argmax = −1. */
export function maxpool2d_forward_f32(desc: usize, x: usize, y: usize, argmax: usize): void {
  const n = descI32(desc, POOL_N), h = descI32(desc, POOL_H), w = descI32(desc, POOL_W), c = descI32(desc, POOL_C);
  const kh = descI32(desc, POOL_KH), kw = descI32(desc, POOL_KW), sh = descI32(desc, POOL_STRIDE_H), sw = descI32(desc, POOL_STRIDE_W);
  const padTop = descI32(desc, POOL_PAD_TOP), padLeft = descI32(desc, POOL_PAD_LEFT), oh = descI32(desc, POOL_OH), ow = descI32(desc, POOL_OW);
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      const iy0 = max_i32(oy * sh - padTop, 0), iy1 = min_i32(oy * sh - padTop + kh, h);
      for (let ox = 0; ox < ow; ox++) {
        const ix0 = max_i32(ox * sw - padLeft, 0), ix1 = min_i32(ox * sw - padLeft + kw, w);
        const o = ((b * oh + oy) * ow + ox) * c; // first element of this output pixel
        if (iy0 >= iy1 || ix0 >= ix1) {
          for (let ch = 0; ch < c; ch++) { store<f32>(at(y, o + ch), 0); store<i32>(at(argmax, o + ch), -1); }
          continue;
        }
        const first = ((b * h + iy0) * w + ix0) * c; // the window's first real cell seeds the running max
        let ch = 0;
        if (iy1 - iy0 == 2 && ix1 - ix0 == 2) {
          for (; ch + 4 <= c; ch += 4) maxWindow2x2(x, y, argmax, o, first, ch, w, c);
          if (ch < c && c >= 4) { maxWindow2x2(x, y, argmax, o, first, c - 4, w, c); ch = c; }
        } else {
          for (; ch + 4 <= c; ch += 4) maxWindow4(x, y, argmax, o, first, ch, b * h, w, c, iy0, iy1, ix0, ix1);
          // c ≥ 4 and not a multiple of 4: the last 4 channels as one more vector, overlapping the one before (it
          // writes the same values there), instead of a scalar tail whose compares branch on the data. Left out of
          // rede/infer's module (assembly/infer.ts), which has a size budget: there the scalar tail does it.
          if (!isDefined(REDE_INFER_MODULE) && ch < c && c >= 4) { maxWindow4(x, y, argmax, o, first, c - 4, b * h, w, c, iy0, iy1, ix0, ix1); ch = c; }
        }
        for (; ch < c; ch++) {
          let m = load<f32>(at(x, first + ch));
          let idx = first + ch;
          for (let iy = iy0; iy < iy1; iy++) {
            for (let ix = ix0; ix < ix1; ix++) {
              const e = ((b * h + iy) * w + ix) * c + ch;
              const v = load<f32>(at(x, e));
              if (v > m) { m = v; idx = e; }
            }
          }
          store<f32>(at(y, o + ch), m);
          store<i32>(at(argmax, o + ch), idx);
        }
      }
    }
  }
}

/**
 * dx = (accumulate ? dx : 0) + scatter of dy through argmax: dx[argmax[o]] += dy[o] for o < yCount.
 * xCount = n·h·w·c, yCount = n·oh·ow·c. Indices outside [0, xCount) are skipped, so a corrupt argmax cannot
 * write outside dx.
 */
export function maxpool2d_backward_f32(desc: usize, argmax: usize, dy: usize, dx: usize, accumulate: i32): void {
  const n = descI32(desc, POOL_N), c = descI32(desc, POOL_C);
  const xCount = n * descI32(desc, POOL_H) * descI32(desc, POOL_W) * c, yCount = n * descI32(desc, POOL_OH) * descI32(desc, POOL_OW) * c;
  if (!accumulate) memory.fill(dx, 0, <usize>xCount << 2);
  for (let o = 0; o < yCount; o++) {
    const i = load<i32>(at(argmax, o));
    if (<u32>i < <u32>xCount) store<f32>(at(dx, i), load<f32>(at(dx, i)) + load<f32>(at(dy, o)));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Average pooling: y = (Σ over the window's real cells) / (number of real cells).

/** The window's mean for channels ch … ch + 3 (row0 = b·h). */
@inline function meanWindow4(x: usize, y: usize, o: i32, ch: i32, row0: i32, w: i32, c: i32, iy0: i32, iy1: i32, ix0: i32, ix1: i32, inv: f32): void {
  let s = f32x4.splat(0);
  for (let iy = iy0; iy < iy1; iy++) {
    for (let ix = ix0; ix < ix1; ix++) s = f32x4.add(s, v128.load(at(x, ((row0 + iy) * w + ix) * c + ch)));
  }
  v128.store(at(y, o + ch), f32x4.mul(s, f32x4.splat(inv)));
}

/** y[b, oy, ox, :] = mean of x over the real cells of the window. */
export function avgpool2d_forward_f32(desc: usize, x: usize, y: usize): void {
  const n = descI32(desc, POOL_N), h = descI32(desc, POOL_H), w = descI32(desc, POOL_W), c = descI32(desc, POOL_C);
  const kh = descI32(desc, POOL_KH), kw = descI32(desc, POOL_KW), sh = descI32(desc, POOL_STRIDE_H), sw = descI32(desc, POOL_STRIDE_W);
  const padTop = descI32(desc, POOL_PAD_TOP), padLeft = descI32(desc, POOL_PAD_LEFT), oh = descI32(desc, POOL_OH), ow = descI32(desc, POOL_OW);
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      const iy0 = max_i32(oy * sh - padTop, 0), iy1 = min_i32(oy * sh - padTop + kh, h);
      for (let ox = 0; ox < ow; ox++) {
        const ix0 = max_i32(ox * sw - padLeft, 0), ix1 = min_i32(ox * sw - padLeft + kw, w);
        const o = ((b * oh + oy) * ow + ox) * c;
        const count = max_i32(iy1 - iy0, 0) * max_i32(ix1 - ix0, 0);
        const inv: f32 = count > 0 ? <f32>1 / <f32>count : 0;
        let ch = 0;
        for (; ch + 4 <= c; ch += 4) meanWindow4(x, y, o, ch, b * h, w, c, iy0, iy1, ix0, ix1, inv);
        if (!isDefined(REDE_INFER_MODULE) && ch < c && c >= 4) { meanWindow4(x, y, o, c - 4, b * h, w, c, iy0, iy1, ix0, ix1, inv); ch = c; } // overlapping, as for max
        for (; ch < c; ch++) {
          let s: f32 = 0;
          for (let iy = iy0; iy < iy1; iy++) {
            for (let ix = ix0; ix < ix1; ix++) s += load<f32>(at(x, ((b * h + iy) * w + ix) * c + ch));
          }
          store<f32>(at(y, o + ch), s * inv);
        }
      }
    }
  }
}

/** dx = (accumulate ? dx : 0) + each window's dy / count, spread over the window's real cells. */
export function avgpool2d_backward_f32(desc: usize, dy: usize, dx: usize, accumulate: i32): void {
  const n = descI32(desc, POOL_N), h = descI32(desc, POOL_H), w = descI32(desc, POOL_W), c = descI32(desc, POOL_C);
  const kh = descI32(desc, POOL_KH), kw = descI32(desc, POOL_KW), sh = descI32(desc, POOL_STRIDE_H), sw = descI32(desc, POOL_STRIDE_W);
  const padTop = descI32(desc, POOL_PAD_TOP), padLeft = descI32(desc, POOL_PAD_LEFT), oh = descI32(desc, POOL_OH), ow = descI32(desc, POOL_OW);
  if (!accumulate) memory.fill(dx, 0, <usize>n * h * w * c << 2);
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      const iy0 = max_i32(oy * sh - padTop, 0), iy1 = min_i32(oy * sh - padTop + kh, h);
      for (let ox = 0; ox < ow; ox++) {
        const ix0 = max_i32(ox * sw - padLeft, 0), ix1 = min_i32(ox * sw - padLeft + kw, w);
        const o = ((b * oh + oy) * ow + ox) * c;
        const count = max_i32(iy1 - iy0, 0) * max_i32(ix1 - ix0, 0);
        if (count == 0) continue;
        const inv: f32 = <f32>1 / <f32>count;
        for (let iy = iy0; iy < iy1; iy++) {
          for (let ix = ix0; ix < ix1; ix++) {
            const e = ((b * h + iy) * w + ix) * c;
            let ch = 0;
            for (; ch + 4 <= c; ch += 4) {
              const g = f32x4.mul(v128.load(at(dy, o + ch)), f32x4.splat(inv));
              v128.store(at(dx, e + ch), f32x4.add(v128.load(at(dx, e + ch)), g));
            }
            for (; ch < c; ch++) store<f32>(at(dx, e + ch), load<f32>(at(dx, e + ch)) + load<f32>(at(dy, o + ch)) * inv);
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Global average pooling: x, dx [n, hw, c] (hw = h·w), y, dy [n, c].

/** y[b, ch] = mean over the hw positions of x[b, :, ch]. */
export function global_avgpool_forward_f32(n: i32, hw: i32, c: i32, x: usize, y: usize): void {
  const inv: f32 = <f32>1 / <f32>hw;
  for (let b = 0; b < n; b++) {
    const xb = at(x, b * hw * c), yb = at(y, b * c);
    let ch = 0;
    for (; ch + 4 <= c; ch += 4) {
      let s = f32x4.splat(0);
      for (let p = 0; p < hw; p++) s = f32x4.add(s, v128.load(at(xb, p * c + ch)));
      v128.store(at(yb, ch), f32x4.mul(s, f32x4.splat(inv)));
    }
    for (; ch < c; ch++) {
      let s: f32 = 0;
      for (let p = 0; p < hw; p++) s += load<f32>(at(xb, p * c + ch));
      store<f32>(at(yb, ch), s * inv);
    }
  }
}

/** dx[b, p, ch] = (accumulate ? dx : 0) + dy[b, ch] / hw. */
export function global_avgpool_backward_f32(n: i32, hw: i32, c: i32, dy: usize, dx: usize, accumulate: i32): void {
  const inv: f32 = <f32>1 / <f32>hw;
  for (let b = 0; b < n; b++) {
    const dyb = at(dy, b * c);
    for (let p = 0; p < hw; p++) {
      const dxp = at(dx, (b * hw + p) * c);
      let ch = 0;
      for (; ch + 4 <= c; ch += 4) {
        const g = f32x4.mul(v128.load(at(dyb, ch)), f32x4.splat(inv));
        v128.store(at(dxp, ch), accumulate ? f32x4.add(v128.load(at(dxp, ch)), g) : g);
      }
      for (; ch < c; ch++) {
        const g = load<f32>(at(dyb, ch)) * inv;
        store<f32>(at(dxp, ch), accumulate ? load<f32>(at(dxp, ch)) + g : g);
      }
    }
  }
}
