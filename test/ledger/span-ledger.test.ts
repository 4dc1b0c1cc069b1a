import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveTraceModel, traceSpanCount, type TraceExportOutcome } from '../../core/trace-model.ts';
import { forEachSpanInRange, SPAN_ACKNOWLEDGED, SPAN_FAILED, SPAN_PARTIAL, SPAN_UNSENT, SpanLedger } from '../../ledger/span-ledger.ts';

const model = resolveTraceModel(
  { ratePerSecond: 10, spansPerTrace: { min: 1, max: 4 }, shape: 'chain', attributes: {}, kinds: { internal: 1 }, statusErrorRatio: 0, spanDurationMs: 5 },
  { runId: 'ledger', seed: 3, shardCount: 3, startUnixNano: 0n },
);

function outcome(range: Pick<TraceExportOutcome, 'shard' | 'firstSeq' | 'firstIndex' | 'lastSeq' | 'lastIndex'>, extra: Partial<TraceExportOutcome> = {}): TraceExportOutcome {
  let spans = 0;
  forEachSpanInRange(model, range, () => spans++);
  return { ...range, spans, status: 200, rejectedSpans: 0, durationUs: 1, sizeBytes: 1, ...extra };
}

test('a range walks its shard\'s sequences (stride shardCount), from the first span index to the last', () => {
  const visited: [number, number][] = [];
  const lastOf7 = traceSpanCount(model, 1, 7) - 1;
  forEachSpanInRange(model, { shard: 1, firstSeq: 1, firstIndex: traceSpanCount(model, 1, 1) - 1, lastSeq: 7, lastIndex: lastOf7 }, (seq, index) => visited.push([seq, index]));
  const expected: [number, number][] = [[1, traceSpanCount(model, 1, 1) - 1]];
  for (let i = 0; i < traceSpanCount(model, 1, 4); i++) expected.push([4, i]);
  for (let i = 0; i <= lastOf7; i++) expected.push([7, i]);
  assert.deepEqual(visited, expected);
  assert.throws(() => forEachSpanInRange(model, { shard: 0, firstSeq: 1, firstIndex: 0, lastSeq: 1, lastIndex: 0 }, () => {}), { code: 'TALLY_INTERNAL' });
});

test('states: unsent → acknowledged / failed / partial; a resend keeps the latest state and is counted', () => {
  const ledger = new SpanLedger(model, 12);
  const t0 = { shard: 0, firstSeq: 0, firstIndex: 0, lastSeq: 0, lastIndex: traceSpanCount(model, 0, 0) - 1 };
  const t3 = { shard: 0, firstSeq: 3, firstIndex: 0, lastSeq: 3, lastIndex: traceSpanCount(model, 0, 3) - 1 };
  const t1 = { shard: 1, firstSeq: 1, firstIndex: 0, lastSeq: 1, lastIndex: traceSpanCount(model, 1, 1) - 1 };
  ledger.record(outcome(t0, { status: 503 }));
  ledger.record(outcome(t3, { rejectedSpans: 1, message: 'nope' }));
  ledger.record(outcome(t1, { status: 0, errorCode: 'ECONNRESET' }));
  assert.equal(ledger.state(0, 0), SPAN_FAILED);
  assert.equal(ledger.state(3, 0), SPAN_PARTIAL);
  assert.equal(ledger.state(1, 0), SPAN_FAILED);
  assert.equal(ledger.state(2, 0), SPAN_UNSENT);
  ledger.record(outcome(t0)); // the retry succeeds
  assert.equal(ledger.state(0, 0), SPAN_ACKNOWLEDGED);
  const n0 = traceSpanCount(model, 0, 0);
  assert.equal(ledger.totals.spansResent, n0);
  assert.equal(ledger.totals.spansSent, n0 + traceSpanCount(model, 0, 3) + traceSpanCount(model, 1, 1));
  assert.equal(ledger.totals.spansRejected, 1);
  assert.deepEqual(ledger.totals.statuses, { 0: 1, 200: 2, 503: 1 });
  assert.deepEqual(ledger.totals.errorCodes, { ECONNRESET: 1 });
  assert.equal(ledger.partialBatches.length, 1);
  assert.equal(ledger.partialBatches[0].message, 'nope');
  assert.throws(() => ledger.record(outcome({ shard: 0, firstSeq: 12, firstIndex: 0, lastSeq: 12, lastIndex: 0 })), { code: 'TALLY_INTERNAL' });
});

test('2 bits per span slot: neighbouring slots do not disturb each other', () => {
  const ledger = new SpanLedger(model, 9);
  for (let seq = 0; seq < 9; seq++) {
    const shard = seq % 3;
    const last = traceSpanCount(model, shard, seq) - 1;
    ledger.record(outcome({ shard, firstSeq: seq, firstIndex: 0, lastSeq: seq, lastIndex: last }, seq % 2 === 0 ? {} : { status: 500 }));
  }
  for (let seq = 0; seq < 9; seq++) {
    const n = traceSpanCount(model, seq % 3, seq);
    for (let i = 0; i < model.spansMax; i++) assert.equal(ledger.state(seq, i), i >= n ? SPAN_UNSENT : seq % 2 === 0 ? SPAN_ACKNOWLEDGED : SPAN_FAILED);
  }
});
