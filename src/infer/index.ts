// Fast inference: a trained Model compiled once (folded, fused, packed, planned) for batch-1 prediction.
export { InferenceModel, type InferenceOptions, type InferenceMemory } from './model';
export { lower, type Lowered, type Op } from './lower';
export { planActivations, type ActivationPlan } from './plan';
