// Pictures of a network's insides: grayscale tiles of filters and of every layer's activations.
// Activations are NHWC: value (y, x, c) of example 0 sits at float (y·W + x)·C + c from the layer's address.
// Conv weights are HWIO: w[ky, kx, ci, co] at ((ky·KW + kx)·CI + ci)·CO + co.
import type { Model } from '../src/index';

/** Paints an h×w grid of values on `canvas` (resized to w×h): lo → black, hi → white. */
export function paintGray(canvas: HTMLCanvasElement, w: number, h: number, at: (y: number, x: number) => number, lo: number, hi: number): void {
  canvas.width = w; canvas.height = h;
  const g = canvas.getContext('2d')!, img = g.createImageData(w, h), k = hi > lo ? 255 / (hi - lo) : 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = Math.max(0, Math.min(255, (at(y, x) - lo) * k)), i = 4 * (y * w + x);
      img.data[i] = img.data[i + 1] = img.data[i + 2] = v;
      img.data[i + 3] = 255;
    }
  }
  g.putImageData(img, 0, 0);
}

/** Canvases in `box`, reused between calls (redrawing every few hundred ms must not churn the DOM). */
function tiles(box: HTMLElement, n: number, cssSize: number): HTMLCanvasElement[] {
  while (box.children.length > n) box.lastElementChild!.remove();
  while (box.children.length < n) box.append(document.createElement('canvas'));
  const out = Array.from(box.children) as HTMLCanvasElement[];
  for (const c of out) { c.style.width = `${cssSize}px`; c.style.height = `${cssSize}px`; }
  return out;
}

/** The first conv layer's filters, one tile per output channel (input channel 0), symmetric around 0. */
export function renderFilters(box: HTMLElement, w: Float32Array, kh: number, kw: number, cin: number, cout: number): void {
  const cs = tiles(box, cout, 60);
  for (let co = 0; co < cout; co++) {
    let m = 1e-12;
    for (let t = 0; t < kh * kw; t++) m = Math.max(m, Math.abs(w[t * cin * cout + co]));
    paintGray(cs[co], kw, kh, (y, x) => w[((y * kw + x) * cin) * cout + co], -m, m);
  }
}

export interface LayerView { name: string; type: string; shape: number[]; box: HTMLElement; note: HTMLElement }

/** One row per layer (and one for the input), built once for a model. */
export function layerRows(container: HTMLElement, m: Model): LayerView[] {
  container.replaceChildren();
  const row = (name: string, type: string, shape: number[]): LayerView => {
    const div = document.createElement('div');
    div.className = 'layer';
    div.dataset.layer = name; div.dataset.type = type;
    const label = document.createElement('div');
    label.className = 'name';
    label.innerHTML = `<b>${name}</b> ${type}<br>[${shape.join(' × ')}]<br>`;
    const note = document.createElement('span');
    label.append(note);
    const box = document.createElement('div');
    box.className = 'maps';
    div.append(label, box);
    container.append(div);
    return { name, type, shape, box, note };
  };
  return [row('input', 'image', [...m.inputShape]), ...m.layers.map((L) => row(L.name, L.type, [...L.outShape]))];
}

/**
 * Draws every layer's output for the one example just run forward (batch 1): each channel of an [h, w, c]
 * output as an h×w tile (scaled so the layer's largest value is white); a vector as one strip of cells.
 */
export function renderActivations(views: LayerView[], m: Model, input: Float32Array): void {
  const f = m.e.f32;
  views.forEach((v, i) => {
    const base = i === 0 ? -1 : m.act[i - 1] >>> 2;
    const n = v.shape.reduce((a, b) => a * b, 1);
    const value = (k: number) => (base < 0 ? input[k] : f[base + k]);
    let lo = 0, hi = 1e-12;
    for (let k = 0; k < n; k++) { const x = value(k); if (x < lo) lo = x; if (x > hi) hi = x; }
    if (v.shape.length === 3) {
      const [h, w, c] = v.shape, size = Math.max(28, Math.min(56, h * 2));
      const cs = tiles(v.box, c, size);
      for (let ch = 0; ch < c; ch++) paintGray(cs[ch], w, h, (y, x) => value((y * w + x) * c + ch), lo, hi);
    } else {
      // A vector: one row of cells, wrapped into rows of 40 when long (flatten's 400 = s4's 5·5·16 values).
      const cols = n > 120 ? 40 : n, rows = Math.ceil(n / cols), cell = n <= 10 ? 24 : n <= 120 ? 6 : 5;
      const [cs] = tiles(v.box, 1, 0);
      cs.style.width = `${cols * cell}px`; cs.style.height = `${rows * cell}px`;
      paintGray(cs, cols, rows, (y, x) => (y * cols + x < n ? value(y * cols + x) : lo), lo, hi);
    }
    if (i === views.length - 1 && v.shape.length === 1) {
      let best = 0;
      for (let k = 1; k < n; k++) if (value(k) > value(best)) best = k;
      v.note.textContent = `class scores: highest is ${best}`;
      v.note.dataset.class = String(best);
    }
  });
}
