// Elementwise closeness with a message that says where and by how much.
import assert from 'node:assert/strict';

export interface Tol { rtol?: number; atol?: number }

/** |a - e| <= atol + rtol·|e| for every element, NaN never equal. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, tol: Tol = {}): void {
  const rtol = tol.rtol ?? 1e-4, atol = tol.atol ?? 1e-5;
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} != ${expected.length}`);
  let worst = -1, worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i], e = expected[i];
    const excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) { worst = i; worstExcess = excess; }
  }
  if (worst >= 0) {
    assert.fail(`${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (rtol ${rtol}, atol ${atol})`);
  }
}
