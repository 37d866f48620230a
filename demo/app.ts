// The live training page: LeNet-5 learns the embedded MNIST digits with model.fit, on worker threads when
// the page is cross-origin isolated, on the main thread otherwise. Plain DOM and canvas.
//
// fit runs as one long call; its onBatchEnd callback is where the page lives: it records the loss, runs the
// held-out evaluation every few steps, refreshes the pictures, yields to the browser so the page stays
// responsive, waits while paused, and throws RESTART when a setting that fit fixes at its start (batch size,
// workers, augmentation, backend) has changed — fit then rejects, keeping the weights, and a new fit continues.
// The backend switch moves the model, weights and optimizer state included, through its .rede bytes to rede's
// wasm engine (with workers) or TensorFlow.js (webgpu, webgl, wasm, cpu), and records each one's examples/s.
import { Model, canShareMemory, closeWorkers, data, resolveWorkers, zoo, type Callback } from '../src/index';
import { drawChart } from './charts';
import { loadDigits } from './digits';
import { drawingPad, padToDigit, softmax } from './draw';
import { layerRows, paintGray, renderActivations, renderFilters, type LayerView } from './maps';

type TrainContext = Parameters<NonNullable<Callback['onBatchEnd']>>[2];

// ---- settings (controls; query parameters give their initial values, and test-sized runs) ----------------
const q = new URLSearchParams(location.search);
const qNum = (k: string, d: number) => (q.has(k) && Number.isFinite(Number(q.get(k))) ? Number(q.get(k)) : d);
const cores = Math.max(1, navigator.hardwareConcurrency || 1);
const opts = {
  train: qNum('train', 8000), // training digits used (a prefix of the fixed, shuffled 8,000)
  heldOut: qNum('heldout', 1000), // held-out digits evaluated (of 2,000)
  evalEvery: qNum('evalEvery', 50), // steps between evaluations
  maxSteps: qNum('maxSteps', 0), // pause after this many steps (0: never)
  autostart: q.get('autostart') === '1',
};
const settings = {
  lr: qNum('lr', 0.02),
  batchSize: qNum('batch', 32),
  workers: qNum('workers', Math.min(4, cores)),
  augment: q.get('augment') === '1',
};
/** The backend switch: 'wasm', 'tfjs' (the first tfjs backend that can train), or 'tfjs-<name>'. */
let wantedBackend = q.get('backend') ?? 'wasm';
const AUGMENT = { rotation: 10, zoom: 0.1, shift: 2 };
const SEED = 1;

// ---- state (read by the browser tests through window.redeDemo) ---------------------------------------------
type Phase = 'loading' | 'ready' | 'training' | 'paused' | 'error';
const state = {
  phase: 'loading' as Phase,
  threaded: canShareMemory(),
  step: 0,
  epoch: 0,
  workersInUse: 0,
  examplesPerSec: 0,
  lossEma: NaN,
  engine: '',
  /** What runs: 'wasm <variant>' or 'tfjs <backend>', its device, and the examples/s each backend reached. */
  backend: '',
  tfjsBackend: null as string | null,
  device: '',
  speeds: {} as Record<string, number>,
  trainLoss: [] as [number, number][],
  evals: [] as { step: number; loss: number; accuracy: number; trainLoss: number; trainAccuracy: number }[],
  prediction: null as number[] | null,
  error: null as string | null,
};

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  threading: $('threading'), start: $<HTMLButtonElement>('start'), reset: $<HTMLButtonElement>('reset'),
  lr: $<HTMLInputElement>('lr'), batch: $<HTMLSelectElement>('batch'), backend: $<HTMLSelectElement>('backend'), backends: $('s-backends'), workers: $<HTMLSelectElement>('workers'), augment: $<HTMLInputElement>('augment'),
  step: $('s-step'), epoch: $('s-epoch'), speed: $('s-speed'), workersN: $('s-workers'), workersUnit: $('s-workers-unit'),
  loss: $('s-loss'), acc: $('s-acc'), engine: $('s-engine'),
  lossChart: $<HTMLCanvasElement>('loss-chart'), accChart: $<HTMLCanvasElement>('acc-chart'), filters: $('filters'),
  pad: $<HTMLCanvasElement>('pad'), padSmall: $<HTMLCanvasElement>('pad-small'), clear: $<HTMLButtonElement>('clear'),
  prediction: $('prediction'), probs: $('probs'), choices: $('choices'), maps: $('maps'),
};

let model: Model;
let train: data.Dataset, heldOut: data.Dataset, trainSample: data.Dataset;
let views: LayerView[] = [];
let chosen = 0;

// ---- the training loop --------------------------------------------------------------------------------------
const RESTART = new Error('rede demo: restart fit with new settings');
let restartWanted = false, resetWanted = false;
let resume: (() => void) | null = null;
let looping = false;

async function trainLoop(): Promise<void> {
  looping = true;
  try {
    while (state.phase === 'training' || state.phase === 'paused') {
      restartWanted = false;
      if (wantedBackend !== current) await switchBackend();
      if (resetWanted) resetModel();
      const tfjs = model.backend === 'tfjs';
      state.workersInUse = tfjs ? 1 : state.threaded ? await resolveWorkers(settings.workers, { batchSize: settings.batchSize, examples: train.y.length, deterministic: false }) : 1;
      if (state.workersInUse === 1) await closeWorkers(model.trainer!); // idle threads would hold memory for nothing
      showThreading();
      try {
        await model.fit(train, {
          epochs: state.epoch + 1_000_000, initialEpoch: state.epoch, batchSize: settings.batchSize, seed: SEED,
          workers: tfjs ? 1 : settings.workers, augment: settings.augment ? AUGMENT : undefined,
          callbacks: [{ onBatchEnd: (_s, logs, ctx) => afterStep(logs.loss, ctx), onEpochEnd: () => { state.epoch++; } }],
        });
      } catch (e) {
        if (e !== RESTART) throw e;
      }
    }
  } catch (e) {
    fail(e);
  } finally {
    looping = false;
  }
}

let lastReturn = -1, lastYield = 0, lastPictures = 0;
const speed: [examples: number, ms: number][] = [];

async function afterStep(loss: number, ctx: TrainContext): Promise<void> {
  const t = performance.now();
  // Training time only: from the end of the previous callback to the start of this one.
  if (lastReturn >= 0) {
    speed.push([settings.batchSize, t - lastReturn]);
    if (speed.length > 20) speed.shift();
    state.examplesPerSec = (1000 * speed.reduce((a, s) => a + s[0], 0)) / speed.reduce((a, s) => a + s[1], 0);
    state.speeds[speedKey()] = state.examplesPerSec;
  }
  state.step++;
  state.lossEma = Number.isNaN(state.lossEma) ? loss : 0.95 * state.lossEma + 0.05 * loss;
  state.trainLoss.push([state.step, state.lossEma]);
  dirty = true;
  // With workers, the live weights are in the group's shared memory; the page's model gets a copy for
  // evaluation and pictures (fit copies them back itself at each epoch end).
  const evalNow = state.step % opts.evalEvery === 0;
  if (evalNow || t - lastPictures > 400) model.e.write(model.params, ctx.snapshot());
  if (evalNow) evaluate();
  if (t - lastPictures > 400) { pictures(); lastPictures = performance.now(); }
  if (opts.maxSteps > 0 && state.step >= opts.maxSteps && state.phase === 'training') setPhase('paused');
  if (state.phase === 'paused') {
    model.e.write(model.params, ctx.snapshot());
    pictures();
    await new Promise<void>((res) => { resume = res; });
    speed.length = 0;
  }
  if (restartWanted || resetWanted) { lastReturn = -1; throw RESTART; }
  if (performance.now() - lastYield > 30) { await yieldToBrowser(); lastYield = performance.now(); }
  lastReturn = performance.now();
}

/** Lets the browser paint and handle input between steps (a message-channel task: no 4 ms timer clamp). */
function yieldToBrowser(): Promise<void> {
  return new Promise((res) => { const c = new MessageChannel(); c.port1.onmessage = () => res(); c.port2.postMessage(0); });
}

function evaluate(): void {
  const b = settings.batchSize;
  const h = model.evaluate(heldOut, undefined, { batchSize: b }), tr = model.evaluate(trainSample, undefined, { batchSize: b });
  state.evals.push({ step: state.step, loss: h.loss, accuracy: h.accuracy, trainLoss: tr.loss, trainAccuracy: tr.accuracy });
  dirty = true;
}

// ---- the backend switch -------------------------------------------------------------------------------------
let current = '';

/** The model on backend `choice`: fresh (seeded), or `from`'s weights, optimizer state and counters moved over. */
async function modelOn(choice: string, from?: Model): Promise<Model> {
  const named = choice.startsWith('tfjs-') ? choice.slice(5) : undefined;
  const o = choice === 'wasm' ? {} : { backend: 'tfjs' as const, ...(named ? { tfjsBackend: named } : {}) };
  let m = from ? await Model.fromBytes(from.toBytes(), o) : await Model.create(zoo.lenet5(), { seed: SEED, ...o });
  // tfjs's own order is webgpu → webgl → wasm → cpu; its wasm backend has no conv gradients, so training goes to cpu.
  if (choice === 'tfjs' && m.backendInfo.tfjsBackend === 'wasm') m = from ? await Model.fromBytes(from.toBytes(), { ...o, tfjsBackend: 'cpu' }) : await Model.create(zoo.lenet5(), { seed: SEED, ...o, tfjsBackend: 'cpu' });
  if (!m.trainer) m.compile({ optimizer: { type: 'sgd', lr: settings.lr, momentum: 0.9 }, loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  m.trainer!.optimizer.cfg.lr = settings.lr;
  return m;
}

/** Moves training to wantedBackend (between fits: the weights are in the model). */
async function switchBackend(): Promise<void> {
  const choice = wantedBackend;
  if (model?.trainer && model.backend === 'wasm') await closeWorkers(model.trainer);
  model = await modelOn(choice, model);
  current = choice;
  const info = model.backendInfo;
  state.backend = info.backend === 'wasm' ? `wasm ${model.e.variant}` : `tfjs ${info.tfjsBackend}`;
  state.tfjsBackend = info.tfjsBackend ?? null;
  state.device = info.device;
  state.engine = model.e.variant;
  speed.length = 0;
  ui.engine.textContent = `LeNet-5, ${model.paramCount.toLocaleString('en-US')} parameters; ${train.y.length.toLocaleString('en-US')} training / ` +
    `${heldOut.y.length.toLocaleString('en-US')} held-out digits; backend: ${state.backend} on ${info.device}${info.warning ? ` (${info.warning})` : ''}`;
  views = layerRows(ui.maps, model);
  showThreading();
  pictures();
}

/** The examples/s table's key: the backend, and rede's worker count. */
const speedKey = (): string => (model.backend === 'wasm' ? `rede wasm × ${state.workersInUse || 1}` : state.backend);

function resetModel(): void {
  resetWanted = false;
  model.initialize(SEED + state.evals.length + state.step); // fresh weights, not the same ones again
  const tr = model.trainer!;
  model.e.k.fill_f32(tr.optState, tr.optimizer.slots * model.paramFloats, 0);
  tr.optimizer.t = 0;
  Object.assign(state, { step: 0, epoch: 0, lossEma: NaN, examplesPerSec: 0, trainLoss: [], evals: [] });
  speed.length = 0;
  dirty = true;
  pictures();
}

function setPhase(p: Phase): void {
  state.phase = p;
  ui.start.textContent = p === 'training' ? 'Pause' : p === 'paused' ? 'Resume' : 'Start';
  ui.start.disabled = p === 'loading' || p === 'error';
  ui.reset.disabled = p === 'loading' || p === 'error';
  if (p === 'training' && resume) { const r = resume; resume = null; r(); }
}

function startOrPause(): void {
  if (state.phase === 'training') setPhase('paused');
  else if (state.phase === 'ready' || state.phase === 'paused') {
    if (opts.maxSteps > 0 && state.step >= opts.maxSteps) opts.maxSteps = 0; // resumed past the limit by hand
    setPhase('training');
    if (!looping) void trainLoop();
  }
}

/** A setting fit fixes at its start changed: restart fit at the next step (or now, if not training). */
function settingsChanged(): void {
  if (looping) restartWanted = true;
  else if (wantedBackend !== current) switchBackend().catch(fail);
  else showThreading();
}

// ---- what the page shows ---------------------------------------------------------------------------------------
function showThreading(): void {
  if (model?.backend === 'tfjs') {
    ui.threading.className = 'note threaded';
    ui.threading.textContent = `TensorFlow.js trains here: tfjs ${state.tfjsBackend} backend on ${state.device}, one step at a time on that device (workers are rede's).`;
    ui.workers.disabled = true;
    dirty = true;
    return;
  }
  const n = state.threaded ? state.workersInUse || settings.workers : 1;
  ui.threading.className = `note ${state.threaded ? 'threaded' : 'single'}`;
  ui.threading.textContent = state.threaded
    ? `Cross-origin isolated: each mini-batch is split across ${n} worker thread${n === 1 ? '' : 's'} sharing one WebAssembly memory.`
    : 'Single-threaded: this page is not cross-origin isolated (it was served without the COOP/COEP headers), so it has no ' +
      'SharedArrayBuffer and trains on its main thread. Serve it with `node scripts/demo-server.mjs --coop` for worker threads.';
  ui.workers.disabled = !state.threaded;
  dirty = true;
}

let dirty = true, lastCharts = 0;
function frame(t: number): void {
  if (dirty) {
    dirty = false;
    const last = state.evals.at(-1);
    ui.step.textContent = String(state.step);
    ui.epoch.textContent = String(state.epoch);
    ui.speed.textContent = state.examplesPerSec ? Math.round(state.examplesPerSec).toLocaleString('en-US') : '–';
    ui.workersN.textContent = state.workersInUse ? String(state.workersInUse) : '–';
    ui.workersUnit.textContent = state.threaded ? (state.workersInUse === 1 ? 'worker' : 'workers') : 'thread (main)';
    ui.loss.textContent = Number.isNaN(state.lossEma) ? '–' : state.lossEma.toFixed(3);
    ui.acc.textContent = last ? `${(100 * last.accuracy).toFixed(1)}%` : '–';
    ui.backends.textContent = `examples/s by backend: ${Object.entries(state.speeds).map(([k, v]) => `${k} ${Math.round(v).toLocaleString('en-US')}`).join(' · ') || '–'}`;
    if (t - lastCharts > 250) { charts(); lastCharts = t; } else dirty = true;
  }
  requestAnimationFrame(frame);
}

function charts(): void {
  const ev = state.evals;
  drawChart(ui.lossChart, [
    { name: 'training', color: '#3a78c3', points: state.trainLoss },
    { name: 'held-out', color: '#d9822b', points: ev.map((e) => [e.step, e.loss]), dots: true },
  ], { yFormat: (v) => v.toFixed(2) });
  drawChart(ui.accChart, [
    { name: 'training', color: '#3a78c3', points: ev.map((e) => [e.step, e.trainAccuracy]), dots: true },
    { name: 'held-out', color: '#d9822b', points: ev.map((e) => [e.step, e.accuracy]), dots: true },
  ], { yMin: 0, yMax: 1, yFormat: (v) => `${Math.round(100 * v)}%` });
}

/** Filters, the chosen image's feature maps, and the drawing's prediction, from the model's current weights. */
function pictures(): void {
  const c1 = model.entries.find((en) => en.layer.type === 'conv2d' && en.name === 'w')!;
  const [kh, kw, cin, cout] = c1.shape;
  renderFilters(ui.filters, model.getWeight(`${c1.layer.name}/kernel`), kh, kw, cin, cout);
  const x = example(heldOut, chosen);
  model.forward(x);
  renderActivations(views, model, x);
  predictDrawing();
}

const PIXELS = 28 * 28;
const example = (ds: data.Dataset, i: number) => ds.x.slice(i * PIXELS, (i + 1) * PIXELS);

function chooser(): void {
  const n = Math.min(24, heldOut.y.length);
  for (let i = 0; i < n; i++) {
    const c = document.createElement('canvas'), x = example(heldOut, i);
    paintGray(c, 28, 28, (y, xx) => x[y * 28 + xx], 0, 1);
    c.title = `held-out image ${i} (a ${heldOut.y[i]})`;
    c.classList.toggle('chosen', i === chosen);
    c.addEventListener('click', () => {
      chosen = i;
      Array.from(ui.choices.children).forEach((el, j) => el.classList.toggle('chosen', j === i));
      pictures();
    });
    ui.choices.append(c);
  }
}

/** Classifies the drawing; returns the ten probabilities (null when the pad is empty). */
function predictDrawing(): number[] | null {
  const x = padToDigit(ui.pad);
  if (x) paintGray(ui.padSmall, 28, 28, (y, xx) => x[y * 28 + xx], 0, 1);
  else ui.padSmall.getContext('2d')!.clearRect(0, 0, 28, 28);
  state.prediction = x ? softmax(model.predict(x)) : null;
  const p = state.prediction;
  const best = p ? p.indexOf(Math.max(...p)) : -1;
  ui.prediction.textContent = p ? `${best} (${(100 * p[best]).toFixed(1)}%)` : '–';
  ui.prediction.dataset.class = String(best);
  ui.probs.replaceChildren(...Array.from({ length: 10 }, (_, d) => {
    const v = p ? p[d] : 0;
    const label = document.createElement('span'), bar = document.createElement('div'), pct = document.createElement('span');
    label.textContent = String(d);
    bar.className = d === best ? 'bar best' : 'bar';
    bar.style.width = `${Math.max(1, 220 * v)}px`;
    bar.dataset.class = String(d); bar.dataset.p = String(v);
    pct.textContent = p ? `${(100 * v).toFixed(1)}%` : '';
    return [label, bar, pct];
  }).flat());
  return state.prediction;
}

function fail(e: unknown): void {
  const err = e as Error;
  state.error = err?.message ?? String(e);
  setPhase('error');
  ui.threading.className = 'note single';
  ui.threading.textContent = `Error: ${state.error}`;
  console.error(err);
}

// ---- start ---------------------------------------------------------------------------------------------------
async function main(): Promise<void> {
  for (let w = 1; w <= Math.max(2, Math.min(8, cores)); w++) ui.workers.append(new Option(String(w), String(w), false, w === settings.workers));
  if (!Array.from(ui.workers.options).some((o) => o.selected)) ui.workers.append(new Option(String(settings.workers), String(settings.workers), true, true));
  ui.lr.value = String(settings.lr);
  ui.batch.value = String(settings.batchSize);
  if (ui.batch.value !== String(settings.batchSize)) { ui.batch.append(new Option(String(settings.batchSize))); ui.batch.value = String(settings.batchSize); }
  ui.augment.checked = settings.augment;
  showThreading();

  const digits = await loadDigits(new URL('digits.bin', location.href));
  train = data.subset(digits.train, 0, Math.min(opts.train, digits.train.y.length));
  heldOut = data.subset(digits.test, 0, Math.min(opts.heldOut, digits.test.y.length));
  trainSample = data.subset(train, 0, Math.min(opts.heldOut, train.y.length));
  ui.backend.value = wantedBackend;
  if (ui.backend.value !== wantedBackend) throw new Error(`unknown backend '${wantedBackend}' (expected ${Array.from(ui.backend.options).map((o) => o.value).join(', ')})`);
  await switchBackend();
  chooser();

  ui.start.addEventListener('click', startOrPause);
  ui.reset.addEventListener('click', () => { if (looping) { resetWanted = true; if (state.phase === 'paused') setPhase('training'); } else resetModel(); });
  ui.lr.addEventListener('change', () => {
    const v = Number(ui.lr.value);
    if (v > 0 && v <= 1) { settings.lr = v; model.trainer!.optimizer.cfg.lr = v; } // read by fit at every step
    else ui.lr.value = String(settings.lr);
  });
  ui.batch.addEventListener('change', () => { settings.batchSize = Number(ui.batch.value); settingsChanged(); });
  ui.workers.addEventListener('change', () => { settings.workers = Number(ui.workers.value); settingsChanged(); });
  ui.augment.addEventListener('change', () => { settings.augment = ui.augment.checked; settingsChanged(); });
  ui.backend.addEventListener('change', () => { wantedBackend = ui.backend.value; settingsChanged(); });
  const pad = drawingPad(ui.pad, predictDrawing);
  ui.clear.addEventListener('click', () => { pad.clear(); predictDrawing(); });

  setPhase('ready');
  requestAnimationFrame(frame);
  if (opts.autostart) startOrPause();
}

(window as unknown as { redeDemo: unknown }).redeDemo = { state, settings, opts, predictDrawing, get model() { return model; } };
main().catch(fail);
