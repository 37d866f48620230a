// The one place that knows how threads are made: a browser-style Worker where the global exists (browsers,
// Deno), node:worker_threads in Node. Swapping in the `web-worker` package later changes this file only.
// The rest of src/parallel sees WorkerLike (main side) and WorkerPort (inside a worker).

export interface WorkerFailure { message: string; stack?: string; name?: string }

export interface WorkerLike {
  post(msg: unknown): void;
  /** Messages, uncaught errors, and the thread's end (Node gives an exit code; browsers never call it). */
  onMessage(fn: (msg: unknown) => void): void;
  onError(fn: (err: WorkerFailure) => void): void;
  onExit(fn: (code: number) => void): void;
  terminate(): Promise<void>;
  /** Whether an idle worker keeps Node's event loop alive (no-op in browsers). */
  ref(): void;
  unref(): void;
}

export interface WorkerPort {
  post(msg: unknown): void;
  onMessage(fn: (msg: unknown) => void): void;
}

const isNode = typeof process !== 'undefined' && !!process.versions?.node;

/** Starts a module worker running `url`. A .ts entry (tests under tsx) gets tsx registered first. */
export async function spawnWorker(url: URL, name: string): Promise<WorkerLike> {
  if (!isNode && typeof Worker !== 'undefined') return browserWorker(new Worker(url, { type: 'module', name }));
  const { Worker: NodeWorker } = await import('node:worker_threads');
  let w: import('node:worker_threads').Worker;
  if (url.pathname.endsWith('.ts')) {
    // Node 20 does not apply the parent's `--import tsx` hooks to workers: register them in the worker.
    const tsx = import.meta.resolve('tsx/esm/api');
    const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
    w = new NodeWorker(boot, { eval: true, name });
  } else {
    w = new NodeWorker(url, { name });
  }
  return {
    post: (msg) => w.postMessage(msg),
    onMessage: (fn) => { w.on('message', fn); },
    onError: (fn) => { w.on('error', (e: Error) => fn({ message: e?.message ?? String(e), stack: e?.stack, name: e?.name })); },
    onExit: (fn) => { w.on('exit', fn); },
    terminate: async () => { await w.terminate(); },
    ref: () => w.ref(),
    unref: () => w.unref(),
  };
}

function browserWorker(w: Worker): WorkerLike {
  return {
    post: (msg) => w.postMessage(msg),
    onMessage: (fn) => w.addEventListener('message', (ev) => fn((ev as MessageEvent).data)),
    onError: (fn) => w.addEventListener('error', (ev) => {
      const e = ev as ErrorEvent;
      fn({ message: e.message || 'worker failed to load or threw', stack: e.error?.stack ?? `${e.filename}:${e.lineno}:${e.colno}` });
    }),
    onExit: () => {},
    terminate: async () => { w.terminate(); },
    ref: () => {},
    unref: () => {},
  };
}

/** Inside a worker: the channel to the thread that started it. */
export async function workerPort(): Promise<WorkerPort> {
  if (isNode) {
    const { parentPort } = await import('node:worker_threads');
    if (!parentPort) throw new Error('rede parallel: the worker entry was started outside a worker thread');
    return { post: (msg) => parentPort.postMessage(msg), onMessage: (fn) => { parentPort.on('message', fn); } };
  }
  const scope = globalThis as unknown as { postMessage(m: unknown): void; addEventListener(t: string, f: (ev: MessageEvent) => void): void };
  return { post: (msg) => scope.postMessage(msg), onMessage: (fn) => scope.addEventListener('message', (ev) => fn(ev.data)) };
}

/** Logical cores available to this process (Node: os.availableParallelism; browsers: hardwareConcurrency). */
export async function coreCount(): Promise<number> {
  if (isNode) {
    const os = await import('node:os');
    return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
  }
  return Math.max(1, (globalThis.navigator as Navigator | undefined)?.hardwareConcurrency ?? 1);
}
