// LeNet-5 (LeCun, Bottou, Bengio & Haffner 1998, "Gradient-based learning applied to document recognition"),
// in its common modern form: ReLU instead of scaled tanh, max pooling instead of trainable subsampling, a full
// C3 instead of the paper's partial connection table, and a plain dense output instead of RBF units.
//
//   input [28, 28, 1]
//   conv 5×5×6 'same' ReLU   → [28, 28, 6]     156 params
//   maxpool 2                → [14, 14, 6]
//   conv 5×5×16 'valid' ReLU → [10, 10, 16]  2,416
//   maxpool 2                → [5, 5, 16]
//   flatten                  → [400]
//   dense 120 ReLU           → [120]        48,120
//   dense 84 ReLU            → [84]         10,164
//   dense 10 (logits)        → [10]            850     total 61,706 for 28×28×1 → 10
import type { ModelConfig } from '../model/config';

export function lenet5(inputShape: readonly number[] = [28, 28, 1], classes = 10): ModelConfig {
  return {
    name: 'lenet5',
    input: [...inputShape],
    layers: [
      { type: 'conv2d', name: 'c1', filters: 6, kernel: 5, padding: 'same', activation: 'relu' },
      { type: 'maxpool2d', name: 's2', pool: 2 },
      { type: 'conv2d', name: 'c3', filters: 16, kernel: 5, padding: 'valid', activation: 'relu' },
      { type: 'maxpool2d', name: 's4', pool: 2 },
      { type: 'flatten', name: 'flatten' },
      { type: 'dense', name: 'f5', units: 120, activation: 'relu' },
      { type: 'dense', name: 'f6', units: 84, activation: 'relu' },
      { type: 'dense', name: 'logits', units: classes },
    ],
  };
}
