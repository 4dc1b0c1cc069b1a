/**
 * OTLP codec for tally's embedded receiver and for tests: decodes OTLP/HTTP bodies
 * (protobuf and JSON) and OTLP/gRPC messages into one normalised, plain structure, and
 * encodes export responses and `google.rpc.Status` error replies.
 *
 * Decoding is strict about malformed input (a {@link CollectorError} with code
 * `TALLY_OTLP_DECODE` and `details.pointer`) and lenient about what the spec lets a
 * receiver ignore (unknown fields, unknown enum numbers). It runs in two stages: wire.ts
 * reads either format into protobufjs-shaped messages using the .proto files under
 * `proto/`, and normalise.ts maps those to the model below, so the formats cannot drift.
 *
 * @see https://opentelemetry.io/docs/specs/otlp/
 */
import { CollectorError, InternalError } from '../../core/errors.ts';
import { normaliseMetrics, normaliseTrace, type PbMetricsRequest, type PbTraceRequest } from './normalise.ts';
import { otlpTypes, readJson, readProtobuf } from './messages.ts';

export { otlpRoot, otlpTypes, OTLP_GRPC_METRICS_EXPORT_PATH, OTLP_GRPC_TRACE_EXPORT_PATH } from './messages.ts';

// ---------------------------------------------------------------------------------------
// Normalised model
// ---------------------------------------------------------------------------------------

/**
 * An attribute value (OTLP `AnyValue`), normalised:
 * `stringValue` → string, `boolValue` → boolean, `intValue` → bigint (exact int64, and
 * distinct from a double), `doubleValue` → number, `bytesValue` → Uint8Array (a copy),
 * `arrayValue` → array, `kvlistValue` → {@link AttributeMap}, an empty AnyValue → null.
 * A profiling-only `string_value_strindex` is read as empty (null), as the spec tells
 * non-profiling receivers to do.
 * @see opentelemetry/proto/common/v1/common.proto AnyValue
 */
export type AttributeValue = string | boolean | bigint | number | Uint8Array | null | AttributeValue[] | AttributeMap;

/**
 * Attributes (`repeated KeyValue`, or a `KeyValueList`) as a plain object keyed by
 * attribute key. Keys are unique per the spec; if a sender repeats one, the last wins.
 */
export interface AttributeMap {
  [key: string]: AttributeValue;
}

/** A resource: its attributes and how many the sender dropped. @see resource.proto Resource */
export interface Resource {
  attributes: AttributeMap;
  droppedAttributesCount: number;
}

/** An instrumentation scope; `''` name and version when the sender left them unset. @see common.proto InstrumentationScope */
export interface InstrumentationScope {
  name: string;
  version: string;
  attributes: AttributeMap;
  droppedAttributesCount: number;
}

/** A decoded `ExportMetricsServiceRequest`. @see metrics_service.proto */
export interface MetricsRequest {
  resourceMetrics: ResourceMetrics[];
}

/** Metrics from one resource. `schemaUrl` applies to the resource only. */
export interface ResourceMetrics {
  resource: Resource;
  schemaUrl: string;
  scopeMetrics: ScopeMetrics[];
}

/** Metrics from one instrumentation scope. */
export interface ScopeMetrics {
  scope: InstrumentationScope;
  schemaUrl: string;
  metrics: Metric[];
}

/** `AggregationTemporality`; an unknown enum number reads as `'unspecified'`. */
export type Temporality = 'delta' | 'cumulative' | 'unspecified';

/** Fields every metric kind shares. `metadata` is the Metric's `metadata` attributes. */
export interface MetricBase {
  name: string;
  description: string;
  /** UCUM unit string as sent, e.g. `ms`, `{request}`. */
  unit: string;
  metadata: AttributeMap;
}

/** A `Sum` metric. */
export interface SumMetric extends MetricBase {
  kind: 'sum';
  aggregationTemporality: Temporality;
  isMonotonic: boolean;
  dataPoints: NumberDataPoint[];
}

/** A `Gauge` metric (no temporality). */
export interface GaugeMetric extends MetricBase {
  kind: 'gauge';
  dataPoints: NumberDataPoint[];
}

/** An explicit-bucket `Histogram` metric. */
export interface HistogramMetric extends MetricBase {
  kind: 'histogram';
  aggregationTemporality: Temporality;
  dataPoints: HistogramDataPoint[];
}

/** A base-2 `ExponentialHistogram` metric. */
export interface ExponentialHistogramMetric extends MetricBase {
  kind: 'exponentialHistogram';
  aggregationTemporality: Temporality;
  dataPoints: ExponentialHistogramDataPoint[];
}

/** A `Summary` metric (no temporality). */
export interface SummaryMetric extends MetricBase {
  kind: 'summary';
  dataPoints: SummaryDataPoint[];
}

/** A metric whose `data` oneof the sender left unset: kept as data, never an error. */
export interface EmptyMetric extends MetricBase {
  kind: 'empty';
  dataPoints: never[];
}

/** One metric, discriminated by `kind`. @see metrics.proto Metric */
export type Metric = SumMetric | GaugeMetric | HistogramMetric | ExponentialHistogramMetric | SummaryMetric | EmptyMetric;

/** Which member of a `value` oneof was set; `'empty'` when neither was (value reads 0). */
export type NumberValueType = 'double' | 'int' | 'empty';

/** Fields every data point shares. Times are nanoseconds since the UNIX epoch. */
export interface DataPointBase {
  attributes: AttributeMap;
  startTimeUnixNano: bigint;
  timeUnixNano: bigint;
  /** `DataPointFlags` bit field; bit 0 = no recorded value. */
  flags: number;
}

/**
 * A Gauge or Sum point. `value` is a number for both `as_double` and `as_int`
 * (`valueType` says which); an `as_int` beyond ±2^53 is rounded to the nearest double.
 * @see metrics.proto NumberDataPoint
 */
export interface NumberDataPoint extends DataPointBase {
  value: number;
  valueType: NumberValueType;
  exemplars: Exemplar[];
}

/**
 * An explicit-bucket histogram point. `sum`, `min` and `max` are undefined when unset;
 * counts above 2^53 are rounded.
 * @see metrics.proto HistogramDataPoint
 */
export interface HistogramDataPoint extends DataPointBase {
  count: number;
  sum: number | undefined;
  min: number | undefined;
  max: number | undefined;
  /** One more count than `explicitBounds`, when set. */
  bucketCounts: number[];
  /** Upper-inclusive bucket bounds, in the metric's unit. */
  explicitBounds: number[];
  exemplars: Exemplar[];
}

/** A run of exponential buckets starting at bucket index `offset`. */
export interface ExponentialBuckets {
  offset: number;
  bucketCounts: number[];
}

/** A base-2 exponential histogram point. @see metrics.proto ExponentialHistogramDataPoint */
export interface ExponentialHistogramDataPoint extends DataPointBase {
  count: number;
  sum: number | undefined;
  min: number | undefined;
  max: number | undefined;
  scale: number;
  zeroCount: number;
  /** Width of the zero bucket, in the metric's unit. */
  zeroThreshold: number;
  positive: ExponentialBuckets;
  negative: ExponentialBuckets;
  exemplars: Exemplar[];
}

/** A summary point. @see metrics.proto SummaryDataPoint */
export interface SummaryDataPoint extends DataPointBase {
  count: number;
  sum: number;
  /** `quantile` in [0, 1]. */
  quantileValues: { quantile: number; value: number }[];
}

/**
 * An exemplar. `traceId` is 32 lowercase hex chars and `spanId` 16, or `''` when unset.
 * @see metrics.proto Exemplar
 */
export interface Exemplar {
  filteredAttributes: AttributeMap;
  timeUnixNano: bigint;
  value: number;
  valueType: NumberValueType;
  traceId: string;
  spanId: string;
}

/** A decoded `ExportTraceServiceRequest`. @see trace_service.proto */
export interface TraceRequest {
  resourceSpans: ResourceSpans[];
}

/** Spans from one resource. */
export interface ResourceSpans {
  resource: Resource;
  schemaUrl: string;
  scopeSpans: ScopeSpans[];
}

/** Spans from one instrumentation scope. */
export interface ScopeSpans {
  scope: InstrumentationScope;
  schemaUrl: string;
  spans: Span[];
}

/**
 * A span. Ids are lowercase hex: `traceId` 32 chars, `spanId` 16, `parentSpanId` 16 or
 * `''` for a root span. `kind` is the `SpanKind` number (0 unspecified, 1 internal,
 * 2 server, 3 client, 4 producer, 5 consumer); `status.code` the `StatusCode` number
 * (0 unset, 1 ok, 2 error). `flags` is the `SpanFlags` bit field (bits 0-7 W3C trace
 * flags, 0x100 has-is-remote, 0x200 is-remote). Times are ns since the UNIX epoch.
 * @see trace.proto Span
 */
export interface Span {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  traceState: string;
  name: string;
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: AttributeMap;
  droppedAttributesCount: number;
  events: SpanEvent[];
  droppedEventsCount: number;
  links: SpanLink[];
  droppedLinksCount: number;
  status: { code: number; message: string };
  flags: number;
}

/** A span event. @see trace.proto Span.Event */
export interface SpanEvent {
  timeUnixNano: bigint;
  name: string;
  attributes: AttributeMap;
  droppedAttributesCount: number;
}

/** A span link; ids as in {@link Span}. @see trace.proto Span.Link */
export interface SpanLink {
  traceId: string;
  spanId: string;
  traceState: string;
  attributes: AttributeMap;
  droppedAttributesCount: number;
  flags: number;
}

// ---------------------------------------------------------------------------------------
// API
// ---------------------------------------------------------------------------------------

/** Body encoding: `protobuf` (OTLP/HTTP `application/x-protobuf` and gRPC) or `json`. */
export type OtlpFormat = 'protobuf' | 'json';

/** Decode options. */
export interface DecodeOptions {
  /** Largest body accepted, in bytes, after any content decoding. Default {@link DEFAULT_MAX_BODY_BYTES}. */
  maxBodyBytes?: number;
}

/** Default body limit for decoding: 16 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

/**
 * Decode an `ExportMetricsServiceRequest` body into a {@link MetricsRequest}.
 * @param body the request body (already decompressed), or a gRPC message.
 * @throws CollectorError `TALLY_OTLP_DECODE` with `details.pointer` (a JSON pointer into a
 *   JSON body, or a field path such as `/resourceMetrics/0/scopeMetrics/0/metrics/3/sum/dataPoints/7`
 *   for protobuf; `''` for the whole body) when the body is too large, truncated, of the
 *   wrong wire or JSON type, nests AnyValues deeper than 32, or carries a malformed id.
 * @see https://opentelemetry.io/docs/specs/otlp/#otlphttp-request
 */
export function decodeMetricsRequest(body: Uint8Array, format: OtlpFormat, options: DecodeOptions = {}): MetricsRequest {
  checkBodySize(body, options);
  const type = otlpTypes.ExportMetricsServiceRequest;
  const message = format === 'json' ? readJson<PbMetricsRequest>(body, type) : readProtobuf<PbMetricsRequest>(body, type);
  return normaliseMetrics(message, format);
}

/**
 * Decode an `ExportTraceServiceRequest` body into a {@link TraceRequest}.
 * @throws CollectorError `TALLY_OTLP_DECODE` as for {@link decodeMetricsRequest}; span and
 *   link ids must be exactly 16/8 bytes (32/16 hex chars), a parent span id 0 or 8 bytes.
 * @see https://opentelemetry.io/docs/specs/otlp/#otlphttp-request
 */
export function decodeTraceRequest(body: Uint8Array, format: OtlpFormat, options: DecodeOptions = {}): TraceRequest {
  checkBodySize(body, options);
  const type = otlpTypes.ExportTraceServiceRequest;
  const message = format === 'json' ? readJson<PbTraceRequest>(body, type) : readProtobuf<PbTraceRequest>(body, type);
  return normaliseTrace(message, format);
}

/** Metrics `partial_success`: data points rejected (a count) and why. */
export interface MetricsPartialSuccess {
  rejectedDataPoints: number;
  errorMessage: string;
}

/** Trace `partial_success`: spans rejected (a count) and why. */
export interface TracePartialSuccess {
  rejectedSpans: number;
  errorMessage: string;
}

/**
 * Encode an `ExportMetricsServiceResponse`. `partial_success` is omitted when `partial`
 * is undefined or has no rejections and no message (full success: an empty protobuf
 * body, or `{}` in JSON). In JSON, `rejectedDataPoints` is an int64 decimal string.
 * @throws InternalError `TALLY_INTERNAL` when the count is not a non-negative safe integer.
 * @see https://opentelemetry.io/docs/specs/otlp/#partial-success-1
 */
export function encodeMetricsResponse(partial: MetricsPartialSuccess | undefined, format: OtlpFormat): Uint8Array {
  const body = partialBody(partial?.rejectedDataPoints ?? 0, partial?.errorMessage ?? '', 'rejectedDataPoints');
  return encode(otlpTypes.ExportMetricsServiceResponse, body, format);
}

/**
 * Encode an `ExportTraceServiceResponse`; see {@link encodeMetricsResponse}.
 * @throws InternalError `TALLY_INTERNAL` when the count is not a non-negative safe integer.
 * @see https://opentelemetry.io/docs/specs/otlp/#partial-success-1
 */
export function encodeTraceResponse(partial: TracePartialSuccess | undefined, format: OtlpFormat): Uint8Array {
  const body = partialBody(partial?.rejectedSpans ?? 0, partial?.errorMessage ?? '', 'rejectedSpans');
  return encode(otlpTypes.ExportTraceServiceResponse, body, format);
}

/** A `google.rpc.Status`: a `google.rpc.Code` number and a developer-facing message. */
export interface RpcStatus {
  code: number;
  message: string;
}

/**
 * Encode a `google.rpc.Status` for an OTLP/HTTP error reply (4xx/5xx body), in the
 * request's format. `details` is left empty.
 * @see https://opentelemetry.io/docs/specs/otlp/#failures-1
 */
export function encodeStatus(status: RpcStatus, format: OtlpFormat): Uint8Array {
  const body: Record<string, unknown> = {};
  if (status.code !== 0) body.code = status.code;
  if (status.message !== '') body.message = status.message;
  return encode(otlpTypes.Status, body, format);
}

function partialBody(rejected: number, errorMessage: string, countField: string): Record<string, unknown> {
  if (!Number.isSafeInteger(rejected) || rejected < 0) {
    throw new InternalError(`${countField} must be a non-negative safe integer, got ${rejected}`);
  }
  if (rejected === 0 && errorMessage === '') return {};
  const partial: Record<string, unknown> = {};
  // proto3 JSON spells int64 as a decimal string; protobufjs takes the same for protobuf.
  if (rejected !== 0) partial[countField] = String(rejected);
  if (errorMessage !== '') partial.errorMessage = errorMessage;
  return { partialSuccess: partial };
}

const textEncoder = new TextEncoder();

function encode(type: (typeof otlpTypes)[keyof typeof otlpTypes], body: Record<string, unknown>, format: OtlpFormat): Uint8Array {
  if (format === 'json') return textEncoder.encode(JSON.stringify(body));
  return type.encode(type.fromObject(body)).finish();
}

function checkBodySize(body: Uint8Array, options: DecodeOptions): void {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (body.byteLength > maxBodyBytes) {
    throw new CollectorError(`OTLP body is ${body.byteLength} bytes, over the ${maxBodyBytes}-byte limit`, {
      code: 'TALLY_OTLP_DECODE',
      details: { pointer: '', sizeBytes: body.byteLength, maxBodyBytes },
    });
  }
}
