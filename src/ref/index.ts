// All reference kernels over one memory: the oracle in tests and the fallback where wasm SIMD is missing.
// `satisfies Kernels` keeps every reference signature identical to the wasm export it mirrors.
import type { Kernels } from '../engine/generated/kernels';
import { Heap } from './heap';
import { OPTIM_STEP_BYTES } from '../engine/generated/abi';
import { gemmRef } from './gemm';
import { convRef } from './conv';
import { poolRef } from './pool';
import { upsampleRef } from './upsample';
import { actRef } from './act';
import { lossRef } from './loss';
import { normRef } from './norm';
import { dropoutRef } from './dropout';
import { optimRef } from './optim';
import { reduceRef } from './reduce';
import { tensorRef } from './tensor';
import { peakRef } from './peak';
import { qgemmRef } from './qgemm';
import { qconvRef } from './qconv';
import { embedRef, mergeRef, rnnRef } from './rnn';
import { attentionRef } from './attention';
import { winogradRef } from './winograd';

/** Where the arena starts when the reference kernels run alone. */
const REF_HEAP_BASE = 1024;
/** Their one static block, below the arena: the optimizer's step block (assembly/optim.ts optim_step_block). */
const REF_STEP_BLOCK = REF_HEAP_BASE - 64;
if (OPTIM_STEP_BYTES > 64) throw new Error(`ref: the optimizer step block (${OPTIM_STEP_BYTES} bytes) outgrew its 64 bytes below the arena`);

export function refKernels(memory: WebAssembly.Memory): Kernels {
  const h = new Heap(memory);
  return {
    memory,
    heap_base: () => REF_HEAP_BASE,
    optim_step_block: () => REF_STEP_BLOCK,
    ...gemmRef(h),
    ...convRef(h),
    ...poolRef(h),
    ...upsampleRef(h),
    ...actRef(h),
    ...lossRef(h),
    ...normRef(h),
    ...dropoutRef(h),
    ...optimRef(h),
    ...reduceRef(h),
    ...tensorRef(h),
    ...peakRef(h),
    ...qgemmRef(h),
    ...qconvRef(h),
    ...rnnRef(h),
    ...embedRef(h),
    ...mergeRef(h),
    ...attentionRef(h),
    ...winogradRef(h),
  } satisfies Kernels;
}
