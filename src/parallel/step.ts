// One worker's part of a data-parallel step, between the main thread's GO and the worker's DONE:
//
//   1. for each of its micro-shards j: write examples [from, to) of the batch into its input slot (batcher +
//      augmentation, in the worker), then the step program's gradients (src/train/program.ts — the same body
//      as a step in one thread), dL/dout scaled by 1/B rather than 1/shard, into gradient slice j of every
//      network; the shard's loss sum and hits go to the control block
//   2. barrier                                   every slice is complete
//   3. per trainable network, all-reduce of its chunk: slice 0 ← Σ_j slice j (slice order), then (clipping
//      only) the chunk's squared norm per block, barrier, the global norm summed in block order, scaled
//   4. the optimizer update of its chunk of the one shared parameter buffer
//
// A non-finite batch loss (summed from the shard slots after the barrier, so every worker decides the same)
// skips 3 and 4: the weights stay those before the step, as in one thread.
import type { Engine } from '../engine/engine';
import { BatchNorm } from '../layers/norm';
import type { Source } from '../train/source';
import { BATCH, BLEN, Control, EPOCH, SKIPPED, STEP } from './control';
import { injectFault } from './faults';
import type { GroupSpec, ReplicaLayout, SharedLayout } from './layout';
import { blockRange, liveShards, shardRange, workerChunk, workerShards, type Range } from './shards';

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

export class ShardRunner {
  private readonly shards: Range;
  /** Per network: this worker's chunk of its parameter vector (blocks and floats). */
  private readonly chunks: { blocks: Range; floats: Range }[];
  private readonly bn: { layer: BatchNorm; mean: number; variance: number; discard: number }[];

  constructor(
    private readonly e: Engine,
    private readonly spec: GroupSpec,
    private readonly shared: SharedLayout,
    private readonly layout: ReplicaLayout,
    private readonly control: Control,
    private readonly index: number,
  ) {
    this.shards = workerShards(index, spec.workers, spec.shards);
    this.chunks = shared.bases.map((b, l) => workerChunk(index, spec.workers, b.paramFloats, spec.blocks[l]));
    // Only micro-shard 0 updates the BN running statistics (DDP keeps rank 0's buffers); the others write
    // theirs to a discard region, so no two workers ever write the same state.
    this.bn = layout.program.links.flatMap((link, l) => link.net.layers.filter((L): L is BatchNorm => L instanceof BatchNorm)
      .map((layer) => ({ layer, mean: layer.s.running_mean, variance: layer.s.running_var, discard: layout.discards[l] })));
  }

  /** Runs the step the control block describes (results go to the control block); `seed` fixes dropout, as fit's. */
  run(source: Source, batchSize: number, seed: number): void {
    const c = this.control, i = c.i32, k = this.e.k, program = this.layout.program;
    const epoch = i[EPOCH], batch = i[BATCH], blen = i[BLEN], stepNo = i[STEP];
    injectFault(c, this.e, this.index, stepNo);
    const t0 = now();
    for (let j = this.shards.from; j < this.shards.to; j++) {
      const { from, to } = shardRange(blen, this.spec.shards, j), r = to - from;
      if (r === 0) { c.setShard(j, 0, 0); continue; }
      const s = program.slots(r);
      source.fill(epoch, batch, from, to, s.x, s.labels, s.targets);
      for (const l of program.links) l.net.bindGrads(j);
      this.bindRunningStats(j === 0);
      // dL/dout scaled by 1/B (not 1/r): the shards' gradient slices then sum to the batch mean's gradient.
      const g = program.gradients(r, { step: stepNo, seed, exampleOffset: from, scale: 1 / batchSize, countCorrect: true });
      c.setShard(j, g.lossSum, g.correct);
    }
    const t1 = now();
    c.computedStep(this.index, stepNo);
    c.barrier(this.spec.workers);
    const t2 = now();
    let clipWait = 0;
    let total = 0;
    const live = liveShards(blen, this.spec.shards);
    for (let j = 0; j < live; j++) total += c.shardLoss(j);
    if (!Number.isFinite(total)) {
      if (this.index === 0) i[SKIPPED] = 1;
    } else {
      this.shared.bases.forEach((base, l) => {
        const opt = this.shared.opts[l];
        if (!opt) return;
        const chunk = this.chunks[l], { from, to } = chunk.floats, n = to - from, P = base.paramFloats;
        if (n > 0 && live > 1) k.sum_slices_f32(base.grads + from * 4, base.grads + from * 4, n, live, P);
        const max = opt.optimizer.cfg.clipNorm;
        if (max !== undefined) {
          // Frozen layers (trainable: false) stay out of the norm, as on one thread: their summed gradients are zeroed.
          for (const en of base.entries) {
            const lo = Math.max(en.offset, from), hi = Math.min(en.offset + en.n, to);
            if (!en.layer.trainable && lo < hi) k.fill_f32(base.grads + lo * 4, hi - lo, 0);
          }
          for (let b = chunk.blocks.from; b < chunk.blocks.to; b++) {
            const br = blockRange(P, this.spec.blocks[l], b);
            c.setBlockSq(l, b, k.sum_squares_f32(base.grads + br.from * 4, br.to - br.from));
          }
          const w0 = now();
          c.barrier(this.spec.workers);
          clipWait += now() - w0;
          let ss = 0;
          for (let b = 0; b < this.spec.blocks[l]; b++) ss += c.blockSq(l, b);
          const norm = Math.sqrt(ss);
          if (norm > max && n > 0) k.scale_inplace_f32(base.grads + from * 4, n, max / norm);
        }
        if (n > 0) opt.optimizer.applyRange(k, base.entries, base.params, base.grads, opt.state, P, c.lr(l), c.t(l), from, to);
      });
    }
    c.addTimes(this.index, t1 - t0, t2 - t1 + clipWait, now() - t2 - clipWait);
    c.finishedStep(this.index, stepNo);
  }

  private bindRunningStats(real: boolean): void {
    for (const b of this.bn) {
      b.layer.bindState('running_mean', real ? b.mean : b.discard);
      b.layer.bindState('running_var', real ? b.variance : b.discard + 4 * b.layer.c);
    }
  }
}
