// Checked norm kernel calls over tensors.
export {};
