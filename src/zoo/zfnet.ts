// ZFNet (Zeiler & Fergus 2013, "Visualizing and understanding convolutional networks", Figure 3 and
// section 5): AlexNet with a 7×7 stride-2 first layer (instead of 11×11/4, whose aliasing the paper's
// visualizations exposed), 5×5 stride-2 second layer, and dense (ungrouped) layers 3–5 on one GPU. Each of
// the first two layers is conv → ReLU → 3×3/2 max pool → contrast normalization across feature maps; the
// paper gives no constants for the latter, so it is LRN with AlexNet's (radius 2, k = 2, α = 1e-4, β = 0.75).
// Dropout 0.5 on fc6 and fc7 (section 3).
//
// The figure's map sizes fix the paddings at 224: conv1 pads 1 (224 → 110), pools 1 and 2 pad 'same'
// (110 → 55, 26 → 13: Caffe-style rounding up), conv2 none (55 → 26), conv3–5 pad 1, pool 5 none (13 → 6).
//
//   input [224, 224, 3]
//   conv1 7×7/2, 96, pad 1, ReLU → maxpool 3×3/2 'same' → LRN    → [110, 110, 96] → [55, 55, 96]     14,208
//   conv2 5×5/2, 256, ReLU → maxpool 3×3/2 'same' → LRN          → [26, 26, 256] → [13, 13, 256]    614,656
//   conv3 3×3, 384, pad 1, ReLU                                  → [13, 13, 384]                    885,120
//   conv4 3×3, 384, pad 1, ReLU                                  → [13, 13, 384]                  1,327,488
//   conv5 3×3, 256, pad 1, ReLU → maxpool 3×3/2                  → [13, 13, 256] → [6, 6, 256]      884,992
//   flatten [9216] → fc6 4096 ReLU → dropout → fc7 4096 ReLU → dropout          37,752,832 + 16,781,312
//   fc8 (logits) [classes]                                                      4,097,000   = 62,357,608
import type { LayerConfig, ModelConfig } from '../model/config';

const norm = (name: string): LayerConfig => ({ type: 'lrn', name, radius: 2, bias: 2, alpha: 1e-4, beta: 0.75 });

export function zfnet(inputShape: readonly number[] = [224, 224, 3], classes = 1000): ModelConfig {
  return {
    name: 'zfnet',
    input: [...inputShape],
    layers: [
      { type: 'conv2d', name: 'conv1', filters: 96, kernel: 7, stride: 2, padding: 1, activation: 'relu' },
      { type: 'maxpool2d', name: 'pool1', pool: 3, stride: 2, padding: 'same' },
      norm('norm1'),
      { type: 'conv2d', name: 'conv2', filters: 256, kernel: 5, stride: 2, activation: 'relu' },
      { type: 'maxpool2d', name: 'pool2', pool: 3, stride: 2, padding: 'same' },
      norm('norm2'),
      { type: 'conv2d', name: 'conv3', filters: 384, kernel: 3, padding: 1, activation: 'relu' },
      { type: 'conv2d', name: 'conv4', filters: 384, kernel: 3, padding: 1, activation: 'relu' },
      { type: 'conv2d', name: 'conv5', filters: 256, kernel: 3, padding: 1, activation: 'relu' },
      { type: 'maxpool2d', name: 'pool5', pool: 3, stride: 2 },
      { type: 'flatten', name: 'flatten' },
      { type: 'dense', name: 'fc6', units: 4096, activation: 'relu' },
      { type: 'dropout', name: 'drop6', rate: 0.5 },
      { type: 'dense', name: 'fc7', units: 4096, activation: 'relu' },
      { type: 'dropout', name: 'drop7', rate: 0.5 },
      { type: 'dense', name: 'fc8', units: classes },
    ],
  };
}
