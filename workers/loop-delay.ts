/**
 * A load thread's event-loop delay, as the delay it is. `monitorEventLoopDelay` records
 * the interval between its sampling timer's callbacks, resolution included: an idle thread
 * sampled every 10 ms reads about 10–11 ms "delay" at p99, and a thread that never
 * stalled reads as one stalled for 10 ms. The figure reported here is that interval less
 * the resolution: how late the sampling timer fired.
 *
 * @see https://nodejs.org/api/perf_hooks.html#perf_hooksmonitoreventloopdelayoptions
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

/** The monitor's histogram (ns). */
export type LoopDelayHistogram = ReturnType<typeof monitorEventLoopDelay>;

/** The sampling timer's period (ms). */
export const LOOP_DELAY_RESOLUTION_MS = 10;

/** A started monitor of this thread's event loop. */
export function startLoopDelay(): LoopDelayHistogram {
  const h = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
  h.enable();
  return h;
}

/** The loop delay at a percentile (µs): how late the sampling timer fired, never below 0. */
export function loopDelayUs(h: LoopDelayHistogram, percentile: number): number {
  if (h.count === 0) return 0;
  return Math.max(0, Math.round(h.percentile(percentile) / 1000) - LOOP_DELAY_RESOLUTION_MS * 1000);
}
