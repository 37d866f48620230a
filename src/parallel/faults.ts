// Test-only hooks, kept out of the public API. Fault injection: a test asks worker w to commit a fault at global
// step s through three words of the control block; the worker checks them at the start of each step.
import type { Engine } from '../engine/engine';
import { FAULT_KIND, FAULT_STEP, FAULT_WORKER, type Control } from './control';


export const FAULTS = ['none', 'throw', 'exit', 'trap', 'hang'] as const;
export type FaultKind = (typeof FAULTS)[number];

/** Main thread (tests): make worker `worker` of `group` commit `kind` at global step `step`. */
export function scheduleFault(group: { control: Control }, worker: number, step: number, kind: FaultKind): void {
  const i = group.control.i32;
  i[FAULT_WORKER] = worker + 1; i[FAULT_STEP] = step; i[FAULT_KIND] = FAULTS.indexOf(kind);
}

/** Worker `index`: commits the fault the control block asks of it at this step, if any. */
export function injectFault(c: Control, e: Engine, index: number, stepNo: number): void {
  const i = c.i32;
  if (i[FAULT_WORKER] !== index + 1 || i[FAULT_STEP] !== stepNo) return;
  const kind = FAULTS[i[FAULT_KIND]];
  if (kind === 'throw') throw new Error(`injected fault: worker ${index} throws at step ${stepNo}`);
  if (kind === 'exit') process.exit(3);
  if (kind === 'trap') e.k.fill_f32(0xfffffff0, 64, 0); // out of bounds: a wasm trap
  if (kind === 'hang') for (;;) { /* a worker stuck in a loop: only the watchdog ends it */ }
}

/** Tests: bytes a new worker group reserves before its layout, so that every group address lies above 2 GiB. */
export const groupHooks = { arenaOffset: 0 };
