// UpSampling2D over NHWC by integer factors (Keras's layer): every output pixel reads at most four input
// pixels, so each kernel is one pass over the output with SIMD over contiguous channels.
//   x, dx [n, h, w, c]    y, dy [n, oh, ow, c],  oh = h·sizeH, ow = w·sizeW
// nearest:  y[b, oy, ox] = x[b, ⌊oy/sizeH⌋, ⌊ox/sizeW⌋]   (tf.image.resizeNearestNeighbor at an integer scale)
// bilinear: half-pixel centers, as Keras's UpSampling2D (tf.image.resize, method 'bilinear'; PyTorch's
//   align_corners=False): along each axis the source coordinate of output o is s = (o + ½)/size − ½,
//   lo = max(⌊s⌋, 0), hi = min(⌈s⌉, in − 1), t = s − lo (0 when lo == hi: the edge clamps), and
//   y = top + (bottom − top)·ty with top = x[lo_y, lo_x] + (x[lo_y, hi_x] − x[lo_y, lo_x])·tx, bottom likewise.
//   Its backward scatters dy with the four weights (1 − ty)(1 − tx), (1 − ty)tx, ty(1 − tx), ty·tx.
// The geometry is a descriptor (scripts/abi.mjs, 'upsample'), like pooling's: h, w and the two factors are
// easily swapped as positional arguments.
import { descI32, UPSAMPLE_N, UPSAMPLE_H, UPSAMPLE_W, UPSAMPLE_C, UPSAMPLE_SIZE_H, UPSAMPLE_SIZE_W } from './abi';
import { at } from './simd';

/** Source coordinate of output index o along an axis upsampled by `size` (half-pixel centers). */
// @ts-ignore: decorator
@inline function source(o: i32, size: i32): f64 {
  return (<f64>o + 0.5) / <f64>size - 0.5;
}

// @ts-ignore: decorator
@inline function lower(s: f64): i32 {
  return max(<i32>Math.floor(s), 0);
}

// @ts-ignore: decorator
@inline function upper(s: f64, size: i32): i32 {
  return min(<i32>Math.ceil(s), size - 1);
}

/** n floats from src to dst (SIMD, unaligned). */
// @ts-ignore: decorator
@inline function copyF32(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(dst, i), v128.load(at(src, i)));
  for (; i < n; i++) store<f32>(at(dst, i), load<f32>(at(src, i)));
}

/** y = nearest-neighbour upsampling of x: each input pixel copied sizeW times along its row, then each
 *  finished output row copied sizeH − 1 times below itself. */
export function upsample_nearest_forward_f32(desc: usize, x: usize, y: usize): void {
  const n = descI32(desc, UPSAMPLE_N), h = descI32(desc, UPSAMPLE_H), w = descI32(desc, UPSAMPLE_W), c = descI32(desc, UPSAMPLE_C);
  const sh = descI32(desc, UPSAMPLE_SIZE_H), sw = descI32(desc, UPSAMPLE_SIZE_W), ow = w * sw;
  const rowBytes = <usize>ow * c << 2;
  let src = x, row = y;
  for (let b = 0; b < n; b++) for (let iy = 0; iy < h; iy++) {
    let dst = row;
    for (let ix = 0; ix < w; ix++) {
      for (let k = 0; k < sw; k++) { copyF32(dst, src, c); dst = at(dst, c); }
      src = at(src, c);
    }
    for (let j = 1; j < sh; j++) memory.copy(row + <usize>j * rowBytes, row, rowBytes);
    row += <usize>sh * rowBytes;
  }
}

/** dx[b, iy, ix] = Σ of dy over the sizeH × sizeW block that pixel was copied to; dx is overwritten. */
export function upsample_nearest_backward_f32(desc: usize, dy: usize, dx: usize): void {
  const n = descI32(desc, UPSAMPLE_N), h = descI32(desc, UPSAMPLE_H), w = descI32(desc, UPSAMPLE_W), c = descI32(desc, UPSAMPLE_C);
  const sh = descI32(desc, UPSAMPLE_SIZE_H), sw = descI32(desc, UPSAMPLE_SIZE_W), ow = w * sw;
  const rowFloats = <usize>ow * c;
  let d = dx;
  for (let b = 0; b < n; b++) for (let iy = 0; iy < h; iy++) for (let ix = 0; ix < w; ix++) {
    const block = at(dy, (<usize>(b * h + iy) * sh * ow + <usize>ix * sw) * c); // dy[b, iy·sh, ix·sw, 0]
    let ch = 0;
    for (; ch + 4 <= c; ch += 4) {
      let acc = f32x4.splat(0);
      for (let j = 0; j < sh; j++) {
        const r = at(block, <usize>j * rowFloats + ch);
        for (let k = 0; k < sw; k++) acc = f32x4.add(acc, v128.load(at(r, <usize>k * c)));
      }
      v128.store(at(d, ch), acc);
    }
    for (; ch < c; ch++) {
      let acc: f32 = 0;
      for (let j = 0; j < sh; j++) {
        const r = at(block, <usize>j * rowFloats + ch);
        for (let k = 0; k < sw; k++) acc += load<f32>(at(r, <usize>k * c));
      }
      store<f32>(at(d, ch), acc);
    }
    d = at(d, c);
  }
}

/** y = bilinear upsampling of x (half-pixel centers, see the header). */
export function upsample_bilinear_forward_f32(desc: usize, x: usize, y: usize): void {
  const n = descI32(desc, UPSAMPLE_N), h = descI32(desc, UPSAMPLE_H), w = descI32(desc, UPSAMPLE_W), c = descI32(desc, UPSAMPLE_C);
  const sh = descI32(desc, UPSAMPLE_SIZE_H), sw = descI32(desc, UPSAMPLE_SIZE_W), oh = h * sh, ow = w * sw;
  let dst = y;
  for (let b = 0; b < n; b++) for (let oy = 0; oy < oh; oy++) {
    const sy = source(oy, sh), y0 = lower(sy), y1 = upper(sy, h), ty: f32 = y0 == y1 ? 0 : <f32>(sy - y0);
    const r0 = at(x, <usize>(b * h + y0) * w * c), r1 = at(x, <usize>(b * h + y1) * w * c);
    const tyv = f32x4.splat(ty);
    for (let ox = 0; ox < ow; ox++) {
      const sx = source(ox, sw), x0 = lower(sx), x1 = upper(sx, w), tx: f32 = x0 == x1 ? 0 : <f32>(sx - x0);
      const p00 = at(r0, <usize>x0 * c), p01 = at(r0, <usize>x1 * c), p10 = at(r1, <usize>x0 * c), p11 = at(r1, <usize>x1 * c);
      const txv = f32x4.splat(tx);
      let ch = 0;
      for (; ch + 4 <= c; ch += 4) {
        const a = v128.load(at(p00, ch)), bb = v128.load(at(p01, ch)), cc = v128.load(at(p10, ch)), dd = v128.load(at(p11, ch));
        const top = f32x4.add(a, f32x4.mul(f32x4.sub(bb, a), txv));
        const bottom = f32x4.add(cc, f32x4.mul(f32x4.sub(dd, cc), txv));
        v128.store(at(dst, ch), f32x4.add(top, f32x4.mul(f32x4.sub(bottom, top), tyv)));
      }
      for (; ch < c; ch++) {
        const a = load<f32>(at(p00, ch)), bb = load<f32>(at(p01, ch)), cc = load<f32>(at(p10, ch)), dd = load<f32>(at(p11, ch));
        const top = a + (bb - a) * tx, bottom = cc + (dd - cc) * tx;
        store<f32>(at(dst, ch), top + (bottom - top) * ty);
      }
      dst = at(dst, c);
    }
  }
}

/** dx = the adjoint of the bilinear forward: each dy pixel scattered onto its (up to) four sources; dx is
 *  overwritten. */
export function upsample_bilinear_backward_f32(desc: usize, dy: usize, dx: usize): void {
  const n = descI32(desc, UPSAMPLE_N), h = descI32(desc, UPSAMPLE_H), w = descI32(desc, UPSAMPLE_W), c = descI32(desc, UPSAMPLE_C);
  const sh = descI32(desc, UPSAMPLE_SIZE_H), sw = descI32(desc, UPSAMPLE_SIZE_W), oh = h * sh, ow = w * sw;
  memory.fill(dx, 0, <usize>n * h * w * c << 2);
  let g = dy;
  for (let b = 0; b < n; b++) for (let oy = 0; oy < oh; oy++) {
    const sy = source(oy, sh), y0 = lower(sy), y1 = upper(sy, h), ty: f32 = y0 == y1 ? 0 : <f32>(sy - y0);
    const r0 = at(dx, <usize>(b * h + y0) * w * c), r1 = at(dx, <usize>(b * h + y1) * w * c);
    for (let ox = 0; ox < ow; ox++) {
      const sx = source(ox, sw), x0 = lower(sx), x1 = upper(sx, w), tx: f32 = x0 == x1 ? 0 : <f32>(sx - x0);
      const p00 = at(r0, <usize>x0 * c), p01 = at(r0, <usize>x1 * c), p10 = at(r1, <usize>x0 * c), p11 = at(r1, <usize>x1 * c);
      const w00: f32 = (1 - ty) * (1 - tx), w01: f32 = (1 - ty) * tx, w10: f32 = ty * (1 - tx), w11: f32 = ty * tx;
      const v00 = f32x4.splat(w00), v01 = f32x4.splat(w01), v10 = f32x4.splat(w10), v11 = f32x4.splat(w11);
      let ch = 0;
      // The four targets may coincide (edges, lo == hi): each update reads what the previous one stored.
      for (; ch + 4 <= c; ch += 4) {
        const v = v128.load(at(g, ch));
        v128.store(at(p00, ch), f32x4.add(v128.load(at(p00, ch)), f32x4.mul(v, v00)));
        v128.store(at(p01, ch), f32x4.add(v128.load(at(p01, ch)), f32x4.mul(v, v01)));
        v128.store(at(p10, ch), f32x4.add(v128.load(at(p10, ch)), f32x4.mul(v, v10)));
        v128.store(at(p11, ch), f32x4.add(v128.load(at(p11, ch)), f32x4.mul(v, v11)));
      }
      for (; ch < c; ch++) {
        const v = load<f32>(at(g, ch));
        store<f32>(at(p00, ch), load<f32>(at(p00, ch)) + v * w00);
        store<f32>(at(p01, ch), load<f32>(at(p01, ch)) + v * w01);
        store<f32>(at(p10, ch), load<f32>(at(p10, ch)) + v * w10);
        store<f32>(at(p11, ch), load<f32>(at(p11, ch)) + v * w11);
      }
      g = at(g, c);
    }
  }
}
