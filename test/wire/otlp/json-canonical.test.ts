/**
 * tally's OTLP/JSON bytes follow the proto3 JSON mapping: no default-valued field (the
 * official serializers write `droppedAttributesCount: 0`, `events: []`, `status.code: 0`,
 * span `flags`), 64-bit integers as strings, oneof members and optional scalars kept at their
 * defaults. Tempo 2.0.1 refused every span the official JsonTraceSerializer wrote (recorded:
 * 400 `unknown field "flags" in v1.Span`) and took the same spans without it (recorded: 200).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { metricModel, type InstrumentOptions } from '../../../core/instruments.ts';
import { seriesLayout } from '../../../core/series.ts';
import { resolveTraceModel } from '../../../core/trace-model.ts';
import { decodeMetricsRequest, decodeTraceRequest } from '../../../wire/otlp/codec.ts';
import { canonicalOtlpJson } from '../../../wire/otlp/json-canonical.ts';
import { buildOfficialBatch, encodeOfficial, type BatchIdentity } from '../../../workers/otlp-build.ts';
import { OfficialSpanBatches } from '../../../workers/otlp-trace-spans.ts';
import { fixture } from '../../readback/tempo/replay-server.ts';

const ONEOF_OR_OPTIONAL = new Set(['stringValue', 'boolValue', 'intValue', 'doubleValue', 'bytesValue', 'asDouble', 'asInt', 'sum', 'min', 'max']);
/** The fields of `v1.Span` in the OTLP protos Tempo 2.0.1 decodes with (collector pdata v0.57.2): no `flags`. */
const TEMPO_2_0_1_SPAN_FIELDS = new Set([
  'traceId', 'spanId', 'traceState', 'parentSpanId', 'name', 'kind', 'startTimeUnixNano', 'endTimeUnixNano',
  'attributes', 'droppedAttributesCount', 'events', 'droppedEventsCount', 'links', 'droppedLinksCount', 'status',
]);

/** JSON pointers of fields that hold a proto3 default (other than oneof members and optional scalars). */
function defaultsIn(value: unknown, pointer = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => defaultsIn(v, `${pointer}/${i}`));
  if (typeof value !== 'object' || value === null) return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    const isDefault = v === 0 || v === '' || v === false || v === null || (Array.isArray(v) && v.length === 0) || (v === '0' && k.endsWith('UnixNano'));
    if (isDefault && !ONEOF_OR_OPTIONAL.has(k)) out.push(`${pointer}/${k}`);
    out.push(...defaultsIn(v, `${pointer}/${k}`));
  }
  return out;
}

const TRACE_MODEL = resolveTraceModel(
  { ratePerSecond: 10, spansPerTrace: { min: 1, max: 5 }, shape: 'fan-out', attributes: { route: 3 }, kinds: { server: 1, client: 1, internal: 1 }, statusErrorRatio: 0.5, spanDurationMs: 20 },
  { runId: 'json-canonical', seed: 7, shardCount: 1, startUnixNano: 1_795_280_351_000_000_000n },
);

function traceBodies(): { json: Uint8Array; protobuf: Uint8Array } {
  const bodies = [new OfficialSpanBatches(TRACE_MODEL, 0, 1000, JsonTraceSerializer, true), new OfficialSpanBatches(TRACE_MODEL, 0, 1000, ProtobufTraceSerializer)].map((b) => {
    for (let seq = 0; seq < 12; seq++) {
      b.beginTrace(seq);
      while (!b.traceDone) b.addSpans();
    }
    return b.takeBody().body;
  });
  return { json: bodies[0], protobuf: bodies[1] };
}

test('the recorded Tempo 2.0.1 answers: span flags refused (400, google.rpc.Status code 3), the same spans without them taken (200 {})', () => {
  const refused = JSON.parse(fixture('ingest/export-json-trace11-as-serialized.response.json').toString('utf8')) as { code: number; message: string };
  assert.equal(refused.code, 3);
  assert.match(refused.message, /"flags"/);
  assert.deepEqual(JSON.parse(fixture('ingest/export-json-trace11-flags-removed.response.json').toString('utf8')), {});
  // What the official serializer writes today: the field Tempo 2.0.1 refuses.
  const official = new OfficialSpanBatches(TRACE_MODEL, 0, 10, JsonTraceSerializer);
  official.beginTrace(0);
  official.addSpans();
  const span = (JSON.parse(Buffer.from(official.takeBody().body).toString('utf8')) as { resourceSpans: { scopeSpans: { spans: Record<string, unknown>[] }[] }[] }).resourceSpans[0].scopeSpans[0].spans[0];
  assert.equal(span.flags, 257);
  assert.equal(span.droppedAttributesCount, 0);
});

test('tally\'s OTLP/JSON spans: no default-valued field, no flags, only fields Tempo 2.0.1 knows, and the same spans as the protobuf bytes', () => {
  const { json, protobuf } = traceBodies();
  const parsed = JSON.parse(Buffer.from(json).toString('utf8')) as { resourceSpans: { scopeSpans: { spans: Record<string, unknown>[] }[] }[] };
  assert.deepEqual(defaultsIn(parsed), []);
  const spans = parsed.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
  assert.ok(spans.length >= 12);
  for (const span of spans) for (const key of Object.keys(span)) assert.ok(TEMPO_2_0_1_SPAN_FIELDS.has(key), `span field ${key}`);
  assert.ok(spans.some((s) => (s.status as { code?: number }).code === 2), 'ERROR status (non-default) is written');
  assert.ok(spans.some((s) => s.parentSpanId === undefined), 'a root span writes no parentSpanId');
  assert.ok(!Buffer.from(json).includes('"intValue":0'), 'int64 as a decimal string');
  const fromJson = decodeTraceRequest(json, 'json');
  const fromProtobuf = decodeTraceRequest(protobuf, 'protobuf');
  for (const rs of fromProtobuf.resourceSpans) for (const ss of rs.scopeSpans) for (const s of ss.spans) s.flags = 0;
  assert.deepStrictEqual(fromJson, fromProtobuf);
});

const IDENTITY: BatchIdentity = { runId: 'json-canonical', shard: 0, startUnixNano: 1_795_280_351_000_000_000n, intervalNs: 1_000_000_000n, resource: { 'deployment.environment': 'test' } };
const INSTRUMENTS: InstrumentOptions[] = [
  { instrument: 'counter', temporality: 'cumulative' },
  { instrument: 'up-down-counter', temporality: 'delta' },
  { instrument: 'gauge' },
  { instrument: 'histogram', temporality: 'cumulative', exemplars: { ratio: 1 } },
  { instrument: 'exponential-histogram', temporality: 'delta', scale: 0 },
];

test('tally\'s OTLP/JSON metrics: no default-valued field for any instrument, and the same points as the official protobuf bytes', () => {
  for (const options of INSTRUMENTS) {
    const layout = seriesLayout({ route: 4 });
    const m = { name: `tally.${options.instrument}`, unit: 'ms', layout, model: metricModel(5, 0, layout.seriesCount, options) };
    const batch = buildOfficialBatch(IDENTITY, m, 0, 4, 1);
    const body = encodeOfficial(batch, 'json');
    assert.deepEqual(defaultsIn(JSON.parse(Buffer.from(body).toString('utf8'))), [], options.instrument);
    // The protobuf reference carries no exemplars (workers/otlp-build.ts); everything else must match.
    const fromJson = decodeMetricsRequest(body, 'json');
    for (const p of fromJson.resourceMetrics[0].scopeMetrics[0].metrics[0].dataPoints) if ('exemplars' in p) p.exemplars = [];
    assert.deepStrictEqual(fromJson, decodeMetricsRequest(encodeOfficial(batch, 'protobuf'), 'protobuf'), options.instrument);
  }
});

test('canonical form: defaults left out; oneof members, optional scalars and set messages kept; 64-bit integers as strings', () => {
  const canonical = canonicalOtlpJson({
    name: '0',
    droppedAttributesCount: 0,
    events: [],
    status: { code: 0, message: '' },
    attributes: [
      { key: 'i', value: { intValue: 0 } },
      { key: 's', value: { stringValue: '' } },
      { key: 'b', value: { boolValue: false } },
      { key: 'd', value: { doubleValue: 0 } },
    ],
    dataPoints: [{ asDouble: 0, flags: 0, count: 3, bucketCounts: [0, 2], sum: 0, min: 0, explicitBounds: [0, 1], startTimeUnixNano: '0' }],
  });
  assert.deepEqual(canonical, {
    name: '0',
    status: {},
    attributes: [
      { key: 'i', value: { intValue: '0' } },
      { key: 's', value: { stringValue: '' } },
      { key: 'b', value: { boolValue: false } },
      { key: 'd', value: { doubleValue: 0 } },
    ],
    dataPoints: [{ asDouble: 0, count: '3', bucketCounts: ['0', '2'], sum: 0, min: 0, explicitBounds: [0, 1] }],
  });
});
