// Captioning: the attention LSTM decoder, the CNN + decoder captioner, corpus BLEU and the localization score,
// with the generated data set they are measured on (src/data/shapes-captions.ts). The Figure-3 PNG writer
// (figure.ts) uses Node's zlib and is reached through the experiment, not from here.
export { AttentionDecoder, type DecoderSizes } from './decoder';
export { Captioner, encoderConfig, receptiveField, type CaptionerSizes, type EncoderLayer, type CaptionerSpec, type Decoded } from './captioner';
export { corpusBleu, type Bleu } from './bleu';
export { localization, type Localization } from './localization';
export {
  shapesCaptions, imageFloats, wordsOf, captionWords, sceneObjects, renderScene, isShapeToken, VOCAB, SHAPES, COLOURS, SIZES, SIDES,
  HELD_OUT, MAX_TOKENS, type CaptionSplit, type CaptionSplitName, type SceneObject,
} from '../data/shapes-captions';
