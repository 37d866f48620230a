// The worker entry. It joins the shared memory with the compiled module it was sent (no bytes, no compile),
// replays the main thread's memory plan in attach mode (same calls, same addresses, nothing written), then
// for each fit builds its own batch source over the shared dataset copy and runs steps on Atomics signals
// until told to stop. Its errors go back with their stack; any failure raises the shared abort word first,
// so its peers leave their barriers instead of waiting for it.
import { Engine, type EngineVariant } from '../engine/engine';
import type { AugmentOptions } from '../data/augment';
import { arraySource, datasetSource, type Source } from '../train/source';
import { Aborted, CMD, CMD_STOP, Control, GO } from './control';
import { assertSameLayout, controlSizes, layoutCheck, layoutReplica, layoutShared, type GroupSpec, type LayoutCheck } from './layout';
import { ShardRunner } from './step';
import { workerPort } from './worker-api';

export interface InitMessage {
  type: 'init';
  index: number;
  spec: GroupSpec;
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  variant: EngineVariant;
  arenaStart: number;
  replicaStart: number;
  expect: LayoutCheck;
}

/** The training data, in SharedArrayBuffers (sent once per fit, never copied per worker). */
export type DataSpec =
  | { kind: 'dataset'; x: Float32Array; y: Int32Array; shape: [number, number, number]; classes: number }
  | { kind: 'arrays'; x: Float32Array; y: Int32Array | Float32Array; per: number; yPer: number };

export interface FitMessage {
  type: 'fit';
  data: DataSpec;
  batchSize: number;
  seed: number;
  shuffle: boolean;
  augment?: AugmentOptions;
}

export type ToWorker = InitMessage | FitMessage;
export type FromWorker =
  | { type: 'ready' } | { type: 'fitting' } | { type: 'stopped' } | { type: 'aborted' }
  | { type: 'error'; message: string; stack?: string; name?: string };

function makeSource(m: FitMessage): Source {
  const d = m.data, o = { batchSize: m.batchSize, seed: m.seed, shuffle: m.shuffle, keepLast: true };
  if (d.kind === 'dataset') return datasetSource({ x: d.x, y: d.y, shape: d.shape, classes: d.classes }, { ...o, augment: m.augment });
  return arraySource(d.x, d.y, d.per, d.yPer, o);
}

async function main(): Promise<void> {
  const port = await workerPort();
  let control: Control | null = null;
  let runner: ShardRunner | null = null;
  let workers = 0;

  const fail = (err: unknown) => {
    const e = err as Error;
    if (e instanceof Aborted) { port.post({ type: 'aborted' } satisfies FromWorker); return; }
    if (control) control.abort();
    port.post({ type: 'error', message: e?.message ?? String(err), stack: e?.stack, name: e?.name } satisfies FromWorker);
  };

  port.onMessage((raw) => {
    const msg = raw as ToWorker;
    if (msg.type === 'init') {
      (async () => {
        const e = await Engine.create({ module: msg.module, memory: msg.memory, variantOfModule: msg.variant, arenaStart: msg.arenaStart });
        const shared = layoutShared(e, msg.spec);
        e.release(msg.replicaStart);
        const replica = layoutReplica(shared, msg.spec);
        assertSameLayout(msg.index, layoutCheck(shared, replica), msg.expect);
        workers = msg.spec.workers;
        control = new Control(msg.memory.buffer, shared.control, controlSizes(msg.spec));
        runner = new ShardRunner(e, msg.spec, shared, replica, control, msg.index);
        port.post({ type: 'ready' } satisfies FromWorker);
      })().catch(fail);
      return;
    }
    if (msg.type === 'fit') {
      try {
        if (!control || !runner) throw new Error('rede parallel: fit before init');
        const source = makeSource(msg);
        const c = control;
        let seen = Atomics.load(c.i32, GO);
        port.post({ type: 'fitting' } satisfies FromWorker);
        // Blocks this thread until STOP: steps arrive through the control block, not as messages.
        for (;;) {
          c.waitWhile(GO, seen);
          seen = Atomics.load(c.i32, GO);
          if (Atomics.load(c.i32, CMD) === CMD_STOP) break;
          runner.run(source, msg.batchSize, msg.seed);
          c.done(workers);
        }
        port.post({ type: 'stopped' } satisfies FromWorker);
      } catch (err) {
        fail(err);
      }
    }
  });
}

main().catch((err) => { throw err; });
