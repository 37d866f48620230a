// Checked act kernel calls over tensors.
export {};
