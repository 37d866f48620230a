// The page half of examples/infer.html: draws the image at the model's input size, sends its grey pixels
// (0…1) to the worker, shows the answer. Query: model (a .rede URL), image (any image URL), lib (where
// rede/infer's index.js is; default ../dist/infer/index.js), workers (default 2).
const q = new URLSearchParams(location.search);
const state = (window.redeInfer = { done: false, error: null, result: null });
const show = (id, text) => { document.getElementById(id).textContent = text; };

const worker = new Worker(new URL('./infer-worker.js', import.meta.url), { type: 'module' });
const ask = (msg) => new Promise((resolve, reject) => {
  worker.onmessage = (ev) => (ev.data.error ? reject(new Error(ev.data.error)) : resolve(ev.data));
  worker.onerror = (ev) => reject(new Error(ev.message || 'the worker failed to load'));
  worker.postMessage(msg);
});

async function main() {
  const lib = new URL(q.get('lib') ?? '../dist/infer/index.js', location.href).href;
  const model = new URL(q.get('model') ?? 'model.int8.rede', location.href).href;
  const info = await ask({ kind: 'load', lib, model, workers: Number(q.get('workers') ?? 2) });
  show('kernels', `kernels: ${info.file} (${info.bytes.toLocaleString()} bytes, ${info.variant}), ${info.threads} thread${info.threads > 1 ? 's' : ''}, input ${info.inputShape.join('×')}`);
  const [h, w, c] = info.inputShape;
  const img = new Image();
  img.src = new URL(q.get('image') ?? 'digit.png', location.href).href;
  await img.decode();
  const canvas = document.getElementById('input');
  canvas.width = w; canvas.height = h;
  const g = canvas.getContext('2d', { willReadFrequently: true });
  g.drawImage(img, 0, 0, w, h);
  const rgba = g.getImageData(0, 0, w, h).data, x = new Float32Array(h * w * c);
  for (let p = 0; p < h * w; p++) {
    if (c === 1) x[p] = (rgba[4 * p] + rgba[4 * p + 1] + rgba[4 * p + 2]) / (3 * 255);
    else for (let k = 0; k < c; k++) x[p * c + k] = rgba[4 * p + k] / 255;
  }
  const r = await ask({ kind: 'predict', x });
  state.result = { ...r, ...info };
  show('result', `class ${r.name ?? r.class} (${(100 * r.top.values[0]).toFixed(1)} %); next ${r.top.indices.slice(1).map((i, j) => `${i} ${(100 * r.top.values[j + 1]).toFixed(1)} %`).join(', ')}`);
}
main().then(() => { state.done = true; }, (e) => { state.error = e.message; show('result', `error: ${e.message}`); });
