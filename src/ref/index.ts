// All reference kernels over one memory: the oracle in tests and the fallback where wasm SIMD is missing.
// `satisfies Kernels` keeps every reference signature identical to the wasm export it mirrors.
import type { Kernels } from '../engine/generated/kernels';
import { Heap } from './heap';
import { gemmRef } from './gemm';

/** Where the arena starts when the reference kernels run alone (they have no static data). */
const REF_HEAP_BASE = 1024;

export function refKernels(memory: WebAssembly.Memory): Kernels {
  const h = new Heap(memory);
  return {
    heap_base: () => REF_HEAP_BASE,
    ...gemmRef(h),
  } satisfies Kernels;
}
