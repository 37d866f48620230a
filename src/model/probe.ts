// A timing probe on a network's forward and backward: while one is attached (Network.probe), forwardStep and
// backwardStep read the clock after each node and add the time since the previous reading to that node. With
// none attached the loops pay one null check per node. src/bench/profile.ts attaches one to profile a step.
// A node's backward time includes summing the gradients of its several readers (Network.sumInto).
export class LayerProbe {
  /** Milliseconds per node, summed over the steps since reset(). */
  readonly forwardMs: Float64Array;
  readonly backwardMs: Float64Array;
  /** The clock when the last forward ended and the last backward began (what lies between is the loss). */
  forwardEnd = 0;
  backwardStart = 0;

  /** `now`: the clock in milliseconds (default performance.now; src/bench/profile.ts may pass a CPU-time clock). */
  constructor(readonly nodes: number, readonly now: () => number = () => performance.now()) {
    this.forwardMs = new Float64Array(nodes);
    this.backwardMs = new Float64Array(nodes);
  }

  reset(): void { this.forwardMs.fill(0); this.backwardMs.fill(0); }

  /** The clock now; the start of a pass. */
  start(): number { return this.now(); }

  /** Adds the time since `since` to node i's forward; returns the clock, the next node's start. */
  forward(i: number, since: number): number {
    const now = this.now();
    this.forwardMs[i] += now - since;
    return now;
  }

  backward(i: number, since: number): number {
    const now = this.now();
    this.backwardMs[i] += now - since;
    return now;
  }
}
