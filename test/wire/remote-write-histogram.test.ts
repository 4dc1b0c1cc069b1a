import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { encodeWriteRequest, type RemoteWriteSeries } from '../../wire/remote-write.ts';
import { encodeRemoteWriteHistogram, type RemoteWriteHistogram } from '../../wire/remote-write-histogram.ts';
import { TallyError } from '../../core/errors.ts';

const PROTO = fileURLToPath(new URL('../../wire/remote-write.proto', import.meta.url));
const root = protobuf.loadSync(PROTO);
const WriteRequest = root.lookupType('prometheus.WriteRequest');
const HistogramType = root.lookupType('prometheus.Histogram');

const H: RemoteWriteHistogram = {
  count: 1234,
  sum: 56.78,
  schema: 3,
  zeroThreshold: 2 ** -128,
  zeroCount: 0,
  positiveSpans: [{ offset: -40, length: 3 }, { offset: 2, length: 1 }],
  positiveDeltas: [10, 500, -200, 414],
  timestampMs: 1_700_000_000_123,
};

/** The same histogram as protobufjs would take it (oneof members set, zero scalars left out as proto3 does). */
function reference(h: RemoteWriteHistogram): Record<string, unknown> {
  const out: Record<string, unknown> = { countInt: h.count, zeroCountInt: h.zeroCount, positiveSpans: h.positiveSpans.map((s) => ({ ...(s.offset !== 0 ? { offset: s.offset } : {}), ...(s.length !== 0 ? { length: s.length } : {}) })), positiveDeltas: [...h.positiveDeltas] };
  if (h.sum !== 0) out.sum = h.sum;
  if (h.schema !== 0) out.schema = h.schema;
  if (h.zeroThreshold !== 0) out.zeroThreshold = h.zeroThreshold;
  if (h.resetHint) out.resetHint = h.resetHint;
  if (h.timestampMs !== 0) out.timestamp = h.timestampMs;
  return out;
}

test('one histogram is byte-identical to protobufjs encoding the same message from remote-write.proto', () => {
  for (const h of [H, { ...H, schema: -2, sum: 0, zeroCount: 7, resetHint: 2 as const }, { ...H, positiveSpans: [], positiveDeltas: [], count: 0, timestampMs: 0 }]) {
    const theirs = HistogramType.encode(HistogramType.fromObject(reference(h))).finish();
    assert.equal(Buffer.compare(Buffer.from(theirs), Buffer.from(encodeRemoteWriteHistogram(h))), 0, JSON.stringify(h));
  }
});

test('a WriteRequest with float and histogram series decodes back to the same values', () => {
  const series: RemoteWriteSeries[] = [
    { name: 'tally_self_requests_total', labels: { run_id: 'r1' }, samples: [{ value: 5, timestampMs: 1000 }, { value: 9, timestampMs: 2000 }] },
    { name: 'tally_self_request_latency_seconds', labels: { run_id: 'r1' }, samples: [], histograms: [H, { ...H, count: 2000, positiveDeltas: [10, 500, -200, 1180], timestampMs: H.timestampMs + 1000 }] },
  ];
  const decoded = WriteRequest.toObject(WriteRequest.decode(encodeWriteRequest(series)), { longs: Number, arrays: true, oneofs: true }) as { timeseries: { labels: unknown[]; samples: unknown[]; histograms: Record<string, unknown>[] }[] };
  assert.equal(decoded.timeseries.length, 2);
  assert.equal(decoded.timeseries[0].samples.length, 2);
  assert.deepEqual(decoded.timeseries[0].histograms, []);
  const [h1, h2] = decoded.timeseries[1].histograms;
  assert.deepEqual([h1.countInt, h1.sum, h1.schema, h1.zeroCountInt, h1.timestamp], [1234, 56.78, 3, 0, 1_700_000_000_123]);
  assert.deepEqual(h1.positiveSpans, [{ offset: -40, length: 3 }, { offset: 2, length: 1 }]);
  assert.deepEqual(h1.positiveDeltas, [10, 500, -200, 414]);
  assert.deepEqual([h2.countInt, h2.positiveDeltas], [2000, [10, 500, -200, 1180]]);
});

test('malformed histograms are refused with a code, before anything is sent', () => {
  const bad: RemoteWriteHistogram[] = [
    { ...H, count: -1 },
    { ...H, count: 1.5 },
    { ...H, positiveDeltas: [1] },
    { ...H, timestampMs: 1.5 },
  ];
  for (const h of bad) assert.throws(() => encodeRemoteWriteHistogram(h), (e) => e instanceof TallyError && e.code === 'TALLY_INTERNAL', JSON.stringify(h));
});
