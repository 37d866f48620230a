// The clocks a profile can time with, in milliseconds. 'cpu' is this process's CPU time (Node only): it leaves
// out the time other processes hold the core, which on a shared machine is most of the noise — but it also
// counts every thread of the process (V8's helpers, workers), so it is only right for work on one thread.
export type ClockName = 'wall' | 'cpu';

export const CLOCKS: Record<ClockName, () => number> = {
  wall: () => performance.now(),
  cpu: () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; },
};

/** Whether this runtime has the CPU clock. */
export const hasCpuClock = (): boolean => typeof process !== 'undefined' && typeof process.cpuUsage === 'function';
