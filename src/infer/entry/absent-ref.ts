// What rede/infer's bundle gets in place of src/ref/index.ts (scripts/build-infer.mjs): the TypeScript reference
// kernels are the oracle in tests and the full rede's fallback without wasm SIMD; rede/infer requires SIMD
// (kernels.ts refuses a runtime without it), so reaching for them there is a bug.
import type { Kernels } from '../../engine/generated/kernels';

export function refKernels(_memory: WebAssembly.Memory): Kernels {
  throw new Error('rede/infer: the reference kernels are not in the inference-only bundle (it runs the wasm kernels only)');
}
