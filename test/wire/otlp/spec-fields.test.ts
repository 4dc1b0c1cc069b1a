/**
 * Fields the official serializers never write (exemplars, summaries, flags, metadata,
 * zero_threshold, profiling-only strindex fields, unknown fields): protobuf built by hand
 * with field numbers spelled out from the opentelemetry-proto spec, and the equivalent
 * OTLP/JSON written by hand, must decode to the same, fully spelled-out model.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeMetricsRequest, decodeTraceRequest, type MetricsRequest } from '../../../wire/otlp/codec.ts';
import { double, fixed32, fixed64, hexBytes, len, sint, str, stringAttribute, varint } from './proto-bytes.ts';

const START = 1_700_000_000_000_000_001n;
const TIME = 1_700_000_010_000_000_002n;
const TRACE_ID = '5b8efff798038103d269b633813fc60c';
const SPAN_ID = 'eee19b7ec3c1b174';

const times = [fixed64(2, START), fixed64(3, TIME)];

// Metric 0: Summary (Metric.summary = 11) with Metric.metadata = 12.
const summaryMetric = len(2,
  str(1, 'rpc.latency'), str(2, 'server latency'), str(3, 'ms'),
  len(11, len(1,
    stringAttribute(7, 'method', 'Get'), ...times, fixed64(4, 1000n), double(5, 12.5),
    len(6, double(1, 0.5), double(2, 1.5)), len(6, double(1, 0.99), double(2, 9.75)),
    varint(8, 1),
  )),
  stringAttribute(12, 'origin', 'prometheus'),
);

// Metric 1: Gauge (5) whose point carries two exemplars (NumberDataPoint.exemplars = 5),
// and a field number the spec does not define (99), which must be ignored.
const gaugeMetric = len(2,
  str(1, 'queue.depth'),
  len(5, len(1,
    ...times, double(4, 0.25),
    len(5, stringAttribute(7, 'user', 'u1'), fixed64(2, TIME - 5n), fixed64(6, -9n), len(4, hexBytes(SPAN_ID)), len(5, hexBytes(TRACE_ID))),
    len(5, fixed64(2, TIME - 6n), double(3, 1.5)),
    varint(99, 12345),
  )),
);

// Metric 2: Histogram (9), cumulative, one point packed and one unpacked bucket_counts.
const histogramMetric = len(2,
  str(1, 'http.duration'), str(3, 's'),
  len(9,
    len(1, stringAttribute(9, 'route', '/'), ...times, fixed64(4, 3n), len(6, hexBytes('0100000000000000' + '0200000000000000')),
      len(7, hexBytes('0000000000001440')), len(8, fixed64(2, TIME), double(3, 7.5)), varint(10, 1), double(11, 0.5), double(12, 8)),
    len(1, ...times, fixed64(4, 1n), fixed64(6, 0n), fixed64(6, 1n), double(7, 5)),
    varint(2, 2),
  ),
);

// Metric 3: ExponentialHistogram (10), delta, every field including zero_threshold (14).
const exponentialMetric = len(2,
  str(1, 'payload.size'), str(3, 'By'),
  len(10,
    len(1, stringAttribute(1, 'dir', 'in'), ...times, fixed64(4, 12n), double(5, 300.5), sint(6, 3), fixed64(7, 2n),
      len(8, sint(1, -2), len(2, Uint8Array.of(4, 0, 6))), len(9),
      varint(10, 1), len(11, fixed64(2, TIME), fixed64(6, 42n)), double(12, -1), double(13, 250), double(14, 1e-6)),
    varint(2, 1),
  ),
);

// Metric 4: Sum (7) with a temporality number the spec does not define and a point
// without a value. Metric 5: no data at all.
const oddSumMetric = len(2, str(1, 'odd.sum'), len(7, len(1, ...times), varint(2, 7), varint(3, true)));
const emptyMetric = len(2, str(1, 'no.data'));

const body = len(1,
  len(1,
    stringAttribute(1, 'service.name', 'svc'),
    len(1, str(1, 'profile.ref'), len(2, varint(8, 5))), // string_value_strindex: read as empty
    len(1, varint(3, 4), len(2, str(1, 'keyless'))), // key_strindex only: the key reads ''
    len(1, str(1, 'unset')), // no value
    len(1, str(1, 'empty'), len(2)), // empty AnyValue
    varint(2, 3),
    len(3, str(2, 'service'), str(3, 'service.name')), // entity_refs: not part of the model
  ),
  len(2,
    len(1, str(1, 'scope'), str(2, '0.1'), stringAttribute(3, 'scope.attr', 'x'), varint(4, 2)),
    summaryMetric, gaugeMetric, histogramMetric, exponentialMetric, oddSumMetric, emptyMetric,
    str(3, 'https://example.com/scope-schema'),
  ),
  str(3, 'https://example.com/resource-schema'),
);

const EXPECTED: MetricsRequest = {
  resourceMetrics: [{
    resource: { attributes: { 'service.name': 'svc', 'profile.ref': null, '': 'keyless', unset: null, empty: null }, droppedAttributesCount: 3 },
    schemaUrl: 'https://example.com/resource-schema',
    scopeMetrics: [{
      scope: { name: 'scope', version: '0.1', attributes: { 'scope.attr': 'x' }, droppedAttributesCount: 2 },
      schemaUrl: 'https://example.com/scope-schema',
      metrics: [
        {
          name: 'rpc.latency', description: 'server latency', unit: 'ms', metadata: { origin: 'prometheus' }, kind: 'summary',
          dataPoints: [{
            attributes: { method: 'Get' }, startTimeUnixNano: START, timeUnixNano: TIME, count: 1000, sum: 12.5,
            quantileValues: [{ quantile: 0.5, value: 1.5 }, { quantile: 0.99, value: 9.75 }], flags: 1,
          }],
        },
        {
          name: 'queue.depth', description: '', unit: '', metadata: {}, kind: 'gauge',
          dataPoints: [{
            attributes: {}, startTimeUnixNano: START, timeUnixNano: TIME, value: 0.25, valueType: 'double', flags: 0,
            exemplars: [
              { filteredAttributes: { user: 'u1' }, timeUnixNano: TIME - 5n, value: -9, valueType: 'int', traceId: TRACE_ID, spanId: SPAN_ID },
              { filteredAttributes: {}, timeUnixNano: TIME - 6n, value: 1.5, valueType: 'double', traceId: '', spanId: '' },
            ],
          }],
        },
        {
          name: 'http.duration', description: '', unit: 's', metadata: {}, kind: 'histogram', aggregationTemporality: 'cumulative',
          dataPoints: [
            {
              attributes: { route: '/' }, startTimeUnixNano: START, timeUnixNano: TIME, count: 3, sum: undefined, min: 0.5, max: 8,
              bucketCounts: [1, 2], explicitBounds: [5], flags: 1,
              exemplars: [{ filteredAttributes: {}, timeUnixNano: TIME, value: 7.5, valueType: 'double', traceId: '', spanId: '' }],
            },
            {
              attributes: {}, startTimeUnixNano: START, timeUnixNano: TIME, count: 1, sum: undefined, min: undefined, max: undefined,
              bucketCounts: [0, 1], explicitBounds: [5], flags: 0, exemplars: [],
            },
          ],
        },
        {
          name: 'payload.size', description: '', unit: 'By', metadata: {}, kind: 'exponentialHistogram', aggregationTemporality: 'delta',
          dataPoints: [{
            attributes: { dir: 'in' }, startTimeUnixNano: START, timeUnixNano: TIME, count: 12, sum: 300.5, min: -1, max: 250,
            scale: 3, zeroCount: 2, zeroThreshold: 1e-6, positive: { offset: -2, bucketCounts: [4, 0, 6] }, negative: { offset: 0, bucketCounts: [] },
            flags: 1, exemplars: [{ filteredAttributes: {}, timeUnixNano: TIME, value: 42, valueType: 'int', traceId: '', spanId: '' }],
          }],
        },
        {
          name: 'odd.sum', description: '', unit: '', metadata: {}, kind: 'sum', aggregationTemporality: 'unspecified', isMonotonic: true,
          dataPoints: [{ attributes: {}, startTimeUnixNano: START, timeUnixNano: TIME, value: 0, valueType: 'empty', exemplars: [], flags: 0 }],
        },
        { name: 'no.data', description: '', unit: '', metadata: {}, kind: 'empty', dataPoints: [] },
      ],
    }],
  }],
};

// The same request in OTLP/JSON, exercising what the mapping allows: snake_case keys,
// enum names, 64-bit integers as strings or numbers, doubles as strings, nulls as unset.
const JSON_BODY = {
  resource_metrics: [{
    resource: {
      attributes: [
        { key: 'service.name', value: { stringValue: 'svc' } },
        { key: 'profile.ref', value: { string_value_strindex: 5 } },
        { key_strindex: 4, value: { string_value: 'keyless' } },
        { key: 'unset' },
        { key: 'empty', value: {} },
      ],
      droppedAttributesCount: '3',
      entityRefs: [{ type: 'service', idKeys: ['service.name'] }],
    },
    scopeMetrics: [{
      scope: { name: 'scope', version: '0.1', attributes: [{ key: 'scope.attr', value: { stringValue: 'x' } }], dropped_attributes_count: 2 },
      metrics: [
        {
          name: 'rpc.latency', description: 'server latency', unit: 'ms', metadata: [{ key: 'origin', value: { stringValue: 'prometheus' } }],
          summary: { dataPoints: [{
            attributes: [{ key: 'method', value: { stringValue: 'Get' } }], startTimeUnixNano: String(START), timeUnixNano: String(TIME),
            count: 1000, sum: '12.5', quantileValues: [{ quantile: 0.5, value: 1.5 }, { quantile: 0.99, value: 9.75 }], flags: 1,
          }] },
        },
        {
          name: 'queue.depth', description: null,
          gauge: { data_points: [{
            start_time_unix_nano: String(START), time_unix_nano: String(TIME), as_double: 0.25, unknownField: { ignored: true },
            exemplars: [
              { filteredAttributes: [{ key: 'user', value: { stringValue: 'u1' } }], timeUnixNano: String(TIME - 5n), asInt: '-9', spanId: SPAN_ID.toUpperCase(), traceId: TRACE_ID },
              { timeUnixNano: String(TIME - 6n), asDouble: 1.5, spanId: '', traceId: '' },
            ],
          }] },
        },
        {
          name: 'http.duration', unit: 's',
          histogram: {
            aggregationTemporality: 'AGGREGATION_TEMPORALITY_CUMULATIVE',
            dataPoints: [
              {
                attributes: [{ key: 'route', value: { stringValue: '/' } }], startTimeUnixNano: String(START), timeUnixNano: String(TIME), count: '3',
                bucketCounts: ['1', 2], explicitBounds: [5], exemplars: [{ timeUnixNano: String(TIME), asDouble: 7.5 }], flags: 1, min: 0.5, max: '8',
              },
              { startTimeUnixNano: String(START), timeUnixNano: String(TIME), count: 1, bucketCounts: [0, '1'], explicitBounds: ['5'] },
            ],
          },
        },
        {
          name: 'payload.size', unit: 'By',
          exponentialHistogram: {
            aggregationTemporality: 1,
            dataPoints: [{
              attributes: [{ key: 'dir', value: { stringValue: 'in' } }], startTimeUnixNano: String(START), timeUnixNano: String(TIME),
              count: '12', sum: 300.5, scale: 3, zeroCount: '2', positive: { offset: -2, bucketCounts: ['4', '0', '6'] }, negative: {},
              flags: 1, exemplars: [{ timeUnixNano: String(TIME), asInt: 42 }], min: -1, max: 250, zeroThreshold: 1e-6,
            }],
          },
        },
        { name: 'odd.sum', sum: { dataPoints: [{ startTimeUnixNano: String(START), timeUnixNano: String(TIME) }], aggregationTemporality: 7, isMonotonic: true } },
        { name: 'no.data' },
      ],
      schemaUrl: 'https://example.com/scope-schema',
    }],
    schema_url: 'https://example.com/resource-schema',
  }],
};

test('hand-built protobuf decodes every spec field the official serializers leave out', () => {
  assert.deepStrictEqual(decodeMetricsRequest(body, 'protobuf'), EXPECTED);
});

test('the same request as hand-written OTLP/JSON decodes to the same model', () => {
  const decoded = decodeMetricsRequest(new TextEncoder().encode(JSON.stringify(JSON_BODY)), 'json');
  assert.deepStrictEqual(decoded, EXPECTED);
});

test('span flags are fixed32 (Span.flags = 16, Link.flags = 6): hand-built span decodes', () => {
  const span = len(2,
    len(1, hexBytes(TRACE_ID)), len(2, hexBytes(SPAN_ID)), str(5, 'op'), varint(6, 9), fixed64(7, START), fixed64(8, TIME),
    len(13, len(1, hexBytes(TRACE_ID)), len(2, hexBytes(SPAN_ID)), str(3, 'k=v'), fixed32(6, 0x301)),
    len(15, str(2, 'bad'), varint(3, 2)), fixed32(16, 0x101), varint(10, 1), varint(12, 2), varint(14, 3),
  );
  const decoded = decodeTraceRequest(len(1, len(2, span)), 'protobuf');
  const s = decoded.resourceSpans[0].scopeSpans[0].spans[0];
  assert.equal(s.flags, 0x101);
  assert.equal(s.kind, 9, 'an undefined SpanKind number is kept as sent');
  assert.deepStrictEqual(s.status, { code: 2, message: 'bad' });
  assert.deepStrictEqual([s.droppedAttributesCount, s.droppedEventsCount, s.droppedLinksCount], [1, 2, 3]);
  assert.deepStrictEqual(s.links, [{ traceId: TRACE_ID, spanId: SPAN_ID, traceState: 'k=v', attributes: {}, droppedAttributesCount: 0, flags: 0x301 }]);
});
