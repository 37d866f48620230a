// Keras's files: the Keras 2 HDF5 model (.h5; h5-model.ts) and the Keras 3 zip (.keras; keras3.ts), both through
// h5wasm, loaded by dynamic import only when one is read or written.
export { exportKerasH5, importKerasH5, h5WeightSource, KERAS_VERSION } from './h5-model';
export { importKeras3 } from './keras3';
export { zipEntries, zipRead, zipWrite, type ZipEntry } from './zip';
