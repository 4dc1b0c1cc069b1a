/**
 * The span ledger's final states (4 bits a span): the exporter's verdict wins; without
 * one, TALLY_QUEUE_FULL is dropped, a 2xx acknowledged, anything else failed; the
 * reconciliation attributes missing spans to the stage of their state, and the stages sum
 * to the missing count.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveTraceModel } from '../../core/trace-model.ts';
import type { TraceExportSettlement } from '../../core/messages.ts';
import { SPAN_DROPPED, SPAN_UNSETTLED, SpanLedger } from '../../ledger/span-ledger.ts';
import { SpanObservationStore } from '../../reconcile/span-observations.ts';
import { reconcileTraces } from '../../reconcile/spans.ts';

const model = resolveTraceModel(
  { ratePerSecond: 10, spansPerTrace: 2, shape: 'chain', attributes: {}, kinds: { internal: 1 }, statusErrorRatio: 0, spanDurationMs: 10 },
  { runId: 'states', seed: 3, shardCount: 1, startUnixNano: 0n },
);
const batch = (seq: number, extra: Partial<TraceExportSettlement>): TraceExportSettlement => ({
  shard: 0, firstSeq: seq, firstIndex: 0, lastSeq: seq, lastIndex: 1, spans: 2, status: 0, rejectedSpans: 0, durationUs: 1, sizeBytes: 1, ...extra,
});

test('dropped and unsettled spans are their own states and stages', () => {
  const ledger = new SpanLedger(model, 5);
  ledger.record(batch(0, { status: 200 }));
  ledger.record(batch(1, { errorCode: 'TALLY_QUEUE_FULL' }));
  ledger.record(batch(2, { finalState: 'unsettled', errorCode: 'TALLY_UNSETTLED' }));
  ledger.record(batch(3, { status: 503, finalState: 'failed', attempts: 3 }));
  ledger.record(batch(4, { status: 200, finalState: 'acknowledged', attempts: 2 }));
  assert.equal(ledger.state(1, 0), SPAN_DROPPED);
  assert.equal(ledger.state(2, 1), SPAN_UNSETTLED);
  const t = ledger.totals;
  assert.deepEqual([t.spansAcknowledged, t.spansDropped, t.spansUnsettled, t.spansFailed, t.retries], [4, 2, 2, 2, 3]);
  const seen = new SpanObservationStore(model, 5);
  seen.add(0, 0);
  seen.add(0, 1);
  const r = reconcileTraces(ledger, seen);
  assert.deepEqual(r.missingByExportStage, { rejected: 0, failedExport: 2, droppedByQueue: 2, unsettled: 2, lostAfterAck: 2 });
  assert.equal(Object.values(r.missingByExportStage).reduce((a, n) => a + n, 0), r.spansMissing);
  assert.deepEqual(r.missingByStage, { rejected: 0, failedExport: 2, lostAfterAck: 2 });
});
