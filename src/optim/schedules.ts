// Learning-rate schedules: pure functions of the step (iteration) and epoch, configured as JSON.
// Caffe's lr_policy values are all here as Caffe defines them (sgd_solver.cpp), with step = Caffe's iter:
// fixed = constant, step = step with unit 'step', exp = exponential with decaySteps 1, inv, multistep, poly, sigmoid.
import { RedeError } from '../engine/errors';
import { checkNumber, checkOptions } from '../engine/options';

export type ScheduleConfig =
  | { type: 'constant' }
  /** lr · gamma^floor(epoch / every), or floor(step / every) with unit 'step' (Caffe's step) */
  | { type: 'step'; every: number; gamma?: number; unit?: 'epoch' | 'step' }
  /** Caffe multistep: lr · gamma^(number of milestones ≤ step); milestones in non-decreasing order */
  | { type: 'multistep'; milestones: number[]; gamma?: number }
  /** Caffe sigmoid: lr / (1 + exp(−gamma·(step − center))) */
  | { type: 'sigmoid'; gamma: number; center: number }
  /** lr · gamma^(step / decaySteps) */
  | { type: 'exponential'; gamma: number; decaySteps: number }
  /** lr_min + (lr − lr_min)·(1 + cos(π·step/totalSteps))/2 */
  | { type: 'cosine'; totalSteps: number; minLr?: number }
  /** Caffe inv: lr · (1 + gamma·step)^(−power) */
  | { type: 'inv'; gamma: number; power: number }
  /** Caffe poly: lr · (1 − step/maxSteps)^power */
  | { type: 'poly'; maxSteps: number; power: number };

export type Schedule = ScheduleConfig & { /** Linear warm-up from 0 over this many steps. */ warmupSteps?: number };

const SCHEDULE_OPTIONS: Record<ScheduleConfig['type'], readonly string[]> = {
  constant: [], step: ['every', 'gamma', 'unit'], multistep: ['milestones', 'gamma'], sigmoid: ['gamma', 'center'], exponential: ['gamma', 'decaySteps'], cosine: ['totalSteps', 'minLr'],
  inv: ['gamma', 'power'], poly: ['maxSteps', 'power'],
};

/**
 * Checks a schedule before training: known type and keys, every parameter in the range where the rate stays a
 * finite, non-negative number for every step (a zero period or a negative power would give Infinity or NaN).
 */
export function checkSchedule(s: unknown): Schedule | undefined {
  if (s === undefined) return undefined;
  const type = (s as { type?: unknown } | null)?.type;
  if (typeof type !== 'string' || !(type in SCHEDULE_OPTIONS)) {
    throw new RedeError(`schedule: unknown type ${JSON.stringify(type)} (expected ${Object.keys(SCHEDULE_OPTIONS).join(', ')})`);
  }
  const where = `schedule ${type}`;
  const c = checkOptions<Record<string, unknown>>(where, s, ['type', 'warmupSteps', ...SCHEDULE_OPTIONS[type as ScheduleConfig['type']]]);
  const need = (k: string, o: Parameters<typeof checkNumber>[3]) => {
    if (c[k] === undefined) throw new RedeError(`${where}: ${k} is required`);
    checkNumber(where, k, c[k], o);
  };
  const opt = (k: string, o: Parameters<typeof checkNumber>[3]) => { if (c[k] !== undefined) checkNumber(where, k, c[k], o); };
  switch (type) {
    case 'step':
      need('every', { min: 1, integer: true }); opt('gamma', { min: 0 });
      if (c.unit !== undefined && c.unit !== 'epoch' && c.unit !== 'step') throw new RedeError(`${where}: unit must be 'epoch' or 'step', got ${JSON.stringify(c.unit)}`);
      break;
    case 'multistep': {
      const m = c.milestones;
      if (!Array.isArray(m) || m.length === 0) throw new RedeError(`${where}: milestones must be a non-empty list of steps, got ${JSON.stringify(m) ?? String(m)}`);
      m.forEach((v, i) => {
        checkNumber(where, `milestones[${i}]`, v, { min: 0, integer: true });
        if (i > 0 && !(v >= m[i - 1])) throw new RedeError(`${where}: milestones must not decrease, got ${m[i - 1]} then ${v} at [${i}]`);
      });
      opt('gamma', { min: 0 });
      break;
    }
    case 'sigmoid': need('gamma', {}); need('center', {}); break;
    case 'exponential': need('gamma', { min: 0 }); need('decaySteps', { min: 0, exclusiveMin: true }); break;
    case 'cosine': need('totalSteps', { min: 1, integer: true }); opt('minLr', { min: 0 }); break;
    case 'inv': need('gamma', { min: 0 }); need('power', { min: 0 }); break;
    case 'poly': need('maxSteps', { min: 1, integer: true }); need('power', { min: 0, exclusiveMin: true }); break;
  }
  opt('warmupSteps', { min: 0, integer: true });
  return c as Schedule;
}

export function learningRate(base: number, s: Schedule | undefined, step: number, epoch: number): number {
  if (!s) return base;
  let lr: number;
  switch (s.type) {
    case 'constant': lr = base; break;
    case 'step': lr = base * (s.gamma ?? 0.1) ** Math.floor((s.unit === 'step' ? step : epoch) / s.every); break;
    case 'multistep': {
      let passed = 0;
      while (passed < s.milestones.length && step >= s.milestones[passed]) passed++;
      lr = base * (s.gamma ?? 0.1) ** passed;
      break;
    }
    case 'sigmoid': lr = base / (1 + Math.exp(-s.gamma * (step - s.center))); break;
    case 'exponential': lr = base * s.gamma ** (step / s.decaySteps); break;
    case 'cosine': {
      const min = s.minLr ?? 0, t = Math.min(step, s.totalSteps) / s.totalSteps;
      lr = min + (base - min) * (1 + Math.cos(Math.PI * t)) / 2;
      break;
    }
    case 'inv': lr = base * (1 + s.gamma * step) ** -s.power; break;
    case 'poly': lr = base * Math.max(0, 1 - step / s.maxSteps) ** s.power; break;
    default: throw new RedeError(`schedule: unknown type '${(s as { type: string }).type}' (expected ${Object.keys(SCHEDULE_OPTIONS).join(', ')})`);
  }
  if (s.warmupSteps && step < s.warmupSteps) lr *= (step + 1) / s.warmupSteps;
  return lr;
}
