// The vanishing gradient through time (lecture 2.6.2, for recurrent nets): Hochreiter & Schmidhuber's (1997)
// adding problem, in the form of Le, Jaitly & Hinton (2015). Each input is T steps of two numbers: a value
// uniform in [0, 1] and a marker that is 1 at exactly two steps (one in each half) and 0 elsewhere; the target
// is the sum of the two marked values. Predicting the mean (1) scores MSE 1/6 ≈ 0.167; solving it needs the
// state to carry a value across T/2 steps or more, where a simple RNN's gradient ∂L/∂h_t shrinks by a factor
// at every step back in time. LSTM's cell (c = f⊙c₋ + …) and GRU's interpolation (h = z⊙h₋ + …) carry it
// on a path whose factor the gates learn to hold near 1.
// For each T and each cell: train (Adam, clipped), test MSE and accuracy (|error| < 0.04), and ‖∂L/∂h_t‖ over
// t on a fixed probe batch at initialization and after training (the layer's per-step state gradient).
import { Engine } from '../engine/engine';
import type { ModelConfig } from '../model/config';
import { Model } from '../api/model';
import { Recurrent } from '../layers/rnn';
import { uniform01, intBelow } from '../data/rng';
import { figure, PALETTE, type Panel } from '../viz/svg';
import { check, DEFAULT_OUT_DIR, machineLine, markdownTable, now, pct, sci, since, writeReport, type ExperimentOptions, type ExperimentResult } from './report';

export const CELLS = ['simple_rnn', 'lstm', 'gru'] as const;
export type Cell = (typeof CELLS)[number];

export interface AddingSettings { lengths: number[]; units: number; train: number; test: number; probe: number; batch: number; epochs: number; lr: number; clipNorm: number }

const FULL: AddingSettings = { lengths: [50, 100, 200], units: 32, train: 10000, test: 1000, probe: 100, batch: 50, epochs: 12, lr: 0.005, clipNorm: 1 };
const QUICK: AddingSettings = { lengths: [10, 30], units: 16, train: 2000, test: 300, probe: 50, batch: 20, epochs: 5, lr: 0.01, clipNorm: 1 };

/** Solved: test MSE below this (the issue's target), against 1/6 for always predicting the mean. */
export const SOLVED_MSE = 0.01;
/** A prediction counts as correct within this of the target (Hochreiter & Schmidhuber's tolerance). */
const TOLERANCE = 0.04;

/** `n` adding-problem sequences of length `T` ([n, T, 2]: value, marker) and their targets, from `seed`. */
export function addingData(n: number, T: number, seed: number): { x: Float32Array; y: Float32Array } {
  const x = new Float32Array(n * T * 2), y = new Float32Array(n);
  const half = Math.floor(T / 2);
  for (let i = 0; i < n; i++) {
    const a = intBelow(half, seed, i, 1), b = half + intBelow(T - half, seed, i, 2);
    let sum = 0;
    for (let t = 0; t < T; t++) {
      const v = Math.fround(uniform01(seed, i, 3, t)), k = (i * T + t) * 2;
      x[k] = v;
      if (t === a || t === b) { x[k + 1] = 1; sum += v; }
    }
    y[i] = sum;
  }
  return { x, y };
}

export function addingModel(cell: Cell, T: number, units: number): ModelConfig {
  return { name: `adding-${cell}-${T}`, input: [T, 2], layers: [{ type: cell, name: 'rnn', units }, { type: 'dense', name: 'out', units: 1 }] };
}

export interface AddingRun {
  cell: Cell; T: number;
  testMse: number; accuracy: number;
  /** Training loss (MSE) per step. */
  losses: number[];
  /** Mean over the probe batch of ‖∂L/∂h_t‖, t = 1…T (input order), at initialization and after training. */
  initGrads: number[]; trainedGrads: number[];
  seconds: number;
}

/** ‖∂L/∂h_t‖ per step t of the probe batch (mean over its examples), L = its MSE. */
function stateGradNorms(m: Model, x: Float32Array, y: Float32Array, T: number, units: number): number[] {
  const n = y.length, rnn = m.layers.find((L): L is Recurrent => L instanceof Recurrent)!;
  const pred = m.forward(x);
  const dy = Float32Array.from(pred, (p, i) => (2 * (p - y[i])) / n);
  const mark = m.e.mark(), at = m.e.reserve(4 * n * T * units, 'state gradients');
  try {
    rnn.stateGradsAt = at;
    m.backward(dy);
    const g = m.e.read(at, n * T * units), out = new Array<number>(T).fill(0);
    for (let b = 0; b < n; b++) {
      for (let t = 0; t < T; t++) {
        let s = 0;
        for (let j = 0; j < units; j++) s += g[(b * T + t) * units + j] ** 2;
        out[t] += Math.sqrt(s) / n;
      }
    }
    return out;
  } finally {
    rnn.stateGradsAt = 0;
    m.e.release(mark);
  }
}

async function runOne(e: Engine, cell: Cell, T: number, s: AddingSettings, seed: number): Promise<AddingRun> {
  const t0 = now(), mark = e.mark();
  try {
    const train = addingData(s.train, T, seed * 1000 + T), test = addingData(s.test, T, seed * 1000 + T + 1), probe = addingData(s.probe, T, seed * 1000 + T + 2);
    const m = await Model.create(addingModel(cell, T, s.units), { engine: e, seed });
    // An LSTM starts with its forget gate open (bias 1, Jozefowicz et al. 2015; Keras's unit_forget_bias).
    if (cell === 'lstm') {
      const b = m.getWeight('rnn/bias');
      b.fill(1, s.units, 2 * s.units);
      m.setWeight('rnn/bias', b);
    }
    m.compile({ optimizer: { type: 'adam', lr: s.lr, clipNorm: s.clipNorm }, loss: 'mse' });
    const initGrads = stateGradNorms(m, probe.x, probe.y, T, s.units);
    const losses: number[] = [];
    await m.fit(train.x, train.y, { epochs: s.epochs, batchSize: s.batch, seed, onNonFinite: 'skip', callbacks: [{ onBatchEnd: (_step, logs) => { losses.push(logs.loss); } }] });
    const trainedGrads = stateGradNorms(m, probe.x, probe.y, T, s.units);
    const pred = await m.predict(test.x);
    let se = 0, hits = 0;
    for (let i = 0; i < s.test; i++) { const d = pred[i] - test.y[i]; se += d * d; if (Math.abs(d) < TOLERANCE) hits++; }
    return { cell, T, testMse: se / s.test, accuracy: hits / s.test, losses, initGrads, trainedGrads, seconds: since(t0) };
  } finally {
    e.release(mark);
  }
}

/** ‖∂L/∂h_1‖ / ‖∂L/∂h_T‖: how much of the gradient reaches the first step. */
export const reachRatio = (g: number[]): number => g[0] / g[g.length - 1];

export function addingProblem(o: ExperimentOptions = {}): Promise<ExperimentResult> {
  return runAdding(o.quick ? QUICK : FULL, o);
}

/** The experiment with settings `s` (`cells`: a subset, for exploring); the report is written for what ran. */
export async function runAdding(s: AddingSettings, o: ExperimentOptions = {}, cells: readonly Cell[] = CELLS): Promise<ExperimentResult> {
  const t0 = now();
  const quick = o.quick ?? false, seed = o.seed ?? 1, log = o.log ?? (() => {});
  const e = await Engine.create();
  const runs: AddingRun[] = [];
  for (const T of s.lengths) for (const cell of cells) {
    const r = await runOne(e, cell, T, s, seed);
    runs.push(r);
    log(`adding-problem: T=${T} ${cell.padEnd(10)} test MSE ${sci(r.testMse)}, accuracy ${pct(r.accuracy)}, ` +
      `‖∂L/∂h_1‖/‖∂L/∂h_T‖ ${sci(reachRatio(r.initGrads))} at init, ${sci(reachRatio(r.trainedGrads))} trained (${r.seconds.toFixed(1)} s)`);
  }
  return { name: 'adding-problem', ...writeAddingReport(o.outDir ?? DEFAULT_OUT_DIR, runs, s, { seed, quick, machine: machineLine(e.variant), seconds: since(t0) }) };
}

const mean = (a: number[]) => a.reduce((x, v) => x + v, 0) / Math.max(1, a.length);

/** Table, figures, checks and files from the runs. */
export function writeAddingReport(outDir: string, runs: AddingRun[], s: AddingSettings, r: { seed: number; quick: boolean; machine: string; seconds: number }): Omit<ExperimentResult, 'name'> {
  const { seed, quick, machine, seconds } = r;
  const steps = Math.ceil(s.train / s.batch) * s.epochs, window = Math.max(5, Math.round(steps / 20));
  const table = markdownTable(
    ['T', 'cell', 'test MSE', `accuracy (|err| < ${TOLERANCE})`, 'solved', `loss, last ${window} steps`, '‖∂L/∂h₁‖/‖∂L/∂h_T‖ init', 'trained', 'time'],
    runs.map((x) => [x.T, x.cell, sci(x.testMse), pct(x.accuracy), x.testMse < SOLVED_MSE ? 'yes' : 'no', sci(mean(x.losses.slice(-window))),
      sci(reachRatio(x.initGrads)), sci(reachRatio(x.trainedGrads)), `${x.seconds.toFixed(1)} s`]),
    [true, false, true, true, false, true, true, true, true],
  );
  const color = (c: Cell) => PALETTE[CELLS.indexOf(c)];
  const msePanel: Panel = {
    kind: 'line', logY: true, title: 'Test MSE vs sequence length', xLabel: 'T (steps)', yLabel: 'test MSE',
    note: `dashed: predicting the mean (1/6); dotted: solved (${SOLVED_MSE})`,
    series: [
      ...CELLS.map((c) => { const rs = runs.filter((x) => x.cell === c); return { name: c, x: rs.map((x) => x.T), y: rs.map((x) => x.testMse), color: color(c), markers: true }; }),
      { name: 'mean', x: [s.lengths[0], s.lengths[s.lengths.length - 1]], y: [1 / 6, 1 / 6], color: '#888', dash: true, legend: false },
      { name: 'solved', x: [s.lengths[0], s.lengths[s.lengths.length - 1]], y: [SOLVED_MSE, SOLVED_MSE], color: '#888', dash: '2 3', legend: false },
    ],
  };
  const accPanel: Panel = {
    kind: 'line', title: 'Test accuracy vs sequence length', xLabel: 'T (steps)', yLabel: `accuracy (|err| < ${TOLERANCE})`,
    series: CELLS.map((c) => { const rs = runs.filter((x) => x.cell === c); return { name: c, x: rs.map((x) => x.T), y: rs.map((x) => x.accuracy), color: color(c), markers: true }; }),
  };
  const gradPanels: Panel[] = s.lengths.map((T) => ({
    kind: 'line', logY: true, xIntegers: true, title: `‖∂L/∂h_t‖ over t, T = ${T}`, xLabel: 't (input step)', yLabel: '‖∂L/∂h_t‖ (probe mean)',
    note: 'solid: after training; dashed: at initialization',
    series: runs.filter((x) => x.T === T).flatMap((x) => [
      { name: x.cell, x: x.trainedGrads.map((_, t) => t + 1), y: x.trainedGrads, color: color(x.cell) },
      { name: `${x.cell} (init)`, x: x.initGrads.map((_, t) => t + 1), y: x.initGrads, color: color(x.cell), dash: true, legend: false },
    ]),
  }));
  const lossPanels: Panel[] = s.lengths.map((T) => ({
    kind: 'line', logY: true, title: `Training loss, T = ${T}`, xLabel: 'Adam step', yLabel: `MSE (mean of ${window} steps)`,
    series: runs.filter((x) => x.T === T).map((x) => ({ name: x.cell, x: x.losses.map((_, i) => i + 1), y: x.losses.map((_, i) => mean(x.losses.slice(Math.max(0, i - window + 1), i + 1))), color: color(x.cell) })),
  }));
  const figures = [
    { file: 'adding-problem.svg', svg: figure([msePanel, accPanel, ...gradPanels], { cols: 2, title: 'The adding problem: error vs T, and the gradient through time' }),
      caption: 'Test MSE (log scale) and accuracy per cell and sequence length, and the state gradient ‖∂L/∂h_t‖ over the input steps t (log scale) before and after training.' },
    { file: 'adding-problem-loss.svg', svg: figure(lossPanels, { cols: 2, title: 'Training loss' }), caption: `Training MSE per Adam step (moving mean over ${window} steps).` },
  ];
  const by = (cell: Cell, T: number) => runs.find((x) => x.cell === cell && x.T === T)!;
  const Tlong = s.lengths[s.lengths.length - 1];
  const checks = quick
    ? [
      // Quick: short sequences and few steps — the direction of the effect on gradients and error at the longest T.
      check(`T=${Tlong}: after training, more of the gradient reaches step 1 in the LSTM than in the simple RNN`,
        reachRatio(by('lstm', Tlong).trainedGrads) > reachRatio(by('simple_rnn', Tlong).trainedGrads),
        `‖∂L/∂h₁‖/‖∂L/∂h_T‖ ${sci(reachRatio(by('lstm', Tlong).trainedGrads))} vs ${sci(reachRatio(by('simple_rnn', Tlong).trainedGrads))}`),
      check(`T=${Tlong}: after training, more of the gradient reaches step 1 in the GRU than in the simple RNN`,
        reachRatio(by('gru', Tlong).trainedGrads) > reachRatio(by('simple_rnn', Tlong).trainedGrads),
        `${sci(reachRatio(by('gru', Tlong).trainedGrads))} vs ${sci(reachRatio(by('simple_rnn', Tlong).trainedGrads))}`),
      check(`T=${Tlong}: the LSTM's and the GRU's test MSE are below the simple RNN's`,
        Math.max(by('lstm', Tlong).testMse, by('gru', Tlong).testMse) < by('simple_rnn', Tlong).testMse,
        `${sci(by('lstm', Tlong).testMse)} and ${sci(by('gru', Tlong).testMse)} vs ${sci(by('simple_rnn', Tlong).testMse)}`),
    ]
    : [
      ...(['lstm', 'gru'] as const).map((c) => check(`T=100: the ${c === 'lstm' ? 'LSTM' : 'GRU'} solves the adding problem (test MSE < ${SOLVED_MSE})`,
        by(c, 100).testMse < SOLVED_MSE, `test MSE ${sci(by(c, 100).testMse)}, accuracy ${pct(by(c, 100).accuracy)}`)),
      check(`T=100: the simple RNN does not (test MSE ≥ ${SOLVED_MSE})`, by('simple_rnn', 100).testMse >= SOLVED_MSE,
        `test MSE ${sci(by('simple_rnn', 100).testMse)} (predicting the mean: ${sci(1 / 6)})`),
      check(`T=100: after training, more of the gradient reaches step 1 in the LSTM than in the simple RNN`,
        reachRatio(by('lstm', 100).trainedGrads) > reachRatio(by('simple_rnn', 100).trainedGrads),
        `‖∂L/∂h₁‖/‖∂L/∂h_T‖ ${sci(reachRatio(by('lstm', 100).trainedGrads))} vs ${sci(reachRatio(by('simple_rnn', 100).trainedGrads))}`),
    ];
  const settings = `Sequences of T steps (value uniform in [0, 1], marker 1 at one step of each half); target: the sum of the two marked values. ` +
    `${s.train.toLocaleString('en-US')} training sequences, ${s.test.toLocaleString('en-US')} test, ${s.probe} probe sequences per T. ` +
    `One recurrent layer of ${s.units} units (tanh; gates sigmoid; GRU resetAfter; LSTM forget-gate bias 1) → dense 1. ` +
    `Adam lr ${s.lr}, gradient norm clipped at ${s.clipNorm}, batch ${s.batch}, ${s.epochs} epochs (${steps} steps), MSE loss. Seed ${seed}.`;
  const files = writeReport(outDir, {
    name: 'adding-problem', title: 'The vanishing gradient through time: the adding problem', quick,
    intro: 'Backpropagation through time multiplies, step after step back, the Jacobian ∂h_t/∂h_{t−1}: for a simple RNN ' +
      'diag(tanh′)·Rᵀ, whose norm is usually below 1, so ∂L/∂h_t shrinks exponentially in T − t and the first marker cannot be learned. ' +
      'LSTM (Hochreiter & Schmidhuber 1997) and GRU (Cho et al. 2014) add a path whose factor is a gate (f, z) that training holds near 1. ' +
      `The adding problem needs a value kept for T/2 steps or more; "solved" is test MSE below ${SOLVED_MSE} (predicting the mean scores 1/6).`,
    settings, table, figures, checks, machine, seconds,
    notes: ['‖∂L/∂h_t‖ is the total gradient of the probe batch\'s MSE with respect to the state after input step t (the recurrent layer\'s per-step dh in backpropagation through time), averaged over the probe sequences.',
      `Command: \`rede experiment adding-problem${quick ? ' --quick' : ''}${seed === 1 ? '' : ` --seed ${seed}`}\`.`],
    data: { settings: s, seed, runs },
  });
  return { table, files, checks, seconds };
}
