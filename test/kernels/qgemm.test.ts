// int8 GEMM against the reference, exactly: m, n, k below, at and above the 4×8 tile, the 8-pair A-pack step,
// the 256-pair k block and the A block (large k makes blocks of a few rows), odd k (the zero-padded last pair), int8 extremes
// (−128, 127), row and column slices (how callers split work), int8 and f32 outputs, sentinels past C. Also
// the packed-B bytes, and the fixed-point requantization against gemmlowp's literal definitions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testEngines, type TestEngine } from '../helpers/engines';
import { Rng } from '../helpers/rand';
import { QPARAM_BYTES } from '../../src/engine/generated/abi';
import { mulq, quantizeMultiplier, rdbpot, srdhm } from '../../src/ref/qmath';

const GUARD = 32;
const SENTINEL = 0x5a;

/** Random int8 with the extremes over-represented. */
function int8s(rng: Rng, n: number): Int8Array {
  const a = new Int8Array(n);
  for (let i = 0; i < n; i++) { const r = rng.next(); a[i] = r < 0.05 ? -128 : r < 0.1 ? 127 : rng.int(-128, 128); }
  return a;
}

interface Case { m: number; n: number; k: number; lda: number; f32out: boolean }

/** QPARAM records for n columns: bias, a multiplier, shift, f32 scale. Half the time one shift for all columns
 *  and multipliers of any size (what lowerQuantized makes: the vector requantization), else per-column shifts. */
function qparams(rng: Rng, n: number, k: number): Int32Array {
  const q = new Int32Array(n * 4), f = new Float32Array(q.buffer), uniform = rng.next() < 0.5;
  const range = (): number => rng.int(-Math.ceil(Math.log2(k * 128 * 128 + 1)) - 4, 2), shift = range();
  for (let j = 0; j < n; j++) {
    q[4 * j] = rng.int(-(1 << 20), 1 << 20);
    q[4 * j + 1] = uniform ? rng.int(0, 2 ** 31) : rng.int(2 ** 30, 2 ** 31);
    q[4 * j + 2] = uniform ? shift : range();
    f[4 * j + 3] = rng.uniform(1e-4, 1e-2);
  }
  return q;
}

function check({ name, e, ref }: TestEngine, rng: Rng, cs: Case): void {
  const { m, n, k, lda, f32out } = cs, what = `${name} qgemm_s8 m=${m} n=${n} k=${k} lda=${lda} f32out=${f32out}`;
  const mark = e.mark(), u8 = () => e.u8;
  const a = e.reserve(m * lda), b = e.reserve(k * n);
  new Int8Array(e.memory.buffer, a, m * lda).set(int8s(rng, m * lda));
  new Int8Array(e.memory.buffer, b, k * n).set(int8s(rng, k * n));
  const bytes = e.k.qgemm_packed_b_bytes(k, n);
  assert.equal(bytes, ref.qgemm_packed_b_bytes(k, n), `${what}: packed size`);
  const p = e.reserve(bytes), pr = e.reserve(bytes);
  u8().fill(0xee, p, p + bytes);
  e.k.qgemm_pack_b(k, n, b, n, p);
  ref.qgemm_pack_b(k, n, b, n, pr);
  assert.deepEqual(u8().slice(p, p + bytes), u8().slice(pr, pr + bytes), `${what}: packed bytes`);
  const q = e.reserve(n * QPARAM_BYTES);
  new Int32Array(e.memory.buffer, q, n * 4).set(qparams(rng, n, k));
  const zy = rng.int(-128, 128), lo = rng.next() < 0.5 ? -128 : zy, hi = 127;
  const elem = f32out ? 4 : 1, cBytes = m * n * elem + GUARD;
  const c = e.reserve(cBytes), cr = e.reserve(cBytes);
  u8().fill(SENTINEL, c, c + cBytes); u8().fill(SENTINEL, cr, cr + cBytes);
  const scratch = e.reserve(e.k.qgemm_scratch_bytes(m, n, k));
  e.k.qgemm_s8(m, n, k, a, lda, p, q, zy, lo, hi, c, n, f32out ? 1 : 0, scratch);
  ref.qgemm_s8(m, n, k, a, lda, pr, q, zy, lo, hi, cr, n, f32out ? 1 : 0, 0);
  assert.deepEqual(u8().slice(c, c + cBytes), u8().slice(cr, cr + cBytes), `${what}: C and the guard`);
  assert.ok(u8().slice(c + m * n * elem, c + cBytes).every((v) => v === SENTINEL), `${what}: wrote past C`);
  // A row slice and a column slice at a panel boundary give the same rows / columns.
  if (m > 1 && n > 8 && !f32out) {
    const r0 = Math.floor(m / 2), c2 = e.reserve(m * n);
    u8().fill(0, c2, c2 + m * n);
    e.k.qgemm_s8(r0, n, k, a, lda, p, q, zy, lo, hi, c2, n, 0, scratch);
    e.k.qgemm_s8(m - r0, 8, k, a + r0 * lda, lda, p, q, zy, lo, hi, c2 + r0 * n, n, 0, scratch);
    e.k.qgemm_s8(m - r0, n - 8, k, a + r0 * lda, lda, p + e.k.qgemm_packed_b_bytes(k, 8), q + 8 * QPARAM_BYTES, zy, lo, hi, c2 + r0 * n + 8, n, 0, scratch);
    assert.deepEqual(u8().slice(c2, c2 + m * n), u8().slice(c, c + m * n), `${what}: row/column slices`);
  }
  e.release(mark);
}

test('qgemm_s8 equals the reference exactly: tile, pack-step and block boundaries, slices, both outputs', async () => {
  const rng = new Rng(7);
  const ms = [1, 2, 3, 4, 5, 7, 8, 9, 13, 17], ns = [1, 2, 7, 8, 9, 15, 16, 17, 24], ks = [1, 2, 3, 15, 16, 17, 31, 32, 33, 64, 75];
  for (const te of await testEngines()) {
    for (let trial = 0; trial < 120; trial++) {
      const m = ms[rng.int(0, ms.length)], n = ns[rng.int(0, ns.length)], k = ks[rng.int(0, ks.length)];
      check(te, rng, { m, n, k, lda: k + (rng.next() < 0.3 ? rng.int(1, 5) : 0), f32out: rng.next() < 0.25 });
    }
    // big k: the A block holds only a few rows (k = 4608: 28), so m = 30 and 49 run two blocks of equal-ish rows;
    // odd big k; k blocks of 256 pairs: k = 512 is one block, 513 and 1026 end in a block of one pair
    for (const [m, n, k] of [[30, 9, 4608], [49, 16, 4608], [13, 17, 4607], [5, 64, 576], [50, 16, 27], [9, 8, 512], [7, 16, 513], [21, 9, 1026]]) {
      check(te, rng, { m, n, k, lda: k, f32out: false });
      check(te, rng, { m, n, k, lda: k, f32out: true });
    }
  }
});

test('qgemm_s8: the int8 extremes everywhere accumulate exactly (no int16 saturation)', async () => {
  for (const { name, e, ref } of await testEngines()) {
    const m = 4, n = 8, k = 1024, mark = e.mark();
    for (const [va, vb] of [[-128, -128], [127, -128], [-128, 127]]) {
      const a = e.reserve(m * k), b = e.reserve(k * n);
      e.u8.fill(va & 0xff, a, a + m * k); e.u8.fill(vb & 0xff, b, b + k * n);
      const p = e.reserve(e.k.qgemm_packed_b_bytes(k, n));
      e.k.qgemm_pack_b(k, n, b, n, p);
      const q = e.reserve(n * QPARAM_BYTES), qi = new Int32Array(e.memory.buffer, q, n * 4), qf = new Float32Array(e.memory.buffer, q, n * 4);
      for (let j = 0; j < n; j++) { qi[4 * j] = 0; qi[4 * j + 1] = 2 ** 30; qi[4 * j + 2] = 1; qf[4 * j + 3] = 1; } // scale 1: C = acc as f32
      const c = e.reserve(m * n * 4);
      e.k.qgemm_s8(m, n, k, a, k, p, q, 0, -128, 127, c, n, 1, e.reserve(e.k.qgemm_scratch_bytes(m, n, k)));
      assert.deepEqual([...e.read(c, m * n)], new Array(m * n).fill(va * vb * k), `${name} ${va}·${vb}·${k}`);
      void ref;
    }
    e.release(mark);
  }
});

/** gemmlowp's SaturatingRoundingDoublingHighMul and RoundingDivideByPOT as written there (BigInt, truncating division). */
function srdhmGemmlowp(a: number, b: number): number {
  if (a === -(2 ** 31) && b === -(2 ** 31)) return 2 ** 31 - 1;
  const ab = BigInt(a) * BigInt(b), nudge = ab >= 0n ? 1n << 30n : 1n - (1n << 30n);
  return Number((ab + nudge) / (1n << 31n)); // BigInt division truncates toward zero, as C++'s
}
function rdbpotGemmlowp(x: number, e: number): number {
  const mask = BigInt(2 ** e - 1), X = BigInt(x), rem = X & mask, threshold = (mask >> 1n) + (X < 0n ? 1n : 0n);
  return Number((X >> BigInt(e)) + (rem > threshold ? 1n : 0n));
}

test('fixed-point requantization matches gemmlowp\'s definitions; quantizeMultiplier round-trips', () => {
  const rng = new Rng(3);
  const xs = [0, 1, -1, 2 ** 30, -(2 ** 30), 2 ** 31 - 1, -(2 ** 31), 12345, -12345, 3 << 29, -(3 << 29)];
  for (let i = 0; i < 3000; i++) xs.push(rng.int(-(2 ** 31), 2 ** 31));
  for (const x of xs) {
    const m = rng.int(2 ** 30, 2 ** 31);
    assert.equal(srdhm(x, m), srdhmGemmlowp(x, m), `srdhm(${x}, ${m})`);
    const e = rng.int(0, 32);
    assert.equal(rdbpot(x, e), rdbpotGemmlowp(x, e), `rdbpot(${x}, ${e})`);
  }
  for (const M of [1e-9, 3.7e-5, 0.001, 0.25, 0.5, 0.75, 0.999999, 1, 1.5, 7.3, 1000]) {
    const { mult, shift } = quantizeMultiplier(M);
    assert.ok(mult >= 2 ** 30 && mult < 2 ** 31, `mult of ${M}`);
    assert.ok(Math.abs(mult * 2 ** (shift - 31) / M - 1) < 2 ** -30, `${M} ≈ ${mult}·2^(${shift}−31)`);
    // MulQ then multiplies by M, rounded: within one unit of the exact product
    for (const x of [0, 1, -1, 1000, -1000, 123456, -98765]) {
      if (Math.abs(x * M) < 2 ** 30) assert.ok(Math.abs(mulq(x, mult, shift) - x * M) <= 1, `mulq(${x}) · ${M}`);
    }
  }
});
