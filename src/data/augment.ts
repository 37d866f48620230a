// Augmentation by one inverse affine map per example, sampled bilinearly.
// Coordinates are pixel indices; the centre is c = ((W−1)/2, (H−1)/2). The content moves by
//   p' = c + R(θ)·s·F·(p − c) + t        (F flips x when flip, s zooms: s > 1 enlarges, t shifts)
// and each output pixel p' reads the source at p = c + F·(1/s)·R(−θ)·(p' − c − t).
// Parameters of example i in epoch e are drawn from hash4(seed, e, i, k), so whichever worker
// augments the example gets the same result.
import { RedeError } from '../engine/errors';
import { uniform01 } from './rng';

export interface AugmentOptions {
  /** Zoom factor range [lo, hi] (1 = none; > 1 zooms in), or z for [1 − z, 1 + z]. */
  zoom?: number | [number, number];
  /** Maximum rotation in degrees: θ uniform in [−r, r]. */
  rotation?: number;
  /** Maximum shift in pixels per axis: uniform in [−s, s], or [sx, sy]. */
  shift?: number | [number, number];
  /** Horizontal flip with probability 1/2. */
  flip?: boolean;
  /** Value read outside the source image (default 0). */
  fill?: number;
}

/** One example's transform. */
export interface AugmentParams {
  zoom: number;
  /** Radians, counter-clockwise in image coordinates (y down). */
  angle: number;
  dx: number;
  dy: number;
  flip: boolean;
}

/** Source-from-output map: sx = a·ox + b·oy + c, sy = d·ox + e·oy + f. */
export type InverseAffine = [a: number, b: number, c: number, d: number, e: number, f: number];

export const IDENTITY_PARAMS: AugmentParams = Object.freeze({ zoom: 1, angle: 0, dx: 0, dy: 0, flip: false });

function range(v: number | [number, number] | undefined, around: number): [number, number] {
  if (v === undefined) return [around, around];
  return typeof v === 'number' ? [around - v, around + v] : v;
}

/** Check options once (the batcher does it at construction). */
export function checkAugment(opts: AugmentOptions): void {
  const [zlo, zhi] = range(opts.zoom, 1);
  if (!(zlo > 0 && zhi >= zlo && Number.isFinite(zhi))) {
    throw new RedeError(`augment: zoom range must satisfy 0 < lo <= hi, got [${zlo}, ${zhi}]`);
  }
  const shifts = typeof opts.shift === 'object' ? opts.shift : [opts.shift ?? 0];
  for (const [name, v] of [['rotation', opts.rotation ?? 0], ...shifts.map((s) => ['shift', s] as const)] as const) {
    if (!(v >= 0 && Number.isFinite(v))) throw new RedeError(`augment: ${name} must be a finite number >= 0, got ${v}`);
  }
}

/** The transform of example `index` in `epoch`, drawn from (seed, epoch, index). */
export function sampleAugment(opts: AugmentOptions, seed: number, epoch: number, index: number): AugmentParams {
  const u = (k: number) => uniform01(seed, epoch, index, k);
  const [zlo, zhi] = range(opts.zoom, 1);
  const rot = ((opts.rotation ?? 0) * Math.PI) / 180;
  const [mx, my] = typeof opts.shift === 'object' ? opts.shift : [opts.shift ?? 0, opts.shift ?? 0];
  return {
    zoom: zlo + (zhi - zlo) * u(0),
    angle: rot * (2 * u(1) - 1),
    dx: mx * (2 * u(2) - 1),
    dy: my * (2 * u(3) - 1),
    flip: opts.flip === true && u(4) < 0.5,
  };
}

/** The inverse map (output pixel → source pixel) of `p` for an h × w image. */
export function inverseAffine(p: AugmentParams, h: number, w: number): InverseAffine {
  const cx = (w - 1) / 2, cy = (h - 1) / 2;
  const cos = Math.cos(p.angle) / p.zoom, sin = Math.sin(p.angle) / p.zoom;
  const f = p.flip ? -1 : 1;
  // (1/s)·R(−θ) = [[cos, sin], [−sin, cos]] / s; then F negates the x row.
  const a = f * cos, b = f * sin, d = -sin, e = cos;
  const ox = cx + p.dx, oy = cy + p.dy; // output-side origin: c + t
  return [a, b, cx - a * ox - b * oy, d, e, cy - d * ox - e * oy];
}

/**
 * dst[dstAt ..] ← src[srcAt ..] warped by `m` with bilinear sampling; both h × w × c (HWC), taps outside
 * the source read `fill`. Interior pixels take a fast path; the generic one handles the border.
 */
export function warpAffine(
  src: Float32Array, srcAt: number, dst: Float32Array, dstAt: number,
  h: number, w: number, c: number, m: InverseAffine, fill = 0,
): void {
  const a = m[0], b = m[1], tc = m[2], d = m[3], e = m[4], tf = m[5];
  const rowStride = w * c;
  for (let oy = 0; oy < h; oy++) {
    let out = dstAt + oy * rowStride;
    for (let ox = 0; ox < w; ox++, out += c) {
      const sx = a * ox + b * oy + tc, sy = d * ox + e * oy + tf;
      const x0 = Math.floor(sx), y0 = Math.floor(sy);
      const fx = sx - x0, fy = sy - y0;
      if (x0 >= 0 && y0 >= 0 && x0 < w - 1 && y0 < h - 1) {
        const p = srcAt + y0 * rowStride + x0 * c;
        if (c === 1) {
          const top = src[p] + fx * (src[p + 1] - src[p]), bottom = src[p + w] + fx * (src[p + w + 1] - src[p + w]);
          dst[out] = top + fy * (bottom - top);
          continue;
        }
        for (let k = 0; k < c; k++) {
          const v00 = src[p + k], v01 = src[p + c + k], v10 = src[p + rowStride + k], v11 = src[p + rowStride + c + k];
          const top = v00 + fx * (v01 - v00), bottom = v10 + fx * (v11 - v10);
          dst[out + k] = top + fy * (bottom - top);
        }
      } else if (x0 < -1 || y0 < -1 || x0 >= w || y0 >= h) {
        for (let k = 0; k < c; k++) dst[out + k] = fill;
      } else {
        borderPixel(src, srcAt, dst, out, h, w, c, x0, y0, fx, fy, fill);
      }
    }
  }
}

/** One bilinear sample whose 2×2 taps straddle the image edge: taps outside read `fill`. */
function borderPixel(
  src: Float32Array, srcAt: number, dst: Float32Array, out: number,
  h: number, w: number, c: number, x0: number, y0: number, fx: number, fy: number, fill: number,
): void {
  const in0 = y0 >= 0, in1 = y0 + 1 < h, jn0 = x0 >= 0, jn1 = x0 + 1 < w;
  const row0 = srcAt + y0 * w * c, row1 = row0 + w * c;
  for (let k = 0; k < c; k++) {
    const v00 = in0 && jn0 ? src[row0 + x0 * c + k] : fill;
    const v01 = in0 && jn1 ? src[row0 + (x0 + 1) * c + k] : fill;
    const v10 = in1 && jn0 ? src[row1 + x0 * c + k] : fill;
    const v11 = in1 && jn1 ? src[row1 + (x0 + 1) * c + k] : fill;
    const top = v00 + fx * (v01 - v00), bottom = v10 + fx * (v11 - v10);
    dst[out + k] = top + fy * (bottom - top);
  }
}
