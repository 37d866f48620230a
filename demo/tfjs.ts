// The page's TensorFlow.js for rede's tfjs backend: @tensorflow/tfjs (webgl, cpu) with the wasm backend
// registered, bundled as one module that the page's import map names for both packages, so there is one
// tfjs-core. Fetched only when the backend switch picks tfjs.
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

export * from '@tensorflow/tfjs';
setWasmPaths(new URL('./', import.meta.url).href); // the tfjs-backend-wasm*.wasm files sit beside this bundle
