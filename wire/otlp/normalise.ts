/**
 * Second decoding stage: protobufjs-shaped message objects (from either wire format, see
 * wire.ts) → codec.ts's plain model. One pass with no per-point closures; a pointer to bad
 * input is only built while an {@link Issue} unwinds (see `at`).
 */
import type protobuf from 'protobufjs';
import type {
  AttributeMap, AttributeValue, Exemplar, ExponentialBuckets, ExponentialHistogramDataPoint, HistogramDataPoint,
  InstrumentationScope, Metric, MetricsRequest, NumberDataPoint, Resource, ResourceMetrics, ResourceSpans, ScopeMetrics,
  ScopeSpans, Span, SpanEvent, SpanLink, SummaryDataPoint, Temporality, TraceRequest,
} from './codec.ts';
import { at, Issue, type Long, MAX_ANY_VALUE_DEPTH, toDecodeError } from './messages.ts';

// Decoded-message shapes, as far as they are read here. Unset message fields read null and
// unset scalars their defaults; `value`/`data` name the oneof member read (see wire.ts).
// Ids are bytes from protobuf and lowercase hex from JSON.
interface Pb { $unknowns?: Uint8Array[]; $type?: protobuf.Type }
type Id = Uint8Array | string;
type PbValueOneof = 'asDouble' | 'asInt' | undefined;
interface PbKeyValue extends Pb { key: string; value: PbAnyValue | null }
interface PbAnyValue extends Pb {
  value: 'stringValue' | 'boolValue' | 'intValue' | 'doubleValue' | 'arrayValue' | 'kvlistValue' | 'bytesValue' | undefined;
  stringValue: string; boolValue: boolean; intValue: Long; doubleValue: number; bytesValue: Uint8Array;
  arrayValue: (Pb & { values: PbAnyValue[] }) | null; kvlistValue: (Pb & { values: PbKeyValue[] }) | null;
}
interface PbResource extends Pb { attributes: PbKeyValue[]; droppedAttributesCount: number }
interface PbScope extends PbResource { name: string; version: string }
interface PbPoint extends Pb { attributes: PbKeyValue[]; startTimeUnixNano: Long; timeUnixNano: Long; flags: number; count: Long }
interface PbExemplar extends Pb { value: PbValueOneof; filteredAttributes: PbKeyValue[]; timeUnixNano: Long; asDouble: number; asInt: Long; spanId: Id; traceId: Id }
interface PbNumberPoint extends PbPoint { value: PbValueOneof; asDouble: number; asInt: Long; exemplars: PbExemplar[] }
interface PbHistogramPoint extends PbPoint { sum: number | null; min: number | null; max: number | null; bucketCounts: Long[]; explicitBounds: number[]; exemplars: PbExemplar[] }
interface PbBuckets extends Pb { offset: number; bucketCounts: Long[] }
interface PbExponentialPoint extends Omit<PbHistogramPoint, 'bucketCounts' | 'explicitBounds'> {
  scale: number; zeroCount: Long; zeroThreshold: number; positive: PbBuckets | null; negative: PbBuckets | null;
}
interface PbSummaryPoint extends PbPoint { sum: number; quantileValues: (Pb & { quantile: number; value: number })[] }
interface PbData<P> extends Pb { dataPoints: P[]; aggregationTemporality: number; isMonotonic: boolean }
interface PbMetric extends Pb {
  data: 'gauge' | 'sum' | 'histogram' | 'exponentialHistogram' | 'summary' | undefined; name: string; description: string; unit: string;
  metadata: PbKeyValue[]; gauge: PbData<PbNumberPoint> | null; sum: PbData<PbNumberPoint> | null; histogram: PbData<PbHistogramPoint> | null;
  exponentialHistogram: PbData<PbExponentialPoint> | null; summary: PbData<PbSummaryPoint> | null;
}
interface PbScopeMetrics extends Pb { scope: PbScope | null; schemaUrl: string; metrics: PbMetric[] }
interface PbResourceMetrics extends Pb { resource: PbResource | null; schemaUrl: string; scopeMetrics: PbScopeMetrics[] }
interface PbEvent extends Pb { timeUnixNano: Long; name: string; attributes: PbKeyValue[]; droppedAttributesCount: number }
interface PbLink extends Pb { traceId: Id; spanId: Id; traceState: string; attributes: PbKeyValue[]; droppedAttributesCount: number; flags: number }
interface PbStatus extends Pb { code: number; message: string }
interface PbSpan extends Pb {
  traceId: Id; spanId: Id; parentSpanId: Id; traceState: string; name: string; kind: number; startTimeUnixNano: Long;
  endTimeUnixNano: Long; attributes: PbKeyValue[]; droppedAttributesCount: number; events: PbEvent[]; droppedEventsCount: number;
  links: PbLink[]; droppedLinksCount: number; status: PbStatus | null; flags: number;
}
interface PbScopeSpans extends Pb { scope: PbScope | null; schemaUrl: string; spans: PbSpan[] }
interface PbResourceSpans extends Pb { resource: PbResource | null; schemaUrl: string; scopeSpans: PbScopeSpans[] }

/** A decoded `ExportMetricsServiceRequest` message, as wire.ts reads it. */
export interface PbMetricsRequest extends Pb { resourceMetrics: PbResourceMetrics[] }
/** A decoded `ExportTraceServiceRequest` message, as wire.ts reads it. */
export interface PbTraceRequest extends Pb { resourceSpans: PbResourceSpans[] }

/**
 * Normalise a decoded metrics request into the model.
 * @throws CollectorError `TALLY_OTLP_DECODE` with `details.pointer`: a known field sent with
 *   the wrong wire type, AnyValues nested deeper than 32, an exemplar id of the wrong length.
 */
export function normaliseMetrics(message: PbMetricsRequest, format: 'protobuf' | 'json'): MetricsRequest {
  try {
    checkFields(message);
    return { resourceMetrics: listOf(message.resourceMetrics, resourceMetricsOf, '/resourceMetrics/') };
  } catch (error) {
    throw toDecodeError(error, format);
  }
}

/**
 * Normalise a decoded trace request into the model.
 * @throws CollectorError `TALLY_OTLP_DECODE` as {@link normaliseMetrics}, and for span and
 *   link ids that are not 16/8 bytes (a parent span id may also be empty).
 */
export function normaliseTrace(message: PbTraceRequest, format: 'protobuf' | 'json'): TraceRequest {
  try {
    checkFields(message);
    return { resourceSpans: listOf(message.resourceSpans, resourceSpansOf, '/resourceSpans/') };
  } catch (error) {
    throw toDecodeError(error, format);
  }
}

/**
 * Reject a known field that protobufjs set aside as unknown: it came with the wrong wire
 * type. Unknown field numbers (from newer spec versions) are fine.
 */
function checkFields(message: Pb): void {
  const raw = message.$unknowns;
  if (raw === undefined || message.$type === undefined) return;
  for (const chunk of raw) {
    let tag = 0;
    for (let i = 0; i < 5 && i < chunk.length; i++) {
      tag += (chunk[i] & 0x7f) * 2 ** (7 * i);
      if (chunk[i] < 0x80) break;
    }
    const field = message.$type.fieldsById[Math.floor(tag / 8)];
    if (field !== undefined) throw new Issue('/' + field.name, `wire type ${tag % 8} does not fit ${field.type} field ${field.name}`);
  }
}

function listOf<P, R>(list: P[], each: (item: P) => R, segment: string): R[] {
  const out = new Array<R>(list.length);
  for (let i = 0; i < list.length; i++) {
    try {
      out[i] = each(list[i]);
    } catch (error) {
      throw at(error, segment + i);
    }
  }
  return out;
}

function inside<P, R>(segment: string, each: (item: P, depth: number) => R, item: P, depth = 0): R {
  try {
    return each(item, depth);
  } catch (error) {
    throw at(error, segment);
  }
}

function resourceMetricsOf(rm: PbResourceMetrics): ResourceMetrics {
  checkFields(rm);
  const resource = inside('/resource', resourceOf, rm.resource);
  return { resource, schemaUrl: rm.schemaUrl, scopeMetrics: listOf(rm.scopeMetrics, scopeMetricsOf, '/scopeMetrics/') };
}

function scopeMetricsOf(sm: PbScopeMetrics): ScopeMetrics {
  checkFields(sm);
  return { scope: inside('/scope', scopeOf, sm.scope), schemaUrl: sm.schemaUrl, metrics: listOf(sm.metrics, metricOf, '/metrics/') };
}

function resourceSpansOf(rs: PbResourceSpans): ResourceSpans {
  checkFields(rs);
  const resource = inside('/resource', resourceOf, rs.resource);
  return { resource, schemaUrl: rs.schemaUrl, scopeSpans: listOf(rs.scopeSpans, scopeSpansOf, '/scopeSpans/') };
}

function scopeSpansOf(ss: PbScopeSpans): ScopeSpans {
  checkFields(ss);
  return { scope: inside('/scope', scopeOf, ss.scope), schemaUrl: ss.schemaUrl, spans: listOf(ss.spans, spanOf, '/spans/') };
}

function resourceOf(r: PbResource | null): Resource {
  if (r === null) return { attributes: {}, droppedAttributesCount: 0 };
  checkFields(r);
  return { attributes: attributesOf(r.attributes, '/attributes/', 0), droppedAttributesCount: r.droppedAttributesCount };
}

function scopeOf(s: PbScope | null): InstrumentationScope {
  if (s === null) return { name: '', version: '', attributes: {}, droppedAttributesCount: 0 };
  checkFields(s);
  const attributes = attributesOf(s.attributes, '/attributes/', 0);
  return { name: s.name, version: s.version, attributes, droppedAttributesCount: s.droppedAttributesCount };
}

function metricOf(m: PbMetric): Metric {
  checkFields(m);
  const head = { name: m.name, description: m.description, unit: m.unit, metadata: attributesOf(m.metadata, '/metadata/', 0) };
  const kind = m.data;
  try {
    switch (kind) {
      case 'sum': {
        const { aggregationTemporality, isMonotonic, dataPoints } = checked(m.sum!);
        return { ...head, kind, aggregationTemporality: temporalityOf(aggregationTemporality), isMonotonic, dataPoints: listOf(dataPoints, numberPointOf, '/dataPoints/') };
      }
      case 'gauge':
        return { ...head, kind, dataPoints: listOf(checked(m.gauge!).dataPoints, numberPointOf, '/dataPoints/') };
      case 'histogram': {
        const { aggregationTemporality, dataPoints } = checked(m.histogram!);
        return { ...head, kind, aggregationTemporality: temporalityOf(aggregationTemporality), dataPoints: listOf(dataPoints, histogramPointOf, '/dataPoints/') };
      }
      case 'exponentialHistogram': {
        const { aggregationTemporality, dataPoints } = checked(m.exponentialHistogram!);
        return { ...head, kind, aggregationTemporality: temporalityOf(aggregationTemporality), dataPoints: listOf(dataPoints, exponentialPointOf, '/dataPoints/') };
      }
      case 'summary':
        return { ...head, kind, dataPoints: listOf(checked(m.summary!).dataPoints, summaryPointOf, '/dataPoints/') };
      default:
        return { ...head, kind: 'empty', dataPoints: [] };
    }
  } catch (error) {
    throw at(error, '/' + kind);
  }
}

function checked<M extends Pb>(message: M): M {
  checkFields(message);
  return message;
}

function temporalityOf(value: number): Temporality {
  return value === 1 ? 'delta' : value === 2 ? 'cumulative' : 'unspecified';
}

function numberPointOf(p: PbNumberPoint): NumberDataPoint {
  checkFields(p);
  const isInt = p.value === 'asInt';
  return {
    attributes: attributesOf(p.attributes, '/attributes/', 0),
    startTimeUnixNano: startTimeOf(p.startTimeUnixNano),
    timeUnixNano: timeOf(p.timeUnixNano),
    value: isInt ? signedNumber(p.asInt) : p.asDouble,
    valueType: isInt ? 'int' : p.value === 'asDouble' ? 'double' : 'empty',
    exemplars: listOf(p.exemplars, exemplarOf, '/exemplars/'),
    flags: p.flags,
  };
}

function histogramPointOf(p: PbHistogramPoint): HistogramDataPoint {
  checkFields(p);
  return {
    attributes: attributesOf(p.attributes, '/attributes/', 0),
    startTimeUnixNano: startTimeOf(p.startTimeUnixNano),
    timeUnixNano: timeOf(p.timeUnixNano),
    count: unsignedNumber(p.count),
    sum: p.sum ?? undefined,
    min: p.min ?? undefined,
    max: p.max ?? undefined,
    bucketCounts: countsOf(p.bucketCounts),
    explicitBounds: p.explicitBounds,
    exemplars: listOf(p.exemplars, exemplarOf, '/exemplars/'),
    flags: p.flags,
  };
}

function exponentialPointOf(p: PbExponentialPoint): ExponentialHistogramDataPoint {
  checkFields(p);
  return {
    attributes: attributesOf(p.attributes, '/attributes/', 0),
    startTimeUnixNano: startTimeOf(p.startTimeUnixNano),
    timeUnixNano: timeOf(p.timeUnixNano),
    count: unsignedNumber(p.count),
    sum: p.sum ?? undefined,
    min: p.min ?? undefined,
    max: p.max ?? undefined,
    scale: p.scale,
    zeroCount: unsignedNumber(p.zeroCount),
    zeroThreshold: p.zeroThreshold,
    positive: inside('/positive', bucketsOf, p.positive),
    negative: inside('/negative', bucketsOf, p.negative),
    exemplars: listOf(p.exemplars, exemplarOf, '/exemplars/'),
    flags: p.flags,
  };
}

function bucketsOf(b: PbBuckets | null): ExponentialBuckets {
  if (b === null) return { offset: 0, bucketCounts: [] };
  checkFields(b);
  return { offset: b.offset, bucketCounts: countsOf(b.bucketCounts) };
}

function summaryPointOf(p: PbSummaryPoint): SummaryDataPoint {
  checkFields(p);
  return {
    attributes: attributesOf(p.attributes, '/attributes/', 0),
    startTimeUnixNano: startTimeOf(p.startTimeUnixNano),
    timeUnixNano: timeOf(p.timeUnixNano),
    count: unsignedNumber(p.count),
    sum: p.sum,
    quantileValues: listOf(p.quantileValues, quantileOf, '/quantileValues/'),
    flags: p.flags,
  };
}

function quantileOf(q: Pb & { quantile: number; value: number }): { quantile: number; value: number } {
  checkFields(q);
  return { quantile: q.quantile, value: q.value };
}

function exemplarOf(e: PbExemplar): Exemplar {
  checkFields(e);
  const isInt = e.value === 'asInt';
  return {
    filteredAttributes: attributesOf(e.filteredAttributes, '/filteredAttributes/', 0),
    timeUnixNano: unsignedBigint(e.timeUnixNano),
    value: isInt ? signedNumber(e.asInt) : e.asDouble,
    valueType: isInt ? 'int' : e.value === 'asDouble' ? 'double' : 'empty',
    traceId: idOf(e.traceId, 16, true, '/traceId'),
    spanId: idOf(e.spanId, 8, true, '/spanId'),
  };
}

function spanOf(s: PbSpan): Span {
  checkFields(s);
  return {
    traceId: idOf(s.traceId, 16, false, '/traceId'),
    spanId: idOf(s.spanId, 8, false, '/spanId'),
    parentSpanId: idOf(s.parentSpanId, 8, true, '/parentSpanId'),
    traceState: s.traceState,
    name: s.name,
    kind: s.kind,
    startTimeUnixNano: unsignedBigint(s.startTimeUnixNano),
    endTimeUnixNano: unsignedBigint(s.endTimeUnixNano),
    attributes: attributesOf(s.attributes, '/attributes/', 0),
    droppedAttributesCount: s.droppedAttributesCount,
    events: listOf(s.events, eventOf, '/events/'),
    droppedEventsCount: s.droppedEventsCount,
    links: listOf(s.links, linkOf, '/links/'),
    droppedLinksCount: s.droppedLinksCount,
    status: inside('/status', statusOf, s.status),
    flags: s.flags,
  };
}

function statusOf(s: PbStatus | null): { code: number; message: string } {
  if (s === null) return { code: 0, message: '' };
  checkFields(s);
  return { code: s.code, message: s.message };
}

function eventOf(e: PbEvent): SpanEvent {
  checkFields(e);
  const attributes = attributesOf(e.attributes, '/attributes/', 0);
  return { timeUnixNano: unsignedBigint(e.timeUnixNano), name: e.name, attributes, droppedAttributesCount: e.droppedAttributesCount };
}

function linkOf(l: PbLink): SpanLink {
  checkFields(l);
  return {
    traceId: idOf(l.traceId, 16, false, '/traceId'),
    spanId: idOf(l.spanId, 8, false, '/spanId'),
    traceState: l.traceState,
    attributes: attributesOf(l.attributes, '/attributes/', 0),
    droppedAttributesCount: l.droppedAttributesCount,
    flags: l.flags,
  };
}

/** Attributes or a kvlist whose values sit at AnyValue level `depth + 1`. */
function attributesOf(list: PbKeyValue[], segment: string, depth: number): AttributeMap {
  const out: AttributeMap = {};
  for (let i = 0; i < list.length; i++) {
    const kv = list[i];
    let value: AttributeValue = null;
    try {
      checkFields(kv);
      if (kv.value !== null) value = inside('/value', anyValueOf, kv.value, depth + 1);
    } catch (error) {
      throw at(error, segment + i);
    }
    // A plain assignment to "__proto__" would replace the prototype instead of adding a key.
    if (kv.key === '__proto__') Object.defineProperty(out, kv.key, { value, enumerable: true, writable: true, configurable: true });
    else out[kv.key] = value;
  }
  return out;
}

function anyValueOf(v: PbAnyValue, depth: number): AttributeValue {
  if (depth > MAX_ANY_VALUE_DEPTH) throw new Issue('', `AnyValue nested deeper than ${MAX_ANY_VALUE_DEPTH} levels`);
  checkFields(v);
  switch (v.value) {
    case 'stringValue':
      return v.stringValue;
    case 'intValue':
      return signedBigint(v.intValue);
    case 'doubleValue':
      return v.doubleValue;
    case 'boolValue':
      return v.boolValue;
    case 'arrayValue': {
      const values = checked(v.arrayValue!).values;
      const out = new Array<AttributeValue>(values.length);
      for (let i = 0; i < values.length; i++) {
        try {
          out[i] = anyValueOf(values[i], depth + 1);
        } catch (error) {
          throw at(error, '/arrayValue/values/' + i);
        }
      }
      return out;
    }
    case 'kvlistValue':
      return attributesOf(checked(v.kvlistValue!).values, '/kvlistValue/values/', depth);
    case 'bytesValue':
      // A copy, so the model neither pins nor aliases the request body.
      return new Uint8Array(v.bytesValue);
    default:
      // Empty, or the profiling-only string_value_strindex, which other signals read as empty.
      return null;
  }
}

function idOf(id: Id, sizeBytes: number, optional: boolean, segment: string): string {
  const isHex = typeof id === 'string';
  if (id.length === (isHex ? sizeBytes * 2 : sizeBytes)) return isHex ? id : hex(id);
  if (id.length === 0 && optional) return '';
  throw new Issue(segment, `id is ${isHex ? id.length / 2 : id.length} bytes, expected ${sizeBytes}${optional ? ' or none' : ''}`);
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function hex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]];
  return out;
}

function unsignedNumber(v: Long): number {
  return (v.high >>> 0) * 4294967296 + (v.low >>> 0);
}

function signedNumber(v: Long): number {
  return v.high * 4294967296 + (v.low >>> 0);
}

function unsignedBigint(v: Long): bigint {
  return (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
}

function signedBigint(v: Long): bigint {
  return (BigInt(v.high | 0) << 32n) + BigInt(v.low >>> 0);
}

function countsOf(counts: Long[]): number[] {
  const out = new Array<number>(counts.length);
  for (let i = 0; i < counts.length; i++) out[i] = unsignedNumber(counts[i]);
  return out;
}

// The points of one export share their timestamps, so remembering the last conversion
// per field saves most BigInt work at load.
const startCache = { low: 0, high: 0, value: 0n };
const timeCache = { low: 0, high: 0, value: 0n };

function startTimeOf(v: Long): bigint {
  return cachedBigint(v, startCache);
}

function timeOf(v: Long): bigint {
  return cachedBigint(v, timeCache);
}

function cachedBigint(v: Long, cache: { low: number; high: number; value: bigint }): bigint {
  if (v.low !== cache.low || v.high !== cache.high) {
    cache.value = unsignedBigint(v);
    cache.low = v.low;
    cache.high = v.high;
  }
  return cache.value;
}
