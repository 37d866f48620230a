// Checked optim kernel calls over tensors.
export {};
