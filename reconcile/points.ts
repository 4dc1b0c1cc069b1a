/**
 * Reconciliation: the ledger (what was sent and what the first hop acknowledged) × the
 * observations (what a read-back saw) → findings. Pure.
 *
 * Every sent point that was not seen is attributed to the stage that admits to it:
 * `rejected` (a partial_success batch's rejected count covers it), `failedExport` (a
 * non-retryable answer or retries exhausted), `droppedByQueue` (the exporter's full
 * queue refused it), `unsettled` (the run stopped before its export settled), or
 * `lostAfterAck` (acknowledged, then never visible: the stage no one admits to).
 */
import { POINT_ACKNOWLEDGED, POINT_DROPPED, POINT_FAILED, POINT_PARTIAL, POINT_UNSENT, POINT_UNSETTLED, slicesOf, type MetricsLedger } from '../ledger/ledger.ts';
import { SAMPLE_LIMIT, type ObservationStore, type UnexpectedPoint, type ValueMismatch } from './observations.ts';

/** A missing point, for the findings sample. */
export interface MissingPoint {
  metricIndex: number;
  series: number;
  tick: number;
  /** What the ledger says happened to it on the way out. */
  ledgerState: 'failed' | 'acknowledged' | 'partial' | 'dropped' | 'unsettled';
}

/** Findings of one metric. */
export interface MetricReconciliation {
  metricIndex: number;
  pointsSent: number;
  pointsReceived: number;
  pointsMissing: number;
  /** Series with points sent and none received. */
  seriesMissing: number;
  /** Arrivals beyond the first of a point. */
  duplicatePoints: number;
  /** Received points that were never sent. */
  unsentReceived: number;
}

/** The whole reconciliation. */
export interface Reconciliation {
  pointsSent: number;
  pointsReceived: number;
  pointsMissing: number;
  lossRatio: number;
  seriesMissing: number;
  duplicatePoints: number;
  valueMismatches: number;
  unexpectedPoints: number;
  foreignRunPoints: number;
  /**
   * Missing points of the first-hop stages (the shape results.json carries today).
   * @deprecated view of {@link Reconciliation.missingByExportStage}, which also counts
   * the exporter's own stages and whose counts sum to `pointsMissing`.
   */
  missingByStage: { rejected: number; failedExport: number; lostAfterAck: number };
  /** Missing points by the stage they are attributed to; the counts sum to `pointsMissing`. */
  missingByExportStage: MissingByStage;
  /** partial_success batches whose rejected count exceeds their missing points (rejected yet visible). */
  rejectedButVisible: number;
  metrics: MetricReconciliation[];
  samples: { missing: MissingPoint[]; valueMismatches: ValueMismatch[]; unexpected: UnexpectedPoint[] };
}

/** Missing points by stage, from the generator outwards. */
export interface MissingByStage {
  /** Rejected through partial_success (up to each batch's rejected count). */
  rejected: number;
  /** In batches that got a non-retryable answer or ran out of retries. */
  failedExport: number;
  /** In batches the exporter's full queue refused. */
  droppedByQueue: number;
  /** In batches not settled when the run stopped. */
  unsettled: number;
  /** Acknowledged, then never visible. */
  lostAfterAck: number;
}

const STATE_NAME = {
  [POINT_FAILED]: 'failed',
  [POINT_ACKNOWLEDGED]: 'acknowledged',
  [POINT_PARTIAL]: 'partial',
  [POINT_DROPPED]: 'dropped',
  [POINT_UNSETTLED]: 'unsettled',
} as const;

/** Compare series [from, to) of metric `m`, adding to `r`, `byStage` and the missing sample. */
function reconcileSeries(ledger: MetricsLedger, seen: ObservationStore, m: number, from: number, to: number, r: MetricReconciliation, byStage: MissingByStage, missing: MissingPoint[]): void {
  const ticks = ledger.ticks;
  for (let s = from; s < to; s++) {
    let sentInSeries = 0;
    let seenInSeries = 0;
    for (let k = 1; k <= ticks; k++) {
      const state = ledger.state(m, s, k);
      const n = seen.count(m, s, k);
      if (n > 0) {
        r.pointsReceived += n;
        seenInSeries++;
        if (n > 1) r.duplicatePoints += n - 1;
      }
      if (state === POINT_UNSENT) {
        if (n > 0) r.unsentReceived += n;
        continue;
      }
      r.pointsSent++;
      sentInSeries++;
      if (n > 0) continue;
      r.pointsMissing++;
      if (state === POINT_FAILED) byStage.failedExport++;
      else if (state === POINT_ACKNOWLEDGED) byStage.lostAfterAck++;
      else if (state === POINT_DROPPED) byStage.droppedByQueue++;
      else if (state === POINT_UNSETTLED) byStage.unsettled++;
      // POINT_PARTIAL: attributed per batch below, where the rejected count is known.
      if (missing.length < SAMPLE_LIMIT) missing.push({ metricIndex: m, series: s, tick: k, ledgerState: STATE_NAME[state] });
    }
    if (sentInSeries > 0 && seenInSeries === 0) r.seriesMissing++;
  }
}

/**
 * Reconcile a ledger against observations of the same series space.
 * @returns exact counts; samples hold at most {@link SAMPLE_LIMIT} entries each.
 */
export function reconcile(ledger: MetricsLedger, seen: ObservationStore): Reconciliation {
  const steps = reconcileSteps(ledger, seen, Number.POSITIVE_INFINITY);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * {@link reconcile}, as steps of about `pointsPerStep` points: a caller that must stay
 * responsive (a run that may be stopped) yields to its event loop between two steps, or
 * gives up. The result is the same.
 * @param pointsPerStep points compared between two yields (a series is never split).
 */
export function* reconcileSteps(ledger: MetricsLedger, seen: ObservationStore, pointsPerStep = 2_000_000): Generator<void, Reconciliation, void> {
  const missing: MissingPoint[] = [];
  const byStage: MissingByStage = { rejected: 0, failedExport: 0, droppedByQueue: 0, unsettled: 0, lostAfterAck: 0 };
  const metrics: MetricReconciliation[] = [];
  // Whole series per step; the hot loop stays in a plain function (V8 optimises generator bodies less).
  const seriesPerStep = Math.max(1, Math.floor(pointsPerStep / Math.max(1, ledger.ticks)));
  for (let m = 0; m < ledger.seriesCounts.length; m++) {
    const r: MetricReconciliation = { metricIndex: m, pointsSent: 0, pointsReceived: 0, pointsMissing: 0, seriesMissing: 0, duplicatePoints: 0, unsentReceived: 0 };
    metrics.push(r);
    for (let from = 0; from < ledger.seriesCounts[m]; from += seriesPerStep) {
      reconcileSeries(ledger, seen, m, from, Math.min(ledger.seriesCounts[m], from + seriesPerStep), r, byStage, missing);
      if (from + seriesPerStep < ledger.seriesCounts[m] || m + 1 < ledger.seriesCounts.length) yield;
    }
  }
  // Points missing from partial_success batches are rejections up to each batch's count.
  let rejectedButVisible = 0;
  for (const b of ledger.partialBatches) {
    let missingInBatch = 0;
    for (const slice of slicesOf(b)) {
      for (let s = slice.seriesStart; s < slice.seriesEnd; s++) if (seen.count(slice.metricIndex, s, b.tick) === 0) missingInBatch++;
    }
    const attributed = Math.min(missingInBatch, b.rejectedDataPoints);
    byStage.rejected += attributed;
    byStage.lostAfterAck += missingInBatch - attributed;
    if (b.rejectedDataPoints > missingInBatch) rejectedButVisible += b.rejectedDataPoints - missingInBatch;
  }
  const sum = (f: (r: MetricReconciliation) => number): number => metrics.reduce((a, r) => a + f(r), 0);
  const pointsSent = sum((r) => r.pointsSent);
  const pointsMissing = sum((r) => r.pointsMissing);
  return {
    pointsSent,
    pointsReceived: seen.pointsReceived,
    pointsMissing,
    lossRatio: pointsSent === 0 ? 0 : pointsMissing / pointsSent,
    seriesMissing: sum((r) => r.seriesMissing),
    duplicatePoints: sum((r) => r.duplicatePoints),
    valueMismatches: seen.valueMismatchCount,
    unexpectedPoints: seen.unexpectedCount + sum((r) => r.unsentReceived),
    foreignRunPoints: seen.foreignRunPoints,
    missingByStage: { rejected: byStage.rejected, failedExport: byStage.failedExport, lostAfterAck: byStage.lostAfterAck },
    missingByExportStage: byStage,
    rejectedButVisible,
    metrics,
    samples: { missing, valueMismatches: [...seen.valueMismatches], unexpected: [...seen.unexpected] },
  };
}
