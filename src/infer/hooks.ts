// Test-only hooks of the inference path, kept out of the public options type.
export const inferHooks = {
  /** Each helper stalls this long right after it reports ready (the lost wake-up race, test/infer/infer.test.ts). */
  helperStallAfterReadyMs: 0,
};
