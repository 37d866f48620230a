// Every error rede raises on bad input names where it happened (kernel, layer, file) and what was expected.

export class RedeError extends Error {
  override name = 'RedeError';
}

/** A size must be an integer in [min, 2^31): throws naming the kernel and the argument. */
export function checkInt(where: string, name: string, v: number, min = 1): void {
  if (!Number.isInteger(v) || v < min || v >= 2 ** 31) {
    throw new RedeError(`${where}: ${name} must be an integer >= ${min}, got ${v}`);
  }
}

export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
