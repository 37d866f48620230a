// The lecture's experiments (Tinós, "Redes Neurais Artificiais", 2.6 Deep Learning), each a function that
// trains, measures, checks the lecture's claim on its own numbers, and writes a markdown report, SVG plots
// and the raw numbers as JSON. `rede experiment NAME [--quick] [--out dir]` calls runExperiment.
import { RedeError } from '../engine/errors';
import { addingProblem } from './adding-problem';
import { autoencoderVsPca } from './autoencoder';
import { captioning } from './captioning';
import { featureExtraction } from './feature-extraction';
import { gan } from './gan';
import { overfitting } from './overfitting';
import type { ExperimentOptions, ExperimentResult } from './report';
import { vanishingGradient } from './vanishing-gradient';

export type { Check, ExperimentOptions, ExperimentResult } from './report';
export { featureExtraction, handFeatures, standardizeColumns, HAND_FEATURES, HAND_FEATURE_GROUPS } from './feature-extraction';
export { vanishingGradient, deepNet, VARIANTS } from './vanishing-gradient';
export { overfitting, overfitCnn, REGULARIZATIONS } from './overfitting';
export { autoencoderVsPca, encoderConfig, decoderConfig, convEncoderConfig, convDecoderConfig } from './autoencoder';
export { gan, generatorConfig, discriminatorConfig } from './gan';
export { addingProblem, addingData, addingModel, CELLS } from './adding-problem';
export { captioning } from './captioning';
export { classifierScore, frechetDistance, gaussianOf, scoreFactors } from './sample-quality';
export { fitPca, projectPca, covariance, topEigen, jacobiEigen, type Pca } from './pca';

export const EXPERIMENTS: Record<string, { run: (o: ExperimentOptions) => Promise<ExperimentResult>; what: string }> = {
  'feature-extraction': { run: featureExtraction, what: 'raw pixels vs PCA vs hand-made features vs a CNN learning its own (2.6.1)' },
  'vanishing-gradient': { run: vanishingGradient, what: 'gradient norm per layer in deep sigmoid/tanh/ReLU nets, with BN and residuals (2.6.2)' },
  overfitting: { run: overfitting, what: 'none vs L2 vs dropout vs augmentation vs all, on 1,000 images (2.6.3)' },
  gan: { run: gan, what: 'a DCGAN and a class-conditional GAN, scored by a classifier (score, Fréchet distance)' },
  'autoencoder-vs-pca': { run: autoencoderVsPca, what: 'reconstruction error of a deep autoencoder vs PCA at code sizes 2, 10, 30 (2.6.3)' },
  'adding-problem': { run: addingProblem, what: 'the adding problem at T = 50, 100, 200: simple RNN vs LSTM vs GRU, and ‖∂L/∂h_t‖ over t (2.6.2)' },
  captioning: { run: captioning, what: 'a CNN + attention LSTM captioner on generated scenes: BLEU-1..4 and where its attention looks (Figure 3)' },
};

/** Runs experiment `name`: returns its main table (markdown), the files written and the claim checks. */
export async function runExperiment(name: string, o: ExperimentOptions = {}): Promise<ExperimentResult> {
  const ex = EXPERIMENTS[name];
  if (!ex) throw new RedeError(`experiment: unknown experiment '${name}' (expected ${Object.keys(EXPERIMENTS).join(', ')})`);
  if (o.seed !== undefined && !Number.isInteger(o.seed)) throw new RedeError(`experiment ${name}: seed must be an integer, got ${o.seed}`);
  return ex.run(o);
}
