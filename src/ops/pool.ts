// Checked pool kernel calls over tensors.
export {};
