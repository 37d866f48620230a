// The control block: a few Int32 words and Float64 slots in the shared wasm memory, through which the main
// thread starts steps and the workers meet at barriers. Every wait has a timeout after which it re-reads the
// shared 'abort' word, so a dead or failed peer never leaves anyone blocked.
//
//   int32 [0, 16)        GO, CMD, ABORT, barrier COUNT/GEN, DONE COUNT/SEQ, step arguments, fault injection
//   f64   lr[L], t[L]    per network of the chain: the step's learning rate and optimizer step (≥ 1; 0 frozen)
//   f64   loss[S]        Σ per-example loss of micro-shard j (written by the shard's worker)
//   f64   correct[S]     top-1 hits of micro-shard j
//   f64   sq[ΣNB]        Σ g² over reduction block b of each network (gradient clipping), network after network
//   f64   time[W × 3]    per worker, accumulated ms: compute, barrier wait, reduction + update

export const GO = 0, CMD = 1, ABORT = 2, BAR_COUNT = 3, BAR_GEN = 4, DONE_COUNT = 5, DONE_SEQ = 6;
export const EPOCH = 7, BATCH = 8, BLEN = 9, STEP = 10, SKIPPED = 12;
export const FAULT_WORKER = 13, FAULT_STEP = 14, FAULT_KIND = 15;
const INTS = 16;

export const CMD_STEP = 1, CMD_STOP = 2;
// FAULT_*: test-only fault injection (faults.ts): what worker FAULT_WORKER − 1 does at global step FAULT_STEP.

/** Milliseconds between re-checks of the abort word while blocked. */
export const POLL_MS = 50;

export class Aborted extends Error {
  override name = 'Aborted';
}

/** `blocks`: reduction blocks per network of the chain; `links`: networks in the chain. */
export interface ControlSizes { workers: number; shards: number; blocks: readonly number[]; links: number }

const sumOf = (a: readonly number[]): number => a.reduce((x, y) => x + y, 0);

/** Bytes of the control block for these sizes. */
export function controlBytes(s: ControlSizes): number {
  return INTS * 4 + 8 * (2 * s.links + 2 * s.shards + sumOf(s.blocks) + 3 * s.workers);
}

export class Control {
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  private readonly lossAt: number;
  private readonly correctAt: number;
  private readonly sqAt: number;
  private readonly timeAt: number;

  constructor(buffer: ArrayBufferLike, readonly at: number, readonly sizes: ControlSizes) {
    this.i32 = new Int32Array(buffer, at, INTS);
    const nf = (controlBytes(sizes) - INTS * 4) / 8;
    this.f64 = new Float64Array(buffer, at + INTS * 4, nf);
    this.tAt = sizes.links;
    this.lossAt = 2 * sizes.links;
    this.correctAt = this.lossAt + sizes.shards;
    this.sqAt = this.correctAt + sizes.shards;
    this.timeAt = this.sqAt + sumOf(sizes.blocks);
    let first = 0;
    this.blockAt = sizes.blocks.map((n) => { const at = first; first += n; return at; });
  }
  private readonly tAt: number;
  private readonly blockAt: number[];

  /** Network l's learning rate and optimizer step for this step. */
  lr(l: number): number { return this.f64[l]; }
  t(l: number): number { return this.f64[this.tAt + l]; }
  setRates(lrs: readonly number[], ts: readonly number[]): void {
    for (let l = 0; l < this.sizes.links; l++) { this.f64[l] = lrs[l] ?? 0; this.f64[this.tAt + l] = ts[l] ?? 0; }
  }
  setShard(j: number, lossSum: number, correct: number): void { this.f64[this.lossAt + j] = lossSum; this.f64[this.correctAt + j] = correct; }
  shardLoss(j: number): number { return this.f64[this.lossAt + j]; }
  shardCorrect(j: number): number { return this.f64[this.correctAt + j]; }
  /** Σ g² of block b of network l. */
  setBlockSq(l: number, b: number, v: number): void { this.f64[this.sqAt + this.blockAt[l] + b] = v; }
  blockSq(l: number, b: number): number { return this.f64[this.sqAt + this.blockAt[l] + b]; }
  /** Worker w's accumulated ms: [compute, wait, reduce]. */
  addTimes(w: number, compute: number, wait: number, reduce: number): void {
    const o = this.timeAt + 3 * w;
    this.f64[o] += compute; this.f64[o + 1] += wait; this.f64[o + 2] += reduce;
  }
  times(w: number): { compute: number; wait: number; reduce: number } {
    const o = this.timeAt + 3 * w;
    return { compute: this.f64[o], wait: this.f64[o + 1], reduce: this.f64[o + 2] };
  }
  resetTimes(): void { this.f64.fill(0, this.timeAt, this.timeAt + 3 * this.sizes.workers); }

  get aborted(): boolean { return Atomics.load(this.i32, ABORT) !== 0; }

  /** Main thread: raise the abort word and wake every waiter. */
  abort(): void {
    Atomics.store(this.i32, ABORT, 1);
    for (const w of [GO, BAR_GEN, DONE_SEQ]) Atomics.notify(this.i32, w);
  }

  /** Main thread: publish a command (the step arguments are written before this). */
  go(cmd: number): void {
    Atomics.store(this.i32, CMD, cmd);
    Atomics.add(this.i32, GO, 1);
    Atomics.notify(this.i32, GO);
  }

  // ---- worker side: blocking waits (Atomics.wait is allowed in workers) ----------------------------------

  /** Blocks while i32[index] === value; throws Aborted once the abort word is set. */
  waitWhile(index: number, value: number): void {
    while (Atomics.load(this.i32, index) === value) {
      if (this.aborted) throw new Aborted('rede parallel: aborted by the main thread');
      Atomics.wait(this.i32, index, value, POLL_MS);
    }
    if (this.aborted) throw new Aborted('rede parallel: aborted by the main thread');
  }

  /** A generation barrier for `n` workers: the last to arrive opens it for the others. */
  barrier(n: number): void {
    const gen = Atomics.load(this.i32, BAR_GEN);
    if (Atomics.add(this.i32, BAR_COUNT, 1) === n - 1) {
      Atomics.store(this.i32, BAR_COUNT, 0);
      Atomics.add(this.i32, BAR_GEN, 1);
      Atomics.notify(this.i32, BAR_GEN);
      return;
    }
    this.waitWhile(BAR_GEN, gen);
  }

  /** A worker finished the command; the last of `n` bumps DONE_SEQ and wakes the main thread. */
  done(n: number): void {
    if (Atomics.add(this.i32, DONE_COUNT, 1) === n - 1) {
      Atomics.store(this.i32, DONE_COUNT, 0);
      Atomics.add(this.i32, DONE_SEQ, 1);
      Atomics.notify(this.i32, DONE_SEQ);
    }
  }

  // ---- main side: never blocks (a page's main thread may not) --------------------------------------------

  /**
   * Resolves once i32[index] !== seen; rejects with failure() as soon as it returns an error. Uses
   * Atomics.waitAsync where the runtime has it, else polls on a timer. `wake` resolves when a failure is
   * recorded, so a dead worker is noticed at once, not at the next timeout.
   */
  async waitChange(index: number, seen: number, failure: () => Error | null, wake: Promise<void>): Promise<void> {
    const waitAsync = (Atomics as unknown as { waitAsync?: (a: Int32Array, i: number, v: number, t: number) => { async: boolean; value: Promise<string> | string } }).waitAsync;
    for (;;) {
      const f = failure();
      if (f) throw f;
      if (Atomics.load(this.i32, index) !== seen) return;
      if (waitAsync) {
        const r = waitAsync(this.i32, index, seen, 250);
        if (r.async) await Promise.race([r.value, wake]);
      } else {
        await Promise.race([new Promise((res) => setTimeout(res, 1)), wake]);
      }
    }
  }
}
