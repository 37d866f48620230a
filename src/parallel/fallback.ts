// Where threads cannot share memory — no SharedArrayBuffer, or a page that is not cross-origin isolated
// (served without COOP/COEP headers) — fit trains on one thread on the non-shared build, and says so once
// per fit in one line.

/** Whether this runtime can give workers one shared wasm memory. */
export function canShareMemory(): boolean {
  if (typeof SharedArrayBuffer === 'undefined' || typeof Atomics === 'undefined') return false;
  if ((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false) return false;
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true } as WebAssembly.MemoryDescriptor);
    return true;
  } catch {
    return false;
  }
}

/** The one-line warning of a fit that asked for workers and runs on one thread. */
export function warnSingleThreaded(workers: number | 'auto', reason: string): void {
  console.warn(`rede: fit asked for ${workers} workers, but ${reason}; training on one thread`);
}

export const NO_SHARED_MEMORY = 'SharedArrayBuffer is unavailable here (a page needs Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)';
