// conv kernels: see assembly/index.ts for the ABI conventions.
