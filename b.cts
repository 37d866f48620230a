import infer = require('rede/infer');
export const f: typeof infer.load = infer.load;
