// The commands' image helpers live in the library (src/data/image.ts: PNG decoding, loadImage); this is where
// the commands import them from.
export { borderMean, decodePng, describeStart, imageToInput, isPng, type PngImage, type ToInputOptions } from '../data/image';
