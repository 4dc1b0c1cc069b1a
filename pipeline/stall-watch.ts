/**
 * Stalls of the main thread: moments its event loop could not run for at least
 * {@link STALL_THRESHOLD_MS}. The main thread merges the shards' reports, writes the
 * interval log and checkpoints; the stand-ins run on threads of their own so that they
 * cannot stall it, and this watch says whether anything did. A ticking timer measures how
 * late each tick ran (the event-loop delay), so a stall is counted once, with its length.
 *
 * @see https://nodejs.org/api/perf_hooks.html#perf_hooksmonitoreventloopdelayoptions (the same measure, as a histogram)
 */
import { performance } from 'node:perf_hooks';

/** A tick this much later than due counts as a stall (ms). */
export const STALL_THRESHOLD_MS = 100;
/** The watch's tick (ms). */
const TICK_MS = 20;

/** What the watch saw. */
export interface StallSummary {
  /** Stalls of at least `thresholdMs`. */
  count: number;
  /** The longest one (ms); 0 without stalls. */
  maxMs: number;
  /** All of them together (ms). */
  totalMs: number;
  thresholdMs: number;
}

/** Counts main-thread stalls between {@link start} and {@link stop}. */
export class StallWatch {
  #timer: NodeJS.Timeout | undefined;
  #lastMs = 0;
  #count = 0;
  #maxMs = 0;
  #totalMs = 0;

  /** Start watching (again). */
  start(): void {
    clearInterval(this.#timer);
    this.#lastMs = performance.now();
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
    this.#timer.unref();
  }

  /** Stop watching; the summary keeps what was seen. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    const nowMs = performance.now();
    const lateMs = nowMs - this.#lastMs - TICK_MS;
    this.#lastMs = nowMs;
    if (lateMs < STALL_THRESHOLD_MS) return;
    this.#count++;
    this.#maxMs = Math.max(this.#maxMs, lateMs);
    this.#totalMs += lateMs;
  }

  /** Stalls so far. */
  summary(): StallSummary {
    return { count: this.#count, maxMs: Math.round(this.#maxMs), totalMs: Math.round(this.#totalMs), thresholdMs: STALL_THRESHOLD_MS };
  }
}
