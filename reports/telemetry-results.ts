/**
 * The telemetry parts of results.json: `summary.metrics`, `summary.traces` and their
 * findings, from the ledgers (what was sent and how each export settled), the
 * reconciliations (what the read-back saw, and the stage each missing item is
 * attributed to), the delta-accumulation check and the exporters' own measurements.
 * Pure.
 */
import type { PercentilesUs } from '../core/histogram.ts';
import type { DeltaOffsets } from '../reconcile/delta-offsets.ts';
import type { ExemplarTraceLinks } from '../reconcile/exemplar-links.ts';
import type { LedgerTotals } from '../ledger/ledger.ts';
import type { MissingByStage, Reconciliation } from '../reconcile/points.ts';
import type { SpanLedgerTotals } from '../ledger/span-ledger.ts';
import { refusalLabel, type RefusalSummary } from '../ledger/refusals.ts';
import type { TraceReconciliation } from '../reconcile/spans.ts';
import type { ExporterTotals } from './exporter-aggregate.ts';
import type { Finding } from './load-results.ts';

/** Everything the telemetry summaries are built from. */
export interface TelemetryResultsInput {
  protocol?: string;
  compression?: string;
  metrics?: {
    pointsPlanned: number;
    ledger: LedgerTotals;
    /** Absent when nothing read back (an external endpoint). */
    reconciliation?: Reconciliation;
    deltaOffsets?: DeltaOffsets;
    /** Exemplars joined with the spans the embedded receiver saw (runs with traces and exemplars). */
    exemplarTraces?: ExemplarTraceLinks;
    exportLatencyUs?: PercentilesUs;
    exporter?: ExporterTotals;
    /** Why requests were refused (status and the receiver's message). */
    refusals?: RefusalSummary;
  };
  traces?: {
    tracesPlanned: number;
    ledger: SpanLedgerTotals;
    reconciliation?: TraceReconciliation;
    exporter?: ExporterTotals;
    refusals?: RefusalSummary;
  };
  /** Requests the embedded receiver refused whole for holding a delta metric. */
  requestsRefusedDelta?: number;
}

/** The summaries and their findings. */
export interface TelemetryResults {
  metrics?: Record<string, unknown>;
  traces?: Record<string, unknown>;
  findings: Finding[];
}

const EMPTY_STAGES: MissingByStage = { rejected: 0, failedExport: 0, droppedByQueue: 0, unsettled: 0, lostAfterAck: 0 };

/** Export-stage findings of a signal (`points` or `spans`), from the reconciliation's attribution or, without one, from the ledger. */
function stageFindings(add: (kind: string, count: number, detail?: string) => void, unit: string, stages: MissingByStage): void {
  add(`rejected_${unit}`, stages.rejected, 'rejected through partial_success');
  add(`failed_export_${unit}`, stages.failedExport, 'in requests answered with a non-retryable status, or that ran out of retries (or time)');
  add(`dropped_by_queue_${unit}`, stages.droppedByQueue, "refused by the exporter's full sending queue (whenFull: drop)");
  add(`unsettled_${unit}`, stages.unsettled, 'still queued, retrying or in flight when the run stopped');
  add(`lost_after_ack_${unit}`, stages.lostAfterAck, 'acknowledged, never visible');
}

/** One `export_refused_<unit>` finding per refusal reason, the receiver's words in its detail. */
function refusalFindings(add: (kind: string, count: number, detail?: string) => void, unit: string, refusals: RefusalSummary | undefined): void {
  if (refusals === undefined) return;
  for (const r of refusals.reasons) add(`export_refused_${unit}`, r.items, `${r.requests} requests refused with ${refusalLabel(r)}`);
  add(`export_refused_${unit}`, refusals.otherItems, `${refusals.otherRequests} requests refused for other reasons (beyond the reasons listed)`);
}

/**
 * Build `summary.metrics`, `summary.traces` and their findings.
 * @returns only the parts whose inputs were given.
 */
export function buildTelemetryResults(input: TelemetryResultsInput): TelemetryResults {
  const findings: Finding[] = [];
  const add = (kind: string, count: number, detail?: string): void => {
    if (count > 0) findings.push(detail === undefined ? { kind, count } : { kind, count, detail });
  };
  const out: TelemetryResults = { findings };
  const m = input.metrics;
  if (m) {
    const t = m.ledger;
    const r = m.reconciliation;
    const stages = r?.missingByExportStage ?? EMPTY_STAGES;
    out.metrics = {
      protocol: input.protocol,
      compression: input.compression,
      pointsPlanned: m.pointsPlanned,
      pointsSent: t.pointsSent,
      pointsAcknowledged: t.pointsAcknowledged,
      pointsRejected: t.pointsRejected,
      pointsFailed: t.pointsFailed,
      pointsDropped: t.pointsDropped,
      pointsUnsettled: t.pointsUnsettled,
      pointsResent: t.pointsResent,
      pointsReceived: r?.pointsReceived ?? 0,
      pointsMissing: r?.pointsMissing ?? 0,
      lossRatio: r?.lossRatio ?? 0,
      reconciled: r !== undefined,
      seriesMissing: r?.seriesMissing ?? 0,
      duplicatePoints: r?.duplicatePoints ?? 0,
      valueMismatches: r?.valueMismatches ?? 0,
      unexpectedPoints: r?.unexpectedPoints ?? 0,
      missingByStage: r?.missingByStage ?? { rejected: 0, failedExport: 0, lostAfterAck: 0 },
      missingByExportStage: { ...stages },
      requests: t.requests,
      requestsFailed: t.requestsFailed,
      requestsPartial: t.requestsPartial,
      requestsDropped: t.requestsDropped,
      requestsUnsettled: t.requestsUnsettled,
      retries: t.retries,
      statuses: { ...t.statuses },
      grpcCodes: { ...t.grpcCodes },
      errorCodes: { ...t.errorCodes },
    };
    if (m.exportLatencyUs) out.metrics.exportLatencyUs = m.exportLatencyUs;
    if (m.refusals) out.metrics.refusals = m.refusals;
    refusalFindings(add, 'points', m.refusals);
    if (m.exporter) out.metrics.exporter = m.exporter;
    if (m.deltaOffsets) {
      const d = m.deltaOffsets;
      out.metrics.deltaAccumulation = { identities: d.identities, identitiesWithOffset: d.identitiesWithOffset, offsetTotal: d.offsetTotal, byMetric: d.byMetric };
    }
    if (m.exemplarTraces) {
      out.metrics.exemplarTraces = { ...m.exemplarTraces };
      add('exemplars_naming_missing_traces', m.exemplarTraces.tracesNamedMissing, 'generated traces named by exemplars whose root span never arrived');
      add('exemplars_naming_other_traces', m.exemplarTraces.exemplarsNamingOtherTraces, "exemplars whose trace id is none of the run's generated traces");
    }
    if (r) {
      add('missing_points', r.pointsMissing);
      add('missing_series', r.seriesMissing);
      stageFindings(add, 'points', stages);
      add('duplicate_points', r.duplicatePoints);
      add('value_mismatches', r.valueMismatches);
      add('unexpected_points', r.unexpectedPoints);
      add('rejected_but_visible_points', r.rejectedButVisible, 'partial_success counted more rejections than points went missing');
    } else {
      stageFindings(add, 'points', { rejected: t.pointsRejected, failedExport: t.pointsFailed, droppedByQueue: t.pointsDropped, unsettled: t.pointsUnsettled, lostAfterAck: 0 });
    }
    if (m.deltaOffsets) {
      add('delta_accumulation_offsets', m.deltaOffsets.identitiesWithOffset, `delta series whose accumulated sum is off by a lost point for good (Σ|offset| ${m.deltaOffsets.offsetTotal})`);
    }
    add('delta_temporality_refused_requests', input.requestsRefusedDelta ?? 0, 'refused whole for holding a delta metric: every series in them, cumulative ones too, is lost');
  }
  const tr = input.traces;
  if (tr) {
    const t = tr.ledger;
    const r = tr.reconciliation;
    const stages = r?.missingByExportStage ?? EMPTY_STAGES;
    out.traces = {
      protocol: input.protocol,
      tracesPlanned: tr.tracesPlanned,
      tracesSent: r?.tracesSent ?? t.tracesSent,
      tracesComplete: r?.tracesComplete ?? 0,
      tracesMissing: r?.tracesMissing ?? 0,
      tracesIncomplete: r?.tracesIncomplete ?? 0,
      traceLossRatio: r?.traceLossRatio ?? 0,
      spansSent: t.spansSent,
      spansAcknowledged: t.spansAcknowledged,
      spansRejected: t.spansRejected,
      spansFailed: t.spansFailed,
      spansDropped: t.spansDropped,
      spansUnsettled: t.spansUnsettled,
      spansResent: t.spansResent,
      spansReceived: r?.spansReceived ?? 0,
      spansMissing: r?.spansMissing ?? 0,
      spanLossRatio: r?.spanLossRatio ?? 0,
      reconciled: r !== undefined,
      missingByStage: { ...stages },
      duplicateSpans: r?.duplicateSpans ?? 0,
      wrongContentSpans: r?.wrongContentSpans ?? 0,
      wrongContentByField: { ...(r?.wrongContentByField ?? {}) },
      unexpectedSpans: r?.unexpectedSpans ?? 0,
      requests: t.requests,
      requestsFailed: t.requestsFailed,
      requestsPartial: t.requestsPartial,
      requestsDropped: t.requestsDropped,
      retries: t.retries,
      statuses: { ...t.statuses },
    };
    if (tr.exporter) out.traces.exporter = tr.exporter;
    if (tr.refusals) out.traces.refusals = tr.refusals;
    refusalFindings(add, 'spans', tr.refusals);
    if (r) {
      add('missing_traces', r.tracesMissing);
      add('incomplete_traces', r.tracesIncomplete);
      add('missing_spans', r.spansMissing);
      stageFindings(add, 'spans', stages);
      add('duplicate_spans', r.duplicateSpans);
      add('wrong_content_spans', r.wrongContentSpans);
      add('unexpected_spans', r.unexpectedSpans);
    } else {
      stageFindings(add, 'spans', { rejected: t.spansRejected, failedExport: t.spansFailed, droppedByQueue: t.spansDropped, unsettled: t.spansUnsettled, lostAfterAck: 0 });
    }
  }
  return out;
}
