// The generative page: an autoencoder with a 2-D code and a small DCGAN train side by side in the browser,
// each through trainStep (on worker threads when the page is cross-origin isolated). The code plane shows
// held-out digits placed by their code, coloured by class; the point under the pointer is decoded into an
// image as the pointer moves. The GAN's grid is its generator's output for fixed noise, redrawn as it trains.
//
// One loop drives both models, one step of each per turn. The networks' weights live in the page's engines
// (trainStep pulls them back after every step), so pictures are drawn between steps; a pointer move that
// arrives while a step is in flight is remembered and decoded when the step ends — nothing reads or writes
// an engine while a step runs on it.
import { Engine, Model, canShareMemory, data, trainStep, type ModelConfig, type TrainStepSession } from '../src/index';
import { loadDigits } from './digits';
import { drawPlane, paintDigit, paintGrid, planeToCode, CLASS_COLOURS, type Extent } from './generative-draw';

// ---- settings (query parameters) ------------------------------------------------------------------------------
const q = new URLSearchParams(location.search);
const qNum = (k: string, d: number) => (q.has(k) && Number.isFinite(Number(q.get(k))) ? Number(q.get(k)) : d);
const threaded = canShareMemory();
const opts = {
  workers: threaded ? qNum('workers', Math.min(2, Math.max(1, navigator.hardwareConcurrency || 1))) : 1,
  train: qNum('train', 8000), // training digits (a prefix of the fixed, shuffled 8,000)
  plane: qNum('plane', 1000), // held-out digits shown on the code plane
  maxSteps: qNum('maxSteps', 0), // pause after this many turns (0: never)
  autostart: q.get('autostart') === '1',
};
const SEED = 1, PIXELS = 784, AE_BATCH = 64, GAN_BATCH = 32, LATENT = 32, GRID = 8;
const PLANE_EVERY = 25, GRID_EVERY = 10; // turns between redraws of the plane and of the GAN grid

// ---- the models ----------------------------------------------------------------------------------------------
const encoderConfig: ModelConfig = { name: 'encoder', input: [28, 28, 1], layers: [
  { type: 'flatten' }, { type: 'dense', units: 256, activation: 'relu' }, { type: 'dense', units: 64, activation: 'relu' }, { type: 'dense', units: 2 }] };
/** Ends in logits: the loss and the pictures apply the sigmoid. */
const decoderConfig: ModelConfig = { name: 'decoder', input: [2], layers: [
  { type: 'dense', units: 64, activation: 'relu' }, { type: 'dense', units: 256, activation: 'relu' }, { type: 'dense', units: PIXELS }] };
/** The experiment's DCGAN (src/experiments/gan.ts) at browser size: 16 base filters, 32 noise values. */
const generatorConfig: ModelConfig = { name: 'generator', input: [LATENT], layers: [
  { type: 'dense', units: 7 * 7 * 32, useBias: false }, { type: 'batchnorm' }, { type: 'relu' }, { type: 'reshape', shape: [7, 7, 32] },
  { type: 'conv2d_transpose', filters: 16, kernel: 4, stride: 2, padding: 'same', useBias: false }, { type: 'batchnorm' }, { type: 'relu' },
  { type: 'conv2d_transpose', filters: 1, kernel: 4, stride: 2, padding: 'same' }, { type: 'sigmoid' }] };
const discriminatorConfig: ModelConfig = { name: 'discriminator', input: [28, 28, 1], layers: [
  { type: 'conv2d', filters: 16, kernel: 4, stride: 2, padding: 'same' }, { type: 'leaky_relu', alpha: 0.2 },
  { type: 'conv2d', filters: 32, kernel: 4, stride: 2, padding: 'same' }, { type: 'leaky_relu', alpha: 0.2 },
  { type: 'flatten' }, { type: 'dropout', rate: 0.3 }, { type: 'dense', units: 1 }] };

// ---- state (read by the browser tests through window.redeGenerative) ------------------------------------------
type Phase = 'loading' | 'ready' | 'training' | 'paused' | 'error';
const state = {
  phase: 'loading' as Phase,
  threaded,
  workers: opts.workers,
  turn: 0,
  aeStep: 0, aeLoss: NaN, aeFirstLoss: NaN,
  ganStep: 0, dLoss: NaN, gLoss: NaN,
  planeVersion: 0, planePoints: 0, extent: null as Extent | null,
  decoded: null as { code: [number, number]; pixels: number[] } | null,
  gridVersion: 0,
  error: null as string | null,
};

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  threading: $('threading'), start: $<HTMLButtonElement>('start'), trainAe: $<HTMLInputElement>('train-ae'), trainGan: $<HTMLInputElement>('train-gan'),
  aeStep: $('s-ae-step'), aeLoss: $('s-ae-loss'), ganStep: $('s-gan-step'), dLoss: $('s-d-loss'), gLoss: $('s-g-loss'), engine: $('s-engine'),
  plane: $<HTMLCanvasElement>('plane'), legend: $('legend'), decoded: $<HTMLCanvasElement>('decoded'), code: $('code'),
  grid: $<HTMLCanvasElement>('gan-grid'), gridVersion: $('gan-version'),
};

let train: data.Dataset, shown: data.Dataset;
let encoder: Model, decoder: Model, G: Model, D: Model;
let aeStep: TrainStepSession, dStep: TrainStepSession, gStep: TrainStepSession;
let busy = false; // a step is in flight: the engines are not ours to touch
let pendingCode: [number, number] | null = null;
let resume: (() => void) | null = null;

// ---- batches --------------------------------------------------------------------------------------------------
let perm: Int32Array = new Int32Array(0), permEpoch = -1;
/** Training images number `at`..`at + n` of the shuffled stream (a new permutation each pass). */
function batchOf(at: number, n: number, out: Float32Array): Float32Array {
  const N = train.y.length;
  for (let r = 0; r < n; r++) {
    const k = at + r, epoch = Math.floor(k / N);
    if (epoch !== permEpoch) { perm = data.permutation(new Int32Array(N), SEED + 3, epoch); permEpoch = epoch; }
    const i = perm[k % N];
    out.set(train.x.subarray(i * PIXELS, (i + 1) * PIXELS), r * PIXELS);
  }
  return out;
}

/** Noise rows [n, LATENT] from rede's counter-based normal stream (seed, stream, value index). */
function noise(n: number, stream: number): Float32Array {
  const z = new Float32Array(n * LATENT);
  for (let i = 0; i < z.length; i++) z[i] = data.normalAt(SEED + 11, stream, i);
  return z;
}

const xa = new Float32Array(AE_BATCH * PIXELS), xd = new Float32Array(2 * GAN_BATCH * PIXELS);
const yd = Float32Array.from({ length: 2 * GAN_BATCH }, (_, i) => (i < GAN_BATCH ? 0.9 : 0)); // one-sided smoothing
const ones = new Float32Array(GAN_BATCH).fill(1);
const gridNoise = noise(GRID * GRID, 0);

async function aeTurn(): Promise<void> {
  batchOf(state.aeStep * AE_BATCH, AE_BATCH, xa);
  const { loss } = await aeStep.run(xa, xa); // the target is the input
  state.aeStep++;
  if (Number.isNaN(state.aeFirstLoss)) state.aeFirstLoss = loss;
  state.aeLoss = Number.isNaN(state.aeLoss) ? loss : 0.95 * state.aeLoss + 0.05 * loss;
}

async function ganTurn(): Promise<void> {
  const t = state.ganStep;
  batchOf(t * GAN_BATCH, GAN_BATCH, xd);
  xd.set(G.forward(noise(GAN_BATCH, 2 * t + 1), { training: true, step: t }), GAN_BATCH * PIXELS);
  const d = (await dStep.run(xd, yd)).loss;
  const g = (await gStep.run(noise(GAN_BATCH, 2 * t + 2), ones)).loss; // through D, frozen for this step
  state.ganStep++;
  state.dLoss = Number.isNaN(state.dLoss) ? d : 0.95 * state.dLoss + 0.05 * d;
  state.gLoss = Number.isNaN(state.gLoss) ? g : 0.95 * state.gLoss + 0.05 * g;
}

// ---- the loop -------------------------------------------------------------------------------------------------
let looping = false, lastYield = 0;
async function loop(): Promise<void> {
  looping = true;
  try {
    while (state.phase === 'training') {
      if (!ui.trainAe.checked && !ui.trainGan.checked) { await new Promise((r) => setTimeout(r, 100)); continue; } // nothing to train: idle
      busy = true;
      try {
        if (ui.trainAe.checked) await aeTurn();
        if (ui.trainGan.checked) await ganTurn();
      } finally {
        busy = false;
      }
      state.turn++;
      if (state.turn % PLANE_EVERY === 0) plane();
      if (state.turn % GRID_EVERY === 0) ganGrid();
      if (pendingCode) decodeAt(pendingCode);
      if (opts.maxSteps > 0 && state.turn >= opts.maxSteps) { plane(); ganGrid(); setPhase('paused'); }
      stats();
      if (performance.now() - lastYield > 30) { await yieldToBrowser(); lastYield = performance.now(); }
      if ((state.phase as Phase) === 'paused') await new Promise<void>((res) => { resume = res; });
    }
  } catch (e) {
    fail(e);
  } finally {
    looping = false;
  }
}

/** Lets the browser paint and handle input between steps (a message-channel task: no 4 ms timer clamp). */
function yieldToBrowser(): Promise<void> {
  return new Promise((res) => { const c = new MessageChannel(); c.port1.onmessage = () => res(); c.port2.postMessage(0); });
}

function setPhase(p: Phase): void {
  state.phase = p;
  ui.start.textContent = p === 'training' ? 'Pause' : p === 'paused' ? 'Resume' : 'Start';
  ui.start.disabled = p === 'loading' || p === 'error';
  if (p === 'training' && resume) { const r = resume; resume = null; r(); }
}

function startOrPause(): void {
  if (state.phase === 'training') setPhase('paused');
  else if (state.phase === 'ready' || state.phase === 'paused') {
    if (opts.maxSteps > 0 && state.turn >= opts.maxSteps) opts.maxSteps = 0; // resumed past the limit by hand
    setPhase('training');
    if (!looping) void loop();
  }
}

// ---- pictures -------------------------------------------------------------------------------------------------
let planeCodes: Float32Array = new Float32Array(0);
/** Encodes the shown digits and redraws the plane (its extent follows the codes). */
function plane(): void {
  planeCodes = encoder.predict(shown.x, { batchSize: 250 });
  state.extent = drawPlane(ui.plane, planeCodes, shown.y, state.decoded?.code ?? null);
  state.planeVersion++;
  state.planePoints = shown.y.length;
}

function decodeAt(code: [number, number]): void {
  pendingCode = null;
  const logits = decoder.predict(Float32Array.from(code));
  const pixels = Array.from(logits, (v) => 1 / (1 + Math.exp(-v)));
  paintDigit(ui.decoded, pixels);
  state.decoded = { code, pixels };
  ui.code.textContent = `(${code[0].toFixed(2)}, ${code[1].toFixed(2)})`;
  if (state.extent) drawPlane(ui.plane, planeCodes, shown.y, code, state.extent);
}

function ganGrid(): void {
  paintGrid(ui.grid, G.predict(gridNoise, { batchSize: 64 }), GRID, 28);
  state.gridVersion++;
  ui.gridVersion.textContent = String(state.gridVersion);
}

function stats(): void {
  ui.aeStep.textContent = String(state.aeStep);
  ui.aeLoss.textContent = Number.isNaN(state.aeLoss) ? '–' : state.aeLoss.toFixed(4);
  ui.ganStep.textContent = String(state.ganStep);
  ui.dLoss.textContent = Number.isNaN(state.dLoss) ? '–' : state.dLoss.toFixed(3);
  ui.gLoss.textContent = Number.isNaN(state.gLoss) ? '–' : state.gLoss.toFixed(3);
}

function onPointer(ev: PointerEvent): void {
  if (!state.extent) return;
  const r = ui.plane.getBoundingClientRect();
  const code = planeToCode(state.extent, ui.plane.width, ui.plane.height, ((ev.clientX - r.left) * ui.plane.width) / r.width, ((ev.clientY - r.top) * ui.plane.height) / r.height);
  if (busy) pendingCode = code; // decoded when the step in flight ends
  else decodeAt(code);
}

function fail(e: unknown): void {
  const err = e as Error;
  state.error = err?.message ?? String(e);
  setPhase('error');
  ui.threading.className = 'note single';
  ui.threading.textContent = `Error: ${state.error}`;
  console.error(err);
}

// ---- start ----------------------------------------------------------------------------------------------------
async function main(): Promise<void> {
  ui.threading.className = `note ${threaded ? 'threaded' : 'single'}`;
  ui.threading.textContent = threaded
    ? `Cross-origin isolated: each step's batch is split across ${opts.workers} worker thread${opts.workers === 1 ? '' : 's'} sharing one WebAssembly memory.`
    : 'Single-threaded: this page is not cross-origin isolated (served without COOP/COEP), so it trains on its main thread.';
  ui.legend.replaceChildren(...CLASS_COLOURS.map((c, d) => {
    const s = document.createElement('span');
    s.textContent = String(d); s.style.background = c;
    return s;
  }));
  const digits = await loadDigits(new URL('digits.bin', location.href));
  train = data.subset(digits.train, 0, Math.min(opts.train, digits.train.y.length));
  shown = data.subset(digits.test, 0, Math.min(opts.plane, digits.test.y.length));
  const aeEngine = await Engine.create(), ganEngine = await Engine.create();
  encoder = await Model.create(encoderConfig, { engine: aeEngine, seed: SEED });
  decoder = await Model.create(decoderConfig, { engine: aeEngine, seed: SEED + 1 });
  G = await Model.create(generatorConfig, { engine: ganEngine, seed: SEED + 2 });
  D = await Model.create(discriminatorConfig, { engine: ganEngine, seed: SEED + 3 });
  const workers = opts.workers;
  aeStep = await trainStep({ nets: [encoder, decoder], optimizer: { type: 'adam', lr: 2e-3 }, loss: 'binary_crossentropy', batchSize: AE_BATCH, workers, seed: SEED });
  const adam = { type: 'adam' as const, lr: 2e-4, beta1: 0.5 }; // Radford et al.
  dStep = await trainStep({ nets: [{ net: D, optimizer: adam }], loss: 'binary_crossentropy', batchSize: 2 * GAN_BATCH, workers, seed: SEED + 4 });
  gStep = await trainStep({ nets: [{ net: G, optimizer: adam }, { net: D, trainable: false }], loss: 'binary_crossentropy', batchSize: GAN_BATCH, workers, seed: SEED + 5 });
  ui.engine.textContent = `autoencoder ${(encoder.paramCount + decoder.paramCount).toLocaleString('en-US')} parameters, GAN ` +
    `${G.paramCount.toLocaleString('en-US')} (G) + ${D.paramCount.toLocaleString('en-US')} (D); ${train.y.length.toLocaleString('en-US')} training digits; kernels: wasm ${aeEngine.variant}`;

  ui.plane.addEventListener('pointermove', onPointer);
  ui.plane.addEventListener('pointerdown', onPointer);
  ui.start.addEventListener('click', startOrPause);
  plane();
  ganGrid();
  stats();
  setPhase('ready');
  if (opts.autostart) startOrPause();
}

(window as unknown as { redeGenerative: unknown }).redeGenerative = {
  state, opts, get planeCodes() { return Array.from(planeCodes); }, get labels() { return Array.from(shown.y); },
  colours: CLASS_COLOURS.map((c) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16))),
};
main().catch(fail);
