// Learning-rate schedules: pure functions of the step (iteration) and epoch, configured as JSON.
// Caffe's 'inv' and 'poly' policies are here as Caffe defines them.
import { RedeError } from '../engine/errors';

export type ScheduleConfig =
  | { type: 'constant' }
  /** lr · gamma^floor(epoch / every) */
  | { type: 'step'; every: number; gamma?: number }
  /** lr · gamma^(step / decaySteps) */
  | { type: 'exponential'; gamma: number; decaySteps: number }
  /** lr_min + (lr − lr_min)·(1 + cos(π·step/totalSteps))/2 */
  | { type: 'cosine'; totalSteps: number; minLr?: number }
  /** Caffe inv: lr · (1 + gamma·step)^(−power) */
  | { type: 'inv'; gamma: number; power: number }
  /** Caffe poly: lr · (1 − step/maxSteps)^power */
  | { type: 'poly'; maxSteps: number; power: number };

export type Schedule = ScheduleConfig & { /** Linear warm-up from 0 over this many steps. */ warmupSteps?: number };

export function learningRate(base: number, s: Schedule | undefined, step: number, epoch: number): number {
  if (!s) return base;
  let lr: number;
  switch (s.type) {
    case 'constant': lr = base; break;
    case 'step': lr = base * (s.gamma ?? 0.1) ** Math.floor(epoch / s.every); break;
    case 'exponential': lr = base * s.gamma ** (step / s.decaySteps); break;
    case 'cosine': {
      const min = s.minLr ?? 0, t = Math.min(step, s.totalSteps) / s.totalSteps;
      lr = min + (base - min) * (1 + Math.cos(Math.PI * t)) / 2;
      break;
    }
    case 'inv': lr = base * (1 + s.gamma * step) ** -s.power; break;
    case 'poly': lr = base * Math.max(0, 1 - step / s.maxSteps) ** s.power; break;
    default: throw new RedeError(`schedule: unknown type '${(s as { type: string }).type}' (expected constant, step, exponential, cosine, inv or poly)`);
  }
  if (s.warmupSteps && step < s.warmupSteps) lr *= (step + 1) / s.warmupSteps;
  return lr;
}
