// Checked conv kernel calls over tensors.
export {};
