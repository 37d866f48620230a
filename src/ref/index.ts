// All reference kernels over one memory: the oracle in tests and the fallback where wasm SIMD is missing.
// `satisfies Kernels` keeps every reference signature identical to the wasm export it mirrors.
import type { Kernels } from '../engine/generated/kernels';
import { Heap } from './heap';
import { gemmRef } from './gemm';
import { convRef } from './conv';
import { poolRef } from './pool';
import { actRef } from './act';
import { lossRef } from './loss';
import { normRef } from './norm';
import { dropoutRef } from './dropout';
import { optimRef } from './optim';
import { reduceRef } from './reduce';
import { tensorRef } from './tensor';

/** Where the arena starts when the reference kernels run alone (they have no static data). */
const REF_HEAP_BASE = 1024;

export function refKernels(memory: WebAssembly.Memory): Kernels {
  const h = new Heap(memory);
  return {
    heap_base: () => REF_HEAP_BASE,
    ...gemmRef(h),
    ...convRef(h),
    ...poolRef(h),
    ...actRef(h),
    ...lossRef(h),
    ...normRef(h),
    ...dropoutRef(h),
    ...optimRef(h),
    ...reduceRef(h),
    ...tensorRef(h),
  } satisfies Kernels;
}
