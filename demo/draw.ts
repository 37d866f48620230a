// A drawing pad, and the preprocessing that makes a drawing look like an MNIST digit: the ink's bounding box
// scaled (aspect kept) to fit 20×20, placed in 28×28, then shifted so its centre of mass is the centre —
// how LeCun et al. normalized the original digits.

const SIDE = 28, BOX = 20;

/** Wires pointer drawing (white on black) onto `pad`; `changed` runs while drawing (≤ once a frame) and at the end. */
export function drawingPad(pad: HTMLCanvasElement, changed: () => void): { clear(): void } {
  const g = pad.getContext('2d', { willReadFrequently: true })!;
  const clear = () => { g.fillStyle = '#000'; g.fillRect(0, 0, pad.width, pad.height); };
  clear();
  let last: [number, number] | null = null, queued = false;
  const at = (ev: PointerEvent): [number, number] => {
    const r = pad.getBoundingClientRect();
    return [((ev.clientX - r.left) * pad.width) / r.width, ((ev.clientY - r.top) * pad.height) / r.height];
  };
  const soon = () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; changed(); });
  };
  pad.addEventListener('pointerdown', (ev) => {
    pad.setPointerCapture(ev.pointerId);
    last = at(ev);
    stroke(last, last);
    soon();
  });
  pad.addEventListener('pointermove', (ev) => {
    if (!last) return;
    const p = at(ev);
    stroke(last, p);
    last = p;
    soon();
  });
  const end = () => { if (last) { last = null; changed(); } };
  pad.addEventListener('pointerup', end);
  pad.addEventListener('pointercancel', end);
  function stroke(a: [number, number], b: [number, number]): void {
    g.strokeStyle = '#fff'; g.lineWidth = pad.width / 12; g.lineCap = 'round'; g.lineJoin = 'round';
    g.beginPath(); g.moveTo(a[0], a[1]); g.lineTo(b[0], b[1]); g.stroke();
  }
  return { clear };
}

/** The pad's drawing as a 28×28 input in [0, 1] (row-major), or null when nothing is drawn. */
export function padToDigit(pad: HTMLCanvasElement): Float32Array | null {
  const src = pad.getContext('2d', { willReadFrequently: true })!.getImageData(0, 0, pad.width, pad.height).data;
  let x0 = pad.width, y0 = pad.height, x1 = -1, y1 = -1;
  for (let y = 0; y < pad.height; y++) {
    for (let x = 0; x < pad.width; x++) {
      if (src[4 * (y * pad.width + x)] > 16) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
    }
  }
  if (x1 < 0) return null;
  const bw = x1 - x0 + 1, bh = y1 - y0 + 1, s = BOX / Math.max(bw, bh);
  const small = document.createElement('canvas');
  small.width = small.height = SIDE;
  const g = small.getContext('2d', { willReadFrequently: true })!;
  g.fillStyle = '#000'; g.fillRect(0, 0, SIDE, SIDE);
  g.imageSmoothingEnabled = true; g.imageSmoothingQuality = 'high';
  g.drawImage(pad, x0, y0, bw, bh, (SIDE - bw * s) / 2, (SIDE - bh * s) / 2, bw * s, bh * s);
  const px = g.getImageData(0, 0, SIDE, SIDE).data;
  const img = new Float32Array(SIDE * SIDE);
  let mass = 0, mx = 0, my = 0;
  for (let i = 0; i < img.length; i++) {
    const v = px[4 * i] / 255;
    img[i] = v; mass += v; mx += v * (i % SIDE); my += v * Math.floor(i / SIDE);
  }
  // Shift by whole pixels so the centre of mass lands on the centre ((27/2, 27/2) in pixel indices).
  const dx = Math.round((SIDE - 1) / 2 - mx / mass), dy = Math.round((SIDE - 1) / 2 - my / mass);
  const out = new Float32Array(SIDE * SIDE);
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      const sx = x - dx, sy = y - dy;
      if (sx >= 0 && sx < SIDE && sy >= 0 && sy < SIDE) out[y * SIDE + x] = img[sy * SIDE + sx];
    }
  }
  return out;
}

/** Softmax of logits (max-subtracted, f64 sums). */
export function softmax(logits: ArrayLike<number>): number[] {
  let m = -Infinity;
  for (let i = 0; i < logits.length; i++) m = Math.max(m, logits[i]);
  const e = Array.from(logits, (v) => Math.exp(v - m)), s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}
