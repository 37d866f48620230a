// The engines every kernel test runs on: each wasm build this runtime validates, plus the reference
// kernels over the same memory (the oracle). Tests copy inputs once and compare outputs region by region.
import { Engine } from '../../src/engine/engine';
import { refKernels } from '../../src/ref/index';
import type { Kernels } from '../../src/engine/generated/kernels';
import { hasRelaxedSimd } from '../../src/engine/wasm';

export interface TestEngine { name: string; e: Engine; ref: Kernels }

let cached: Promise<TestEngine[]> | null = null;

/** One engine per wasm variant (plain SIMD and, where the runtime validates it, relaxed SIMD). */
export function testEngines(): Promise<TestEngine[]> {
  cached ??= (async () => {
    const variants = ['simd', ...((await hasRelaxedSimd()) ? ['relaxed-simd'] as const : [])] as const;
    const out: TestEngine[] = [];
    for (const v of variants) {
      const e = await Engine.create({ variant: v });
      out.push({ name: v, e, ref: refKernels(e.memory) });
    }
    return out;
  })();
  return cached;
}
