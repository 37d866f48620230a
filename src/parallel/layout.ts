// The group's memory, laid out by the same calls on the main thread and, replayed in attach mode, in every
// worker, so that both sides agree on every address without sending any:
//
//   arena start ─┬─ parameters | BN state            one copy, read by every worker, updated chunk-wise
//                ├─ gradient slices 0 … S−1          S × paramFloats (slice j = micro-shard j)
//                ├─ optimizer state                  slots × paramFloats
//                ├─ control block                    Atomics words + f64 slots (control.ts)
//                ├─ replica 0: input | activations | dactivations | labels | loss scratch | BN discard
//                ├─ replica 1 …                      (each at the start the main thread recorded)
//                └─ replica W−1
import type { Engine } from '../engine/engine';
import { RedeError } from '../engine/errors';
import { BatchNorm } from '../layers/norm';
import type { ModelConfig } from '../model/config';
import { Model } from '../model/model';
import type { OptimizerSpec } from '../optim/optimizer';
import type { LossSpec } from '../train/loss';
import { Trainer } from '../train/trainer';
import { controlBytes } from './control';

/** Everything that fixes the layout: sent to each worker in its init message (plain JSON). */
export interface GroupSpec {
  config: ModelConfig;
  seed: number;
  workers: number;
  /** Micro-shards per batch = gradient slices. */
  shards: number;
  /** Examples per micro-shard the activations are planned for. */
  capacity: number;
  /** Reduction blocks of the parameter vector. */
  blocks: number;
  optimizer: OptimizerSpec;
  loss: LossSpec;
}

export interface SharedLayout { base: Model; trainer: Trainer; control: number }
export interface ReplicaLayout { replica: Model; /** Where shards other than 0 send BN running-statistic updates. */ discard: number }

/** Parameters, gradient slices, optimizer state and the control block, from the engine's current top. */
export async function layoutShared(e: Engine, spec: GroupSpec, attach: boolean): Promise<SharedLayout> {
  const base = await Model.create(spec.config, { engine: e, seed: spec.seed, gradSlices: spec.shards, attach });
  const trainer = new Trainer(base, { optimizer: spec.optimizer, loss: spec.loss });
  const control = e.reserve(controlBytes({ workers: spec.workers, shards: spec.shards, blocks: spec.blocks }), 'parallel control block');
  if (!attach) {
    // Gradient padding between tensors is summed and never written: it must start as zeros, like the block.
    e.k.fill_f32(base.grads, base.paramFloats * spec.shards, 0);
    e.u8.fill(0, control, control + controlBytes({ workers: spec.workers, shards: spec.shards, blocks: spec.blocks }));
  }
  return { base, trainer, control };
}

/** One worker's replica (its own activations for `capacity` examples) at the engine's current top. */
export async function layoutReplica(base: Model, spec: GroupSpec): Promise<ReplicaLayout> {
  const replica = await Model.create(spec.config, { shareWith: base, slice: 0 });
  const bnFloats = Math.max(0, ...replica.layers.map((L) => (L instanceof BatchNorm ? 2 * L.c : 0)));
  const ptr = replica.plan(spec.capacity, (p) => { if (bnFloats) p.f32('bn-discard', bnFloats, 'activations'); });
  return { replica, discard: ptr['bn-discard'] ?? 0 };
}

/** The addresses a worker checks after replaying the layout. */
export interface LayoutCheck { params: number; grads: number; state: number; optState: number; control: number; input: number }

export function layoutCheck(s: SharedLayout, r: ReplicaLayout): LayoutCheck {
  return { params: s.base.params, grads: s.base.grads, state: s.base.state, optState: s.trainer.optState, control: s.control, input: r.replica.inputAct };
}

export function assertSameLayout(worker: number, got: LayoutCheck, want: LayoutCheck): void {
  for (const key of Object.keys(want) as (keyof LayoutCheck)[]) {
    if (got[key] !== want[key]) {
      throw new RedeError(`parallel: worker ${worker} replayed the memory plan to a different layout: ${key} at ${got[key]}, the main thread has ${want[key]}`);
    }
  }
}
