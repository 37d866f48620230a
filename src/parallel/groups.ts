// Worker groups kept between fits: one per compiled model (its Trainer), reused while the settings fit, so a
// second fit does not start threads again. Idle workers never keep Node alive.
import { RedeError } from '../engine/errors';
import type { StepProgram } from '../train/program';
import { WorkerGroup } from './group';
import { coreCount } from './worker-api';

const groups = new WeakMap<object, WorkerGroup>();

/** The worker count fit uses: 'auto' is one per core; never more workers than examples in a batch, nor than micro-shards. */
export async function resolveWorkers(req: number | 'auto', batchSize: number, examples: number, deterministic: boolean, microShards = 8): Promise<number> {
  if (req !== 'auto' && (!Number.isInteger(req) || req < 1)) throw new RedeError(`fit: workers must be a positive integer or 'auto', got ${req}`);
  const want = req === 'auto' ? await coreCount() : req;
  return Math.max(1, Math.min(want, batchSize, examples, deterministic ? microShards : Infinity));
}

export interface GroupSettings { workers: number; batchSize: number; deterministic: boolean; microShards?: number; maxBytes?: number }

/** The group cached for `owner` when it fits these settings, else a new one (the old one is closed). */
export async function groupFor(owner: object, program: StepProgram, o: GroupSettings): Promise<WorkerGroup> {
  const old = groups.get(owner);
  const shards = o.deterministic ? (o.microShards ?? 8) : o.workers;
  if (old && !old.dead && old.spec.workers === o.workers && old.spec.shards === shards && old.deterministic === o.deterministic &&
    old.spec.capacity >= Math.ceil(o.batchSize / shards)) return old;
  groups.delete(owner);
  if (old) await old.close();
  const g = await WorkerGroup.create(program, { workers: o.workers, batchSize: o.batchSize, deterministic: o.deterministic, microShards: o.microShards, maxBytes: o.maxBytes });
  groups.set(owner, g);
  return g;
}

/** Terminates `owner`'s worker group, if any (idle workers never keep Node alive, so this is optional). */
export async function closeWorkers(owner: object): Promise<void> {
  const g = groups.get(owner);
  groups.delete(owner);
  await g?.close();
}

/** The group fit last used for `owner` (benchmarks read its per-worker times). */
export const workerGroupOf = (owner: object): WorkerGroup | undefined => groups.get(owner);
