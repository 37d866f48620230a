// Checked reduce kernel calls over tensors.
export {};
