// rede summary: a model's layers, output shapes, parameters and FLOPs, from a zoo name, a config JSON or a
// saved .rede file.
import { loadRedeFile } from '../../io/file';
import { buildGraph } from '../../model/graph';
import type { ModelConfig } from '../../model/config';
import { summaryText } from '../../model/summary';
import { zooModel } from '../../zoo/index';
import { type Io, modelConfig, num, parse } from '../common';
import { RedeError } from '../../engine/errors';

export const usage = `usage: rede summary --model NAME|FILE [options]

  --model NAME|FILE       zoo model (lenet5), a model config .json or a saved .rede file
  --input H,W,C           input shape for a zoo model                        [the model's own, e.g. 224,224,3]
  --classes N             classes for a zoo model                            [the model's own, e.g. 1000]

Builds only the graph (shapes and parameter counts), so even VGG-16 needs no memory for its weights.`;

const OPTIONS = { model: { type: 'string' }, input: { type: 'string' }, classes: { type: 'string' } } as const;

export async function summary(argv: string[], io: Io): Promise<void> {
  const { values: v } = parse('summary', argv, OPTIONS);
  if (v.help) { io.stdout.write(`${usage}\n`); return; }
  if (!v.model) throw new RedeError(`summary: --model is required (see 'rede summary --help')`);
  let config: ModelConfig;
  let where = 'summary';
  const zoo = zooModel(v.model);
  if (v.model.endsWith('.rede')) {
    config = (await loadRedeFile(v.model)).header.config as ModelConfig;
    where = v.model;
  } else if (zoo && v.input === undefined && v.classes === undefined) {
    config = zoo(); // the architecture at its own input size and class count
  } else {
    const classes = num('summary', 'classes', v.classes, 10, { int: true, min: 1 });
    const input = (v.input ?? '28,28,1').split(',').map((d) => num('summary', 'input', d, 0, { int: true, min: 1 }));
    config = modelConfig('summary', v.model, input, classes);
  }
  let g;
  try {
    g = buildGraph(config);
  } catch (e) {
    // A config read from a file: its errors name the file.
    throw e instanceof RedeError && where !== 'summary' ? new RedeError(`${where}: ${e.message}`) : e;
  }
  io.stdout.write(`${summaryText({ config, inputShape: g.input, layers: g.nodes.map((n) => n.layer) })}\n`);
}
