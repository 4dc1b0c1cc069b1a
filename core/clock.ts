/**
 * Time sources, injected into pure cores so they never call `Date.now()` themselves.
 */
import { performance } from 'node:perf_hooks';

/** A clock: wall time for timestamps, monotonic time for durations. */
export interface Clock {
  /** Wall-clock milliseconds since the Unix epoch. */
  nowMs(): number;
  /** Monotonic milliseconds (fractional), only meaningful as differences. */
  monotonicMs(): number;
}

/** The process clock. */
export const systemClock: Clock = {
  nowMs: () => Date.now(),
  monotonicMs: () => performance.now(),
};

/** A clock that moves only when told to; for tests. */
export function manualClock(startMs = 0): Clock & { advance(ms: number): void } {
  let t = startMs;
  return { nowMs: () => t, monotonicMs: () => t, advance: (ms: number) => { t += ms; } };
}
