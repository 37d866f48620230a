// Checked loss kernel calls over tensors.
export {};
