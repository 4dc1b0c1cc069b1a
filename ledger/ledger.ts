/**
 * The sent-side ledger: for every (metric, series, tick) what happened to its data point
 * on the way out, in 4 bits per point (never one object per point). Memory is
 * series × ticks / 2 bytes per metric.
 *
 * Each point handed to the exporter ends in exactly one final state:
 * - `acknowledged`: in a 2xx / gRPC OK request with no rejection;
 * - `partial`: in an acknowledged request whose partial_success rejected some of its
 *   points (which ones, OTLP does not say, so the batch's rejected count is kept beside
 *   it and reconciliation attributes the rejections per batch);
 * - `failed`: its request got a non-retryable answer, or retries ran out;
 * - `dropped`: the exporter's full queue refused its batch (never on the wire);
 * - `unsettled`: the run stopped while its batch was queued, backing off or in flight.
 * `unsent` (0) means no outcome was recorded: the point was never handed over.
 *
 * Pure: fed with export outcomes (one per batch, when it settles), no I/O.
 * @see ../core/messages.ts ExportOutcome
 */
import { nibbleArray, readNibble, writeNibble } from '../core/nibbles.ts';
import type { ExportFinalState, ExportOutcome, MetricSlice } from '../core/messages.ts';

export const POINT_UNSENT = 0;
export const POINT_FAILED = 1;
export const POINT_ACKNOWLEDGED = 2;
export const POINT_PARTIAL = 3;
export const POINT_DROPPED = 4;
export const POINT_UNSETTLED = 5;
export type PointState = 0 | 1 | 2 | 3 | 4 | 5;

/** A request answered with partial_success: its points and how many were rejected. */
export interface PartialBatch {
  metricIndex: number;
  seriesStart: number;
  seriesEnd: number;
  tick: number;
  rejectedDataPoints: number;
  message: string;
  /** Every slice of the request when it held several (the fields above name the first). */
  slices?: MetricSlice[];
}

/** The slices of a request or partial batch: `slices`, or the one slice its fields name. */
export function slicesOf(o: { metricIndex: number; seriesStart: number; seriesEnd: number; slices?: MetricSlice[] }): MetricSlice[] {
  return o.slices ?? [o];
}

/** How a ledger's export requests settled: the part the point and span ledgers share. */
export interface RequestTotals {
  requests: number;
  requestsFailed: number;
  requestsPartial: number;
  requestsDropped: number;
  requestsUnsettled: number;
  /** Attempts beyond the first, summed over batches that report `attempts`. */
  retries: number;
  /** Count of outcomes per HTTP status ("0" for no HTTP response). */
  statuses: Record<string, number>;
  /** Count of transport failures (no response) per error code. */
  errorCodes: Record<string, number>;
}

/** Per-ledger totals. Points: acknowledged + rejected + failed + dropped + unsettled = sent (+ resent). */
export interface LedgerTotals extends RequestTotals {
  /** Points handed to the exporter with a recorded outcome (each counted once). */
  pointsSent: number;
  pointsAcknowledged: number;
  pointsRejected: number;
  pointsFailed: number;
  /** Points refused by the exporter's full queue. */
  pointsDropped: number;
  /** Points whose batch had not settled when the run stopped. */
  pointsUnsettled: number;
  /** Points that appeared in more than one outcome (never, when the exporter settles each batch once). */
  pointsResent: number;
  /** Count of outcomes per gRPC status code (OTLP/gRPC only). */
  grpcCodes: Record<string, number>;
}

/**
 * Final state of an outcome. Outcomes without `finalState` (the single-attempt exporter)
 * are acknowledged on a 2xx without error code, failed otherwise.
 */
export function finalStateOf(o: ExportOutcome): ExportFinalState {
  if (o.finalState !== undefined) return o.finalState;
  return o.status >= 200 && o.status < 300 && o.errorCode === undefined ? 'acknowledged' : 'failed';
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
    pointsDropped: 0,
    pointsUnsettled: 0,
    pointsResent: 0,
    requests: 0,
    requestsFailed: 0,
    requestsPartial: 0,
    requestsDropped: 0,
    requestsUnsettled: 0,
    retries: 0,
    statuses: {},
    grpcCodes: {},
    errorCodes: {},
  };

  constructor(seriesCounts: number[], ticks: number) {
    this.seriesCounts = seriesCounts;
    this.ticks = ticks;
    this.#states = seriesCounts.map((n) => nibbleArray(n * ticks));
  }

  /** State of one point. */
  state(metricIndex: number, series: number, tick: number): PointState {
    return readNibble(this.#states[metricIndex], series * this.ticks + (tick - 1)) as PointState;
  }

  #set(metricIndex: number, series: number, tick: number, state: PointState): void {
    writeNibble(this.#states[metricIndex], series * this.ticks + (tick - 1), state);
  }

  /**
   * Record one batch's settled outcome. Each point ends in exactly one state: a point
   * recorded twice (which the exporters never do: they settle each batch once, whatever
   * its retries) keeps its latest state and is counted in `pointsResent`.
   */
  record(o: ExportOutcome): void {
    const t = this.totals;
    const final = finalStateOf(o);
    t.requests++;
    t.statuses[o.status] = (t.statuses[o.status] ?? 0) + 1;
    if (o.grpcCode !== undefined) t.grpcCodes[o.grpcCode] = (t.grpcCodes[o.grpcCode] ?? 0) + 1;
    if (o.errorCode !== undefined && o.status === 0) t.errorCodes[o.errorCode] = (t.errorCodes[o.errorCode] ?? 0) + 1;
    if (o.attempts !== undefined && o.attempts > 1) t.retries += o.attempts - 1;
    const state: PointState =
      final === 'acknowledged'
        ? o.rejectedDataPoints > 0
          ? POINT_PARTIAL
          : POINT_ACKNOWLEDGED
        : final === 'failed'
          ? POINT_FAILED
          : final === 'dropped'
            ? POINT_DROPPED
            : POINT_UNSETTLED;
    for (const slice of slicesOf(o)) {
      for (let s = slice.seriesStart; s < slice.seriesEnd; s++) {
        const before = this.state(slice.metricIndex, s, o.tick);
        if (before === POINT_UNSENT) t.pointsSent++;
        else t.pointsResent++;
        this.#set(slice.metricIndex, s, o.tick, state);
      }
    }
    switch (state) {
      case POINT_FAILED:
        t.requestsFailed++;
        t.pointsFailed += o.dataPoints;
        break;
      case POINT_DROPPED:
        t.requestsDropped++;
        t.pointsDropped += o.dataPoints;
        break;
      case POINT_UNSETTLED:
        t.requestsUnsettled++;
        t.pointsUnsettled += o.dataPoints;
        break;
      case POINT_PARTIAL: {
        t.requestsPartial++;
        const rejected = Math.min(o.rejectedDataPoints, o.dataPoints);
        t.pointsRejected += rejected;
        t.pointsAcknowledged += o.dataPoints - rejected;
        const batch: PartialBatch = {
          metricIndex: o.metricIndex,
          seriesStart: o.seriesStart,
          seriesEnd: o.seriesEnd,
          tick: o.tick,
          rejectedDataPoints: rejected,
          message: o.message ?? '',
        };
        if (o.slices !== undefined) batch.slices = o.slices;
        this.partialBatches.push(batch);
        break;
      }
      default:
        t.pointsAcknowledged += o.dataPoints;
    }
  }

  // ---- Persistence, for ledger/ledger-file.ts (`tally reconcile` re-reads a saved ledger) ----

  /** The packed point states of one metric (4 bits per point, `series · ticks + tick − 1`), live, not a copy. */
  stateBytes(metricIndex: number): Uint8Array {
    return this.#states[metricIndex];
  }
}
