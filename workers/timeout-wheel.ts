/**
 * One coarse timer for many deadlines: a set of armed entries scanned every `tickMs` by a
 * single unref'd interval, instead of a `setTimeout` (or `socket.setTimeout`, re-armed on
 * every read and write) per socket. At thousands of new connections a second per thread
 * the per-socket timer objects show in the profile; a scan of a few hundred entries every
 * 50 ms does not.
 *
 * A deadline fires between 0 and `tickMs` late. The interval runs only while entries are
 * armed.
 */
import { performance } from 'node:perf_hooks';

/** Something with a deadline. */
export interface Deadline {
  /** Monotonic time (performance.now() ms) at which {@link Deadline.onDeadline} is due; the owner may move it while armed. */
  deadlineMs: number;
  /** Called once when the deadline has passed; the entry is disarmed before the call. */
  onDeadline(): void;
}

/** A coarse timeout wheel (one per thread is enough; see {@link sharedWheel}). */
export class TimeoutWheel {
  readonly #tickMs: number;
  readonly #armed = new Set<Deadline>();
  #timer: NodeJS.Timeout | undefined;
  /** When the previous scan ran (or the interval started), performance.now() ms. */
  #lastScanMs = 0;
  #scanGapMs = 0;

  /** @param tickMs scan period (ms): the worst-case lateness of a deadline. */
  constructor(tickMs = 50) {
    this.#tickMs = tickMs;
  }

  /** Arm (or keep armed) `entry`; its `deadlineMs` is read at each scan. */
  arm(entry: Deadline): void {
    this.#armed.add(entry);
    if (this.#timer === undefined) {
      this.#timer = setInterval(this.#scan, this.#tickMs);
      this.#timer.unref();
      this.#lastScanMs = performance.now();
    }
  }

  /** Disarm `entry` (no-op when not armed). */
  disarm(entry: Deadline): void {
    this.#armed.delete(entry);
  }

  /** The scan period (ms): how late a deadline may fire on a responsive event loop. */
  get tickMs(): number {
    return this.#tickMs;
  }

  /**
   * During a scan's {@link Deadline.onDeadline} calls: the time since the previous scan (ms),
   * about `tickMs` on a responsive event loop. Far more means the thread was stalled, however
   * little late the deadline itself was handled (a stall that ended just after it).
   */
  get scanGapMs(): number {
    return this.#scanGapMs;
  }

  /** Entries armed now. */
  get size(): number {
    return this.#armed.size;
  }

  #scan = (): void => {
    if (this.#armed.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    const now = performance.now();
    this.#scanGapMs = now - this.#lastScanMs;
    this.#lastScanMs = now;
    // Deleting the current entry while iterating a Set is safe; entries added by a callback may or may not be visited this scan.
    for (const entry of this.#armed) {
      if (entry.deadlineMs <= now) {
        this.#armed.delete(entry);
        entry.onDeadline();
      }
    }
  };
}

let shared: TimeoutWheel | undefined;
/** The thread's shared wheel (50 ms tick). */
export function sharedWheel(): TimeoutWheel {
  shared ??= new TimeoutWheel(50);
  return shared;
}
