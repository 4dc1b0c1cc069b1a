/**
 * Trace reconciliation: the span ledger (what was sent and what the first hop
 * acknowledged) × span observations (what a read-back saw) → findings. Pure.
 *
 * Span by span over every sequence of the run. Each sent span that was not seen is
 * attributed to the stage that admits to it: `rejected` (a partial_success batch's
 * rejected count covers it), `failedExport` (a non-retryable answer or retries
 * exhausted), `droppedByQueue` (the exporter's full queue refused it), `unsettled` (the
 * run stopped before its export settled) or `lostAfterAck` (acknowledged, then never
 * visible). A trace is missing when none of its sent spans was seen, incomplete
 * when some were.
 */
import { spanIdHex, traceIdHex, traceSpanCount, traceSpanPrefix } from '../core/trace-model.ts';
import { SAMPLE_LIMIT } from './observations.ts';
import { forEachSpanInRange, SPAN_ACKNOWLEDGED, SPAN_DROPPED, SPAN_FAILED, SPAN_PARTIAL, SPAN_UNSENT, SPAN_UNSETTLED, type SpanLedger } from '../ledger/span-ledger.ts';
import type { MissingByStage } from './points.ts';
import type { SpanField, SpanObservationStore, UnexpectedSpan, UnexpectedSpanReason, WrongSpanContent } from './span-observations.ts';

/** What the ledger says happened to a span on the way out. */
export type SpanLedgerStateName = 'failed' | 'acknowledged' | 'partial' | 'dropped' | 'unsettled';

/** A trace none of whose sent spans was seen. */
export interface MissingTrace {
  seq: number;
  shard: number;
  traceId: string;
  /** Sent spans of the trace. */
  spans: number;
  /** Ledger states of its spans (distinct, sorted). */
  ledgerStates: SpanLedgerStateName[];
}

/** A sent span that was not seen. */
export interface MissingSpan {
  seq: number;
  index: number;
  traceId: string;
  spanId: string;
  ledgerState: SpanLedgerStateName;
}

/** A span that arrived more than once. */
export interface DuplicateSpan {
  seq: number;
  index: number;
  traceId: string;
  spanId: string;
  copies: number;
}

/** The trace reconciliation (JSON-safe). */
export interface TraceReconciliation {
  tracesSent: number;
  /** Every sent span seen. */
  tracesComplete: number;
  /** No sent span seen. */
  tracesMissing: number;
  /** Some sent spans seen, some not. */
  tracesIncomplete: number;
  /** tracesMissing / tracesSent (0 when nothing was sent). */
  traceLossRatio: number;
  spansSent: number;
  /** Every arrival, duplicates and unexpected spans included. */
  spansReceived: number;
  spansMissing: number;
  /** spansMissing / spansSent (0 when nothing was sent). */
  spanLossRatio: number;
  /** The first-hop stages (a view of {@link TraceReconciliation.missingByExportStage}). */
  missingByStage: { rejected: number; failedExport: number; lostAfterAck: number };
  /** Missing spans by the stage they are attributed to; the counts sum to `spansMissing`. */
  missingByExportStage: MissingByStage;
  /** Rejected counts beyond the spans missing from their batches (rejected yet visible). */
  rejectedButVisible: number;
  /** Arrivals beyond the first of a span. */
  duplicateSpans: number;
  /** Arrivals whose content differs from the model, and by first differing field. */
  wrongContentSpans: number;
  wrongContentByField: Partial<Record<SpanField, number>>;
  /** Spans that could not be placed, plus placed spans the ledger never sent. */
  unexpectedSpans: number;
  unexpectedByReason: Partial<Record<UnexpectedSpanReason | 'unsent', number>>;
  foreignRunSpans: number;
  samples: {
    missingTraces: MissingTrace[];
    missingSpans: MissingSpan[];
    wrongContent: WrongSpanContent[];
    duplicates: DuplicateSpan[];
    unexpected: UnexpectedSpan[];
  };
}

const STATE_NAME = {
  [SPAN_FAILED]: 'failed', [SPAN_ACKNOWLEDGED]: 'acknowledged', [SPAN_PARTIAL]: 'partial', [SPAN_DROPPED]: 'dropped', [SPAN_UNSETTLED]: 'unsettled',
} as const;

/**
 * Reconcile a span ledger against observations of the same run.
 * @returns exact counts; each sample list holds at most {@link SAMPLE_LIMIT} entries.
 */
export function reconcileTraces(ledger: SpanLedger, seen: SpanObservationStore): TraceReconciliation {
  const model = ledger.model;
  const r: TraceReconciliation = {
    tracesSent: 0, tracesComplete: 0, tracesMissing: 0, tracesIncomplete: 0, traceLossRatio: 0,
    spansSent: 0, spansReceived: seen.spansReceived, spansMissing: 0, spanLossRatio: 0,
    missingByStage: { rejected: 0, failedExport: 0, lostAfterAck: 0 },
    missingByExportStage: { rejected: 0, failedExport: 0, droppedByQueue: 0, unsettled: 0, lostAfterAck: 0 }, rejectedButVisible: 0,
    duplicateSpans: 0, wrongContentSpans: seen.wrongContentCount, wrongContentByField: { ...seen.wrongContentByField },
    unexpectedSpans: seen.unexpectedCount, unexpectedByReason: { ...seen.unexpectedByReason }, foreignRunSpans: seen.foreignRunSpans,
    samples: { missingTraces: [], missingSpans: [], wrongContent: [...seen.wrongContent], duplicates: [], unexpected: [...seen.unexpected] },
  };
  const s = r.samples;
  const stage = r.missingByExportStage;
  for (let seq = 0; seq < ledger.traceCount; seq++) {
    const shard = seq % model.shardCount;
    const count = traceSpanCount(model, shard, seq);
    let sent = 0;
    let seenSpans = 0;
    let states = 0; // bit per ledger state
    for (let index = 0; index < count; index++) {
      const state = ledger.state(seq, index);
      const n = seen.count(seq, index);
      if (n > 1) {
        r.duplicateSpans += n - 1;
        if (s.duplicates.length < SAMPLE_LIMIT) s.duplicates.push({ ...ids(ledger, seq, index), copies: n });
      }
      if (state === SPAN_UNSENT) {
        if (n > 0) {
          r.unexpectedSpans += n;
          r.unexpectedByReason.unsent = (r.unexpectedByReason.unsent ?? 0) + n;
        }
        continue;
      }
      sent++;
      states |= 1 << state;
      if (n > 0) {
        seenSpans++;
        continue;
      }
      r.spansMissing++;
      if (state === SPAN_FAILED) stage.failedExport++;
      else if (state === SPAN_ACKNOWLEDGED) stage.lostAfterAck++;
      else if (state === SPAN_DROPPED) stage.droppedByQueue++;
      else if (state === SPAN_UNSETTLED) stage.unsettled++;
      // SPAN_PARTIAL: attributed per batch below, where the rejected count is known.
      if (s.missingSpans.length < SAMPLE_LIMIT) s.missingSpans.push({ ...ids(ledger, seq, index), ledgerState: STATE_NAME[state] });
    }
    if (sent === 0) continue;
    r.tracesSent++;
    r.spansSent += sent;
    if (seenSpans === sent) r.tracesComplete++;
    else if (seenSpans > 0) r.tracesIncomplete++;
    else {
      r.tracesMissing++;
      if (s.missingTraces.length < SAMPLE_LIMIT) {
        const ledgerStates = ([SPAN_FAILED, SPAN_ACKNOWLEDGED, SPAN_PARTIAL, SPAN_DROPPED, SPAN_UNSETTLED] as const).filter((st) => (states & (1 << st)) !== 0).map((st) => STATE_NAME[st]).sort();
        s.missingTraces.push({ seq, shard, traceId: traceIdHex({ runIdHex: model.runIdHex, shard, seq }), spans: sent, ledgerStates });
      }
    }
  }
  // Spans missing from partial_success batches are rejections up to each batch's count.
  for (const b of ledger.partialBatches) {
    let missingInBatch = 0;
    forEachSpanInRange(model, b, (seq, index) => {
      if (seen.count(seq, index) === 0) missingInBatch++;
    });
    const attributed = Math.min(missingInBatch, b.rejectedSpans);
    stage.rejected += attributed;
    stage.lostAfterAck += missingInBatch - attributed;
    if (b.rejectedSpans > missingInBatch) r.rejectedButVisible += b.rejectedSpans - missingInBatch;
  }
  r.missingByStage = { rejected: stage.rejected, failedExport: stage.failedExport, lostAfterAck: stage.lostAfterAck };
  r.traceLossRatio = r.tracesSent === 0 ? 0 : r.tracesMissing / r.tracesSent;
  r.spanLossRatio = r.spansSent === 0 ? 0 : r.spansMissing / r.spansSent;
  return r;
}

function ids(ledger: SpanLedger, seq: number, index: number): { seq: number; index: number; traceId: string; spanId: string } {
  const parts = { runIdHex: ledger.model.runIdHex, shard: seq % ledger.model.shardCount, seq };
  return { seq, index, traceId: traceIdHex(parts), spanId: spanIdHex(traceSpanPrefix(parts), index) };
}
