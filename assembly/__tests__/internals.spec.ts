// Kernel internals, tested where they live (AssemblyScript), below the wasm ABI.
import { relu_forward_f32, sigmoid_forward_f32 } from '../act';
import { fill_f32, sum_squares_f32 } from '../reduce';
import { copy_rows_f32 } from '../tensor';

describe('reduce', () => {
  it('fill then sum of squares over a length that is not a multiple of 4', () => {
    const p = heap.alloc(7 * 4);
    fill_f32(p, 7, 2.0);
    expect(sum_squares_f32(p, 7)).toBe(28.0);
    heap.free(p);
  });
});

describe('act', () => {
  it('sigmoid of 0 is exactly one half, and saturates without NaN', () => {
    const p = heap.alloc(16), q = heap.alloc(16);
    store<f32>(p, 0); store<f32>(p, 100, 4); store<f32>(p, -100, 8); store<f32>(p, 1, 12);
    sigmoid_forward_f32(4, p, q);
    expect(load<f32>(q)).toBe(0.5);
    expect(load<f32>(q, 4)).toBe(1.0);
    expect(load<f32>(q, 8)).toBeLessThan(<f32>1e-30);
    expect(Math.abs(load<f32>(q, 12) - 0.7310586)).toBeLessThan(1e-6);
    heap.free(p); heap.free(q);
  });
  it('relu keeps positives and zeroes negatives in the scalar tail', () => {
    const p = heap.alloc(20), q = heap.alloc(20);
    for (let i = 0; i < 5; i++) store<f32>(p + (<usize>i << 2), <f32>(i - 2));
    relu_forward_f32(5, p, q);
    expect(load<f32>(q)).toBe(0); expect(load<f32>(q, 16)).toBe(2);
    heap.free(p); heap.free(q);
  });
});

describe('tensor', () => {
  it('copy_rows_f32 writes a strided slice of each row', () => {
    const src = heap.alloc(6 * 4), dst = heap.alloc(8 * 4);
    for (let i = 0; i < 6; i++) store<f32>(src + (<usize>i << 2), <f32>i);
    fill_f32(dst, 8, -1);
    copy_rows_f32(2, 3, src, 3, dst + 4, 4); // two rows of 3 into columns 1..3 of a 2×4 matrix
    expect(load<f32>(dst)).toBe(-1);
    expect(load<f32>(dst, 4)).toBe(0);
    expect(load<f32>(dst, 28)).toBe(5);
  });
});

import { dropout_forward_f32 } from '../dropout';
import { sum_slices_f32 } from '../reduce';

describe('dropout', () => {
  it('keeps the same elements whether a tensor is processed whole or in two slices', () => {
    const n = 37, x = heap.alloc(n * 4), whole = heap.alloc(n * 4), parts = heap.alloc(n * 4);
    fill_f32(x, n, 1);
    dropout_forward_f32(x, whole, n, 0.5, 7, 3, 100);
    dropout_forward_f32(x, parts, 13, 0.5, 7, 3, 100);
    dropout_forward_f32(x + 52, parts + 52, n - 13, 0.5, 7, 3, 113);
    for (let i = 0; i < n; i++) expect(load<f32>(parts + (<usize>i << 2))).toBe(load<f32>(whole + (<usize>i << 2)));
  });
});

describe('reduce', () => {
  it('sum_slices_f32 adds slices in slice order', () => {
    const src = heap.alloc(3 * 8 * 4), dst = heap.alloc(5 * 4);
    for (let s = 0; s < 3; s++) for (let i = 0; i < 5; i++) store<f32>(src + (<usize>(s * 8 + i) << 2), <f32>(s * 10 + i));
    sum_slices_f32(dst, src, 5, 3, 8);
    for (let i = 0; i < 5; i++) { const want: i32 = 30 + 3 * i; expect(load<f32>(dst + (<usize>i << 2))).toBe(<f32>want); }
  });
});

import { gemm_5x8_kernel } from '../gemm_kernels';

describe('gemm micro-kernel', () => {
  it('gemm_5x8_kernel computes one 5×8 tile from packed panels, overwriting or accumulating', () => {
    const kcs: i32[] = [1, 3, 8];
    for (let t = 0; t < kcs.length; t++) {
      const kc = kcs[t];
      const a = heap.alloc(<usize>(5 * kc) << 2), b = heap.alloc(<usize>(8 * kc) << 2);
      const ldc = 11; // C rows longer than the tile
      const c = heap.alloc(<usize>(5 * ldc) << 2);
      // a[p·5 + i] = op(A)[i, p], b[p·8 + j] = op(B)[p, j]: small integers, so every sum is exact.
      for (let p = 0; p < kc; p++) {
        for (let i = 0; i < 5; i++) { const v: i32 = (i + 2 * p) % 7 - 3; store<f32>(a + (<usize>(p * 5 + i) << 2), <f32>v); }
        for (let j = 0; j < 8; j++) { const v: i32 = (3 * j + p) % 5 - 2; store<f32>(b + (<usize>(p * 8 + j) << 2), <f32>v); }
      }
      for (let acc = 0; acc < 2; acc++) {
        fill_f32(c, 5 * ldc, 1);
        gemm_5x8_kernel(kc, a, b, c, <usize>ldc << 2, acc);
        for (let i = 0; i < 5; i++) {
          for (let j = 0; j < ldc; j++) {
            let want: f32 = j < 8 ? <f32>acc : 1; // columns past the tile stay untouched
            if (j < 8) for (let p = 0; p < kc; p++) want += load<f32>(a + (<usize>(p * 5 + i) << 2)) * load<f32>(b + (<usize>(p * 8 + j) << 2));
            expect(load<f32>(c + (<usize>(i * ldc + j) << 2))).toBe(want);
          }
        }
      }
      heap.free(a); heap.free(b); heap.free(c);
    }
  });
});
