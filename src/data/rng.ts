// Counter-based random numbers: every draw is a pure function of (seed, a, b, c), so any worker can
// regenerate any example's shuffle position, augmentation or initial weight without shared state.

/** A bijective 32-bit finalizer (the "lowbias32" constants of Chris Wellons' hash-prospector). */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

const GOLDEN = 0x9e3779b9;

/** Uniform 32-bit unsigned hash of (seed, a, b, c); each word goes through a full mix round. */
export function hash4(seed: number, a = 0, b = 0, c = 0): number {
  let h = mix32((seed + GOLDEN) | 0);
  h = mix32((h ^ a) + GOLDEN);
  h = mix32((h ^ b) + GOLDEN);
  return mix32((h ^ c) + GOLDEN);
}

const TWO_POW_32 = 4294967296;

/** Uniform in [0, 1) from (seed, a, b, c). */
export function uniform01(seed: number, a = 0, b = 0, c = 0): number {
  return hash4(seed, a, b, c) / TWO_POW_32;
}

/** Uniform in [lo, hi) from (seed, a, b, c). */
export function uniformAt(lo: number, hi: number, seed: number, a = 0, b = 0, c = 0): number {
  return lo + (hi - lo) * uniform01(seed, a, b, c);
}

/** Box–Muller draw k of (seed, a, b), on the uniforms at c = 2k and 2k + 1 (u1 in (0, 1], so log(u1) is finite). */
function boxMuller(seed: number, a: number, b: number, k: number): number {
  const u1 = (hash4(seed, a, b, 2 * k) + 1) / TWO_POW_32;
  const u2 = hash4(seed, a, b, 2 * k + 1) / TWO_POW_32;
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** Standard normal from (seed, a, b): Box–Muller draw 0 (the uniforms at c = 0 and c = 1). */
export function normalAt(seed: number, a = 0, b = 0): number {
  return boxMuller(seed, a, b, 0);
}

/**
 * A standard normal truncated to [-tau, tau] from (seed, a, b): the first Box–Muller draw k = 0, 1, ... that falls
 * inside (draw 0 is normalAt's, so a value already inside is unchanged, and tau = Infinity is normalAt). GANs sample
 * their noise this way to trade variety for surer samples (the "truncation trick", Brock et al. 2019).
 * tau ≥ 0.25 keeps ≥ 20 % of draws, about five tries at worst on average.
 */
export function truncatedNormalAt(tau: number, seed: number, a = 0, b = 0): number {
  if (!(tau >= 0.25)) throw new RangeError(`truncatedNormalAt: tau must be ≥ 0.25, got ${tau}`);
  for (let k = 0; ; k++) {
    const z = boxMuller(seed, a, b, k);
    if (Math.abs(z) <= tau) return z;
  }
}

/** An integer uniform in [0, n) (n < 2^32; bias at most n / 2^32) from (seed, a, b, c). */
export function intBelow(n: number, seed: number, a = 0, b = 0, c = 0): number {
  return Math.floor(uniform01(seed, a, b, c) * n);
}

/**
 * A sequential stream over the counter hash: draw k of stream s is hash4(seed, s, k / 2^32, k mod 2^32),
 * so two streams of one seed never overlap and a stream can be restarted anywhere (`at`).
 */
export class CounterRng {
  private counter = 0;
  constructor(readonly seed: number, readonly stream = 0) {}

  /** Continue from draw k. */
  at(k: number): this { this.counter = k; return this; }

  /** The next 32-bit unsigned draw. */
  nextU32(): number {
    const k = this.counter++;
    return hash4(this.seed, this.stream, Math.floor(k / TWO_POW_32), k >>> 0);
  }

  /** Uniform in [0, 1). */
  next(): number { return this.nextU32() / TWO_POW_32; }

  uniform(lo = 0, hi = 1): number { return lo + (hi - lo) * this.next(); }

  /** Integer uniform in [0, n). */
  int(n: number): number { return Math.floor(this.next() * n); }

  /** Normal(mean, std) by Box–Muller (two draws per value; the sine branch is not kept, so no state). */
  normal(mean = 0, std = 1): number {
    const u1 = (this.nextU32() + 1) / TWO_POW_32;
    const u2 = this.next();
    return mean + std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}

/**
 * Fisher–Yates shuffle of `out` (filled with 0..n-1 first) where swap i draws from hash4(seed, a, b, i):
 * the permutation is a pure function of (seed, a, b), e.g. (seed, epoch, tag).
 */
export function permutation(out: Int32Array, seed: number, a = 0, b = 0): Int32Array {
  const n = out.length;
  for (let i = 0; i < n; i++) out[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(uniform01(seed, a, b, i) * (i + 1));
    const t = out[i]; out[i] = out[j]; out[j] = t;
  }
  return out;
}
