import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../../core/rng.ts';
import { expectedTrace, resolveTraceModel, traceIdOf, type TraceModel, type TraceSpec } from '../../core/trace-model.ts';
import { SAMPLE_LIMIT } from '../../reconcile/observations.ts';
import { SpanLedger } from '../../ledger/span-ledger.ts';
import { observeTraceRequest, SpanObservationStore, type DecodedSpan } from '../../reconcile/span-observations.ts';
import { reconcileTraces } from '../../reconcile/spans.ts';
import { batches, decodedSpan, faithfulRequests, requestOf } from '../ledger/span-helpers.ts';

const SPEC: TraceSpec = {
  ratePerSecond: 50, spansPerTrace: { min: 1, max: 5 }, shape: 'chain', attributes: { route: 3, pod: 4 },
  kinds: { server: 2, internal: 1, consumer: 1 }, statusErrorRatio: 0.3, spanDurationMs: 10,
};

function setup(traceCount: number, shardCount = 3, spec: Partial<TraceSpec> = {}): { model: TraceModel; ledger: SpanLedger; store: SpanObservationStore } {
  const model = resolveTraceModel({ ...SPEC, ...spec }, { runId: 'recon', seed: 11, shardCount, startUnixNano: 1_700_000_000_000_000_000n });
  return { model, ledger: new SpanLedger(model, traceCount), store: new SpanObservationStore(model, traceCount) };
}

test('property: a run reconciled against a faithful delivery has zero loss, whatever the batching', () => {
  const rng = createRng(5);
  for (let round = 0; round < 20; round++) {
    const traceCount = 1 + rng.int(300);
    const { model, ledger, store } = setup(traceCount, 1 + rng.int(4), { shape: rng.int(2) === 0 ? 'chain' : 'fan-out' });
    for (const o of batches(model, traceCount, 1 + rng.int(20))) ledger.record(o);
    for (const request of faithfulRequests(model, traceCount)) assert.equal(observeTraceRequest(request, { model, traceCount }, store).rejectedSpans, 0);
    const r = reconcileTraces(ledger, store);
    assert.equal(r.tracesSent, traceCount);
    assert.equal(r.tracesComplete, traceCount);
    assert.equal(r.spansSent, ledger.totals.spansSent);
    assert.equal(r.spansReceived, r.spansSent);
    assert.deepEqual([r.spansMissing, r.duplicateSpans, r.wrongContentSpans, r.unexpectedSpans, r.spanLossRatio], [0, 0, 0, 0, 0]);
  }
});

test('a batch that cuts through traces leaves them incomplete, and counts are exact while samples are capped', () => {
  const traceCount = 400;
  const { model, ledger, store } = setup(traceCount, 1, { spansPerTrace: 3 });
  const outcomes = batches(model, traceCount, 2); // [t0s0 t0s1] [t0s2 t1s0] [t1s1 t1s2] …
  outcomes.forEach((o, i) => ledger.record(i % 3 === 1 ? { ...o, status: 503 } : o));
  for (const request of faithfulRequests(model, traceCount)) {
    const spans = request.resourceSpans[0].scopeSpans[0].spans;
    request.resourceSpans[0].scopeSpans[0].spans = spans.filter((_, k) => !failedSlot(model, spans[0], k));
    observeTraceRequest(request, { model, traceCount }, store);
  }
  const r = reconcileTraces(ledger, store);
  // Every failed batch holds the last span of an even trace and the first of the next.
  assert.equal(r.tracesIncomplete, traceCount);
  assert.equal(r.tracesMissing, 0);
  assert.equal(r.spansMissing, traceCount);
  assert.deepEqual(r.missingByStage, { rejected: 0, failedExport: traceCount, lostAfterAck: 0 });
  assert.equal(r.samples.missingSpans.length, SAMPLE_LIMIT);
  assert.deepEqual(r.samples.missingSpans[0], { seq: 0, index: 2, traceId: traceIdOf(model, 0), spanId: expectedTrace(model, 0, 0).spans[2].spanId, ledgerState: 'failed' });
});

/** In a 1-shard, 3-span run batched by 2, the 503 batches (every third) hold spans at global positions 2, 3 (mod 6). */
function failedSlot(model: TraceModel, first: DecodedSpan, k: number): boolean {
  const seq = Number.parseInt(first.traceId.slice(20), 16);
  const position = seq * 3 + k;
  return position % 6 === 2 || position % 6 === 3;
}

test('duplicates, unexpected spans, foreign runs and unsent arrivals are counted by kind', () => {
  const traceCount = 30;
  const { model, ledger, store } = setup(traceCount, 2);
  for (const o of batches(model, traceCount, 7)) if (o.firstSeq < 20) ledger.record(o);
  const requests = faithfulRequests(model, traceCount);
  for (const request of requests) observeTraceRequest(request, { model, traceCount }, store);
  observeTraceRequest(requests[4], { model, traceCount }, store); // a resend
  const t = expectedTrace(model, 1, 5);
  const root = decodedSpan(t.traceId, t.spans[0]);
  const foreign: DecodedSpan[] = [
    { ...root, traceId: '0123456789abcdef' + t.traceId.slice(16) },
    { ...root, traceId: t.traceId.slice(0, 16) + '0000' + t.traceId.slice(20) }, // shard 0 for an odd sequence
    { ...root, traceId: t.traceId.slice(0, 20) + (traceCount + 1).toString(16).padStart(12, '0') },
    { ...root, spanId: 'ffffffff00000001' },
    { ...root, spanId: root.spanId.slice(0, 8) + '000003e8' },
  ];
  observeTraceRequest(requestOf(model, 1, foreign), { model, traceCount }, store);
  observeTraceRequest(requestOf(model, 1, [root, root], 'another-run'), { model, traceCount }, store);
  const r = reconcileTraces(ledger, store);
  const dupes = expectedTrace(model, 0, 4).spans.length;
  assert.equal(r.duplicateSpans, dupes);
  assert.equal(r.samples.duplicates.length, dupes);
  assert.equal(r.foreignRunSpans, 2);
  const unsent = r.unexpectedByReason.unsent ?? 0;
  assert.ok(unsent > 0, 'spans the ledger never sent arrived');
  assert.deepEqual({ ...r.unexpectedByReason, unsent: 0 }, {
    foreign_trace_id: 1, shard_mismatch: 1, seq_out_of_range: 1, foreign_span_id: 1, span_index_out_of_range: 1, unsent: 0,
  });
  assert.equal(r.unexpectedSpans, 5 + unsent);
});

test('wrong content is reported by the first differing field', () => {
  const traceCount = 4;
  const { model, ledger, store } = setup(traceCount, 1, { spansPerTrace: 3 });
  for (const o of batches(model, traceCount, 100)) ledger.record(o);
  const [r0, r1, r2, r3] = faithfulRequests(model, traceCount);
  const spansOf = (r: typeof r0): DecodedSpan[] => r.resourceSpans[0].scopeSpans[0].spans;
  spansOf(r0)[0].name = 'renamed';
  spansOf(r0)[1].kind = 5 - spansOf(r0)[1].kind;
  spansOf(r0)[2].parentSpanId = spansOf(r0)[0].spanId; // chain: should be span 1
  spansOf(r1)[0].status = { code: 1 - Math.min(1, spansOf(r1)[0].status.code), message: '' };
  spansOf(r1)[1].startTimeUnixNano += 1n;
  spansOf(r1)[2].endTimeUnixNano -= 1n;
  spansOf(r2)[0].attributes = { ...spansOf(r2)[0].attributes, extra: 'x' };
  r3.resourceSpans[0].resource.attributes['tally.shard'] = 0; // a double, not the int 0
  for (const r of [r0, r1, r2, r3]) observeTraceRequest(r, { model, traceCount }, store);
  const rec = reconcileTraces(ledger, store);
  assert.deepEqual(rec.wrongContentByField, {
    name: 1, kind: 1, parentSpanId: 1, status: 1, startTimeUnixNano: 1, endTimeUnixNano: 1, attributes: 1, resource: 3,
  });
  assert.equal(rec.wrongContentSpans, 10);
  assert.equal(rec.spansMissing, 0, 'a wrong span still arrived');
});

test('partial_success: missing spans up to the rejected count are rejections; rejected yet visible is counted', () => {
  const traceCount = 10;
  const { model, ledger, store } = setup(traceCount, 1, { spansPerTrace: 2 });
  const [a, b] = batches(model, traceCount, 10);
  ledger.record({ ...a, rejectedSpans: 3 });
  ledger.record({ ...b, rejectedSpans: 2 });
  const requests = faithfulRequests(model, traceCount);
  // Of batch a (traces 0–4) drop 4 spans (traces 0, 1): 3 rejected, 1 lost after ack. Batch b all visible.
  for (const request of requests.slice(2)) observeTraceRequest(request, { model, traceCount }, store);
  const r = reconcileTraces(ledger, store);
  assert.deepEqual(r.missingByStage, { rejected: 3, failedExport: 0, lostAfterAck: 1 });
  assert.equal(r.rejectedButVisible, 2);
  assert.equal(r.tracesMissing, 2);
  assert.deepEqual(r.samples.missingTraces.map((t) => t.ledgerStates), [['partial'], ['partial']]);
  assert.equal(ledger.totals.spansRejected, 5);
});

test('seeded span rejection is reproducible and independent of request order', () => {
  const traceCount = 200;
  const counts = [false, true].map((reverse) => {
    const { model, store } = setup(traceCount, 2);
    const requests = faithfulRequests(model, traceCount);
    if (reverse) requests.reverse();
    return requests.reduce((sum, request) => sum + observeTraceRequest(request, { model, traceCount, faults: { rejectSpanRatio: 0.25 } }, store).rejectedSpans, 0);
  });
  assert.equal(counts[0], counts[1]);
  assert.ok(counts[0] > 0);
});
