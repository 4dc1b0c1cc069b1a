/**
 * The fast span path decodes to exactly what the official ProtobufTraceSerializer's bytes
 * decode to, over several batches, and its ids are the derived ones of core/trace-ids.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeTraceRequest } from '../../collectors/otlp/codec.ts';
import { parseTraceIdHex, runIdHash, spanIdHex } from '../../core/trace-ids.ts';
import { encodeOfficialSpans, FastSpanBatch, type SpanBatchSpec } from '../../workers/otlp-fast-spans.ts';

const spec: SpanBatchSpec = {
  runId: 'spans-run', shard: 7, startUnixNano: 1_735_689_600_999_999_000n, tracesPerBatch: 25, spansPerTrace: 4,
  traceSpacingNs: 1_000_037, spanStepNs: 250_000, spanDurationNs: 1_500_000, name: 'GET /checkout',
};

test('fast spans ≡ official ProtobufTraceSerializer over batches 0..5 and a far batch', () => {
  const fast = new FastSpanBatch(spec);
  for (const batch of [0, 1, 2, 3, 4, 5, 4_000_000]) {
    const fastDecoded = decodeTraceRequest(fast.encode(batch), 'protobuf');
    const officialDecoded = decodeTraceRequest(encodeOfficialSpans(spec, batch), 'protobuf');
    assert.equal(fastDecoded.resourceSpans[0].scopeSpans[0].spans.length, 100);
    assert.deepStrictEqual(fastDecoded, officialDecoded, `batch ${batch}`);
  }
});

test('span ids and trace ids are the derived ones; each trace is a parent chain', () => {
  const run = runIdHash(spec.runId);
  const spans = decodeTraceRequest(new FastSpanBatch(spec).encode(3), 'protobuf').resourceSpans[0].scopeSpans[0].spans;
  spans.forEach((s, i) => {
    const sequence = 3 * 25 + Math.floor(i / 4);
    assert.deepEqual(parseTraceIdHex(s.traceId), { run, shard: 7, sequence });
    assert.equal(s.spanId, spanIdHex(run, 7, sequence, i % 4));
    assert.equal(s.parentSpanId, i % 4 === 0 ? '' : spans[i - 1].spanId);
  });
  assert.equal(new Set(spans.map((s) => s.spanId)).size, spans.length, 'span ids are distinct');
});
