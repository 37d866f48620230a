// The tfjs backend as Model sees it: reached only through `await import('../bridge/index')` from
// src/api/model.ts, so neither TensorFlow.js nor this folder is loaded unless a model asks for backend 'tfjs'.
// The network's memory stays the home of the weights; the bridge holds their tf copies and the step.
import type { InputData } from '../data/input';
import type { Network } from '../model/network';
import type { StepExecutor } from '../train/step';
import type { CompileOptions, Trainer } from '../train/trainer';
import { TfGraph } from './graph';
import { TfjsStep, TfjsTrainer, tfPredict } from './step';
import { loadTfjs, type TfjsBackendName } from './tfjs';
import type { BackendInfo } from './types';

export { TFJS_BACKENDS, type TfjsBackendName } from './tfjs';
export { TFJS_LAYERS, checkSupported } from './graph';

export class Bridge {
  private step: { trainer: Trainer; exec: TfjsStep } | null = null;

  private constructor(readonly info: BackendInfo, readonly graph: TfGraph) {}

  /** Loads tfjs (backend named or the first that starts) and builds `net` from tf ops; throws naming a layer tfjs cannot build. */
  static async open(net: Network, backend?: TfjsBackendName): Promise<Bridge> {
    const { tf, info } = await loadTfjs(backend);
    return new Bridge(info, new TfGraph(tf, net));
  }

  /** compile()'s trainer: evaluate through tf; the previous compile's tf optimizer state is freed. */
  trainer(net: Network, o: CompileOptions): Trainer {
    void this.step?.exec.close();
    this.step = null;
    return new TfjsTrainer(net, o, this.graph);
  }

  /** The step executor of trainer `t` (one per compile, kept: its optimizer state lives in tf between fits). */
  executor(t: Trainer): StepExecutor {
    if (this.step?.trainer !== t) {
      void this.step?.exec.close();
      this.step = { trainer: t, exec: new TfjsStep(this.graph, t) };
    }
    return this.step.exec;
  }

  predict(x: InputData, batchSize?: number): Float32Array { return tfPredict(this.graph, x, batchSize); }

  /** Frees every tf tensor this model holds. */
  dispose(): void {
    void this.step?.exec.close();
    this.step = null;
    this.graph.dispose();
  }
}
