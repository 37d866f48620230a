// as-pect: AssemblyScript-level unit tests of kernel internals (assembly/__tests__/*.spec.ts). The kernels'
// public behaviour is tested from TypeScript against the references (test/kernels); these check the pieces
// below the ABI — the SIMD exp, the dropout hash, conv descriptor reading, GEMM packing — where they live.
import v8 from 'node:v8';

// The relaxed-SIMD build needs V8's flag in this process too (Node 20 ships it behind a flag).
v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

export default {
  entries: ['assembly/__tests__/**/*.spec.ts'],
  include: ['assembly/__tests__/**/*.include.ts'],
  disclude: [/node_modules/],
  async instantiate(memory, createImports, instantiate, binary) {
    return instantiate(binary, createImports({ env: { memory } }));
  },
  outputBinary: false,
};
