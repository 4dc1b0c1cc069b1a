/**
 * Round trips against the official OTLP encoders (@opentelemetry/otlp-transformer):
 * build SDK-shaped input, serialize it with the official protobuf and JSON serializers,
 * decode with tally's codec, and compare every field against values derived from the
 * input by hand.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Attributes, createTraceState, type HrTime, SpanKind, SpanStatusCode, ValueType } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import {
  JsonMetricsSerializer, JsonTraceSerializer, ProtobufMetricsSerializer, ProtobufTraceSerializer,
} from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import {
  type AttributeMap, decodeMetricsRequest, decodeTraceRequest, type Metric, type MetricsRequest, type NumberDataPoint, type OtlpFormat,
  type Span, type TraceRequest,
} from '../../../wire/otlp/codec.ts';

type ReadableSpan = Parameters<typeof ProtobufTraceSerializer.serializeRequest>[0][number];

const FORMATS: OtlpFormat[] = ['protobuf', 'json'];

function nanos([seconds, nanoseconds]: HrTime): bigint {
  return BigInt(seconds) * 1_000_000_000n + BigInt(nanoseconds);
}

// Every AnyValue kind: string, int (incl. negative and beyond 2^32), double, bool, bytes,
// arrays (homogeneous and mixed) and nested key-value lists.
const RESOURCE_ATTRIBUTES = {
  'service.name': 'tally-codec-test',
  'int.positive': 42,
  'int.negative': -7,
  'int.large': 2 ** 40 + 3,
  double: 1.25,
  bool: true,
  bytes: Uint8Array.from([0, 1, 127, 128, 254, 255]),
  array: ['a', 'b'],
  'array.mixed': [1, 'x', false, 2.5],
  kvlist: { inner: 'v', nested: { deep: 3 }, list: [1, 2] },
};

const EXPECTED_RESOURCE_ATTRIBUTES: AttributeMap = {
  'service.name': 'tally-codec-test',
  'int.positive': 42n,
  'int.negative': -7n,
  'int.large': 2n ** 40n + 3n,
  double: 1.25,
  bool: true,
  bytes: Uint8Array.from([0, 1, 127, 128, 254, 255]),
  array: ['a', 'b'],
  'array.mixed': [1n, 'x', false, 2.5],
  kvlist: { inner: 'v', nested: { deep: 3n }, list: [1n, 2n] },
};

const SCHEMA_URL = 'https://opentelemetry.io/schemas/1.30.0';
// The serializers read scope attributes when present; the SDK type does not declare them.
const SCOPE = { name: 'tally.codec', version: '1.2.3', schemaUrl: 'https://example.com/scope', attributes: { 'scope.kind': 'test' } } as InstrumentationScope;
const START: HrTime = [1_700_000_000, 123_456_789];
const END: HrTime = [1_700_000_060, 987_654_321];

function numberMetric(
  name: string, dataPointType: DataPointType.SUM | DataPointType.GAUGE, valueType: ValueType,
  aggregationTemporality: AggregationTemporality, isMonotonic: boolean, values: number[],
): MetricData {
  const dataPoints = values.map((value, i) => ({
    startTime: START, endTime: [END[0] + i, END[1]] as HrTime, attributes: { series: `series-${i}`, index: i }, value,
  }));
  const descriptor = { name, description: `${name} description`, unit: '{request}', valueType };
  return dataPointType === DataPointType.SUM
    ? { descriptor, aggregationTemporality, dataPointType, isMonotonic, dataPoints }
    : { descriptor, aggregationTemporality, dataPointType, dataPoints };
}

const METRICS: MetricData[] = [
  numberMetric('sum.delta.monotonic.int', DataPointType.SUM, ValueType.INT, AggregationTemporality.DELTA, true, [5, 0, -3]),
  numberMetric('sum.cumulative.updown.double', DataPointType.SUM, ValueType.DOUBLE, AggregationTemporality.CUMULATIVE, false, [2.5, -0.125]),
  numberMetric('sum.cumulative.monotonic.int', DataPointType.SUM, ValueType.INT, AggregationTemporality.CUMULATIVE, true, [2 ** 40]),
  numberMetric('sum.delta.updown.double', DataPointType.SUM, ValueType.DOUBLE, AggregationTemporality.DELTA, false, [1e-9]),
  numberMetric('gauge.double', DataPointType.GAUGE, ValueType.DOUBLE, AggregationTemporality.CUMULATIVE, false, [36.6, -273.15]),
  numberMetric('gauge.int', DataPointType.GAUGE, ValueType.INT, AggregationTemporality.CUMULATIVE, false, [7]),
  {
    descriptor: { name: 'histogram', description: 'latency', unit: 'ms', valueType: ValueType.DOUBLE },
    aggregationTemporality: AggregationTemporality.DELTA,
    dataPointType: DataPointType.HISTOGRAM,
    dataPoints: [
      { startTime: START, endTime: END, attributes: { route: '/a' }, value: { count: 10, sum: 123.5, min: 0.5, max: 99, buckets: { boundaries: [1, 10, 100], counts: [1, 4, 5, 0] } } },
      // Negative measurements: no sum; no min/max either.
      { startTime: START, endTime: END, attributes: { route: '/b' }, value: { count: 2 ** 33, buckets: { boundaries: [0], counts: [2 ** 32, 2 ** 32] } } },
    ],
  },
  {
    descriptor: { name: 'exponential', description: '', unit: 's', valueType: ValueType.DOUBLE },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.EXPONENTIAL_HISTOGRAM,
    dataPoints: [{
      startTime: START, endTime: END, attributes: {},
      value: { count: 17, sum: 4.5, scale: -2, zeroCount: 3, positive: { offset: -1, bucketCounts: [1, 0, 5] }, negative: { offset: 4, bucketCounts: [8] }, min: -20, max: 9 },
    }],
  },
];

function resourceMetrics(): ResourceMetrics {
  return {
    resource: resourceFromAttributes(RESOURCE_ATTRIBUTES as unknown as Attributes, { schemaUrl: SCHEMA_URL }),
    scopeMetrics: [{ scope: SCOPE, metrics: METRICS }],
  };
}

function expectedAttributes(attributes: Record<string, unknown>): AttributeMap {
  return Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, Number.isInteger(v) ? BigInt(v as number) : (v as string)]));
}

function expectedMetric(metric: MetricData): Metric {
  const head = { name: metric.descriptor.name, description: metric.descriptor.description, unit: metric.descriptor.unit, metadata: {} };
  const temporality = metric.aggregationTemporality === AggregationTemporality.DELTA ? 'delta' : 'cumulative';
  const times = (p: { startTime: HrTime; endTime: HrTime; attributes: Record<string, unknown> }) => ({
    attributes: expectedAttributes(p.attributes), startTimeUnixNano: nanos(p.startTime), timeUnixNano: nanos(p.endTime), flags: 0,
  });
  switch (metric.dataPointType) {
    case DataPointType.SUM:
    case DataPointType.GAUGE: {
      const valueType = metric.descriptor.valueType === ValueType.INT ? 'int' : 'double';
      const dataPoints = metric.dataPoints.map((p): NumberDataPoint => ({ ...times(p), value: p.value, valueType, exemplars: [] }));
      return metric.dataPointType === DataPointType.SUM
        ? { ...head, kind: 'sum', aggregationTemporality: temporality, isMonotonic: metric.isMonotonic, dataPoints }
        : { ...head, kind: 'gauge', dataPoints };
    }
    case DataPointType.HISTOGRAM:
      return {
        ...head, kind: 'histogram', aggregationTemporality: temporality,
        dataPoints: metric.dataPoints.map((p) => ({
          ...times(p), count: p.value.count, sum: p.value.sum, min: p.value.min, max: p.value.max,
          bucketCounts: p.value.buckets.counts, explicitBounds: p.value.buckets.boundaries, exemplars: [],
        })),
      };
    case DataPointType.EXPONENTIAL_HISTOGRAM:
      return {
        ...head, kind: 'exponentialHistogram', aggregationTemporality: temporality,
        dataPoints: metric.dataPoints.map((p) => ({
          ...times(p), count: p.value.count, sum: p.value.sum, min: p.value.min, max: p.value.max, scale: p.value.scale,
          zeroCount: p.value.zeroCount, zeroThreshold: 0, positive: p.value.positive, negative: p.value.negative, exemplars: [],
        })),
      };
  }
}

const EXPECTED_METRICS: MetricsRequest = {
  resourceMetrics: [{
    resource: { attributes: EXPECTED_RESOURCE_ATTRIBUTES, droppedAttributesCount: 0 },
    schemaUrl: SCHEMA_URL,
    scopeMetrics: [{
      scope: { name: 'tally.codec', version: '1.2.3', attributes: { 'scope.kind': 'test' }, droppedAttributesCount: 0 },
      schemaUrl: 'https://example.com/scope',
      metrics: METRICS.map(expectedMetric),
    }],
  }],
};

describe('metrics round trip through the official otlp-transformer serializers', () => {
  for (const format of FORMATS) {
    test(`${format}: every field of sums, gauges, histograms and exponential histograms`, () => {
      const serializer = format === 'json' ? JsonMetricsSerializer : ProtobufMetricsSerializer;
      const body = serializer.serializeRequest(resourceMetrics());
      assert.ok(body);
      const decoded = decodeMetricsRequest(body, format);
      assert.deepStrictEqual(decoded, EXPECTED_METRICS);
    });
  }

  test('timestamps keep nanosecond precision beyond 2^53 and the int/double distinction survives', () => {
    const decoded = decodeMetricsRequest(ProtobufMetricsSerializer.serializeRequest(resourceMetrics())!, 'protobuf');
    const [sum, updown] = decoded.resourceMetrics[0].scopeMetrics[0].metrics;
    assert.equal(sum.kind, 'sum');
    assert.equal(sum.dataPoints[0].startTimeUnixNano, 1_700_000_000_123_456_789n);
    assert.equal(sum.dataPoints[2].timeUnixNano, 1_700_000_062_987_654_321n);
    assert.equal(sum.dataPoints[2].value, -3);
    assert.equal(sum.dataPoints[2].valueType, 'int');
    assert.equal(updown.kind === 'sum' && updown.dataPoints[0].valueType, 'double');
  });
});

// ---------------------------------------------------------------------------------------
// Traces
// ---------------------------------------------------------------------------------------

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const TRACE_RESOURCE = resourceFromAttributes({ 'service.name': 'tally-trace-test', 'tally.shard': 3 });

function span(overrides: Partial<ReadableSpan> & { spanId: string; traceFlags?: number }): ReadableSpan {
  const { spanId, traceFlags = 1, ...rest } = overrides;
  return {
    name: 'span',
    kind: SpanKind.INTERNAL,
    spanContext: () => ({ traceId: TRACE_ID, spanId, traceFlags, traceState: createTraceState('vendor=value,other=1') }),
    startTime: START,
    endTime: END,
    status: { code: SpanStatusCode.UNSET },
    attributes: {},
    links: [],
    events: [],
    duration: [60, 864_197_532],
    ended: true,
    resource: TRACE_RESOURCE,
    instrumentationScope: SCOPE,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
    ...rest,
  };
}

const SPANS: ReadableSpan[] = [
  span({
    spanId: 'b7ad6b7169203331', name: 'GET /orders', kind: SpanKind.SERVER, traceFlags: 1,
    attributes: { 'http.request.method': 'GET', 'http.response.status_code': 200, ratio: 0.5, retried: false, tags: ['a', 'b'] },
    status: { code: SpanStatusCode.ERROR, message: 'upstream timed out' },
    events: [
      { name: 'exception', time: [1_700_000_030, 5], attributes: { 'exception.type': 'Timeout' }, droppedAttributesCount: 2 },
      { name: 'retry', time: [1_700_000_031, 999_999_999] },
    ],
    links: [{ context: { traceId: 'f'.repeat(32), spanId: '0123456789abcdef', traceFlags: 0, isRemote: true }, attributes: { 'link.kind': 'follows' }, droppedAttributesCount: 1 }],
    droppedAttributesCount: 4, droppedEventsCount: 5, droppedLinksCount: 6,
  }),
  span({ spanId: '00f067aa0ba902b7', name: 'SELECT', kind: SpanKind.CLIENT, parentSpanContext: { traceId: TRACE_ID, spanId: 'b7ad6b7169203331', traceFlags: 1, isRemote: false }, status: { code: SpanStatusCode.OK } }),
  span({ spanId: '1111111111111111', name: 'enqueue', kind: SpanKind.PRODUCER, traceFlags: 0, parentSpanContext: { traceId: TRACE_ID, spanId: '00f067aa0ba902b7', traceFlags: 0, isRemote: true } }),
  span({ spanId: '2222222222222222', name: 'dequeue', kind: SpanKind.CONSUMER }),
];

function expectedSpan(s: ReadableSpan): Span {
  const ctx = s.spanContext();
  const isRemote = s.parentSpanContext?.isRemote === true;
  return {
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    parentSpanId: s.parentSpanContext?.spanId ?? '',
    traceState: 'vendor=value,other=1',
    name: s.name,
    kind: s.kind + 1,
    startTimeUnixNano: nanos(s.startTime),
    endTimeUnixNano: nanos(s.endTime),
    attributes: expectedAttributes(s.attributes),
    droppedAttributesCount: s.droppedAttributesCount,
    events: s.events.map((e) => ({ timeUnixNano: nanos(e.time), name: e.name, attributes: expectedAttributes(e.attributes ?? {}), droppedAttributesCount: e.droppedAttributesCount ?? 0 })),
    droppedEventsCount: s.droppedEventsCount,
    links: s.links.map((l) => ({
      traceId: l.context.traceId, spanId: l.context.spanId, traceState: '', attributes: expectedAttributes(l.attributes ?? {}),
      droppedAttributesCount: l.droppedAttributesCount ?? 0, flags: (l.context.traceFlags & 0xff) | 0x100 | (l.context.isRemote ? 0x200 : 0),
    })),
    droppedLinksCount: s.droppedLinksCount,
    status: { code: s.status.code, message: s.status.message ?? '' },
    flags: (ctx.traceFlags & 0xff) | 0x100 | (isRemote ? 0x200 : 0),
  };
}

const EXPECTED_TRACE: TraceRequest = {
  resourceSpans: [{
    resource: { attributes: { 'service.name': 'tally-trace-test', 'tally.shard': 3n }, droppedAttributesCount: 0 },
    schemaUrl: '',
    scopeSpans: [{
      scope: { name: 'tally.codec', version: '1.2.3', attributes: { 'scope.kind': 'test' }, droppedAttributesCount: 0 },
      schemaUrl: 'https://example.com/scope',
      spans: SPANS.map(expectedSpan),
    }],
  }],
};

describe('trace round trip through the official otlp-transformer serializers', () => {
  for (const format of FORMATS) {
    test(`${format}: ids, parents, kinds, status, nanosecond times, attributes, events, links, flags`, () => {
      const serializer = format === 'json' ? JsonTraceSerializer : ProtobufTraceSerializer;
      const decoded = decodeTraceRequest(serializer.serializeRequest(SPANS)!, format);
      assert.deepStrictEqual(decoded, EXPECTED_TRACE);
    });
  }

  test('span kinds map to the OTLP SpanKind numbers and a root span has no parent', () => {
    const spans = decodeTraceRequest(ProtobufTraceSerializer.serializeRequest(SPANS)!, 'protobuf').resourceSpans[0].scopeSpans[0].spans;
    assert.deepStrictEqual(spans.map((s) => s.kind), [2, 3, 4, 5]);
    assert.equal(spans[0].parentSpanId, '');
    assert.equal(spans[1].parentSpanId, 'b7ad6b7169203331');
    assert.equal(spans[0].endTimeUnixNano - spans[0].startTimeUnixNano, 60_864_197_532n);
  });
});
