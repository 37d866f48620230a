// One worker's part of a data-parallel step, between the main thread's GO and the worker's DONE:
//
//   1. for each of its micro-shards j: write examples [from, to) of the batch into its input slot (batcher +
//      augmentation, in the worker), forward, loss (its gradient scaled by 1/B, not 1/shard), backward into
//      gradient slice j; the shard's loss sum and hits go to the control block
//   2. barrier                                   every slice is complete
//   3. all-reduce of its chunk: slice 0 ← Σ_j slice j (slice order), then (clipping only) the chunk's squared
//      norm per block, barrier, the global norm summed in block order, scaled
//   4. the optimizer update of its chunk of the one shared parameter buffer
//
// A non-finite batch loss (summed from the shard slots after the barrier, so every worker decides the same)
// skips 3 and 4: the weights stay those before the step, as in the single-threaded trainer.
import type { Engine } from '../engine/engine';
import { BatchNorm } from '../layers/norm';
import { numelOf } from '../layers/layer';
import type { Model } from '../model/model';
import type { Source } from '../train/source';
import { BATCH, BLEN, Control, EPOCH, FAULT_KIND, FAULT_STEP, FAULT_WORKER, FAULTS, SKIPPED, STEP, T } from './control';
import type { GroupSpec, ReplicaLayout, SharedLayout } from './layout';
import { blockRange, liveShards, shardRange, workerChunk, workerShards, type Range } from './shards';

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/** Where the loss reads outputs and writes their gradient (Trainer.head, on a replica). */
export function headOf(m: Model, foldSoftmax: boolean): { out: number; dout: number; from: number } {
  const out = m.graph.output, node = m.graph.nodes[out];
  if (node.layer.type === 'softmax' && foldSoftmax) {
    const src = node.inputs[0];
    return { out: src < 0 ? m.inputAct : m.act[src], dout: m.dxOf(out, 0), from: out - 1 };
  }
  return { out: m.outputAct, dout: m.outputGrad, from: out };
}

/** Rows among the first `b` whose label's output is the largest (ties count as hits, like Trainer.countCorrect). */
function countTop1(e: Engine, out: number, labels: number, b: number, cols: number): number {
  const f = e.f32, lab = e.i32;
  let hits = 0;
  for (let r = 0; r < b; r++) {
    const row = (out >> 2) + r * cols, v = f[row + lab[(labels >> 2) + r]];
    let above = 0;
    for (let c = 0; c < cols; c++) if (f[row + c] > v) above++;
    if (above === 0) hits++;
  }
  return hits;
}

export class ShardRunner {
  private readonly replica: Model;
  private readonly shards: Range;
  private readonly chunk: { blocks: Range; floats: Range };
  private readonly bn: { layer: BatchNorm; mean: number; variance: number; discard: number }[];
  private readonly head: { out: number; dout: number; from: number };

  constructor(
    private readonly e: Engine,
    private readonly spec: GroupSpec,
    private readonly shared: SharedLayout,
    layout: ReplicaLayout,
    private readonly control: Control,
    private readonly index: number,
  ) {
    this.replica = layout.replica;
    this.shards = workerShards(index, spec.workers, spec.shards);
    this.chunk = workerChunk(index, spec.workers, shared.base.paramFloats, spec.blocks);
    // Only micro-shard 0 updates the BN running statistics (DDP keeps rank 0's buffers); the others write
    // theirs to a discard region, so no two workers ever write the same state.
    // Every layer's discard is the same region (its contents are never read back).
    this.bn = this.replica.layers.filter((L): L is BatchNorm => L instanceof BatchNorm)
      .map((layer) => ({ layer, mean: layer.s.running_mean, variance: layer.s.running_var, discard: layout.discard }));
    this.head = headOf(this.replica, shared.trainer.loss.softmax);
  }

  /** Runs the step the control block describes (results go to the control block); `seed` fixes dropout, as fit's. */
  run(source: Source, batchSize: number, seed: number): void {
    const c = this.control, i = c.i32, k = this.e.k, m = this.replica, base = this.shared.base;
    const epoch = i[EPOCH], batch = i[BATCH], blen = i[BLEN], stepNo = i[STEP];
    this.injectFault(stepNo);
    const loss = this.shared.trainer.loss, sparse = loss.sparse;
    const per = numelOf(m.inputShape), cols = numelOf(m.outputShape);
    const t0 = now();
    for (let j = this.shards.from; j < this.shards.to; j++) {
      const { from, to } = shardRange(blen, this.spec.shards, j), r = to - from;
      if (r === 0) { c.setShard(j, 0, 0); continue; }
      const f = this.e.f32, i32v = this.e.i32;
      source.fill(epoch, batch, from, to, f.subarray(m.inputAct >> 2, (m.inputAct >> 2) + r * per),
        sparse ? i32v.subarray(m.labels >> 2, (m.labels >> 2) + r) : null,
        sparse ? null : f.subarray(m.targets >> 2, (m.targets >> 2) + r * cols));
      m.bindGrads(j);
      this.bindRunningStats(j === 0);
      const s = m.step(r, true, stepNo, false, from, seed);
      m.forwardStep(s);
      const h = this.head;
      // dL/dout scaled by 1/B (not 1/r): the shards' gradient slices then sum to the batch mean's gradient.
      const L = loss.run(this.e, r, cols, h.out, m.labels, m.targets, m.probs, m.losses, h.dout, 1 / batchSize);
      c.setShard(j, L * r, sparse ? countTop1(this.e, h.out, m.labels, r, cols) : 0);
      if (!Number.isFinite(L)) continue;
      m.backwardStep(s, false, h.from);
    }
    const t1 = now();
    c.barrier(this.spec.workers);
    const t2 = now();
    let clipWait = 0;
    let total = 0;
    const live = liveShards(blen, this.spec.shards);
    for (let j = 0; j < live; j++) total += c.shardLoss(j);
    if (!Number.isFinite(total)) {
      if (this.index === 0) i[SKIPPED] = 1;
    } else {
      const { from, to } = this.chunk.floats, n = to - from, P = base.paramFloats;
      if (n > 0 && live > 1) k.sum_slices_f32(base.grads + from * 4, base.grads + from * 4, n, live, P);
      const opt = this.shared.trainer.optimizer;
      if (opt.cfg.clipNorm !== undefined) {
        for (let b = this.chunk.blocks.from; b < this.chunk.blocks.to; b++) {
          const br = blockRange(P, this.spec.blocks, b);
          c.setBlockSq(b, k.sum_squares_f32(base.grads + br.from * 4, br.to - br.from));
        }
        const w0 = now();
        c.barrier(this.spec.workers);
        clipWait = now() - w0;
        let ss = 0;
        for (let b = 0; b < this.spec.blocks; b++) ss += c.blockSq(b);
        const norm = Math.sqrt(ss), max = opt.cfg.clipNorm;
        if (norm > max && n > 0) k.scale_inplace_f32(base.grads + from * 4, n, max / norm);
      }
      if (n > 0) opt.applyRange(k, base.entries, base.params, base.grads, this.shared.trainer.optState, P, c.lr, i[T], from, to);
    }
    c.addTimes(this.index, t1 - t0, t2 - t1 + clipWait, now() - t2 - clipWait);
  }

  private bindRunningStats(real: boolean): void {
    for (const b of this.bn) {
      b.layer.bindState('running_mean', real ? b.mean : b.discard);
      b.layer.bindState('running_var', real ? b.variance : b.discard + 4 * b.layer.c);
    }
  }

  /** Tests: the fault the control block asks this worker to commit at this step. */
  private injectFault(stepNo: number): void {
    const i = this.control.i32;
    if (i[FAULT_WORKER] !== this.index + 1 || i[FAULT_STEP] !== stepNo) return;
    const kind = FAULTS[i[FAULT_KIND]];
    if (kind === 'throw') throw new Error(`injected fault: worker ${this.index} throws at step ${stepNo}`);
    if (kind === 'exit') process.exit(3);
    if (kind === 'trap') this.e.k.fill_f32(0xfffffff0, 64, 0); // out of bounds: a wasm trap
  }
}
