// How a mini-batch and the parameter vector are divided.
//
// Micro-shards: a batch of B examples is cut into S shards, the first B mod S one example longer, so the
// non-empty shards are always a prefix (B < S leaves the last S − B empty). Shard j's gradients go to slice j.
// Deterministic mode fixes S (default 8) whatever the worker count; otherwise S = workers. Worker w runs the
// shards [⌊wS/W⌋, ⌊(w+1)S/W⌋).
//
// Reduction blocks: the flat parameter vector (paramFloats, a multiple of 16) is cut into NB blocks on
// 16-float boundaries; worker w reduces and updates the blocks [⌊w·NB/W⌋, ⌊(w+1)·NB/W⌋), one contiguous
// chunk. The sum over slices and the optimizer are elementwise, so the chunking never changes a bit; the
// clipping norm is summed per block, in block order, so it does not depend on W either.

export interface Range { from: number; to: number }

/** Examples [from, to) of micro-shard j of a batch of `batch` examples cut into `shards`. */
export function shardRange(batch: number, shards: number, j: number): Range {
  const q = Math.floor(batch / shards), r = batch % shards;
  const from = j * q + Math.min(j, r);
  return { from, to: from + q + (j < r ? 1 : 0) };
}

/** Largest shard of a batch of `batch` examples: the activations each worker plans for. */
export const shardCapacity = (batch: number, shards: number): number => Math.ceil(batch / shards);

/** Non-empty shards of a batch (they are the first ones): the slices the all-reduce sums. */
export const liveShards = (batch: number, shards: number): number => Math.min(batch, shards);

/** The shards worker w of W runs. */
export function workerShards(w: number, workers: number, shards: number): Range {
  return { from: Math.floor((w * shards) / workers), to: Math.floor(((w + 1) * shards) / workers) };
}

/** Number of reduction blocks for a parameter vector of `floats` floats (at most 64, at least 16 floats each). */
export const blockCount = (floats: number): number => Math.max(1, Math.min(64, Math.floor(floats / 16)));

/** Floats [from, to) of block b. */
export function blockRange(floats: number, blocks: number, b: number): Range {
  const at = (i: number) => Math.min(floats, Math.ceil((i * floats) / blocks / 16) * 16);
  return { from: at(b), to: b === blocks - 1 ? floats : at(b + 1) };
}

/** The blocks worker w of W reduces, and the floats they cover. */
export function workerChunk(w: number, workers: number, floats: number, blocks: number): { blocks: Range; floats: Range } {
  const b = workerShards(w, workers, blocks);
  if (b.from === b.to) return { blocks: b, floats: { from: 0, to: 0 } };
  return { blocks: b, floats: { from: blockRange(floats, blocks, b.from).from, to: blockRange(floats, blocks, b.to - 1).to } };
}
