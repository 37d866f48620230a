// Reference transposed convolution: the definition written out as a scatter, over plain arrays, f64 sums. It
// shares nothing with the conv kernels (rede's layer runs them: src/layers/conv2d-transpose.ts), so tests can
// hold one against the other. Output size and padding are Keras's and TensorFlow's, restated here:
//   oh = h·s + max(k − s, 0) ('valid') or h·s ('same') without output padding p;
//   oh = (h − 1)·s + k − 2·⌊k/2⌋·[same] + p with it;
//   top padding = ⌊max((h − 1)·s + k − oh, 0) / 2⌋ for 'same', 0 for 'valid'.
// Shapes: x [n, h, w, cin], w [kh, kw, filters, cin], bias [filters], y [n, oh, ow, filters].
//   y[b, iy·s − top + ky, ix·s − left + kx, f] += x[b, iy, ix, c]·w[ky, kx, f, c]   (taps outside y dropped)

export interface ConvTransposeRefOptions {
  n: number; h: number; w: number; cin: number; filters: number;
  kernel: [number, number]; stride: [number, number]; padding: 'same' | 'valid';
  outputPadding?: [number, number];
}

export interface ConvTransposeRefGeom extends ConvTransposeRefOptions { oh: number; ow: number; top: number; left: number }

function axis(n: number, k: number, s: number, same: boolean, p: number | undefined): [size: number, lead: number] {
  const size = p === undefined ? (same ? n * s : n * s + Math.max(k - s, 0)) : (n - 1) * s + k - (same ? 2 * Math.floor(k / 2) : 0) + p;
  return [size, same ? Math.floor(Math.max((n - 1) * s + k - size, 0) / 2) : 0];
}

export function convTransposeRefGeom(o: ConvTransposeRefOptions): ConvTransposeRefGeom {
  const same = o.padding === 'same';
  const [oh, top] = axis(o.h, o.kernel[0], o.stride[0], same, o.outputPadding?.[0]);
  const [ow, left] = axis(o.w, o.kernel[1], o.stride[1], same, o.outputPadding?.[1]);
  return { ...o, oh, ow, top, left };
}

/** visit(xIndex, wIndex of filter 0, yIndex of filter 0) for every input element and tap landing inside y. */
function forEachTap(g: ConvTransposeRefGeom, visit: (xi: number, wi: number, yi: number) => void): void {
  const [kh, kw] = g.kernel, [sh, sw] = g.stride, F = g.filters;
  for (let b = 0; b < g.n; b++) for (let iy = 0; iy < g.h; iy++) for (let ix = 0; ix < g.w; ix++) {
    for (let ky = 0; ky < kh; ky++) {
      const oy = iy * sh - g.top + ky;
      if (oy < 0 || oy >= g.oh) continue;
      for (let kx = 0; kx < kw; kx++) {
        const ox = ix * sw - g.left + kx;
        if (ox < 0 || ox >= g.ow) continue;
        for (let c = 0; c < g.cin; c++) visit(((b * g.h + iy) * g.w + ix) * g.cin + c, (ky * kw + kx) * F * g.cin + c, ((b * g.oh + oy) * g.ow + ox) * F);
      }
    }
  }
}

/** y = conv2dTranspose(x, w) + bias. */
export function convTransposeRef(g: ConvTransposeRefGeom, x: ArrayLike<number>, w: ArrayLike<number>, bias: ArrayLike<number> | null): Float32Array {
  const F = g.filters, acc = new Float64Array(g.n * g.oh * g.ow * F);
  forEachTap(g, (xi, wi, yi) => { for (let f = 0; f < F; f++) acc[yi + f] += x[xi] * w[wi + f * g.cin]; });
  if (bias) for (let i = 0; i < acc.length; i++) acc[i] += bias[i % F];
  return Float32Array.from(acc);
}

/** dL/dx, dL/dw and dL/dbias of L = Σ y·dy. */
export function convTransposeBackwardRef(g: ConvTransposeRefGeom, x: ArrayLike<number>, w: ArrayLike<number>, dy: ArrayLike<number>): { dx: Float32Array; dw: Float32Array; db: Float32Array } {
  const F = g.filters;
  const dx = new Float64Array(g.n * g.h * g.w * g.cin), dw = new Float64Array(g.kernel[0] * g.kernel[1] * F * g.cin), db = new Float64Array(F);
  forEachTap(g, (xi, wi, yi) => {
    for (let f = 0; f < F; f++) {
      dx[xi] += dy[yi + f] * w[wi + f * g.cin];
      dw[wi + f * g.cin] += dy[yi + f] * x[xi];
    }
  });
  for (let i = 0; i < dy.length; i++) db[i % F] += dy[i];
  return { dx: Float32Array.from(dx), dw: Float32Array.from(dw), db: Float32Array.from(db) };
}
