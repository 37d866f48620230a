// Pictures for the generative page: the code plane (points coloured by class, a marker at the decoded code),
// a grey digit, and a grid of digits. Plain canvas 2-D.

/** One colour per class 0..9 (Tableau 10). */
export const CLASS_COLOURS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

/** The code-space rectangle the plane shows. */
export interface Extent { x0: number; x1: number; y0: number; y1: number }

const MARGIN = 0.1, TAIL = 0.01; // margin: of the range, on each side; tails: the fraction of codes left out at each end

/** The box holding the codes' middle 98 % on each axis (a few far-out codes would squash the rest), with a margin. */
export function extentOf(codes: Float32Array): Extent {
  const n = Math.floor(codes.length / 2);
  if (n === 0) return { x0: -1, x1: 1, y0: -1, y1: 1 };
  const axis = (a: number): [number, number] => {
    const v = Float64Array.from({ length: n }, (_, i) => codes[2 * i + a]).sort();
    const lo = v[Math.floor(TAIL * (n - 1))], hi = v[Math.ceil((1 - TAIL) * (n - 1))], d = Math.max(hi - lo, 1e-3) * MARGIN;
    return [lo - d, hi + d];
  };
  const [x0, x1] = axis(0), [y0, y1] = axis(1);
  return { x0, x1, y0, y1 };
}

/** Canvas pixel (px, py) → code; y grows upwards in code space. */
export function planeToCode(e: Extent, w: number, h: number, px: number, py: number): [number, number] {
  return [e.x0 + (px / w) * (e.x1 - e.x0), e.y1 - (py / h) * (e.y1 - e.y0)];
}

/** Draws the codes [n, 2] coloured by label, and a marker at `mark`; returns the extent used. */
export function drawPlane(c: HTMLCanvasElement, codes: Float32Array, labels: ArrayLike<number>, mark: [number, number] | null, extent?: Extent): Extent {
  const e = extent ?? extentOf(codes), g = c.getContext('2d', { willReadFrequently: true })!, W = c.width, H = c.height;
  g.fillStyle = '#fff'; g.fillRect(0, 0, W, H);
  const sx = W / (e.x1 - e.x0), sy = H / (e.y1 - e.y0);
  g.strokeStyle = '#eee'; g.lineWidth = 1;
  if (e.x0 < 0 && e.x1 > 0) { g.beginPath(); g.moveTo(-e.x0 * sx, 0); g.lineTo(-e.x0 * sx, H); g.stroke(); }
  if (e.y0 < 0 && e.y1 > 0) { g.beginPath(); g.moveTo(0, e.y1 * sy); g.lineTo(W, e.y1 * sy); g.stroke(); }
  for (let i = 0; i < labels.length; i++) {
    g.fillStyle = CLASS_COLOURS[labels[i] % CLASS_COLOURS.length];
    g.fillRect(Math.round((codes[2 * i] - e.x0) * sx) - 2, Math.round((e.y1 - codes[2 * i + 1]) * sy) - 2, 4, 4);
  }
  if (mark) {
    const mx = (mark[0] - e.x0) * sx, my = (e.y1 - mark[1]) * sy;
    g.strokeStyle = '#000'; g.lineWidth = 2;
    g.beginPath(); g.arc(mx, my, 7, 0, 2 * Math.PI); g.stroke();
  }
  return e;
}

/** A 28×28 image in [0, 1] onto `c` (28×28 pixels, scaled by CSS): ink is dark on white. */
export function paintDigit(c: HTMLCanvasElement, pixels: ArrayLike<number>): void {
  const g = c.getContext('2d', { willReadFrequently: true })!, img = g.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = 255 - Math.round(255 * Math.max(0, Math.min(1, pixels[i])));
    img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = v;
    img.data[4 * i + 3] = 255;
  }
  g.putImageData(img, 0, 0);
}

/** n×n images [n², side, side] in [0, 1] as one grid on `c` (n·side pixels square). */
export function paintGrid(c: HTMLCanvasElement, images: Float32Array, n: number, side: number): void {
  c.width = c.height = n * side;
  const g = c.getContext('2d', { willReadFrequently: true })!, img = g.createImageData(n * side, n * side), W = n * side;
  for (let k = 0; k < n * n; k++) {
    const ox = (k % n) * side, oy = Math.floor(k / n) * side;
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        const v = 255 - Math.round(255 * Math.max(0, Math.min(1, images[k * side * side + y * side + x])));
        const i = 4 * ((oy + y) * W + ox + x);
        img.data[i] = img.data[i + 1] = img.data[i + 2] = v;
        img.data[i + 3] = 255;
      }
    }
  }
  g.putImageData(img, 0, 0);
}
