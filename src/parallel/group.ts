// The worker group (main thread): a fixed number of long-lived workers over one shared wasm memory that
// holds the parameters once, S gradient slices, the optimizer state and one activation replica per worker.
// The main thread only publishes steps and waits for them (Atomics.waitAsync: it never blocks, as a page's
// main thread must not); batches are assembled by the workers themselves.
//
// Failure: a worker's error (with its stack), its exit or termination, or a wasm trap rejects the pending
// call at once; the abort word wakes the other workers, and all are terminated. The group is then dead;
// the next fit makes a new one.
import { Engine } from '../engine/engine';
import { RedeError } from '../engine/errors';
import type { Network } from '../model/network';
import type { StepProgram } from '../train/program';
import { BATCH, BLEN, CMD_STEP, CMD_STOP, Control, DONE_SEQ, EPOCH, SKIPPED, STEP, controlBytes } from './control';
import { groupHooks } from './faults';
import { chainSpec, controlSizes, layoutCheck, layoutReplica, layoutShared, type GroupSpec, type LayoutCheck, type SharedLayout } from './layout';
import { blockCount, liveShards, shardCapacity } from './shards';
import type { DataSpec, FitMessage, FromWorker, InitMessage } from './worker';
import { spawnWorker, type WorkerLike } from './worker-api';

export interface GroupOptions {
  workers: number;
  /** Batch size the replicas are planned for (a batch is cut into micro-shards of at most ⌈B / S⌉). */
  batchSize: number;
  /** Fixed micro-shards (bitwise-identical results for any worker count ≤ microShards). Default false. */
  deterministic?: boolean;
  /** Micro-shards per batch in deterministic mode. Default 8. */
  microShards?: number;
  /** Memory limit of the group's shared memory, bytes. Default: the model engine's limit. */
  maxBytes?: number;
  /** A step that takes longer than this fails the group, naming the late workers. Default 120,000 ms. */
  stepTimeoutMs?: number;
  /** Where the worker entry is (default: worker.ts beside this file under tsx, rede-worker.js beside a bundle). */
  workerUrl?: URL;
}

/** What the workers report for one step: Σ over the batch of the loss, the top-1 hits, whether it was skipped. */
export interface GroupStepResult { loss: number; correct: number; skipped: boolean }
/** One step's arguments: which batch, its global step number, each network's rate and optimizer step. */
export interface GroupStepArgs { epoch: number; batch: number; length: number; step: number; lrs: readonly number[]; ts: readonly number[] }
export interface WorkerTimes { compute: number; wait: number; reduce: number }

const PAGE = 65536;
/** Generous: ResNet-50 at batch 256 on one slow core takes well under a minute a step. */
export const DEFAULT_STEP_TIMEOUT_MS = 120_000;

/** worker.ts beside this file when running from source (tsx), else rede-worker.js beside the bundle. */
function defaultWorkerUrl(): URL {
  const here = import.meta.url as string | undefined;
  if (here) return new URL(here.endsWith('.ts') ? './worker.ts' : './rede-worker.js', here);
  // A CommonJS bundle has no import.meta: its own file name locates the worker bundle.
  if (typeof __filename !== 'undefined') return new URL('./rede-worker.cjs', `file://${__filename}`);
  throw new RedeError('parallel: cannot locate the worker entry; pass workerUrl');
}

export class WorkerGroup {
  private failure: Error | null = null;
  /** Waits in progress: each is woken when a failure is recorded (and removes itself when it ends). */
  private readonly wakers = new Set<() => void>();
  /** A step that takes longer fails the group, naming the workers that did not finish it. */
  stepTimeoutMs: number;
  private inbox: FromWorker[][];
  private newMessage: (() => void) | null = null;
  private closing = false;
  private stepNo = -1;
  /** Per worker: whether its thread has ended (Node reports it; browsers never do). */
  readonly exited: boolean[];

  private constructor(
    readonly e: Engine,
    readonly spec: GroupSpec,
    readonly shared: SharedLayout,
    readonly control: Control,
    readonly workers: WorkerLike[],
    readonly options: GroupOptions,
  ) {
    this.stepTimeoutMs = options.stepTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
    this.inbox = workers.map(() => []);
    this.exited = workers.map(() => false);
  }

  /** Per network of the chain: the group's one shared copy of its parameters. */
  get bases(): readonly Network[] { return this.shared.bases; }
  get dead(): boolean { return this.failure !== null || this.closing; }
  get deterministic(): boolean { return this.options.deterministic ?? false; }

  /**
   * Plans the memory (a dry run first: the size needed for all workers is known, and refused, before
   * anything is allocated), lays it out, starts the workers and waits until each has replayed the layout.
   */
  static async create(program: StepProgram, o: GroupOptions): Promise<WorkerGroup> {
    const W = o.workers;
    if (!Number.isInteger(W) || W < 1) throw new RedeError(`parallel: workers must be a positive integer, got ${W}`);
    const shards = o.deterministic ? (o.microShards ?? 8) : W;
    if (!Number.isInteger(shards) || shards < 1) throw new RedeError(`parallel: microShards must be a positive integer, got ${o.microShards}`);
    if (W > shards) throw new RedeError(`parallel: ${W} workers but only ${shards} micro-shards per batch (deterministic mode needs workers ≤ microShards)`);
    const spec: GroupSpec = {
      chain: chainSpec(program), workers: W, shards, capacity: shardCapacity(o.batchSize, shards),
      blocks: program.links.map((l) => blockCount(l.net.paramFloats)),
    };
    const model = program.first;
    const maxBytes = o.maxBytes ?? model.e.maxBytes;
    const e = await Engine.create({ shared: true, maxBytes });
    if (!e.module) throw new RedeError('parallel: this runtime has no wasm SIMD, so there is no shared-memory build to run workers on');
    if (groupHooks.arenaOffset) e.reserve(groupHooks.arenaOffset, 'test hook: addresses above 2 GiB');
    const need = await dryRun(e, spec);
    if (need.total > e.maxBytes) {
      throw new RedeError(`parallel: ${W} workers need ${need.total} bytes of wasm memory (${need.shared} for parameters, ` +
        `${shards} gradient slices, optimizer state and control; ${W} × ${need.replica} for each worker's activations at ` +
        `${spec.capacity} examples), but memory is limited to ${e.maxBytes} bytes: use fewer workers, a smaller batch, or a larger maxBytes`);
    }
    try {
      e.ensure(need.total, `${W} workers`);
    } catch (err) {
      throw new RedeError(`parallel: ${W} workers need ${need.total} bytes of wasm memory, which it could not grow to: ${(err as Error).message}`);
    }
    const arenaStart = e.mark();
    const shared = layoutShared(e, spec);
    // Gradient padding between tensors is summed and never written: it starts as zeros, like the control block.
    for (const b of shared.bases) e.k.fill_f32(b.grads, b.paramFloats * shards, 0);
    e.u8.fill(0, shared.control, shared.control + controlBytes(controlSizes(spec)));
    const starts: number[] = [], checks: LayoutCheck[] = [];
    for (let w = 0; w < W; w++) {
      starts.push(e.mark());
      checks.push(layoutCheck(shared, layoutReplica(shared, spec)));
    }
    const control = new Control(e.memory.buffer, shared.control, controlSizes(spec));
    const url = o.workerUrl ?? defaultWorkerUrl();
    const handles = await Promise.all(Array.from({ length: W }, (_, w) => spawnWorker(url, `rede-worker-${w}`)));
    const g = new WorkerGroup(e, spec, shared, control, handles, o);
    handles.forEach((h, w) => g.watch(h, w));
    handles.forEach((h, w) => h.post({
      type: 'init', index: w, spec, module: e.module!, memory: e.memory, variant: e.variant,
      arenaStart, replicaStart: starts[w], expect: checks[w],
    } satisfies InitMessage));
    try {
      await g.awaitAll('ready');
    } catch (err) {
      await g.close();
      throw err;
    }
    g.idle();
    return g;
  }

  private watch(h: WorkerLike, w: number): void {
    h.onMessage((raw) => {
      const msg = raw as FromWorker;
      if (msg.type === 'error') {
        const err = new RedeError(`parallel: worker ${w} failed${this.stepNo >= 0 ? ` at step ${this.stepNo}` : ''}: ${msg.message}`);
        err.stack = `${err.name}: ${err.message}\n    --- worker ${w} stack ---\n${msg.stack ?? '(no stack)'}`;
        this.fail(err);
        return;
      }
      this.inbox[w].push(msg);
      this.newMessage?.();
    });
    h.onError((f) => {
      const err = new RedeError(`parallel: worker ${w} failed${this.stepNo >= 0 ? ` at step ${this.stepNo}` : ''}: ${f.message}`);
      err.stack = `${err.name}: ${err.message}\n    --- worker ${w} stack ---\n${f.stack ?? '(no stack)'}`;
      this.fail(err);
    });
    h.onExit((code) => {
      this.exited[w] = true;
      if (!this.closing) this.fail(new RedeError(`parallel: worker ${w} exited (code ${code})${this.stepNo >= 0 ? ` during step ${this.stepNo}` : ''}`));
    });
  }

  /** Records the first failure, wakes every waiter (here and in the workers) and terminates the workers. */
  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    this.control.abort();
    for (const wake of [...this.wakers]) wake();
    this.newMessage?.();
    void this.close();
  }

  /** Waits until every worker has posted `type` (each consumes one such message), or a failure. */
  private async awaitAll(type: FromWorker['type']): Promise<void> {
    const got = this.workers.map(() => false);
    for (;;) {
      if (this.failure) throw this.failure;
      this.inbox.forEach((box, w) => {
        if (got[w]) return;
        const at = box.findIndex((m) => m.type === type);
        if (at >= 0) { box.splice(at, 1); got[w] = true; }
      });
      if (got.every(Boolean)) return;
      let wake!: () => void;
      const woken = new Promise<void>((res) => { wake = res; });
      this.newMessage = wake;
      this.wakers.add(wake);
      await woken;
      this.wakers.delete(wake);
    }
  }

  private busy(): void { for (const h of this.workers) h.ref(); }
  /** Idle workers do not keep Node alive: a script that trained in parallel still exits. */
  private idle(): void { for (const h of this.workers) h.unref(); }

  /** Sends the data and fit settings; afterwards the workers wait for steps (blocking, in their threads). */
  async begin(data: DataSpec, fit: Omit<FitMessage, 'type' | 'data'>): Promise<void> {
    if (this.failure) throw this.failure;
    const examples = data.kind === 'dataset' ? data.y.length : data.x.length / data.per, largest = Math.min(fit.batchSize, examples);
    if (largest > this.spec.capacity * this.spec.shards) throw new RedeError(`parallel: batch ${largest} exceeds the group's planned ${this.spec.capacity * this.spec.shards}`);
    this.busy();
    this.control.resetTimes();
    for (const h of this.workers) h.post({ type: 'fit', data, ...fit } satisfies FitMessage);
    await this.awaitAll('fitting');
  }

  /** One data-parallel step on batch `a.batch` (of `a.length` examples) of `a.epoch`. */
  async step(a: GroupStepArgs): Promise<GroupStepResult> {
    if (this.failure) throw this.failure;
    const c = this.control, i = c.i32;
    i[EPOCH] = a.epoch; i[BATCH] = a.batch; i[BLEN] = a.length; i[STEP] = a.step; i[SKIPPED] = 0;
    c.setRates(a.lrs, a.ts);
    this.stepNo = a.step;
    const seen = Atomics.load(i, DONE_SEQ);
    c.go(CMD_STEP);
    const ms = this.stepTimeoutMs;
    await c.waitChange(DONE_SEQ, seen, () => this.failure, this.wakers, performance.now() + ms, () => {
      const late = c.lateFor(a.step);
      const err = new RedeError(`parallel: worker${late.length > 1 ? 's' : ''} ${late.join(', ')} did not finish step ${a.step} within ${ms} ms (stepTimeoutMs); every worker was stopped`);
      this.fail(err);
      return err;
    });
    let lossSum = 0, correct = 0;
    for (let j = 0; j < liveShards(a.length, this.spec.shards); j++) { lossSum += c.shardLoss(j); correct += c.shardCorrect(j); }
    return { loss: lossSum / a.length, correct, skipped: i[SKIPPED] !== 0 };
  }

  /** Ends a fit: the workers return to their message loop. */
  async end(): Promise<void> {
    if (this.failure) return;
    this.control.go(CMD_STOP);
    await this.awaitAll('stopped');
    this.stepNo = -1;
    this.idle();
  }

  /**
   * Copies each network's parameters, BN state and optimizer state (at `optStates[l]` in its own memory) into
   * the group; the networks are those of the program the group was made for (same configs, same layout).
   */
  push(nets: readonly Network[], optStates: readonly number[]): void { this.transfer(nets, optStates, true); }

  /** The group's parameters, BN state, optimizer state and last summed gradient (slice 0), back into the networks. */
  pull(nets: readonly Network[], optStates: readonly number[]): void { this.transfer(nets, optStates, false); }

  private transfer(nets: readonly Network[], optStates: readonly number[], intoGroup: boolean): void {
    nets.forEach((n, l) => {
      const b = this.shared.bases[l], opt = this.shared.opts[l];
      const [from, to] = intoGroup ? [n.e.f32, this.e.f32] : [this.e.f32, n.e.f32];
      const move = (netAt: number, groupAt: number, floats: number) => {
        const [src, dst] = intoGroup ? [netAt, groupAt] : [groupAt, netAt];
        to.set(from.subarray(src >>> 2, (src >>> 2) + floats), dst >>> 2);
      };
      move(n.params, b.params, n.paramFloats);
      move(n.state, b.state, n.stateFloats);
      if (!intoGroup) move(n.grads, b.grads, n.paramFloats); // the last step's summed gradient: getGrad after fit
      if (opt) move(optStates[l], opt.state, opt.optimizer.slots * n.paramFloats);
    });
  }

  /** Network l's flat parameters (a copy). */
  weights(l = 0): Float32Array { return this.e.read(this.bases[l].params, this.bases[l].paramFloats); }
  /** Network l's last summed (all-reduced) gradient, slice 0 (a copy; after clipping's scale, if any). */
  gradient(l = 0): Float32Array { return this.e.read(this.bases[l].grads, this.bases[l].paramFloats); }

  /** Per worker, ms accumulated since begin(): compute (batch assembly, forward, backward), barrier wait, reduction + update. */
  times(): WorkerTimes[] { return this.workers.map((_, w) => this.control.times(w)); }

  /** Terminates every worker; resolves once all have ended (idempotent: every call waits for the same end). */
  close(): Promise<void> {
    this.closing = true;
    this.closed ??= (async () => {
      this.control.abort();
      await Promise.all(this.workers.map((h, w) => h.terminate().catch(() => {}).then(() => { this.exited[w] = true; })));
    })();
    return this.closed;
  }
  private closed: Promise<void> | null = null;

  /** Bytes of the group's shared memory. */
  get memoryBytes(): number { return this.e.memory.buffer.byteLength; }
}

/** Sizes of the layout, from the same calls on a throwaway memory (nothing is written). */
async function dryRun(e: Engine, spec: GroupSpec): Promise<{ shared: number; replica: number; total: number }> {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true } as WebAssembly.MemoryDescriptor);
  const dry = await Engine.create({ module: e.module!, memory, variantOfModule: e.variant, maxBytes: 65536 * PAGE });
  const start = dry.mark();
  const shared = layoutShared(dry, spec);
  const afterShared = dry.mark();
  layoutReplica(shared, spec);
  const replica = dry.mark() - afterShared;
  // The layout goes where e's arena is now (its heap base, unless a test hook reserved a gap first).
  return { shared: afterShared - start, replica, total: e.mark() + (afterShared - start) + spec.workers * replica };
}
