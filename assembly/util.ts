/** First byte above the module's static data: the engine's arena starts here (aligned up). */
export function heap_base(): usize {
  return __heap_base;
}
