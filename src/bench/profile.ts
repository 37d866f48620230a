// profileStep: where the time of one training step (or one inference forward) goes, layer by layer, on random
// data of the model's shape. Samples are interleaved: each round times a block of plain steps (the step as
// training runs it: ThreadStep, no probe) and then a block of probed steps (a LayerProbe on the network reads
// the clock after every node, and around the loss and the optimizer update); medians over rounds. Plain and
// probed steps thus see the same machine, and the per-layer times can be checked to add up to the plain step.
//   train: forward (training mode) → loss → backward → optimizer update, this thread
//   infer: forward in inference mode, this thread; plus the compiled InferenceModel (fused, packed) for comparison
// With workers > 1 the step itself runs on the worker group (src/parallel) and is reported as such, with each
// worker's compute / barrier wait / reduce; the layer table is then one worker's shard (⌈B / workers⌉
// examples) profiled in this thread — a worker runs the same kernels on its shard. Inference profiles the whole
// batch in this thread and runs the compiled model on `workers` threads.
import { RedeError } from '../engine/errors';
import { checkNumber, checkOptions } from '../engine/options';
import { numelOf, type Layer } from '../layers/layer';
import type { Model } from '../api/model';
import { LayerProbe } from '../model/probe';
import { ThreadStep } from '../train/thread-step';
import type { StepProgram } from '../train/program';
import { WorkerGroup } from '../parallel/group';
import { shareData } from '../parallel/group-step';
import { InferenceModel } from '../infer/model';
import { CounterRng } from '../data/rng';
import { peakIters, peakSampler } from './peak';
import { CLOCKS, hasCpuClock, type ClockName } from './clock';

export interface ProfileOptions {
  /** 'train' (default): a whole training step; 'infer': a forward in inference mode. */
  mode?: 'train' | 'infer';
  /** Examples per step. Default 32. */
  batchSize?: number;
  /** Threads: 1 (default) profiles this thread; more also runs the step on a worker group of that many. */
  workers?: number;
  /** About how long the timed rounds take, seconds (default 3; warm-up comes on top). */
  seconds?: number;
  /** Interleaved rounds; the medians are over these (default 7). */
  rounds?: number;
  /** Seeds the random inputs and labels. Default 1. */
  seed?: number;
  /**
   * 'wall' (default): elapsed time. 'cpu': this process's CPU time (Node), which leaves out the time other
   * processes hold the core — steadier on a shared machine, but it also counts V8's own helper threads.
   */
  clock?: ClockName;
}
const PROFILE_OPTIONS = ['mode', 'batchSize', 'workers', 'seconds', 'rounds', 'seed', 'clock'];


export interface LayerTime {
  node: number;
  name: string;
  type: string;
  /** Milliseconds per step (medians over rounds), for the profiled batch. */
  forwardMs: number;
  backwardMs: number;
  /** FLOPs of the profiled batch (Layer.flops × batch); backward nominal: see backwardFlops. */
  forwardFlops: number;
  backwardFlops: number;
}

export interface StepProfile {
  mode: 'train' | 'infer';
  batchSize: number;
  workers: number;
  /** The kernel build that ran (e.g. 'relaxed-simd'). */
  variant: string;
  /** What the layer rows and stepMs were timed with (ProfileOptions.clock). */
  clock: ClockName;
  /** Examples in the profiled step in this thread: batchSize, or one worker's shard (training, workers > 1). */
  profiledBatch: number;
  layers: LayerTime[];
  /** Train: the loss (softmax / cross-entropy and dL/dlogits) and the optimizer update, ms per step. */
  lossMs: number;
  updateMs: number;
  /** The plain step (no probe) in this thread at profiledBatch, ms: what the rows above add up to. */
  stepMs: number;
  /**
   * The peak loop of the same build (src/bench/peak.ts), run for a short block in every round with the same
   * clock, GFLOP/s (median): what "% of peak" divides by, measured under the same load as the layers.
   */
  peakGflops: number;
  /** Σ of the rows (layers forward + backward, loss, update), ms. */
  accountedMs: number;
  /** Median over rounds of (Σ rows ÷ plain step) within each round: near 1 when the rows account for the step. */
  accountedRatio: number;
  /** Examples per second of the whole step: this thread, or the worker group when workers > 1. */
  examplesPerS: number;
  /** workers > 1: the group's step (wall clock) and each worker's split of it, ms per step. */
  group?: { stepMs: number; variant: string; perWorker: { compute: number; wait: number; reduce: number }[] };
  /** infer: the compiled InferenceModel (folded batch norm, fused epilogues, packed weights) on `workers` threads. */
  compiled?: { stepMs: number; examplesPerS: number; threads: number; clock: ClockName };
  rounds: number;
}

/**
 * Nominal backward FLOPs of a layer for the profiled batch: a layer with a weight kernel (conv, dense, …) runs
 * two products the size of its forward — the weight gradient, and the data gradient unless it reads the model
 * input (no dL/dinput is computed there); any other layer is counted as its forward.
 */
export function backwardFlops(L: Layer, readsInput: boolean, batch: number): number {
  const f = L.flops() * batch;
  return L.params.some((p) => p.name === 'w') ? (readsInput ? f : 2 * f) : f;
}

/** Nominal FLOPs of one example through `model`: forward, plus backward (backwardFlops) for a training step. */
export function stepFlops(model: Model, mode: 'train' | 'infer'): number {
  return model.graph.nodes.reduce((s, n) => s + n.layer.flops() + (mode === 'train' ? backwardFlops(n.layer, n.inputs.every((i) => i < 0), 1) : 0), 0);
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b), h = s.length >> 1; return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2; };

/** Profiles one step of `model` (compiled, for mode 'train'); see the header. */
export async function profileStep(model: Model, options: ProfileOptions = {}): Promise<StepProfile> {
  const o = checkOptions<ProfileOptions>('profileStep', options, PROFILE_OPTIONS, { batch_size: 'batchSize' });
  const mode = o.mode ?? 'train';
  if (mode !== 'train' && mode !== 'infer') throw new RedeError(`profileStep: mode must be 'train' or 'infer', got ${JSON.stringify(o.mode)}`);
  const B = checkNumber('profileStep', 'batchSize', o.batchSize ?? 32, { integer: true, min: 1, max: 65536 });
  const W = checkNumber('profileStep', 'workers', o.workers ?? 1, { integer: true, min: 1, max: 64 });
  const seconds = checkNumber('profileStep', 'seconds', o.seconds ?? 3, { min: 0, exclusiveMin: true, max: 3600 });
  const rounds = checkNumber('profileStep', 'rounds', o.rounds ?? 7, { integer: true, min: 1, max: 1000 });
  const seed = checkNumber('profileStep', 'seed', o.seed ?? 1, { integer: true });
  const clock = o.clock ?? 'wall';
  if (clock !== 'wall' && clock !== 'cpu') throw new RedeError(`profileStep: clock must be 'wall' or 'cpu', got ${JSON.stringify(o.clock)}`);
  if (clock === 'cpu' && !hasCpuClock()) throw new RedeError("profileStep: clock 'cpu' needs Node's process.cpuUsage");
  const now = CLOCKS[clock];
  if (W > B) throw new RedeError(`profileStep: ${W} workers need a batch of at least ${W} examples, got batchSize ${B}`);
  if (mode === 'train' && !model.trainer) throw new RedeError('profileStep: mode \'train\' needs a compiled model (model.compile({ optimizer, loss }))');
  if (model.trainer && model.trainer.program.links.length !== 1) throw new RedeError('profileStep: profiles a model trained alone, not a chain of networks');

  const b = mode === 'train' ? Math.ceil(B / W) : B; // what this thread profiles: one worker's shard in training
  model.ensureCapacity(B);
  const rng = new CounterRng(seed);
  const per = numelOf(model.inputShape), classes = numelOf(model.outputShape);
  const x = Float32Array.from({ length: B * per }, () => rng.next());
  const labels = Int32Array.from({ length: B }, () => rng.int(classes));
  const targets = Float32Array.from({ length: B * classes }, () => rng.next()); // for the losses that take targets
  const nodes = model.graph.nodes;

  // The two step bodies on b examples: plain (as training or predict runs it) and probed.
  const probe = new LayerProbe(nodes.length, now);
  let lossMs = 0, updateMs = 0, stepIndex = 0;
  let plain: () => void, probed: () => void;
  const fill = (program: StepProgram | null) => {
    model.e.write(model.inputAct, x.subarray(0, b * per));
    if (!program) return;
    const s = program.slots(b);
    s.labels?.set(labels.subarray(0, b));
    s.targets?.set(targets.subarray(0, b * classes));
  };
  if (mode === 'train') {
    const program = model.trainer!.program, opt = program.links[0].opt!;
    const lrs = [opt.optimizer.cfg.lr ?? 0.01];
    const ts = new ThreadStep(program, () => seed);
    fill(program);
    plain = () => { ts.runFilled(b, { step: stepIndex++, lrs }); };
    probed = () => {
      program.gradients(b, { step: stepIndex++, seed, countCorrect: true }); // what runFilled does, in its parts
      const t0 = now();
      program.update(lrs, program.nextT());
      program.commit();
      updateMs += now() - t0;
      lossMs += probe.backwardStart - probe.forwardEnd;
    };
  } else {
    fill(null);
    plain = () => { model.forwardStep(model.step(b)); };
    probed = plain;
  }

  // Optional third party in each round: the worker group (train) or the compiled model (infer).
  let other: { run: () => Promise<void>; close: () => Promise<void>; times: number[] } | null = null;
  let group: WorkerGroup | null = null, compiled: InferenceModel | null = null;
  if (mode === 'train' && W > 1) {
    const t = model.trainer!, program = t.program;
    group = await WorkerGroup.create(program, { workers: W, batchSize: B });
    group.push([model], [t.optState]);
    await group.begin(shareData(program, x, program.objective.sparse ? labels : targets), { batchSize: B, seed, shuffle: false });
    const g = group, lrs = [program.links[0].opt!.optimizer.cfg.lr ?? 0.01];
    let step = 0;
    other = { run: async () => { await g.step({ epoch: 0, batch: 0, length: B, step, lrs, ts: [++step] }); }, close: async () => { await g.end(); await g.close(); }, times: [] };
  } else if (mode === 'infer') {
    compiled = await InferenceModel.from(model, { workers: W });
    const c = compiled, input = x;
    other = { run: async () => { c.predict(input); }, close: () => c.close(), times: [] };
  }

  try {
    const timeBlock = (fn: () => void, reps: number) => { const t0 = now(); for (let r = 0; r < reps; r++) fn(); return (now() - t0) / reps; };
    // The compiled model on one thread runs in this one: the same clock. A worker group or helper threads are
    // other threads (the CPU clock would add theirs up): those are timed by the wall clock.
    const otherNow = W === 1 ? now : CLOCKS.wall;
    const timeOther = async (reps: number) => { const t0 = otherNow(); for (let r = 0; r < reps; r++) await other!.run(); return (otherNow() - t0) / reps; };
    // Warm-up (V8 tiers the kernels up; the first steps touch fresh memory): at least 2 steps each, about a
    // fifth of the budget. The block sizes follow from what a warm step costs.
    const warmEnd = performance.now() + (seconds * 1000) / 5;
    let plainMs = 0, otherMs = 0;
    for (let i = 0; i < 2 || performance.now() < warmEnd; i++) {
      plainMs = timeBlock(plain, 1);
      model.probe = probe; timeBlock(probed, 1); model.probe = null;
      if (other) otherMs = await timeOther(1);
    }
    const share = (seconds * 1000) / rounds / (other ? 3 : 2);
    // The peak loop in each round: about a tenth of a block, at least 2 ms.
    const peak = peakSampler(model.e, now), peakN = peakIters(model.e, Math.max(2, share / 10), 50), peaks: number[] = [];
    const reps = Math.max(1, Math.round(share / plainMs)), otherReps = other ? Math.max(1, Math.round(share / otherMs)) : 0;
    const steps: number[] = [], ratios: number[] = [], fwd: number[][] = nodes.map(() => []), bwd: number[][] = nodes.map(() => []), loss: number[] = [], upd: number[] = [];
    group?.control.resetTimes();
    for (let r = 0; r < rounds; r++) {
      steps.push(timeBlock(plain, reps));
      probe.reset(); lossMs = 0; updateMs = 0;
      model.probe = probe;
      try { timeBlock(probed, reps); } finally { model.probe = null; }
      nodes.forEach((_, i) => { fwd[i].push(probe.forwardMs[i] / reps); bwd[i].push(probe.backwardMs[i] / reps); });
      loss.push(lossMs / reps); upd.push(updateMs / reps);
      let sum = (lossMs + updateMs) / reps;
      for (let i = 0; i < nodes.length; i++) sum += fwd[i][r] + bwd[i][r];
      ratios.push(sum / steps[r]);
      if (other) other.times.push(await timeOther(otherReps));
      peaks.push(peak.sample(peakN));
    }
    peak.release();
    const layers: LayerTime[] = nodes.map((n, i) => ({
      node: i, name: n.layer.name, type: n.layer.type,
      forwardMs: median(fwd[i]), backwardMs: mode === 'train' ? median(bwd[i]) : 0,
      forwardFlops: n.layer.flops() * b,
      backwardFlops: mode === 'train' ? backwardFlops(n.layer, n.inputs.every((s) => s < 0), b) : 0,
    }));
    const lm = mode === 'train' ? median(loss) : 0, um = mode === 'train' ? median(upd) : 0;
    const stepMs = median(steps);
    const accountedMs = layers.reduce((s, l) => s + l.forwardMs + l.backwardMs, 0) + lm + um;
    const out: StepProfile = {
      mode, batchSize: B, workers: W, variant: model.e.variant, clock, profiledBatch: b, layers, lossMs: lm, updateMs: um,
      stepMs, peakGflops: median(peaks), accountedMs, accountedRatio: median(ratios), examplesPerS: (b * 1000) / stepMs, rounds,
    };
    if (group && other) {
      const gMs = median(other.times), timed = rounds * otherReps;
      out.group = { stepMs: gMs, variant: group.e.variant, perWorker: group.times().map((t) => ({ compute: t.compute / timed, wait: t.wait / timed, reduce: t.reduce / timed })) };
      out.examplesPerS = (B * 1000) / gMs;
    }
    if (compiled && other) {
      const cMs = median(other.times);
      out.compiled = { stepMs: cMs, examplesPerS: (B * 1000) / cMs, threads: W, clock: W === 1 ? clock : 'wall' };
      if (W > 1) out.examplesPerS = out.compiled.examplesPerS;
    }
    return out;
  } finally {
    model.probe = null;
    await other?.close();
  }
}
