/**
 * Visibility during and after a run: a VisibilityPoller over Prometheus, whose reference
 * time for (metric, tick) is the earliest actual send time the ledger's outcomes report for
 * it (until the first outcome arrives, the tick's intended send time). Lags are taken in
 * the summary, against the final reference: a point seen before its outcome arrived (an
 * outcome comes at settlement, a request may take seconds) still gets its lag from the
 * actual send. During the run it
 * polls every `pollIntervalMs`; after it, until every acknowledged point is visible or the
 * last send plus `maxWaitMs` has passed. Only acknowledged points are expected to become
 * visible: a refused or failed request is the ledger's finding, not a visibility one.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { POINT_ACKNOWLEDGED, type MetricsLedger } from '../ledger/ledger.ts';
import { summariseVisibility, VisibilityPoller, type VisibilitySource, type VisibilitySummary } from '../reconcile/visibility.ts';

/** Deadlines and cadence, in ms. */
export interface VisibilitySettings {
  settleMs: number;
  maxWaitMs: number;
  pollIntervalMs: number;
}

/** The visibility summary as results.json carries it: over the sampled series (`seriesTracked` of `seriesTotal`). */
export type RunVisibility = VisibilitySummary & VisibilitySettings & { pollErrors: number; seriesTracked: number; seriesTotal: number };

/** The series the polls track: per metric, how many, and the run's series index of each (all of them when undefined). */
export interface TrackedSeries {
  trackedCounts: readonly number[];
  totalCounts: readonly number[];
  seriesOf(metricIndex: number, tracked: number): number;
}

/** Most polls after the run, whatever the deadlines say. */
const MAX_POLLS_AFTER = 10_000;

/** Drives a {@link VisibilityPoller} for one run. */
export class RunVisibilityTracker {
  readonly #poller: VisibilityPoller;
  readonly #settings: VisibilitySettings;
  #timer: NodeJS.Timeout | undefined;
  #busy: Promise<void> | undefined;
  #pollErrors = 0;
  #lastError: unknown;

  readonly #marked: Uint8Array[];
  readonly #tracked: TrackedSeries;

  /**
   * @param seriesCounts series per metric the polls track (the sample's; the run's when `tracked` is undefined).
   * @param tickMs intended send time of tick k (epoch ms): the shards send tick k at it.
   * @param tracked how the sampled series map to the run's (readback/prometheus/visibility-sample.ts).
   */
  constructor(seriesCounts: readonly number[], ticks: number, tickMs: (tick: number) => number, source: VisibilitySource, settings: VisibilitySettings, tracked?: TrackedSeries) {
    this.#settings = settings;
    this.#tracked = tracked ?? { trackedCounts: seriesCounts, totalCounts: seriesCounts, seriesOf: (_m, t) => t };
    this.#poller = new VisibilityPoller({ seriesCounts, ticks, referenceMs: (_m, k) => tickMs(k), source });
    this.#marked = seriesCounts.map(() => new Uint8Array(ticks + 1));
  }

  /** Note a settled request: the earliest actual send time of a tick becomes its reference. */
  markSent(metricIndex: number, tick: number, sentAtMs: number): void {
    const refs = this.#poller.state.referenceMs[metricIndex];
    const marked = this.#marked[metricIndex];
    if (refs === undefined || !(tick >= 1 && tick < refs.length)) return;
    if (marked[tick] === 0 || sentAtMs < refs[tick]) this.#poller.markSent(metricIndex, tick, sentAtMs);
    marked[tick] = 1;
  }

  /** Poll every `pollIntervalMs` while the run goes (a poll still running is not overlapped). */
  start(): void {
    this.#timer = setInterval(() => {
      if (this.#busy !== undefined) return;
      this.#busy = this.#poll().finally(() => {
        this.#busy = undefined;
      });
    }, this.#settings.pollIntervalMs);
    this.#timer.unref();
  }

  async #poll(): Promise<void> {
    try {
      await this.#poller.pollOnce(Date.now());
    } catch (error) {
      // A failed poll during the run loses only resolution; the final read-back reports a dead backend.
      this.#pollErrors++;
      this.#lastError = error;
    }
  }

  /**
   * Stop the in-run polling, then poll until every point the ledger says was acknowledged
   * is visible, the hard deadline passes, or the run is stopped (one poll only when it
   * already was).
   * @returns the summary over acknowledged points.
   * @throws the last poll's error when every poll failed (the backend is unreachable).
   */
  async finish(ledger: MetricsLedger, stop: AbortSignal): Promise<RunVisibility> {
    clearInterval(this.#timer);
    await this.#busy;
    const masks = acknowledgedMasks(ledger, this.#tracked);
    const state = this.#poller.state;
    const deadlineMs = this.hardDeadlineMs;
    let succeeded = 0;
    for (let poll = 0; poll < MAX_POLLS_AFTER; poll++) {
      const nowMs = Date.now();
      const errorsBefore = this.#pollErrors;
      await this.#poll();
      if (this.#pollErrors === errorsBefore) succeeded++;
      if (stop.aborted || nowMs >= deadlineMs || pendingPoints(state.seenMs, masks) === 0) break;
      await sleep(Math.max(1, Math.min(this.#settings.pollIntervalMs, deadlineMs - nowMs)), undefined, { signal: stop }).catch(() => {});
    }
    if (succeeded === 0 && this.#lastError !== undefined) throw this.#lastError;
    const summary = summariseVisibility({ ...state, expectedMask: masks }, this.#settings, Date.now());
    const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
    return { ...summary, ...this.#settings, pollErrors: this.#pollErrors, seriesTracked: sum(this.#tracked.trackedCounts), seriesTotal: sum(this.#tracked.totalCounts) };
  }

  /** Whether the polls track a sample of the series (some are left to the final read-back alone). */
  get sampled(): boolean {
    return this.#tracked.trackedCounts.some((n, m) => n < this.#tracked.totalCounts[m]);
  }

  /** The hard deadline of the last point sent: its reference time plus `maxWaitMs` (epoch ms). */
  get hardDeadlineMs(): number {
    let lastSentMs = -Infinity;
    for (const refs of this.#poller.state.referenceMs) for (let k = 1; k < refs.length; k++) lastSentMs = Math.max(lastSentMs, refs[k]);
    return lastSentMs + this.#settings.maxWaitMs;
  }

  /** Stop polling without summarising (the run failed); a poll still running is not waited for. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
  }
}

/**
 * Per metric, per tracked point (`tracked · ticks + tick − 1`): 1 when the ledger says acknowledged.
 * @param tracked the sampled series (every series when undefined).
 */
export function acknowledgedMasks(ledger: MetricsLedger, tracked?: TrackedSeries): Uint8Array[] {
  const T = ledger.ticks;
  return ledger.seriesCounts.map((total, m) => {
    const n = tracked?.trackedCounts[m] ?? total;
    const mask = new Uint8Array(n * T);
    for (let t = 0; t < n; t++) {
      const s = tracked === undefined ? t : tracked.seriesOf(m, t);
      for (let k = 1; k <= T; k++) if (ledger.state(m, s, k) === POINT_ACKNOWLEDGED) mask[t * T + k - 1] = 1;
    }
    return mask;
  });
}

/** Expected points not yet seen. */
function pendingPoints(seenMs: readonly Float32Array[], masks: readonly Uint8Array[]): number {
  let pending = 0;
  for (let m = 0; m < masks.length; m++) {
    const seen = seenMs[m];
    const mask = masks[m];
    for (let i = 0; i < mask.length; i++) if (mask[i] === 1 && Number.isNaN(seen[i])) pending++;
  }
  return pending;
}
