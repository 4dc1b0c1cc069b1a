/**
 * Visibility deadlines: when each data point first became visible in a backend, against
 * two deadlines. A point first seen more than `settleMs` after its reference time is
 * *late*; one not seen within `maxWaitMs` of it is *lost*. The reference time is the
 * point's send time from the ledger when the caller knows it, else its timestamp.
 *
 * The poller is driven by its caller: `pollOnce(nowMs)` during the run (e.g. after each
 * export), then `run(...)` after it until every point is visible or past its hard
 * deadline. Each poll asks the source only for ticks that are due and not yet fully
 * visible. Lag resolution is the poll interval: a point is stamped with the start time
 * of the first poll that saw it.
 *
 * A point's lag is computed when the summary is taken, from the time it was first seen and
 * its reference then: a send time that reaches the poller after the point was seen (a tick
 * sent late, its outcome reported at settlement) still counts, so the lag is always from
 * the actual send.
 *
 * Memory: one float32 (first-seen time in ms after the earliest planned reference, NaN =
 * not seen) per point, exact to the ms for 4.6 h. The backend read is injected ({@link VisibilitySource}), and so
 * are the clock and the sleep; {@link summariseVisibility} is pure.
 *
 * @see README.md "How it measures" (Reconciliation: classes and stages)
 */
import { setTimeout as sleepFor } from 'node:timers/promises';
import { systemClock, type Clock } from '../core/clock.ts';
import { InternalError } from '../core/errors.ts';
import { createHistogramUs, encodeHistogram, percentilesUs, recordUs, type PercentilesUs } from '../core/histogram.ts';

/** Reads what a backend shows now for ticks [fromTick, toTick] and reports each visible point (repeats are fine). */
export interface VisibilitySource {
  read(window: { fromTick: number; toTick: number }, visible: (metricIndex: number, series: number, tick: number) => void, signal?: AbortSignal): Promise<void>;
}

/** Options for {@link VisibilityPoller}. */
export interface VisibilityPollerOptions {
  /** Series per metric. */
  seriesCounts: readonly number[];
  /** Ticks per series, numbered 1..ticks. */
  ticks: number;
  /** Reference time of (metric, tick) in ms since the epoch: its send time when known, else its timestamp. */
  referenceMs(metricIndex: number, tick: number): number;
  /** Whether the point was sent and so must become visible (default: all). */
  expected?(metricIndex: number, series: number, tick: number): boolean;
  source: VisibilitySource;
  /** Wall clock for `run` (default the process clock). */
  clock?: Clock;
  /** Sleep for `run` (default `timers/promises` setTimeout); must reject or resolve early on abort. */
  sleep?(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Deadlines, in ms after each point's reference time. */
export interface VisibilityDeadlines {
  /** Soft deadline: seen later than this is late. */
  settleMs: number;
  /** Hard deadline: not seen by this is lost. */
  maxWaitMs: number;
}

/** The poller's state, as the summariser reads it. */
export interface VisibilityState {
  ticks: number;
  /** Epoch ms that `seenMs` counts from. */
  baseMs: number;
  /** Per metric, per point `series · ticks + tick − 1`: when first seen, ms after `baseMs`; NaN when not seen. */
  seenMs: readonly Float32Array[];
  /** Per metric, per point: 1 when expected. */
  expectedMask: readonly Uint8Array[];
  /** Per metric, per tick (index tick): reference time in ms. */
  referenceMs: readonly Float64Array[];
  polls: number;
  /** Visible points that were not expected (not sent). */
  unexpectedVisible: number;
}

/** The outcome: counts, and the lag histogram in µs. */
export interface VisibilitySummary {
  pointsExpected: number;
  /** Expected points seen at all. */
  pointsVisible: number;
  /** Seen within `settleMs`. */
  onTime: number;
  /** Seen after `settleMs`, within `maxWaitMs`. */
  late: number;
  /** Not seen within `maxWaitMs` (never, or only after it). */
  lost: number;
  /** Of `lost`, seen after the hard deadline. */
  visibleAfterMaxWait: number;
  /** Not seen, hard deadline not yet passed at `nowMs`: neither visible nor lost. */
  pending: number;
  /** Seen with the poll earlier than the reference time (clock skew, or a send time after the timestamp); recorded as 0. */
  negativeLag: number;
  unexpectedVisible: number;
  polls: number;
  /** First-visible lag of every seen expected point, in µs (HDR, 1 µs–1 h, 3 digits): count = pointsVisible. */
  lagUs: PercentilesUs;
  /** The same histogram, encoded (core/histogram.ts `encodeHistogram`), for merging. */
  lagHistogramUs: string;
}

/**
 * Classify every expected point against the deadlines and build the lag histogram. Pure.
 * @param nowMs when the summary is taken: unseen points whose hard deadline is after it are `pending`.
 */
export function summariseVisibility(state: VisibilityState, deadlines: VisibilityDeadlines, nowMs: number): VisibilitySummary {
  const h = createHistogramUs();
  const s = { pointsExpected: 0, pointsVisible: 0, onTime: 0, late: 0, lost: 0, visibleAfterMaxWait: 0, pending: 0, negativeLag: 0 };
  try {
    for (let m = 0; m < state.seenMs.length; m++) {
      const seen = state.seenMs[m];
      const mask = state.expectedMask[m];
      const refs = state.referenceMs[m];
      for (let i = 0; i < seen.length; i++) {
        if (mask[i] === 0) continue;
        s.pointsExpected++;
        const tick = (i % state.ticks) + 1;
        if (Number.isNaN(seen[i])) {
          if (refs[tick] + deadlines.maxWaitMs > nowMs) s.pending++;
          else s.lost++;
          continue;
        }
        const lag = state.baseMs + seen[i] - refs[tick];
        s.pointsVisible++;
        if (lag < 0) s.negativeLag++;
        recordUs(h, lag * 1000);
        if (lag <= deadlines.settleMs) s.onTime++;
        else if (lag <= deadlines.maxWaitMs) s.late++;
        else {
          s.lost++;
          s.visibleAfterMaxWait++;
        }
      }
    }
    return { ...s, unexpectedVisible: state.unexpectedVisible, polls: state.polls, lagUs: percentilesUs(h), lagHistogramUs: encodeHistogram(h) };
  } finally {
    h.destroy();
  }
}

/** Polls a {@link VisibilitySource} and stamps each point's first-visible lag. */
export class VisibilityPoller {
  readonly #o: VisibilityPollerOptions;
  readonly #baseMs: number;
  readonly #seenMs: Float32Array[];
  readonly #mask: Uint8Array[];
  readonly #refs: Float64Array[];
  // Per metric, per tick: expected points, and expected points seen so far.
  readonly #expectedPerTick: Uint32Array[];
  readonly #visiblePerTick: Uint32Array[];
  #polls = 0;
  #unexpectedVisible = 0;
  #pointsExpected = 0;
  #pointsVisible = 0;

  constructor(options: VisibilityPollerOptions) {
    if (!(options.ticks >= 1)) throw new InternalError('visibility poller needs at least one tick');
    this.#o = options;
    const T = options.ticks;
    this.#seenMs = options.seriesCounts.map((n) => new Float32Array(n * T).fill(NaN));
    this.#refs = options.seriesCounts.map((_, m) => {
      const refs = new Float64Array(T + 1);
      for (let k = 1; k <= T; k++) refs[k] = options.referenceMs(m, k);
      return refs;
    });
    let baseMs = Number.POSITIVE_INFINITY;
    for (const refs of this.#refs) for (let k = 1; k <= T; k++) baseMs = Math.min(baseMs, refs[k]);
    this.#baseMs = Number.isFinite(baseMs) ? Math.floor(baseMs) : 0;
    this.#expectedPerTick = options.seriesCounts.map(() => new Uint32Array(T + 1));
    this.#visiblePerTick = options.seriesCounts.map(() => new Uint32Array(T + 1));
    this.#mask = options.seriesCounts.map((n, m) => {
      const mask = new Uint8Array(n * T);
      for (let s = 0; s < n; s++) {
        for (let k = 1; k <= T; k++) {
          if (options.expected !== undefined && !options.expected(m, s, k)) continue;
          mask[s * T + k - 1] = 1;
          this.#expectedPerTick[m][k]++;
          this.#pointsExpected++;
        }
      }
      return mask;
    });
  }

  /** Expected points seen so far. */
  get pointsVisible(): number {
    return this.#pointsVisible;
  }

  /** Whether every expected point has been seen. */
  get complete(): boolean {
    return this.#pointsVisible === this.#pointsExpected;
  }

  /**
   * Set the reference time of (metric, tick) to its send time, from the ledger, once known:
   * before or after its points were seen (lags are taken against it in the summary).
   */
  markSent(metricIndex: number, tick: number, sentMs: number): void {
    this.#refs[metricIndex][tick] = sentMs;
  }

  /** The state, for {@link summariseVisibility}. Arrays are live, not copies. */
  get state(): VisibilityState {
    return { ticks: this.#o.ticks, baseMs: this.#baseMs, seenMs: this.#seenMs, expectedMask: this.#mask, referenceMs: this.#refs, polls: this.#polls, unexpectedVisible: this.#unexpectedVisible };
  }

  /** The window of ticks due at `nowMs` that still miss points, or null. */
  #window(nowMs: number): { fromTick: number; toTick: number } | null {
    let fromTick = Infinity;
    let toTick = 0;
    for (let m = 0; m < this.#refs.length; m++) {
      for (let k = 1; k <= this.#o.ticks; k++) {
        if (this.#refs[m][k] > nowMs) continue;
        if (this.#visiblePerTick[m][k] < this.#expectedPerTick[m][k]) {
          if (k < fromTick) fromTick = k;
          if (k > toTick) toTick = k;
        }
      }
    }
    return toTick === 0 ? null : { fromTick, toTick };
  }

  /**
   * One poll at `nowMs` (ms since the epoch, the poll's start): read the due ticks that
   * miss points and stamp newly seen points with `nowMs` (their lag is `nowMs − reference`).
   * @returns points newly seen in this poll; 0 without reading when nothing is pending.
   * @throws whatever the source throws (e.g. CollectorError), with no state changed for unread points.
   */
  async pollOnce(nowMs: number, signal?: AbortSignal): Promise<number> {
    const window = this.#window(nowMs);
    if (window === null) return 0;
    this.#polls++;
    const T = this.#o.ticks;
    let fresh = 0;
    const seenMs = nowMs - this.#baseMs;
    await this.#o.source.read(window, (m, s, k) => {
      const seen = this.#seenMs[m];
      if (seen === undefined || !(k >= 1 && k <= T) || !(s >= 0 && s * T < seen.length)) return;
      const i = s * T + k - 1;
      if (!Number.isNaN(seen[i])) return;
      seen[i] = seenMs;
      if (this.#mask[m][i] === 0) {
        this.#unexpectedVisible++;
        return;
      }
      this.#visiblePerTick[m][k]++;
      this.#pointsVisible++;
      fresh++;
    }, signal);
    return fresh;
  }

  /**
   * Poll every `pollIntervalMs` until every expected point is visible, the last point's
   * hard deadline (`reference + maxWaitMs`) has passed, or `signal` aborts; then summarise.
   * @returns the summary, with `pending` > 0 only when aborted early.
   * @throws whatever the source throws.
   */
  async run(options: VisibilityDeadlines & { pollIntervalMs: number; signal?: AbortSignal; maxPolls?: number }): Promise<VisibilitySummary & { aborted: boolean }> {
    const clock = this.#o.clock ?? systemClock;
    const sleep = this.#o.sleep ?? ((ms: number, signal?: AbortSignal) => sleepFor(ms, undefined, { signal }));
    let lastRefMs = -Infinity;
    for (const refs of this.#refs) for (let k = 1; k <= this.#o.ticks; k++) lastRefMs = Math.max(lastRefMs, refs[k]);
    const deadlineMs = lastRefMs + options.maxWaitMs;
    const maxPolls = options.maxPolls ?? 100_000;
    let aborted = false;
    for (let poll = 0; poll < maxPolls; poll++) {
      if (options.signal?.aborted) {
        aborted = true;
        break;
      }
      const nowMs = clock.nowMs();
      await this.pollOnce(nowMs, options.signal);
      if (this.complete || nowMs >= deadlineMs) break;
      try {
        await sleep(Math.max(1, Math.min(options.pollIntervalMs, deadlineMs - nowMs)), options.signal);
      } catch (error) {
        if (options.signal?.aborted) {
          aborted = true;
          break;
        }
        throw error;
      }
    }
    return { ...summariseVisibility(this.state, options, clock.nowMs()), aborted };
  }
}
