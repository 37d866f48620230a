// Reference data movement, same signatures as assembly/tensor.ts.
import type { Heap } from './heap';

export const tensorRef = (h: Heap) => ({
  copy_rows_f32(rows: number, cols: number, src: number, srcStride: number, dst: number, dstStride: number): void {
    const f = h.f32;
    for (let r = 0; r < rows; r++) f.copyWithin((dst >>> 2) + r * dstStride, (src >>> 2) + r * srcStride, (src >>> 2) + r * srcStride + cols);
  },
});
