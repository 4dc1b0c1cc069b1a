/**
 * The reference encoder: one batch (a metric, a series range, a tick) of any instrument
 * and temporality built as the SDK's `ResourceMetrics` and serialized by the OFFICIAL
 * `@opentelemetry/otlp-transformer` serializers (protobuf and JSON). The fast path
 * (otlp-fast.ts) is proven equivalent to these bytes.
 *
 * Exemplars: the SDK's `MetricData` has no exemplars and the official serializers write
 * none, so the protobuf reference carries none. {@link encodeOfficial} adds them to the
 * JSON body after serialization (the official JSON object, extended); for protobuf with
 * exemplars the sender uses otlp-fast.ts, which writes them.
 *
 * @see https://github.com/open-telemetry/opentelemetry-js/tree/main/experimental/packages/otlp-transformer
 * @see https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding
 */
import { RUN_ID_ATTRIBUTE, SCOPE, SERVICE_NAME, SHARD_ATTRIBUTE } from '../core/telemetry-identity.ts';
import { ValueType } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { JsonMetricsSerializer, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { canonicalOtlpJson, canonicalOtlpJsonBody } from '../wire/otlp/json-canonical.ts';
import {
  exemplarAt, exemplarTimeUnixNano, exponentialShape, gaugeValue, GENERATION_ATTRIBUTE, histogramShape, identityAt,
  shapeFactor, startTickOf, sumValue, type MetricModel,
} from '../core/instruments.ts';
import { seriesAttributes, type SeriesLayout } from '../core/series.ts';
import { rootSpanIdsOf, runIdHexOf } from '../core/trace-model.ts';

/** Who sends a batch and the run's time base. */
export interface BatchIdentity {
  runId: string;
  shard: number;
  /** Run start, Unix ns. */
  startUnixNano: bigint;
  /** Export interval, ns. */
  intervalNs: bigint;
  /** Scenario `resource` attributes; `tally.run.id` and `tally.shard` are added (and win). */
  resource?: Record<string, string | number | boolean>;
}

/** One metric as a batch needs it. */
export interface BatchMetric {
  name: string;
  /** UCUM unit, `''` for none. */
  unit: string;
  layout: SeriesLayout;
  model: MetricModel;
}

/** An exemplar of one point, as encoded: ids in lowercase hex. */
export interface BatchExemplar {
  timeUnixNano: bigint;
  value: number;
  traceId: string;
  spanId: string;
}

/** A built batch: the SDK model for the official serializer, and the exemplar of each point. */
export interface OfficialBatch {
  resourceMetrics: ResourceMetrics;
  /** Per data point, in order; `null` for a point without one. */
  exemplars: (BatchExemplar | null)[];
}

type HrTime = [number, number];
const NS_PER_S = 1_000_000_000n;

/** Resource attributes of a batch, in the order both encoders write them. */
export function resourceAttributes(identity: BatchIdentity): Record<string, string | number | boolean> {
  return { 'service.name': SERVICE_NAME, ...identity.resource, [RUN_ID_ATTRIBUTE]: identity.runId, [SHARD_ATTRIBUTE]: identity.shard };
}

/** Instrumentation scope of every batch. */
export { SCOPE };

/** Attributes of a point: the slot's `<key>-<digit>` values, plus the generation when churned. */
export function pointAttributes(layout: SeriesLayout, model: MetricModel, slot: number, generation: number): Record<string, string> {
  const attributes = seriesAttributes(layout, slot);
  if (model.churn !== undefined) attributes[GENERATION_ATTRIBUTE] = String(generation);
  return attributes;
}

/**
 * Build series [seriesStart, seriesEnd) of a metric at tick k as the SDK's ResourceMetrics.
 * @param tick 1..ticks.
 */
export function buildOfficialBatch(identity: BatchIdentity, metric: BatchMetric, seriesStart: number, seriesEnd: number, tick: number): OfficialBatch {
  const { model, layout } = metric;
  const times = new Map<number, HrTime>();
  const timeOf = (t: number): HrTime => {
    let hr = times.get(t);
    if (hr === undefined) {
      const ns = identity.startUnixNano + BigInt(t) * identity.intervalNs;
      hr = [Number(ns / NS_PER_S), Number(ns % NS_PER_S)];
      times.set(t, hr);
    }
    return hr;
  };
  const runIdHex = runIdHexOf(identity.runId);
  const endTime = timeOf(tick);
  const dataPoints = [];
  const exemplars: (BatchExemplar | null)[] = [];
  for (let slot = seriesStart; slot < seriesEnd; slot++) {
    const id = identityAt(model, slot, tick);
    const j = tick - id.birthTick;
    dataPoints.push({
      startTime: timeOf(startTickOf(model, id.birthTick, tick)),
      endTime,
      attributes: pointAttributes(layout, model, slot, id.generation),
      value: pointValue(model, slot, id.generation, j, tick),
    });
    const e = exemplarAt(model, id, tick);
    exemplars.push(e === null ? null : {
      timeUnixNano: exemplarTimeUnixNano(identity.startUnixNano, identity.intervalNs, tick),
      value: e.value,
      ...rootSpanIdsOf(runIdHex, e.traceShard, e.traceSequence),
    });
  }
  const descriptor = { name: metric.name, description: '', unit: metric.unit, valueType: model.instrument === 'gauge' ? ValueType.DOUBLE : ValueType.INT };
  const aggregationTemporality = model.temporality === 'delta' ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE;
  // The casts only pick the MetricData variant; each dataPoints array holds that variant's values.
  let data: MetricData;
  switch (model.instrument) {
    case 'counter':
    case 'up-down-counter':
      data = { descriptor, aggregationTemporality, dataPointType: DataPointType.SUM, isMonotonic: model.instrument === 'counter', dataPoints } as MetricData;
      break;
    case 'gauge':
      data = { descriptor, aggregationTemporality, dataPointType: DataPointType.GAUGE, dataPoints } as MetricData;
      break;
    case 'histogram':
      data = { descriptor, aggregationTemporality, dataPointType: DataPointType.HISTOGRAM, dataPoints } as unknown as MetricData;
      break;
    case 'exponential-histogram':
      data = { descriptor, aggregationTemporality, dataPointType: DataPointType.EXPONENTIAL_HISTOGRAM, dataPoints } as unknown as MetricData;
      break;
  }
  return {
    resourceMetrics: { resource: resourceFromAttributes(resourceAttributes(identity)), scopeMetrics: [{ scope: { ...SCOPE }, metrics: [data] }] },
    exemplars,
  };
}

/** The SDK data point value of a point: a number for Sum/Gauge, the histogram object otherwise. */
function pointValue(model: MetricModel, slot: number, generation: number, j: number, tick: number): unknown {
  switch (model.instrument) {
    case 'counter':
    case 'up-down-counter':
      return sumValue(model, slot, generation, j);
    case 'gauge':
      return gaugeValue(slot, tick);
    case 'histogram': {
      const shape = histogramShape(model.seed, model.metricIndex, slot, generation, model.bucketValues);
      const f = shapeFactor(model, j);
      return { buckets: { boundaries: model.bounds, counts: shape.bucketCounts.map((c) => c * f) }, count: shape.count * f, sum: shape.sum * f, min: shape.min, max: shape.max };
    }
    case 'exponential-histogram': {
      const s = exponentialShape(model.seed, model.metricIndex, slot, generation, model.scale, model.maxSize);
      const f = shapeFactor(model, j);
      return {
        count: s.count * f, sum: s.sum * f, scale: s.scale, zeroCount: s.zeroCount * f, min: s.min, max: s.max,
        positive: { offset: s.offset, bucketCounts: s.bucketCounts.map((c) => c * f) }, negative: { offset: 0, bucketCounts: [] },
      };
    }
  }
}

/**
 * Serialize a built batch with the official serializer.
 * Protobuf: exactly `ProtobufMetricsSerializer.serializeRequest` (no exemplars, see the
 * module note). JSON: `JsonMetricsSerializer.serializeRequest`, with the exemplars added to
 * each data point as OTLP/JSON spells them (hex ids, decimal-string times) when any exist,
 * in the proto3 JSON mapping's form (default-valued fields left out: wire/otlp/json-canonical.ts).
 * @see https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding
 */
export function encodeOfficial(batch: OfficialBatch, format: 'protobuf' | 'json'): Uint8Array {
  if (format === 'protobuf') return ProtobufMetricsSerializer.serializeRequest(batch.resourceMetrics) ?? new Uint8Array();
  const body = JsonMetricsSerializer.serializeRequest(batch.resourceMetrics) ?? new Uint8Array();
  if (!batch.exemplars.some((e) => e !== null)) return canonicalOtlpJsonBody(body);
  const request = JSON.parse(Buffer.from(body).toString('utf8')) as JsonRequest;
  const metric = request.resourceMetrics[0].scopeMetrics[0].metrics[0];
  const data = metric.sum ?? metric.gauge ?? metric.histogram ?? metric.exponentialHistogram;
  data?.dataPoints.forEach((p, i) => {
    const e = batch.exemplars[i];
    if (e !== null) p.exemplars = [{ timeUnixNano: String(e.timeUnixNano), asDouble: e.value, spanId: e.spanId, traceId: e.traceId }];
  });
  return Buffer.from(JSON.stringify(canonicalOtlpJson(request)), 'utf8');
}

interface JsonData { dataPoints: Record<string, unknown>[] }
interface JsonRequest {
  resourceMetrics: { scopeMetrics: { metrics: { sum?: JsonData; gauge?: JsonData; histogram?: JsonData; exponentialHistogram?: JsonData }[] }[] }[];
}
