/**
 * The fast trace encoder writes exactly the bytes the official ProtobufTraceSerializer
 * writes for the same spans (built as ReadableSpans from the same trace model), across
 * shapes, kinds (UNSPECIFIED included), status mixes, attribute cardinalities (cached and
 * not), batch boundaries that split traces, and timestamps whose nanoseconds carry into
 * the high word.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { decodeTraceRequest } from '../../wire/otlp/codec.ts';
import { expectedTrace, resolveTraceModel, type TraceSpec } from '../../core/trace-model.ts';
import { FastSpanBatches } from '../../workers/otlp-fast-traces.ts';
import { SpanBatchBuilder } from '../../workers/otlp-trace-spans.ts';

const BASE: TraceSpec = {
  ratePerSecond: 333, spansPerTrace: { min: 1, max: 9 }, shape: 'chain', attributes: { route: 7, peer: 3 },
  kinds: { unspecified: 1, internal: 1, server: 2, client: 2, producer: 1, consumer: 1 }, statusErrorRatio: 0.3, spanDurationMs: 12.345678,
};

/** Encode the shard's traces [0, traces) both ways, batch by batch; return the fast bodies. */
function compare(spec: TraceSpec, shard: number, maxBatchSpans: number, traces: number, startUnixNano = 1_735_689_600_999_999_999n, runId = 'fast-traces'): Buffer[] {
  const model = resolveTraceModel(spec, { runId, seed: 5, shardCount: 4, startUnixNano });
  const official = new SpanBatchBuilder(model, shard, maxBatchSpans);
  const fast = new FastSpanBatches(model, shard, maxBatchSpans);
  const bodies: Buffer[] = [];
  const flush = (): void => {
    const { records, range } = official.take();
    const expected = ProtobufTraceSerializer.serializeRequest(records)!;
    const spans = records.length;
    official.release();
    const got = fast.takeBody();
    assert.deepEqual(got.range, range);
    assert.equal(got.spans, spans);
    assert.ok(Buffer.from(expected).equals(got.body), `batch ${bodies.length}: bytes differ (${expected.length} vs ${got.body.length})`);
    bodies.push(got.body);
  };
  for (let seq = shard; seq < traces; seq += 4) {
    official.beginTrace(seq);
    fast.beginTrace(seq);
    while (!official.traceDone) {
      official.addSpans();
      fast.addSpans();
      assert.equal(fast.size, official.size);
      assert.equal(fast.traceDone, official.traceDone);
      if (official.full) flush();
    }
  }
  if (official.size > 0) flush();
  return bodies;
}

test('fast ≡ official bytes: chain, every kind, 30% errors, batches splitting traces', () => {
  const bodies = compare(BASE, 1, 7, 400);
  assert.ok(bodies.length > 20);
});

test('fast ≡ official bytes: fan-out, no attributes, one kind, no errors, large batches', () => {
  compare({ ...BASE, shape: 'fan-out', attributes: {}, kinds: { client: 1 }, statusErrorRatio: 0 }, 3, 512, 900);
});

test('fast ≡ official bytes: attribute cardinality beyond the cache (encoded per span)', () => {
  compare({ ...BASE, attributes: { a: 300, b: 300 } }, 0, 64, 200);
});

test('fast ≡ official bytes: a start near a 2^32 ns word boundary, a fixed span count', () => {
  compare({ ...BASE, spansPerTrace: 4, spanDurationMs: 5000 }, 2, 16, 120, 0xffff_ff00n + 7n * 0x1_0000_0000n);
});

test('fast ≡ official bytes: a long run id (a resource of several hundred bytes, two-byte length varints)', () => {
  compare(BASE, 1, 200, 300, undefined, `r-${'x'.repeat(3000)}`);
});

test('a fast body decodes to the model: ids, parents, times, kinds, status, attributes', () => {
  const model = resolveTraceModel(BASE, { runId: 'fast-traces', seed: 5, shardCount: 4, startUnixNano: 1_735_689_600_000_000_000n });
  const fast = new FastSpanBatches(model, 2, 1000);
  for (const seq of [2, 6, 10]) {
    fast.beginTrace(seq);
    fast.addSpans();
  }
  const spans = decodeTraceRequest(fast.takeBody().body, 'protobuf').resourceSpans[0].scopeSpans[0].spans;
  const expected = [2, 6, 10].flatMap((seq) => expectedTrace(model, 2, seq).spans.map((s) => ({ traceId: expectedTrace(model, 2, seq).traceId, ...s })));
  assert.equal(spans.length, expected.length);
  spans.forEach((s, i) => {
    const e = expected[i];
    assert.equal(s.traceId, e.traceId);
    assert.equal(s.spanId, e.spanId);
    assert.equal(s.parentSpanId, e.parentSpanId ?? '');
    assert.equal(s.startTimeUnixNano, e.startTimeUnixNano);
    assert.equal(s.endTimeUnixNano, e.endTimeUnixNano);
    assert.equal(s.name, e.name);
    assert.deepEqual(s.attributes, e.attributes);
  });
});
