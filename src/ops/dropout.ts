// Checked dropout kernel calls over tensors.
export {};
