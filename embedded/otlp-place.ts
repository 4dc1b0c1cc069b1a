/**
 * Receiver-side placement and value check for every instrument and temporality: each
 * decoded data point is placed at (metric, series slot, tick) of the run's space, or
 * explained as unexpected; a placed point is checked field by field against the model
 * (value, histogram counts/sum/min/max/buckets, exemplar ids and value, start time per
 * temporality, churn generation).
 *
 * Pure: {@link placeMetricsRequest} returns the placements, so a receiver can decide
 * faults (503, partial_success) on placed points before {@link commitPlacement} stores them.
 *
 * @see https://opentelemetry.io/docs/specs/otel/metrics/data-model/
 * @see core/instruments.ts for the model being checked
 */
import {
  exemplarAt, exemplarTimeUnixNano, exponentialShape, gaugeValue, generationAt, birthTickOf, histogramShape, seriesSlotOf,
  shapeFactor, startTickOf, sumValue, type MetricModel, type SeriesIdentity,
} from '../core/instruments.ts';
import type { SeriesLayout } from '../core/series.ts';
import { rootSpanIdsOf, runIdHexOf } from '../core/trace-model.ts';
import type { ObservationStore, PointMismatch, UnexpectedPoint } from '../reconcile/observations.ts';
import type {
  AttributeMap, Exemplar, ExponentialHistogramDataPoint, HistogramDataPoint, Metric, MetricsRequest, NumberDataPoint,
} from '../wire/otlp/codec.ts';

/** One metric of the space. */
export interface PlacementMetric {
  metricIndex: number;
  name: string;
  layout: SeriesLayout;
  model: MetricModel;
}

/** The run's series space as the receiver sees it. */
export interface PlacementSpace {
  runId: string;
  /** Run start, Unix ns. */
  startUnixNano: bigint;
  exportIntervalNs: bigint;
  ticks: number;
  metrics: PlacementMetric[];
}

/** A point placed in the space, with its first mismatch (undefined when it matched the model). */
export interface PlacedPoint {
  metricIndex: number;
  series: number;
  tick: number;
  mismatch: PointMismatch | undefined;
  /** Trace id of the point's first exemplar as received (32 hex), when it has one. */
  exemplarTraceId?: string;
}

/** What one request held. */
export interface Placement {
  placed: PlacedPoint[];
  unexpected: UnexpectedPoint[];
  /** Points whose resource named another run (`tally.run.id`). */
  foreignRunPoints: number;
}

/** Precomputed lookups of a space; build once per run with {@link placementIndex}. */
export interface PlacementIndex {
  space: PlacementSpace;
  byName: Map<string, PlacementMetric>;
  /** Trace id bytes 0–7 of the run ({@link runIdHexOf}), for exemplar ids. */
  runIdHex: string;
}

/** Index a space by metric name. */
export function placementIndex(space: PlacementSpace): PlacementIndex {
  return { space, byName: new Map(space.metrics.map((m) => [m.name, m])), runIdHex: runIdHexOf(space.runId) };
}

const KIND_OF = { counter: 'sum', 'up-down-counter': 'sum', gauge: 'gauge', histogram: 'histogram', 'exponential-histogram': 'exponentialHistogram' } as const;

/**
 * Place and check every data point of a decoded export request.
 * @returns placed points in request order, unexpected points, and the foreign-run count.
 */
export function placeMetricsRequest(index: PlacementIndex, request: MetricsRequest): Placement {
  const out: Placement = { placed: [], unexpected: [], foreignRunPoints: 0 };
  for (const rm of request.resourceMetrics) {
    const attrs = rm.resource.attributes;
    if (attrs['tally.run.id'] !== index.space.runId) {
      for (const sm of rm.scopeMetrics) for (const m of sm.metrics) out.foreignRunPoints += m.dataPoints.length;
      continue;
    }
    for (const sm of rm.scopeMetrics) for (const m of sm.metrics) placeMetric(index, m, out);
  }
  return out;
}

/**
 * Store placed points (and every unexpected one) in the observation store.
 * @param skip placed points to leave out (e.g. rejected by fault injection), by position.
 */
export function commitPlacement(store: ObservationStore, placement: Placement, skip?: (point: PlacedPoint, position: number) => boolean): void {
  placement.placed.forEach((p, i) => {
    if (skip !== undefined && skip(p, i)) return;
    store.record(p.metricIndex, p.series, p.tick, p.mismatch);
    if (p.exemplarTraceId !== undefined) store.recordExemplar(p.exemplarTraceId);
  });
  for (const u of placement.unexpected) store.addUnexpected(u);
  store.foreignRunPoints += placement.foreignRunPoints;
}

function unexpectedAll(out: Placement, m: Metric, reason: UnexpectedPoint['reason'], detail: string): void {
  for (let i = 0; i < m.dataPoints.length; i++) out.unexpected.push({ metric: m.name, reason, detail });
}

function placeMetric(index: PlacementIndex, m: Metric, out: Placement): void {
  const metric = index.byName.get(m.name);
  if (metric === undefined) return unexpectedAll(out, m, 'unknown_metric', 'not in the scenario');
  const model = metric.model;
  const kind = KIND_OF[model.instrument];
  if (m.kind !== kind || (m.kind === 'sum' && m.isMonotonic !== (model.instrument === 'counter'))) {
    const got = m.kind === 'sum' ? `sum (monotonic ${m.isMonotonic})` : m.kind;
    return unexpectedAll(out, m, 'wrong_instrument', `${got}, expected ${model.instrument}`);
  }
  if (m.kind !== 'gauge' && m.aggregationTemporality !== model.temporality) {
    return unexpectedAll(out, m, 'wrong_temporality', `${m.aggregationTemporality}, expected ${model.temporality}`);
  }
  const { space } = index;
  for (const p of m.dataPoints as (NumberDataPoint | HistogramDataPoint | ExponentialHistogramDataPoint)[]) {
    const where = seriesSlotOf(metric.layout, p.attributes, model.churn !== undefined);
    if (where === null) {
      out.unexpected.push({ metric: m.name, reason: 'foreign_attributes', detail: safeJson(p.attributes) });
      continue;
    }
    const sinceStartNs = p.timeUnixNano - space.startUnixNano;
    if (sinceStartNs % space.exportIntervalNs !== 0n) {
      out.unexpected.push({ metric: m.name, reason: 'off_tick', detail: `timeUnixNano ${p.timeUnixNano}` });
      continue;
    }
    const tick = Number(sinceStartNs / space.exportIntervalNs);
    if (tick < 1 || tick > space.ticks) {
      out.unexpected.push({ metric: m.name, reason: 'tick_out_of_range', detail: `tick ${tick}` });
      continue;
    }
    const { slot, generation } = where;
    const live = generationAt(model, slot, tick);
    if (generation !== live) {
      out.unexpected.push({ metric: m.name, reason: 'wrong_generation', detail: `slot ${slot} generation ${generation} at tick ${tick}, live generation ${live}` });
      continue;
    }
    const identity: SeriesIdentity = { slot, generation, birthTick: birthTickOf(model, slot, generation) };
    const startTick = startTickOf(model, identity.birthTick, tick);
    const expectedStart = space.startUnixNano + BigInt(startTick) * space.exportIntervalNs;
    if (p.startTimeUnixNano !== expectedStart) {
      out.unexpected.push({ metric: m.name, reason: 'bad_start_time', detail: `startTimeUnixNano ${p.startTimeUnixNano}, expected ${expectedStart} (tick ${startTick})` });
      continue;
    }
    const mismatch = checkValue(model, identity, tick, m.kind, p) ?? checkExemplars(index, model, identity, tick, p.exemplars);
    const placed: PlacedPoint = { metricIndex: metric.metricIndex, series: slot, tick, mismatch };
    if (p.exemplars.length > 0) placed.exemplarTraceId = p.exemplars[0].traceId;
    out.placed.push(placed);
  }
}

function checkValue(model: MetricModel, id: SeriesIdentity, tick: number, kind: Metric['kind'], p: NumberDataPoint | HistogramDataPoint | ExponentialHistogramDataPoint): PointMismatch | undefined {
  const j = tick - id.birthTick;
  if (kind === 'sum' || kind === 'gauge') {
    const n = p as NumberDataPoint;
    const isGauge = kind === 'gauge';
    const expected = isGauge ? gaugeValue(id.slot, tick) : sumValue(model, id.slot, id.generation, j);
    return differ('value', expected, n.value) ?? differ('valueType', isGauge ? 'double' : 'int', n.valueType);
  }
  const f = shapeFactor(model, j);
  if (kind === 'histogram') {
    const h = p as HistogramDataPoint;
    const s = histogramShape(model.seed, model.metricIndex, id.slot, id.generation, model.bucketValues);
    return differ('count', s.count * f, h.count) ?? differ('sum', s.sum * f, h.sum) ?? differ('min', s.min, h.min) ?? differ('max', s.max, h.max)
      ?? list('bucketCounts', s.bucketCounts.map((c) => c * f), h.bucketCounts) ?? list('explicitBounds', model.bounds, h.explicitBounds);
  }
  const e = p as ExponentialHistogramDataPoint;
  const s = exponentialShape(model.seed, model.metricIndex, id.slot, id.generation, model.scale, model.maxSize);
  return differ('count', s.count * f, e.count) ?? differ('sum', s.sum * f, e.sum) ?? differ('min', s.min, e.min) ?? differ('max', s.max, e.max)
    ?? differ('scale', s.scale, e.scale) ?? differ('zeroCount', s.zeroCount * f, e.zeroCount) ?? differ('positive.offset', s.offset, e.positive.offset)
    ?? list('positive.bucketCounts', s.bucketCounts.map((c) => c * f), e.positive.bucketCounts) ?? list('negative.bucketCounts', [], e.negative.bucketCounts);
}

function checkExemplars(index: PlacementIndex, model: MetricModel, id: SeriesIdentity, tick: number, exemplars: Exemplar[]): PointMismatch | undefined {
  const expected = exemplarAt(model, id, tick);
  const count = differ('exemplars.length', expected === null ? 0 : 1, exemplars.length);
  if (count !== undefined || expected === null) return count;
  const e = exemplars[0];
  const time = exemplarTimeUnixNano(index.space.startUnixNano, index.space.exportIntervalNs, tick);
  const ids = rootSpanIdsOf(index.runIdHex, expected.traceShard, expected.traceSequence);
  return differ('exemplars[0].timeUnixNano', String(time), String(e.timeUnixNano)) ?? differ('exemplars[0].value', expected.value, e.value)
    ?? differ('exemplars[0].traceId', ids.traceId, e.traceId) ?? differ('exemplars[0].spanId', ids.spanId, e.spanId);
}

function differ(field: string, expected: number | string, actual: number | string | undefined): PointMismatch | undefined {
  return expected === actual ? undefined : { field, expected, actual: actual ?? 'unset' };
}

function list(field: string, expected: number[], actual: number[]): PointMismatch | undefined {
  if (expected.length !== actual.length) return { field: `${field}.length`, expected: expected.length, actual: actual.length };
  for (let i = 0; i < expected.length; i++) if (expected[i] !== actual[i]) return { field: `${field}[${i}]`, expected: expected[i], actual: actual[i] };
  return undefined;
}

function safeJson(attributes: AttributeMap): string {
  return JSON.stringify(attributes, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v instanceof Uint8Array ? `<${v.length} bytes>` : v)).slice(0, 200);
}
