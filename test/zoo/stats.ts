// Parameters, FLOPs and shapes of a model config from its graph alone (buildGraph allocates no memory, so
// VGG-16's 553 MB of weights are counted, never made). The same sums as Model.summary().
import { buildGraph } from '../../src/model/graph';
import { numelOf, type Shape } from '../../src/layers/layer';
import type { ModelConfig } from '../../src/model/config';

export interface ConfigStats {
  params: number;
  /** Forward FLOPs per example (multiply-adds × 2), as summary() counts them. */
  flops: number;
  output: Shape;
  /** Every layer's per-example output shape, by name. */
  shapes: Map<string, Shape>;
  /** Every layer's config type, by name. */
  types: Map<string, string>;
}

export function configStats(config: ModelConfig): ConfigStats {
  const g = buildGraph(config);
  let params = 0, flops = 0;
  const shapes = new Map<string, Shape>(), types = new Map<string, string>();
  for (const { layer } of g.nodes) {
    params += layer.params.reduce((s, p) => s + numelOf(p.shape), 0);
    flops += layer.flops();
    shapes.set(layer.name, layer.outShape);
    types.set(layer.name, layer.type);
  }
  return { params, flops, output: g.nodes[g.output].layer.outShape, shapes, types };
}
