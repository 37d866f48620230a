// fit's epoch loop, written once over the step contract (step.ts): whether the steps run in this thread or
// across workers, the shuffling, learning-rate schedule, callbacks, non-finite handling, progress numbers,
// validation, checkpoints and history are these lines.
//
// Per batch the callbacks get the batch loss and the epoch's running numbers — mean_loss, accuracy,
// examples, examples_per_s — computed from the step results, so they read the same with any number of
// workers; the epoch's logs are the last batch's running numbers (plus validation).
import { RedeError } from '../engine/errors';
import { learningRate } from '../optim/schedules';
import type { Logs, TrainContext } from './callbacks';
import type { StepExecutor, TrainData } from './step';
import type { FitOptions, History, Trainer } from './trainer';

export interface LoopOptions {
  epochs: number;
  validation?: FitOptions['validationData'];
  callbacks: NonNullable<FitOptions['callbacks']>;
  initialEpoch: number;
  onNonFinite: 'stop' | 'skip';
  /** Saves the model (ModelCheckpoint); the executor has been pulled first. */
  save(path: string): Promise<void>;
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

export async function fitLoop(t: Trainer, exec: StepExecutor, data: TrainData, o: LoopOptions): Promise<History> {
  const net = t.net, src = data.source, bpe = src.batchesPerEpoch;
  const history: History = { epochs: [], history: {} };
  let stopped = false;
  const ctx: TrainContext = {
    stop: () => { stopped = true; },
    snapshot: () => { exec.pull(); return net.e.read(net.params, net.paramFloats); },
    restore: (w) => { net.e.write(net.params, w); exec.push(); },
    save: async (path) => { exec.pull(); await o.save(path); },
    epochs: o.epochs, batchesPerEpoch: bpe,
  };
  const cbs = o.callbacks;
  t.seed = data.seed;
  try {
    await exec.begin(data);
    for (const c of cbs) await c.onTrainBegin?.(ctx);
    t.step = o.initialEpoch * bpe;
    for (let epoch = o.initialEpoch; epoch < o.epochs && !stopped; epoch++) {
      for (const c of cbs) await c.onEpochBegin?.(epoch, ctx);
      const t0 = now();
      let lossSum = 0, seen = 0, correct = 0, skipped = 0, seconds = 0;
      for (let bi = 0; bi < bpe; bi++) {
        const b = src.batchLength(bi);
        const lr = learningRate(t.optimizer.lr, t.schedule, t.step, epoch);
        const r = await exec.run({ epoch, batch: bi, length: b, step: t.step, lrs: [lr] });
        if (r.skipped) {
          if (o.onNonFinite === 'skip') { t.step++; skipped++; continue; }
          throw new RedeError(`fit: loss is ${r.loss} at epoch ${epoch + 1}, step ${bi + 1} (global step ${t.step}); weights are those before this step`);
        }
        lossSum += r.loss * b; seen += b; correct += r.correct;
        t.step++;
        seconds = (now() - t0) / 1000;
        const logs: Logs = { loss: r.loss, lr, mean_loss: lossSum / seen, examples: seen, examples_per_s: seen / seconds };
        if (t.accuracy) logs.accuracy = correct / seen;
        for (const c of cbs) await c.onBatchEnd?.(t.step, logs, ctx);
      }
      exec.pull();
      // An epoch whose batches were all skipped has no loss: NaN, with the count, rather than a made-up 0.
      const logs: Logs = { loss: seen ? lossSum / seen : NaN, examples_per_s: seen / seconds, seconds, lr: learningRate(t.optimizer.lr, t.schedule, t.step, epoch) };
      if (t.accuracy) logs.accuracy = seen ? correct / seen : NaN;
      if (o.onNonFinite === 'skip') logs.skipped = skipped;
      if (o.validation) {
        const v = Array.isArray(o.validation) ? t.evaluate(o.validation[0], o.validation[1], data.batchSize) : t.evaluate(o.validation, undefined, data.batchSize);
        for (const [key, value] of Object.entries(v)) logs[`val_${key}`] = value;
      }
      t.epoch = epoch + 1;
      history.epochs.push(epoch);
      for (const [key, value] of Object.entries(logs)) (history.history[key] ??= []).push(value);
      for (const c of cbs) await c.onEpochEnd?.(epoch, logs, ctx);
      exec.push(); // the epoch callbacks may have changed the weights
    }
    await exec.end();
    exec.pull();
  } catch (err) {
    // A failed group keeps the weights of the last completed epoch (pull is then a no-op); otherwise the
    // networks get the weights before the failing step.
    await exec.end().catch(() => {});
    exec.pull();
    throw err;
  }
  for (const c of cbs) await c.onTrainEnd?.({}, ctx);
  return history;
}
