// A helper thread of an InferenceModel: the same kernels on the same shared memory, and, per op, the fixed
// list of calls that is this thread's share (src/infer/model.ts). It waits for an op index in the control
// words, runs that op's calls, counts itself done, and waits again; op −1 ends it.
import { workerPort } from '../parallel/worker-api';

interface Init { module: WebAssembly.Module; memory: WebAssembly.Memory; ctl: number; calls: [string, number[]][][]; stallMs: number }

const CTL_SEQ = 0, CTL_OP = 1, CTL_DONE = 2, CTL_WORDS = 16;
/** Spin this many polls before sleeping: the main thread's serial ops between parallel ones are short. */
const SPIN = 200000;

const port = await workerPort();
port.onMessage(async (msg) => {
  const m = msg as Init;
  const instance = await WebAssembly.instantiate(m.module, { env: { memory: m.memory } });
  const k = instance.exports as unknown as Record<string, (...a: number[]) => unknown>;
  const ops = m.calls.map((list) => list.map(([name, args]) => {
    const fn = k[name];
    return () => { fn(...args); };
  }));
  const ctl = new Int32Array(m.memory.buffer, m.ctl, CTL_WORDS);
  // Read the sequence word before announcing readiness: once 'ready' is out, the main thread may post the
  // first op at any moment, and a baseline read after that would already include it (a lost op: a hang).
  let seen = Atomics.load(ctl, CTL_SEQ);
  port.post('ready');
  if (m.stallMs > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, m.stallMs); // tests: a slow thread
  for (;;) {
    let spins = 0;
    while (Atomics.load(ctl, CTL_SEQ) === seen) {
      if (++spins > SPIN) Atomics.wait(ctl, CTL_SEQ, seen);
    }
    seen = Atomics.load(ctl, CTL_SEQ);
    const op = Atomics.load(ctl, CTL_OP);
    if (op < 0) break;
    for (const f of ops[op]) f();
    Atomics.add(ctl, CTL_DONE, 1);
    Atomics.notify(ctl, CTL_DONE);
  }
});
