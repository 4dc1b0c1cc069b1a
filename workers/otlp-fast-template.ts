/**
 * Builds the template of one fast-path batch (see otlp-fast.ts): the full
 * ExportMetricsServiceRequest of a tick, written with otlp-fast-writer.ts, plus the
 * offsets of every fixed-width field the patcher rewrites and the per-identity constants
 * it multiplies.
 *
 * Layout choices (all are valid encodings of the same messages; field order is free in
 * protobuf): in every data point the fixed-width fields come first, in the same order,
 * so their offsets relative to the point body are one set for the whole batch; then the
 * exemplar (fixed 46 bytes), then variable-width fields (scale, positive buckets,
 * attributes). Metric, scope and resource fields follow the official serializer.
 *
 * @see opentelemetry/proto/metrics/v1/metrics.proto
 * @see opentelemetry/proto/collector/metrics/v1/metrics_service.proto
 */
import { InternalError } from '../core/errors.ts';
import {
  exemplarAt, exponentialShape, gaugeValue, histogramShape, identityAt, shapeFactor, startTickOf, sumValue, counterIncrementOf,
  upDownDrift, type MetricModel,
} from '../core/instruments.ts';
import { rootSpanIdsOf, runIdHexOf, runIdWords } from '../core/trace-model.ts';
import { pointAttributes, resourceAttributes, SCOPE, type BatchIdentity, type BatchMetric } from './otlp-build.ts';
import { ProtoWriter, varintSize, WIRE_I64, WIRE_LEN, WIRE_VARINT } from './otlp-fast-writer.ts';

/** Offsets of the fixed-width fields relative to a data point's body; −1 when absent. */
export interface RelativeOffsets {
  start: number;
  time: number;
  /** Sum as_int or gauge as_double. */
  value: number;
  count: number;
  sum: number;
  zeroCount: number;
  /** First explicit bucket count (packed fixed64). */
  buckets: number;
}

/** A built template and what the patcher needs. Absolute offsets index `buffer`. */
export interface Template {
  buffer: Buffer;
  view: DataView;
  /** Absolute offset of each data point's body. */
  bodies: Int32Array;
  births: Int32Array;
  generations: Int32Array;
  rel: RelativeOffsets;
  /** Counter inc, up-down drift, or a histogram's per-tick count, per point. */
  perTick: Float64Array;
  perTickSum: Float64Array;
  perTickZero: Float64Array;
  /** Per point, `bucketCount` per-tick bucket counts. */
  perTickBuckets: Float64Array;
  bucketCount: number;
  /** Exponential: absolute offset of each point's first padded bucket count. */
  bucketsAt: Int32Array;
  /** Absolute offset of each point's exemplar body, −1 for none; undefined when the batch has none. */
  exemplarAt: Int32Array | undefined;
  run: { high: number; low: number };
}

/** Width of a cumulative exponential bucket count: 5-byte varints hold counts below 2^35. */
export const PADDED_COUNT_BYTES = 5;
/** Bytes of an encoded Exemplar body (time, as_double, span_id, trace_id). */
export const EXEMPLAR_BYTES = 46;

/** Low and high 32-bit words of `start + tick · interval − minusNs` (Unix ns); one BigInt step per call, so once per tick. */
export function timeWords(identity: BatchIdentity, tick: number, minusNs = 0n): [number, number] {
  const ns = identity.startUnixNano + BigInt(tick) * identity.intervalNs - minusNs;
  return [Number(ns & 0xffff_ffffn), Number(ns >> 32n)];
}

function int64Words(value: number): [number, number] {
  return [value >>> 0, Math.floor(value / 0x1_0000_0000) >>> 0];
}

/**
 * Encode series [seriesStart, seriesEnd) of a metric at tick k as a template.
 * @throws InternalError `TALLY_INTERNAL` if two points' fixed fields landed at different
 *   relative offsets (a bug in this writer).
 */
export function buildTemplate(identity: BatchIdentity, metric: BatchMetric, seriesStart: number, seriesEnd: number, tick: number): Template {
  const model = metric.model;
  const n = seriesEnd - seriesStart;
  const runIdHex = runIdHexOf(identity.runId);
  const run = runIdWords(runIdHex);
  const exponential = model.instrument === 'exponential-histogram';
  const bucketCount = model.instrument === 'histogram' ? model.bucketValues.length : exponential ? model.maxSize : 0;
  const t: Template = {
    buffer: Buffer.alloc(0), view: new DataView(new ArrayBuffer(0)), bodies: new Int32Array(n), births: new Int32Array(n),
    generations: new Int32Array(n), rel: { start: -1, time: -1, value: -1, count: -1, sum: -1, zeroCount: -1, buckets: -1 },
    perTick: new Float64Array(n), perTickSum: new Float64Array(n), perTickZero: new Float64Array(n),
    perTickBuckets: new Float64Array(n * bucketCount), bucketCount, bucketsAt: new Int32Array(exponential ? n : 0),
    exemplarAt: model.exemplarRatio > 0 ? new Int32Array(n).fill(-1) : undefined, run,
  };
  const points = new ProtoWriter(n * 96 + 64);
  const timeNow = timeWords(identity, tick);
  for (let i = 0; i < n; i++) {
    const slot = seriesStart + i;
    const id = identityAt(model, slot, tick);
    t.births[i] = id.birthTick;
    t.generations[i] = id.generation;
    const body = new ProtoWriter(128);
    const rel: RelativeOffsets = { start: -1, time: -1, value: -1, count: -1, sum: -1, zeroCount: -1, buckets: -1 };
    body.tag(2, WIRE_I64);
    const [sl, sh] = timeWords(identity, startTickOf(model, id.birthTick, tick));
    rel.start = body.fixed64(sl, sh);
    body.tag(3, WIRE_I64);
    rel.time = body.fixed64(timeNow[0], timeNow[1]);
    const inner = writeValueFields(body, model, t, i, slot, id.generation, tick - id.birthTick, tick, rel);
    let exemplarRel = -1;
    const e = exemplarAt(model, id, tick);
    if (e !== null) {
      body.tag(model.instrument === 'histogram' ? 8 : exponential ? 11 : 5, WIRE_LEN);
      body.varint(EXEMPLAR_BYTES);
      exemplarRel = body.pos;
      const [el, eh] = timeWords(identity, tick, identity.intervalNs / 2n);
      body.tag(2, WIRE_I64);
      body.fixed64(el, eh);
      body.tag(3, WIRE_I64);
      body.double(e.value);
      const ids = rootSpanIdsOf(runIdHex, e.traceShard, e.traceSequence);
      body.tag(4, WIRE_LEN);
      body.bytesField(Buffer.from(ids.spanId, 'hex'));
      body.tag(5, WIRE_LEN);
      body.bytesField(Buffer.from(ids.traceId, 'hex'));
    }
    const bucketsRel = inner(body);
    body.attributes(model.instrument === 'histogram' ? 9 : exponential ? 1 : 7, pointAttributes(metric.layout, model, slot, id.generation));
    if (i === 0) t.rel = rel;
    else if (!sameOffsets(t.rel, rel)) throw new InternalError('fast-path template: fixed fields moved between data points', { details: { first: t.rel, point: i, rel } });
    points.tag(1, WIRE_LEN);
    const at = points.bytesField(body.bytes());
    t.bodies[i] = at;
    if (exponential) t.bucketsAt[i] = at + bucketsRel;
    if (t.exemplarAt !== undefined && exemplarRel >= 0) t.exemplarAt[i] = at + exemplarRel;
  }
  writeDataTrailer(points, model);
  const request = wrapRequest(identity, metric, points.bytes());
  const dataStart = request.length - points.pos;
  for (let i = 0; i < n; i++) {
    t.bodies[i] += dataStart;
    if (exponential) t.bucketsAt[i] += dataStart;
    if (t.exemplarAt !== undefined && t.exemplarAt[i] >= 0) t.exemplarAt[i] += dataStart;
  }
  t.buffer = request;
  t.view = new DataView(request.buffer, request.byteOffset, request.byteLength);
  return t;
}

/**
 * Write a point's value fields (fixed-width first) and return a writer for its trailing
 * variable-width fields (after the exemplar), which returns the offset of the first
 * exponential bucket count relative to the body (or −1).
 */
function writeValueFields(
  body: ProtoWriter, model: MetricModel, t: Template, i: number, slot: number, generation: number, j: number, tick: number, rel: RelativeOffsets,
): (w: ProtoWriter) => number {
  const none = (): number => -1;
  switch (model.instrument) {
    case 'counter':
    case 'up-down-counter': {
      t.perTick[i] = model.instrument === 'counter' ? counterIncrementOf(model, slot, generation) : upDownDrift(model, slot, generation);
      body.tag(6, WIRE_I64);
      const [lo, hi] = int64Words(sumValue(model, slot, generation, j));
      rel.value = body.fixed64(lo, hi);
      return none;
    }
    case 'gauge':
      body.tag(4, WIRE_I64);
      rel.value = body.double(gaugeValue(slot, tick));
      return none;
    case 'histogram': {
      const s = histogramShape(model.seed, model.metricIndex, slot, generation, model.bucketValues);
      const f = shapeFactor(model, j);
      t.perTick[i] = s.count;
      t.perTickSum[i] = s.sum;
      t.perTickBuckets.set(s.bucketCounts, i * t.bucketCount);
      body.tag(4, WIRE_I64);
      rel.count = body.fixed64(...int64Words(s.count * f));
      body.tag(5, WIRE_I64);
      rel.sum = body.double(s.sum * f);
      body.tag(6, WIRE_LEN).varint(8 * s.bucketCounts.length);
      rel.buckets = body.pos;
      for (const c of s.bucketCounts) body.fixed64(...int64Words(c * f));
      body.tag(7, WIRE_LEN).varint(8 * model.bounds.length);
      for (const b of model.bounds) body.double(b);
      body.tag(11, WIRE_I64);
      body.double(s.min);
      body.tag(12, WIRE_I64);
      body.double(s.max);
      return none;
    }
    case 'exponential-histogram': {
      const s = exponentialShape(model.seed, model.metricIndex, slot, generation, model.scale, model.maxSize);
      const f = shapeFactor(model, j);
      t.perTick[i] = s.count;
      t.perTickSum[i] = s.sum;
      t.perTickZero[i] = s.zeroCount;
      t.perTickBuckets.set(s.bucketCounts, i * t.bucketCount);
      body.tag(4, WIRE_I64);
      rel.count = body.fixed64(...int64Words(s.count * f));
      body.tag(5, WIRE_I64);
      rel.sum = body.double(s.sum * f);
      body.tag(7, WIRE_I64);
      rel.zeroCount = body.fixed64(...int64Words(s.zeroCount * f));
      body.tag(12, WIRE_I64);
      body.double(s.min);
      body.tag(13, WIRE_I64);
      body.double(s.max);
      const padded = model.temporality === 'cumulative';
      return (w) => {
        if (s.scale !== 0) w.tag(6, WIRE_VARINT).sint32(s.scale);
        const positive = new ProtoWriter(16 + 5 * s.bucketCounts.length);
        if (s.offset !== 0) positive.tag(1, WIRE_VARINT).sint32(s.offset);
        const countsLength = padded ? PADDED_COUNT_BYTES * s.bucketCounts.length : s.bucketCounts.reduce((a, c) => a + varintSize(c * f), 0);
        positive.tag(2, WIRE_LEN).varint(countsLength);
        const countsRel = positive.pos;
        for (const c of s.bucketCounts) {
          if (padded) positive.paddedVarint(c * f, PADDED_COUNT_BYTES);
          else positive.varint(c * f);
        }
        const at = w.message(8, positive.bytes());
        w.message(9, new Uint8Array(0));
        return at + countsRel;
      };
    }
  }
}

/** The fields after the data points of Sum (temporality, is_monotonic), Histogram and ExponentialHistogram (temporality). */
function writeDataTrailer(w: ProtoWriter, model: MetricModel): void {
  if (model.instrument === 'gauge') return;
  w.tag(2, WIRE_VARINT).varint(model.temporality === 'delta' ? 1 : 2);
  if (model.instrument === 'counter') w.tag(3, WIRE_VARINT).varint(1);
}

/** Metric → ScopeMetrics → ResourceMetrics → ExportMetricsServiceRequest around a data message body. */
function wrapRequest(identity: BatchIdentity, metric: BatchMetric, data: Uint8Array): Buffer {
  const dataField = { counter: 7, 'up-down-counter': 7, gauge: 5, histogram: 9, 'exponential-histogram': 10 }[metric.model.instrument];
  const m = new ProtoWriter(data.length + 128);
  m.tag(1, WIRE_LEN).string(metric.name);
  if (metric.unit !== '') m.tag(3, WIRE_LEN).string(metric.unit);
  m.message(dataField, data);
  const scope = new ProtoWriter(32);
  scope.tag(1, WIRE_LEN).string(SCOPE.name);
  scope.tag(2, WIRE_LEN).string(SCOPE.version);
  const sm = new ProtoWriter(m.pos + 64);
  sm.message(1, scope.bytes());
  sm.message(2, m.bytes());
  const resource = new ProtoWriter(128);
  resource.attributes(1, resourceAttributes(identity));
  resource.tag(2, WIRE_VARINT).varint(0);
  const rm = new ProtoWriter(sm.pos + 256);
  rm.message(1, resource.bytes());
  rm.message(2, sm.bytes());
  const request = new ProtoWriter(rm.pos + 8);
  request.message(1, rm.bytes());
  return Buffer.from(request.bytes());
}

function sameOffsets(a: RelativeOffsets, b: RelativeOffsets): boolean {
  return a.start === b.start && a.time === b.time && a.value === b.value && a.count === b.count && a.sum === b.sum && a.zeroCount === b.zeroCount && a.buckets === b.buckets;
}
