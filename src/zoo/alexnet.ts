// AlexNet (Krizhevsky, Sutskever & Hinton 2012, "ImageNet classification with deep convolutional neural
// networks", section 3 and Figure 2).
//
// variant 'paper' (default): the paper's network, layer for layer as Caffe's bvlc_alexnet deploys it — the
// two-GPU split kept as groups = 2 in conv2, conv4 and conv5 (each half sees only its own GPU's maps), LRN
// (k = 2, n = 5, α = 1e-4, β = 0.75, the paper's formula without Caffe's α/n) after the ReLUs of conv1 and
// conv2, overlapping 3×3/2 max pools, dropout 0.5 after fc6 and fc7. The paper's 224×224 input only yields
// its 55×55 conv1 maps with 3 more pixels (hence Caffe's 227 crops); like torchvision, conv1 pads 2 per side,
// so 224 in → 55 out and the whole net has Caffe's 60,965,224 parameters.
//
//   input [224, 224, 3]
//   conv1 11×11/4, 96, pad 2, ReLU → LRN → maxpool 3×3/2      → [55, 55, 96] → [27, 27, 96]       34,944
//   conv2 5×5, 256, pad 2, groups 2, ReLU → LRN → maxpool      → [27, 27, 256] → [13, 13, 256]   307,456
//   conv3 3×3, 384, pad 1, ReLU                                → [13, 13, 384]                   885,120
//   conv4 3×3, 384, pad 1, groups 2, ReLU                      → [13, 13, 384]                   663,936
//   conv5 3×3, 256, pad 1, groups 2, ReLU → maxpool            → [13, 13, 256] → [6, 6, 256]     442,624
//   flatten [9216] → fc6 4096 ReLU → dropout → fc7 4096 ReLU → dropout                 37,752,832 + 16,781,312
//   fc8 (logits) [classes]                                                             4,097,000  = 60,965,224
//
// variant 'torchvision': torchvision.models.alexnet (from Krizhevsky 2014, "One weird trick..."): one tower
// (no groups), 64/192/384/256/256 filters, no LRN, dropout before fc6 and fc7: 61,100,840 parameters.
// (Its adaptive 6×6 average pool is the identity at 224 and is left out.)
import { RedeError } from '../engine/errors';
import type { LayerConfig, ModelConfig } from '../model/config';

export interface AlexNetOptions {
  variant?: 'paper' | 'torchvision';
}

const pool = (name: string): LayerConfig => ({ type: 'maxpool2d', name, pool: 3, stride: 2 });

function paperLayers(classes: number): LayerConfig[] {
  return [
    { type: 'conv2d', name: 'conv1', filters: 96, kernel: 11, stride: 4, padding: 2, activation: 'relu' },
    { type: 'lrn', name: 'norm1', radius: 2, bias: 2, alpha: 1e-4, beta: 0.75 },
    pool('pool1'),
    { type: 'conv2d', name: 'conv2', filters: 256, kernel: 5, padding: 2, groups: 2, activation: 'relu' },
    { type: 'lrn', name: 'norm2', radius: 2, bias: 2, alpha: 1e-4, beta: 0.75 },
    pool('pool2'),
    { type: 'conv2d', name: 'conv3', filters: 384, kernel: 3, padding: 1, activation: 'relu' },
    { type: 'conv2d', name: 'conv4', filters: 384, kernel: 3, padding: 1, groups: 2, activation: 'relu' },
    { type: 'conv2d', name: 'conv5', filters: 256, kernel: 3, padding: 1, groups: 2, activation: 'relu' },
    pool('pool5'),
    { type: 'flatten', name: 'flatten' },
    { type: 'dense', name: 'fc6', units: 4096, activation: 'relu' },
    { type: 'dropout', name: 'drop6', rate: 0.5 },
    { type: 'dense', name: 'fc7', units: 4096, activation: 'relu' },
    { type: 'dropout', name: 'drop7', rate: 0.5 },
    { type: 'dense', name: 'fc8', units: classes },
  ];
}

function torchvisionLayers(classes: number): LayerConfig[] {
  return [
    { type: 'conv2d', name: 'conv1', filters: 64, kernel: 11, stride: 4, padding: 2, activation: 'relu' },
    pool('pool1'),
    { type: 'conv2d', name: 'conv2', filters: 192, kernel: 5, padding: 2, activation: 'relu' },
    pool('pool2'),
    { type: 'conv2d', name: 'conv3', filters: 384, kernel: 3, padding: 1, activation: 'relu' },
    { type: 'conv2d', name: 'conv4', filters: 256, kernel: 3, padding: 1, activation: 'relu' },
    { type: 'conv2d', name: 'conv5', filters: 256, kernel: 3, padding: 1, activation: 'relu' },
    pool('pool5'),
    { type: 'flatten', name: 'flatten' },
    { type: 'dropout', name: 'drop6', rate: 0.5 },
    { type: 'dense', name: 'fc6', units: 4096, activation: 'relu' },
    { type: 'dropout', name: 'drop7', rate: 0.5 },
    { type: 'dense', name: 'fc7', units: 4096, activation: 'relu' },
    { type: 'dense', name: 'fc8', units: classes },
  ];
}

export function alexnet(inputShape: readonly number[] = [224, 224, 3], classes = 1000, o: AlexNetOptions = {}): ModelConfig {
  const variant = o.variant ?? 'paper';
  if (variant !== 'paper' && variant !== 'torchvision') throw new RedeError(`alexnet: variant must be 'paper' or 'torchvision', got '${variant}'`);
  return {
    name: variant === 'paper' ? 'alexnet' : 'alexnet_torchvision',
    input: [...inputShape],
    layers: variant === 'paper' ? paperLayers(classes) : torchvisionLayers(classes),
  };
}
