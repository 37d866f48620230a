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
import type { Model } from '../model/model';
import type { Trainer } from '../train/trainer';
import { BATCH, BLEN, CMD_STEP, CMD_STOP, Control, DONE_SEQ, EPOCH, FAULT_KIND, FAULT_STEP, FAULT_WORKER, FAULTS, SKIPPED, STEP, T, type FaultKind } from './control';
import { layoutCheck, layoutReplica, layoutShared, type GroupSpec, type LayoutCheck, type SharedLayout } from './layout';
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
  /** Where the worker entry is (default: worker.ts beside this file under tsx, rede-worker.js beside a bundle). */
  workerUrl?: URL;
}

export interface StepResult { loss: number; correct: number; skipped: boolean }
export interface WorkerTimes { compute: number; wait: number; reduce: number }

const PAGE = 65536;

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
  private wakeOnFailure!: () => void;
  private readonly failed: Promise<void>;
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
    this.failed = new Promise((res) => { this.wakeOnFailure = res; });
    this.inbox = workers.map(() => []);
    this.exited = workers.map(() => false);
  }

  get base(): Model { return this.shared.base; }
  get dead(): boolean { return this.failure !== null || this.closing; }
  get deterministic(): boolean { return this.options.deterministic ?? false; }

  /**
   * Plans the memory (a dry run first: the size needed for all workers is known, and refused, before
   * anything is allocated), lays it out, starts the workers and waits until each has replayed the layout.
   */
  static async create(trainer: Trainer, o: GroupOptions): Promise<WorkerGroup> {
    const model = trainer.model;
    const W = o.workers;
    if (!Number.isInteger(W) || W < 1) throw new RedeError(`parallel: workers must be a positive integer, got ${W}`);
    const shards = o.deterministic ? (o.microShards ?? 8) : W;
    if (!Number.isInteger(shards) || shards < 1) throw new RedeError(`parallel: microShards must be a positive integer, got ${o.microShards}`);
    if (W > shards) throw new RedeError(`parallel: ${W} workers but only ${shards} micro-shards per batch (deterministic mode needs workers ≤ microShards)`);
    const spec: GroupSpec = {
      config: model.config, seed: model.seed, workers: W, shards, capacity: shardCapacity(o.batchSize, shards),
      blocks: blockCount(model.paramFloats), optimizer: trainer.optimizer.config(), loss: trainer.loss.config(),
    };
    const maxBytes = o.maxBytes ?? model.e.maxBytes;
    const e = await Engine.create({ shared: true, maxBytes });
    if (!e.module) throw new RedeError('parallel: this runtime has no wasm SIMD, so there is no shared-memory build to run workers on');
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
    const shared = await layoutShared(e, spec, false);
    const starts: number[] = [], checks: LayoutCheck[] = [];
    for (let w = 0; w < W; w++) {
      starts.push(e.mark());
      checks.push(layoutCheck(shared, await layoutReplica(shared.base, spec)));
    }
    const control = new Control(e.memory.buffer, shared.control, { workers: W, shards, blocks: spec.blocks });
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
    this.wakeOnFailure();
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
      await Promise.race([new Promise<void>((res) => { this.newMessage = res; }), this.failed]);
    }
  }

  private busy(): void { for (const h of this.workers) h.ref(); }
  /** Idle workers do not keep Node alive: a script that trained in parallel still exits. */
  private idle(): void { for (const h of this.workers) h.unref(); }

  /** Sends the data and fit settings; afterwards the workers wait for steps (blocking, in their threads). */
  async begin(data: DataSpec, fit: Omit<FitMessage, 'type' | 'data'>): Promise<void> {
    if (this.failure) throw this.failure;
    if (fit.batchSize > this.spec.capacity * this.spec.shards) throw new RedeError(`parallel: batch ${fit.batchSize} exceeds the group's planned ${this.spec.capacity * this.spec.shards}`);
    this.busy();
    this.control.resetTimes();
    for (const h of this.workers) h.post({ type: 'fit', data, ...fit } satisfies FitMessage);
    await this.awaitAll('fitting');
  }

  /** One data-parallel step on batch `batch` (of `blen` examples) of `epoch`; `t` is the optimizer's step (≥ 1). */
  async step(epoch: number, batch: number, blen: number, stepNo: number, lr: number, t: number): Promise<StepResult> {
    if (this.failure) throw this.failure;
    const c = this.control, i = c.i32;
    i[EPOCH] = epoch; i[BATCH] = batch; i[BLEN] = blen; i[STEP] = stepNo; i[T] = t; i[SKIPPED] = 0;
    c.lr = lr;
    this.stepNo = stepNo;
    const seen = Atomics.load(i, DONE_SEQ);
    c.go(CMD_STEP);
    await c.waitChange(DONE_SEQ, seen, () => this.failure, this.failed);
    let lossSum = 0, correct = 0;
    for (let j = 0; j < liveShards(blen, this.spec.shards); j++) { lossSum += c.shardLoss(j); correct += c.shardCorrect(j); }
    return { loss: lossSum / blen, correct, skipped: i[SKIPPED] !== 0 };
  }

  /** Ends a fit: the workers return to their message loop. */
  async end(): Promise<void> {
    if (this.failure) return;
    this.control.go(CMD_STOP);
    await this.awaitAll('stopped');
    this.stepNo = -1;
    this.idle();
  }

  /** Copies a model's parameters, BN state and optimizer state into the group (same config, same layout). */
  push(model: Model, trainer: Trainer): void {
    const f = this.e.f32, src = model.e.f32, b = this.base;
    f.set(src.subarray(model.params >> 2, (model.params >> 2) + model.paramFloats), b.params >> 2);
    f.set(src.subarray(model.state >> 2, (model.state >> 2) + model.stateFloats), b.state >> 2);
    const n = trainer.optimizer.slots * model.paramFloats;
    f.set(src.subarray(trainer.optState >> 2, (trainer.optState >> 2) + n), this.shared.trainer.optState >> 2);
  }

  /** Copies the group's parameters, BN state and optimizer state back into the model. */
  pull(model: Model, trainer: Trainer): void {
    const f = this.e.f32, dst = model.e.f32, b = this.base;
    dst.set(f.subarray(b.params >> 2, (b.params >> 2) + model.paramFloats), model.params >> 2);
    dst.set(f.subarray(b.state >> 2, (b.state >> 2) + model.stateFloats), model.state >> 2);
    const n = trainer.optimizer.slots * model.paramFloats;
    dst.set(f.subarray(this.shared.trainer.optState >> 2, (this.shared.trainer.optState >> 2) + n), trainer.optState >> 2);
  }

  /** The flat parameters (a copy). */
  weights(): Float32Array { return this.e.read(this.base.params, this.base.paramFloats); }
  /** The last step's summed (all-reduced) gradient, slice 0 (a copy; after the update, before clipping's scale only if none). */
  gradient(): Float32Array { return this.e.read(this.base.grads, this.base.paramFloats); }

  /** Per worker, ms accumulated since begin(): compute (batch assembly, forward, backward), barrier wait, reduction + update. */
  times(): WorkerTimes[] { return this.workers.map((_, w) => this.control.times(w)); }

  /** Tests: make worker `worker` commit `kind` at global step `step`. */
  injectFault(worker: number, step: number, kind: FaultKind): void {
    const i = this.control.i32;
    i[FAULT_WORKER] = worker + 1; i[FAULT_STEP] = step; i[FAULT_KIND] = FAULTS.indexOf(kind);
  }

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
  const shared = await layoutShared(dry, spec, true);
  const afterShared = dry.mark();
  await layoutReplica(shared.base, spec);
  const replica = dry.mark() - afterShared;
  return { shared: afterShared - start, replica, total: afterShared + spec.workers * replica };
}
