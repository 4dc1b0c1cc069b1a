/**
 * Hostile input: every kind of malformed body is a CollectorError TALLY_OTLP_DECODE whose
 * `details.pointer` names the place (a field path for protobuf, a JSON pointer for JSON),
 * and no mangled body crashes or hangs the decoder.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ValueType } from '@opentelemetry/api';
import { JsonMetricsSerializer, ProtobufMetricsSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType } from '@opentelemetry/sdk-metrics';
import { decodeMetricsRequest, decodeTraceRequest, DEFAULT_MAX_BODY_BYTES, type OtlpFormat } from '../../../wire/otlp/codec.ts';
import { CollectorError } from '../../../core/errors.ts';
import { concat, double, fixed64, hexBytes, len, str, tag, varint } from './proto-bytes.ts';

function rejects(decode: () => unknown, pointer: string): void {
  assert.throws(decode, (error: unknown) => {
    assert.ok(error instanceof CollectorError, `expected a CollectorError, got ${String(error)}`);
    assert.equal(error.code, 'TALLY_OTLP_DECODE');
    assert.equal((error.details as { pointer: string }).pointer, pointer);
    return true;
  });
}

const metrics = (body: Uint8Array, format: OtlpFormat = 'protobuf') => () => decodeMetricsRequest(body, format);
const traces = (body: Uint8Array, format: OtlpFormat = 'protobuf') => () => decodeTraceRequest(body, format);
const json = (value: unknown): Uint8Array => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));

const T0 = 1_700_000_000_000_000_000n;
const point = (...extra: Uint8Array[]) => len(1, fixed64(2, T0), fixed64(3, T0 + 1n), double(4, 1), ...extra);
/** A request whose metric `m` is a gauge (`Metric.gauge = 5`) holding `points`. */
const withPoints = (...points: Uint8Array[]) => len(1, len(2, len(2, str(1, 'g'), len(5, ...points))));
const M0 = '/resourceMetrics/0/scopeMetrics/0/metrics/0';

describe('body size', () => {
  test('a body over maxBodyBytes is refused before parsing, in either format', () => {
    rejects(() => decodeMetricsRequest(new Uint8Array(101), 'protobuf', { maxBodyBytes: 100 }), '');
    rejects(() => decodeTraceRequest(json({}).subarray(0, 2), 'json', { maxBodyBytes: 1 }), '');
    rejects(metrics(new Uint8Array(DEFAULT_MAX_BODY_BYTES + 1)), '');
    assert.equal(DEFAULT_MAX_BODY_BYTES, 16 * 1024 * 1024);
    assert.deepStrictEqual(decodeMetricsRequest(new Uint8Array(0), 'protobuf', { maxBodyBytes: 0 }), { resourceMetrics: [] });
  });
});

describe('protobuf wire errors', () => {
  test('a truncated body names the innermost field it cuts through', () => {
    const metric = (name: string, points: number) => len(2, str(1, name), len(7, ...Array.from({ length: points }, () => point())));
    const body = len(1, len(2, metric('a', 1), metric('b', 1), metric('c', 1), metric('d', 8)));
    rejects(metrics(body.subarray(0, body.length - 3)), '/resourceMetrics/0/scopeMetrics/0/metrics/3/sum/dataPoints/7/asDouble');
  });

  test('a length prefix larger than what is left of the body', () => {
    rejects(metrics(Uint8Array.of(0x0a, 0x05)), '/resourceMetrics/0');
    const name = concat(tag(1, 2), Uint8Array.of(200), new TextEncoder().encode('abc'));
    rejects(metrics(len(1, len(2, len(2, name)))), `${M0}/name`);
  });

  test('truncated tags, varints and invalid wire types', () => {
    rejects(metrics(Uint8Array.of(0x0a)), '/resourceMetrics/0');
    rejects(metrics(withPoints(len(1, tag(8, 0), Uint8Array.of(0x80)))), `${M0}/gauge/dataPoints/0/flags`);
    rejects(metrics(Uint8Array.of(0x0f, 0x00)), '/resourceMetrics/0');
    rejects(metrics(len(1, Uint8Array.of(0x00, 0x00))), '/resourceMetrics/0');
  });

  test('a known field with the wrong wire type', () => {
    // NumberDataPoint.time_unix_nano (3) is fixed64, sent here as a varint.
    rejects(metrics(withPoints(point(), len(1, fixed64(2, T0), varint(3, 5)))), `${M0}/gauge/dataPoints/1/timeUnixNano`);
    // ExportMetricsServiceRequest.resource_metrics (1) is a message, sent as fixed64.
    rejects(metrics(fixed64(1, 1n)), '/resourceMetrics');
    // AnyValue.string_value (1) sent as a varint.
    rejects(metrics(len(1, len(1, len(1, str(1, 'k'), len(2, varint(1, 1)))))), '/resourceMetrics/0/resource/attributes/0/value/stringValue');
    // A packed fixed64 whose length is not a multiple of 8.
    const histogram = len(1, len(2, len(2, str(1, 'h'), len(9, len(1, fixed64(4, 1n), len(6, new Uint8Array(7)))))));
    rejects(metrics(histogram), `${M0}/histogram/dataPoints/0/bucketCounts`);
  });

  test('a string that is not UTF-8', () => {
    rejects(metrics(len(1, len(2, len(2, len(1, Uint8Array.of(0xc3, 0x28)))))), `${M0}/name`);
  });
});

describe('AnyValue nesting', () => {
  const nestedProtobuf = (levels: number): Uint8Array => {
    // AnyValue contents: string_value = 1 at the leaf, array_value = 5 { values = 1 } above.
    let value = str(1, 'leaf');
    for (let level = 1; level < levels; level++) value = len(5, len(1, value));
    return len(1, len(1, len(1, str(1, 'deep'), len(2, value))));
  };
  const nestedJson = (levels: number): unknown => {
    let value: unknown = { stringValue: 'leaf' };
    for (let level = 1; level < levels; level++) value = { arrayValue: { values: [value] } };
    return { resourceMetrics: [{ resource: { attributes: [{ key: 'deep', value }] } }] };
  };
  const at33 = '/resourceMetrics/0/resource/attributes/0/value' + '/arrayValue/values/0'.repeat(32);

  test('32 levels decode', () => {
    for (const body of [[nestedProtobuf(32), 'protobuf'], [json(nestedJson(32)), 'json']] as const) {
      let value = decodeMetricsRequest(body[0], body[1]).resourceMetrics[0].resource.attributes.deep;
      for (let level = 1; level < 32; level++) value = (value as unknown[])[0] as typeof value;
      assert.equal(value, 'leaf');
    }
  });

  test('33 levels and more are refused at the 33rd level, in both formats', () => {
    rejects(metrics(nestedProtobuf(33)), at33);
    rejects(metrics(json(nestedJson(33)), 'json'), at33);
    // Deep enough that protobufjs's own recursion limit trips first: same answer.
    rejects(metrics(nestedProtobuf(300)), at33);
    rejects(metrics(json(nestedJson(300)), 'json'), at33);
  });
});

describe('ids', () => {
  const TRACE = hexBytes('0af7651916cd43dd8448eb211c80319c');
  const SPAN = hexBytes('b7ad6b7169203331');
  const spans = (...fields: Uint8Array[]) => len(1, len(2, len(2, ...fields)));
  const S0 = '/resourceSpans/0/scopeSpans/0/spans/0';

  test('span, parent, link and exemplar ids of the wrong length (protobuf)', () => {
    rejects(traces(spans(len(1, TRACE.subarray(1)), len(2, SPAN))), `${S0}/traceId`);
    rejects(traces(spans(len(1, TRACE))), `${S0}/spanId`);
    rejects(traces(spans(len(1, TRACE), len(2, SPAN), len(4, SPAN.subarray(4)))), `${S0}/parentSpanId`);
    rejects(traces(spans(len(1, TRACE), len(2, SPAN), len(13, len(1, TRACE), len(2, SPAN.subarray(1))))), `${S0}/links/0/spanId`);
    rejects(metrics(withPoints(point(len(5, len(5, SPAN))))), `${M0}/gauge/dataPoints/0/exemplars/0/traceId`);
  });

  test('ids that are not hex, of the wrong length, or not strings (JSON)', () => {
    const span = (fields: Record<string, unknown>) => json({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', ...fields }] }] }] });
    rejects(traces(span({ traceId: 'zz'.repeat(16) }), 'json'), `${S0}/traceId`);
    rejects(traces(span({ spanId: 'abcd' }), 'json'), `${S0}/spanId`);
    rejects(traces(span({ parentSpanId: 12 }), 'json'), `${S0}/parentSpanId`);
    rejects(traces(span({ traceId: 'CvdlGRbNQ92ESOshHIAxnA==' }), 'json'), `${S0}/traceId`);
    rejects(traces(span({ spanId: undefined }), 'json'), `${S0}/spanId`);
  });
});

describe('JSON structure and types', () => {
  test('a body that is not a JSON object, or not JSON, or not UTF-8', () => {
    for (const body of ['[]', '"x"', 'null', '42', 'true', '{', '']) rejects(metrics(json(body), 'json'), '');
    rejects(metrics(Uint8Array.of(0x7b, 0xff, 0x7d), 'json'), '');
  });

  test('fields of the wrong JSON type name the field', () => {
    const metric = (m: Record<string, unknown>) => json({ resourceMetrics: [{ scopeMetrics: [{ metrics: [m] }] }] });
    const pt = (p: Record<string, unknown>) => metric({ name: 'g', gauge: { dataPoints: [{ timeUnixNano: '1', ...p }] } });
    rejects(metrics(json({ resourceMetrics: {} }), 'json'), '/resourceMetrics');
    rejects(metrics(json({ resourceMetrics: [1] }), 'json'), '/resourceMetrics/0');
    rejects(metrics(metric({ name: 5 }), 'json'), `${M0}/name`);
    rejects(metrics(metric({ sum: { isMonotonic: 'true' } }), 'json'), `${M0}/sum/isMonotonic`);
    rejects(metrics(metric({ sum: { aggregationTemporality: 'AGGREGATION_TEMPORALITY_SIDEWAYS' } }), 'json'), `${M0}/sum/aggregationTemporality`);
    rejects(metrics(pt({ timeUnixNano: '12x' }), 'json'), `${M0}/gauge/dataPoints/0/timeUnixNano`);
    rejects(metrics(pt({ timeUnixNano: -1 }), 'json'), `${M0}/gauge/dataPoints/0/timeUnixNano`);
    rejects(metrics(pt({ timeUnixNano: '18446744073709551616' }), 'json'), `${M0}/gauge/dataPoints/0/timeUnixNano`);
    rejects(metrics(pt({ asDouble: {} }), 'json'), `${M0}/gauge/dataPoints/0/asDouble`);
    rejects(metrics(pt({ flags: 2 ** 32 }), 'json'), `${M0}/gauge/dataPoints/0/flags`);
    rejects(metrics(pt({ attributes: [{ key: 'b', value: { bytesValue: 'not base64!' } }] }), 'json'), `${M0}/gauge/dataPoints/0/attributes/0/value/bytesValue`);
  });

  test('two members of one oneof are refused at the second', () => {
    const body = json({ resourceMetrics: [{ resource: { attributes: [{ key: 'k', value: { stringValue: 'a', intValue: '1' } }] } }] });
    rejects(metrics(body, 'json'), '/resourceMetrics/0/resource/attributes/0/value/intValue');
    rejects(metrics(json({ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ gauge: {}, sum: {} }] }] }] }), 'json'), `${M0}/sum`);
  });

  test('pointers follow the keys as sent (snake_case)', () => {
    const body = json({ resource_metrics: [{ scope_metrics: [{ metrics: [{ gauge: { data_points: [{ time_unix_nano: 'soon' }] } }] }] }] });
    rejects(metrics(body, 'json'), '/resource_metrics/0/scope_metrics/0/metrics/0/gauge/data_points/0/time_unix_nano');
  });
});

describe('mangled bodies never crash or hang', () => {
  // mulberry32: a fixed seed keeps the mutations the same on every run.
  function random(seed: number): () => number {
    return () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  const request = {
    resource: resourceFromAttributes({ 'service.name': 'fuzz', list: ['a', 'b'], n: 3 }),
    scopeMetrics: [{
      scope: { name: 's', version: '1' },
      metrics: [
        { descriptor: { name: 'c', description: 'd', unit: '1', valueType: ValueType.INT }, aggregationTemporality: AggregationTemporality.DELTA, dataPointType: DataPointType.SUM, isMonotonic: true, dataPoints: [{ startTime: [1, 2], endTime: [3, 4], attributes: { k: 'v' }, value: 5 }] },
        { descriptor: { name: 'h', description: '', unit: 'ms', valueType: ValueType.DOUBLE }, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.HISTOGRAM, dataPoints: [{ startTime: [1, 2], endTime: [3, 4], attributes: {}, value: { count: 3, sum: 2, buckets: { boundaries: [1], counts: [1, 2] } } }] },
      ],
    }],
  } as const;

  function survives(decode: () => unknown): void {
    try {
      decode();
    } catch (error) {
      assert.ok(error instanceof CollectorError && error.code === 'TALLY_OTLP_DECODE', `unexpected ${String(error)}`);
    }
  }

  test('every prefix and 2,000 seeded byte mutations of real bodies', () => {
    const protobuf = ProtobufMetricsSerializer.serializeRequest(request as never)!;
    const jsonBody = JsonMetricsSerializer.serializeRequest(request as never)!;
    const spans = ProtobufTraceSerializer.serializeRequest([])!;
    for (const [body, format] of [[protobuf, 'protobuf'], [jsonBody, 'json']] as const) {
      for (let n = 0; n <= body.length; n++) survives(metrics(body.subarray(0, n), format));
      const next = random(format === 'json' ? 7 : 42);
      for (let i = 0; i < 1000; i++) {
        const mutated = Uint8Array.from(body);
        for (let flips = 1 + Math.floor(next() * 4); flips > 0; flips--) mutated[Math.floor(next() * mutated.length)] = Math.floor(next() * 256);
        survives(metrics(mutated, format));
        survives(traces(mutated, format));
      }
    }
    assert.deepStrictEqual(decodeTraceRequest(spans, 'protobuf'), { resourceSpans: [] });
  });
});
