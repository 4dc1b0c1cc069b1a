/**
 * What a Node timer can hold. A delay above 2^31 − 1 ms (about 24.8 days) does not wait:
 * Node warns (TimeoutOverflowWarning) and fires it after 1 ms, so `1000h` would become
 * 1 ms. The scenario schema bounds every duration below this; {@link timerMs} is the last
 * guard before a computed delay reaches `setTimeout`.
 *
 * @see https://nodejs.org/api/timers.html#settimeoutcallback-delay-args
 */

/** Largest delay a Node timer honours (ms). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A delay a timer can hold: `ms` clamped to [0, {@link MAX_TIMER_MS}] (NaN is 0).
 * @param ms a delay in milliseconds.
 */
export function timerMs(ms: number): number {
  if (!(ms > 0)) return 0;
  return ms > MAX_TIMER_MS ? MAX_TIMER_MS : ms;
}
