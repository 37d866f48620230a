// The group's memory, laid out by the same calls on the main thread and, replayed, in every worker, so that
// both sides agree on every address without sending any. For a chain of L networks (one for ordinary fit):
//
//   arena start ─┬─ per network: parameters | BN state | gradient slices 0 … S−1   (slice j = micro-shard j)
//                ├─ per trainable network: optimizer state (slots × paramFloats)
//                ├─ control block                    Atomics words + f64 slots (control.ts)
//                ├─ replica 0: per network: input | activations | dactivations | labels | loss scratch | BN discard
//                ├─ replica 1 …                      (each at the start the main thread recorded)
//                └─ replica W−1
// The regions are only reserved here, never written: the main thread pushes the user's weights into them.
import type { Engine } from '../engine/engine';
import { RedeError } from '../engine/errors';
import { MemoryPlan } from '../engine/plan';
import { BatchNorm } from '../layers/norm';
import type { ModelConfig } from '../model/config';
import { Network, type Placement } from '../model/network';
import { Optimizer, type OptimizerSpec } from '../optim/optimizer';
import type { LossSpec } from '../train/loss';
import { Objective } from '../train/objective';
import { StepProgram } from '../train/program';
import { controlBytes, type ControlSizes } from './control';
import { OPTIM_STEP_BYTES } from '../engine/generated/abi';

/** A step program as plain JSON: what a worker needs to rebuild it. */
export interface ChainSpec {
  nets: { config: ModelConfig; seed: number; optimizer: OptimizerSpec | null }[];
  loss: LossSpec | LossSpec[];
  lossWeights?: number[];
}

/** Everything that fixes the layout: sent to each worker in its init message (plain JSON). */
export interface GroupSpec {
  chain: ChainSpec;
  workers: number;
  /** Micro-shards per batch = gradient slices. */
  shards: number;
  /** Examples per micro-shard the activations are planned for. */
  capacity: number;
  /** Reduction blocks of each network's parameter vector. */
  blocks: number[];
}

export const controlSizes = (s: GroupSpec): ControlSizes => ({ workers: s.workers, shards: s.shards, blocks: s.blocks, links: s.chain.nets.length });

/** The spec of a program's chain (its networks' configs and seeds, optimizers, losses). */
export function chainSpec(p: StepProgram): ChainSpec {
  return {
    nets: p.links.map((l) => ({ config: l.net.config, seed: l.net.seed, optimizer: l.opt ? l.opt.optimizer.config() : null })),
    ...p.objective.config(),
  };
}

export interface SharedLayout {
  /** Per network: the one shared copy of its parameters, state and gradient slices. */
  bases: Network[];
  /** Per network: its optimizer and state address, or null (frozen). */
  opts: ({ optimizer: Optimizer; state: number } | null)[];
  control: number;
}
export interface ReplicaLayout {
  program: StepProgram;
  /** Per network: where shards other than 0 send BN running-statistic updates. */
  discards: number[];
}

/** Parameters, gradient slices, optimizer states and the control block, from the engine's current top. */
export function layoutShared(e: Engine, spec: GroupSpec): SharedLayout {
  const bases = spec.chain.nets.map((n) => Network.placed(n.config, e, n.seed, reserved(e, spec.shards)));
  const opts = spec.chain.nets.map((n, i) => {
    if (!n.optimizer) return null;
    const optimizer = new Optimizer(n.optimizer), floats = Math.max(1, optimizer.slots) * bases[i].paramFloats;
    const state = e.reserve(floats * 4, `optimizer state of network ${i} (${optimizer.slots} × ${bases[i].paramFloats} floats)`);
    optimizer.stepBlock = e.reserve(OPTIM_STEP_BYTES, `optimizer step block of network ${i}`);
    return { optimizer, state };
  });
  const control = e.reserve(controlBytes(controlSizes(spec)), 'parallel control block');
  return { bases, opts, control };
}

/** Reserves a network's parameters | state | gradient slices (the order Network.allocate plans them); writes nothing. */
function reserved(e: Engine, shards: number): Placement {
  return ({ paramFloats, stateFloats }) => {
    const plan = new MemoryPlan();
    plan.f32('params', paramFloats, 'parameters');
    plan.f32('state', stateFloats, 'parameters');
    plan.f32('grads', paramFloats * shards, 'gradients');
    const l = e.allocate(plan, `shared parameters (${paramFloats} floats, ${shards} gradient slices)`);
    return { params: l.ptr.params, state: l.ptr.state, grads: l.ptr.grads, gradSlices: shards, fresh: false };
  };
}

/** One worker's replicas (their own activations for `capacity` examples) at the engine's current top. */
export function layoutReplica(shared: SharedLayout, spec: GroupSpec): ReplicaLayout {
  const discards: number[] = [];
  const nets = shared.bases.map((base, i) => {
    const n = spec.chain.nets[i];
    const replica = Network.on(n.config, base.e, n.seed, { params: base.params, state: base.state, grads: base.grads, gradSlices: base.gradSlices });
    const bnFloats = Math.max(0, ...replica.layers.map((L) => (L instanceof BatchNorm ? 2 * L.c : 0)));
    const ptr = replica.plan(spec.capacity, (p) => { if (bnFloats) p.f32('bn-discard', bnFloats, 'activations'); });
    discards.push(ptr['bn-discard'] ?? 0);
    return replica;
  });
  const objective = new Objective(nets[nets.length - 1].outputs.length, spec.chain.loss, spec.chain.lossWeights);
  return { program: new StepProgram(nets.map((net, i) => ({ net, opt: shared.opts[i] })), objective), discards };
}

/** The addresses a worker checks after replaying the layout. */
export interface LayoutCheck { params: number[]; grads: number[]; state: number[]; optState: number[]; control: number; input: number }

export function layoutCheck(s: SharedLayout, r: ReplicaLayout): LayoutCheck {
  return {
    params: s.bases.map((b) => b.params), grads: s.bases.map((b) => b.grads), state: s.bases.map((b) => b.state),
    optState: s.opts.map((o) => o?.state ?? 0), control: s.control, input: r.program.first.inputAct,
  };
}

export function assertSameLayout(worker: number, got: LayoutCheck, want: LayoutCheck): void {
  for (const key of Object.keys(want) as (keyof LayoutCheck)[]) {
    if (JSON.stringify(got[key]) !== JSON.stringify(want[key])) {
      throw new RedeError(`parallel: worker ${worker} replayed the memory plan to a different layout: ${key} at ${JSON.stringify(got[key])}, the main thread has ${JSON.stringify(want[key])}`);
    }
  }
}
