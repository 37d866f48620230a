// Data movement: strided row copies. Concat (inception) writes each input's channels into a slice of every
// output row; its backward reads them back out. Flatten/Reshape copies are the contiguous case.
//   src [rows, srcStride] (first cols used) → dst [rows, dstStride] (first cols written)
export function copy_rows_f32(rows: i32, cols: i32, src: usize, srcStride: i32, dst: usize, dstStride: i32): void {
  const bytes = <usize>cols << 2;
  if (cols == srcStride && cols == dstStride) {
    memory.copy(dst, src, <usize>rows * bytes);
    return;
  }
  for (let r = 0; r < rows; r++) {
    memory.copy(dst + ((<usize>r * dstStride) << 2), src + ((<usize>r * srcStride) << 2), bytes);
  }
}
