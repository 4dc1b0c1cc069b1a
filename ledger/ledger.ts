/**
 * The sent-side ledger: for every (metric, series, tick) what happened to its data point
 * on the way out, in 2 bits per point (never one object per point). Memory is
 * series × ticks / 4 bytes per metric.
 *
 * States: `unsent`; `failed` (sent, no 2xx: HTTP error, transport error, timeout);
 * `acknowledged` (2xx, no rejection); `partial` (in a 2xx request whose partial_success
 * rejected some of its points; which ones, OTLP does not say, so the batch's rejected
 * count is kept beside it).
 *
 * Pure: fed with export outcomes, no I/O.
 */
import type { ExportOutcome } from '../core/messages.ts';

export const POINT_UNSENT = 0;
export const POINT_FAILED = 1;
export const POINT_ACKNOWLEDGED = 2;
export const POINT_PARTIAL = 3;
export type PointState = 0 | 1 | 2 | 3;

/** A request answered with partial_success: its points and how many were rejected. */
export interface PartialBatch {
  metricIndex: number;
  seriesStart: number;
  seriesEnd: number;
  tick: number;
  rejectedDataPoints: number;
  message: string;
}

/** Per-metric totals. */
export interface LedgerTotals {
  pointsSent: number;
  pointsAcknowledged: number;
  pointsRejected: number;
  pointsFailed: number;
  /** Points that appeared in more than one request. */
  pointsResent: number;
  requests: number;
  requestsFailed: number;
  requestsPartial: number;
  /** Count of outcomes per HTTP status ("0" for no response). */
  statuses: Record<string, number>;
  /** Count of transport failures per error code. */
  errorCodes: Record<string, number>;
}

/** Ledger of one run's metric data points. */
export class MetricsLedger {
  /** Series per metric, by metric index. */
  readonly seriesCounts: number[];
  /** Ticks are 1..ticks. */
  readonly ticks: number;
  readonly #states: Uint8Array[];
  readonly partialBatches: PartialBatch[] = [];
  readonly totals: LedgerTotals = {
    pointsSent: 0,
    pointsAcknowledged: 0,
    pointsRejected: 0,
    pointsFailed: 0,
    pointsResent: 0,
    requests: 0,
    requestsFailed: 0,
    requestsPartial: 0,
    statuses: {},
    errorCodes: {},
  };

  constructor(seriesCounts: number[], ticks: number) {
    this.seriesCounts = seriesCounts;
    this.ticks = ticks;
    this.#states = seriesCounts.map((n) => new Uint8Array(Math.ceil((n * ticks) / 4)));
  }

  /** State of one point. */
  state(metricIndex: number, series: number, tick: number): PointState {
    const bit = series * this.ticks + (tick - 1);
    return ((this.#states[metricIndex][bit >>> 2] >>> ((bit & 3) * 2)) & 3) as PointState;
  }

  #set(metricIndex: number, series: number, tick: number, state: PointState): void {
    const bit = series * this.ticks + (tick - 1);
    const bytes = this.#states[metricIndex];
    const shift = (bit & 3) * 2;
    bytes[bit >>> 2] = (bytes[bit >>> 2] & ~(3 << shift)) | (state << shift);
  }

  /**
   * Record one export's outcome. Each point ends in exactly one state: a point recorded
   * twice (which this generator never does, as it does not retry yet) keeps its latest
   * state and is counted in `pointsResent`.
   */
  record(o: ExportOutcome): void {
    const t = this.totals;
    t.requests++;
    t.statuses[o.status] = (t.statuses[o.status] ?? 0) + 1;
    if (o.errorCode !== undefined && o.status === 0) t.errorCodes[o.errorCode] = (t.errorCodes[o.errorCode] ?? 0) + 1;
    const ok = o.status >= 200 && o.status < 300 && o.errorCode === undefined;
    const state: PointState = !ok ? POINT_FAILED : o.rejectedDataPoints > 0 ? POINT_PARTIAL : POINT_ACKNOWLEDGED;
    for (let s = o.seriesStart; s < o.seriesEnd; s++) {
      const before = this.state(o.metricIndex, s, o.tick);
      if (before === POINT_UNSENT) t.pointsSent++;
      else t.pointsResent++;
      this.#set(o.metricIndex, s, o.tick, state);
    }
    if (!ok) {
      t.requestsFailed++;
      t.pointsFailed += o.dataPoints;
    } else if (o.rejectedDataPoints > 0) {
      t.requestsPartial++;
      const rejected = Math.min(o.rejectedDataPoints, o.dataPoints);
      t.pointsRejected += rejected;
      t.pointsAcknowledged += o.dataPoints - rejected;
      this.partialBatches.push({
        metricIndex: o.metricIndex,
        seriesStart: o.seriesStart,
        seriesEnd: o.seriesEnd,
        tick: o.tick,
        rejectedDataPoints: rejected,
        message: o.message ?? '',
      });
    } else {
      t.pointsAcknowledged += o.dataPoints;
    }
  }
}
