// The worker half of examples/infer.html: rede/infer runs here, where predict may block while its helper
// thread works (a page's own thread may not). 'load' fetches the model and one kernels build; 'predict'
// classifies one image.
let model = null;
self.onmessage = async ({ data: m }) => {
  try {
    if (m.kind === 'load') {
      const { load, fetchKernels } = await import(m.lib);
      const base = new URL('./', m.lib);
      const threads = m.workers > 1 && self.crossOriginIsolated === true;
      const kernels = await fetchKernels(base, threads);
      model = await load(m.model, { kernels, workers: threads ? m.workers : 1, workerUrl: new URL('./rede-infer-worker.js', base) });
      self.postMessage({ file: kernels.file, bytes: kernels.bytes, variant: kernels.variant, shared: kernels.shared, threads: model.threads, inputShape: model.inputShape });
    } else {
      const top = model.topK(m.x, 3);
      const probabilities = Array.from(model.predict(m.x));
      self.postMessage({ class: top.indices[0], name: top.names?.[0] ?? null, top: { indices: Array.from(top.indices), values: Array.from(top.values) }, probabilities });
    }
  } catch (e) {
    self.postMessage({ error: e.message });
  }
};
