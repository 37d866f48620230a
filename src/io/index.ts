// Saving and loading: the .rede file format (docs/file-format.md) and atomic writes.
export * from './file';
export * from './atomic';
