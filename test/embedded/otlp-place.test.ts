/**
 * Receiver-side placement: bytes from the fast path and from the official JSON
 * serializer decode and place with no mismatch for every instrument × temporality (with
 * churn and exemplars); each kind of tampering is caught with its reason or field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commitPlacement, placeMetricsRequest, placementIndex, type PlacementSpace } from '../../embedded/otlp-place.ts';
import { decodeMetricsRequest, type MetricsRequest, type NumberDataPoint, type HistogramDataPoint } from '../../wire/otlp/codec.ts';
import { generationAt, metricModel, type InstrumentOptions } from '../../core/instruments.ts';
import { seriesLayout } from '../../core/series.ts';
import { ObservationStore } from '../../reconcile/observations.ts';
import { buildOfficialBatch, encodeOfficial, type BatchIdentity, type BatchMetric } from '../../workers/otlp-build.ts';
import { FastMetricBatch } from '../../workers/otlp-fast.ts';

const SEED = 11;
const TICKS = 8;
const identity: BatchIdentity = { runId: 'place-run', shard: 1, startUnixNano: 1_700_000_000_000_000_000n, intervalNs: 1_000_000_000n };

const OPTIONS: InstrumentOptions[] = [
  { instrument: 'counter', temporality: 'cumulative', churn: { ratio: 0.25, everyTicks: 3 }, exemplars: { ratio: 0.5 } },
  { instrument: 'counter', temporality: 'delta' },
  { instrument: 'up-down-counter', temporality: 'cumulative', exemplars: { ratio: 1 } },
  { instrument: 'up-down-counter', temporality: 'delta', churn: { ratio: 0.5, everyTicks: 2 } },
  { instrument: 'gauge', exemplars: { ratio: 0.3 } },
  { instrument: 'histogram', temporality: 'cumulative', buckets: [1, 10, 100] },
  { instrument: 'histogram', temporality: 'delta', churn: { ratio: 0.2, everyTicks: 4 }, exemplars: { ratio: 0.5 } },
  { instrument: 'exponential-histogram', temporality: 'cumulative', scale: 3 },
  { instrument: 'exponential-histogram', temporality: 'delta', maxSize: 4, exemplars: { ratio: 0.5 } },
];

function metrics(): BatchMetric[] {
  return OPTIONS.map((o, i) => {
    const layout = seriesLayout({ route: 4, code: 5 });
    return { name: `m${i}.${o.instrument}`, unit: '1', layout, model: metricModel(SEED, i, layout.seriesCount, o) };
  });
}

function space(ms: BatchMetric[]): PlacementSpace {
  return {
    runId: identity.runId, startUnixNano: identity.startUnixNano, exportIntervalNs: identity.intervalNs, ticks: TICKS,
    metrics: ms.map((m, i) => ({ metricIndex: i, name: m.name, layout: m.layout, model: m.model })),
  };
}

test('every point of every instrument × temporality places with no mismatch, from the fast path and from official JSON', () => {
  const ms = metrics();
  const index = placementIndex(space(ms));
  const store = new ObservationStore(ms.map((m) => m.layout.seriesCount), TICKS);
  ms.forEach((m) => {
    const fast = new FastMetricBatch(identity, m, 0, 20);
    for (let tick = 1; tick <= TICKS; tick++) {
      for (const body of [{ bytes: fast.encode(tick), format: 'protobuf' as const }, { bytes: encodeOfficial(buildOfficialBatch(identity, m, 0, 20, tick), 'json'), format: 'json' as const }]) {
        const placement = placeMetricsRequest(index, decodeMetricsRequest(body.bytes, body.format));
        assert.deepEqual(placement.unexpected, [], `${m.name} tick ${tick} ${body.format}`);
        assert.equal(placement.placed.length, 20);
        assert.deepEqual(placement.placed.filter((p) => p.mismatch !== undefined), [], `${m.name} tick ${tick} ${body.format}`);
        commitPlacement(store, placement);
      }
    }
  });
  assert.equal(store.valueMismatchCount, 0);
  assert.equal(store.unexpectedCount, 0);
  for (let metric = 0; metric < ms.length; metric++) for (let s = 0; s < 20; s++) for (let k = 1; k <= TICKS; k++) assert.equal(store.count(metric, s, k), 2);
});

function decoded(m: BatchMetric, tick: number): MetricsRequest {
  return decodeMetricsRequest(new FastMetricBatch(identity, m, 0, 20).encode(tick), 'protobuf');
}

function firstPoint(r: MetricsRequest): NumberDataPoint & HistogramDataPoint {
  return r.resourceMetrics[0].scopeMetrics[0].metrics[0].dataPoints[0] as NumberDataPoint & HistogramDataPoint;
}

test('tampered values are mismatches naming the first differing field', () => {
  const ms = metrics();
  const index = placementIndex(space(ms));
  const cases: [number, (p: NumberDataPoint & HistogramDataPoint) => void, string][] = [
    [0, (p) => { p.value += 1; }, 'value'],
    [2, (p) => { p.valueType = 'double'; }, 'valueType'],
    [5, (p) => { p.bucketCounts[2] += 1; }, 'bucketCounts[2]'],
    [5, (p) => { p.sum = (p.sum ?? 0) + 0.5; }, 'sum'],
    [2, (p) => { p.exemplars[0].traceId = '0'.repeat(31) + '1'; }, 'exemplars[0].traceId'],
    [2, (p) => { p.exemplars = []; }, 'exemplars.length'],
  ];
  for (const [metric, tamper, field] of cases) {
    const r = decoded(ms[metric], 5);
    tamper(firstPoint(r));
    const placement = placeMetricsRequest(index, r);
    assert.equal(placement.placed[0].mismatch?.field, field);
    assert.ok(placement.placed.slice(1).every((p) => p.mismatch === undefined));
  }
});

test('points that do not belong are unexpected, each with its reason', () => {
  const ms = metrics();
  const index = placementIndex(space(ms));
  const reasonOf = (metric: number, tamper: (r: MetricsRequest) => void): string[] => {
    const r = decoded(ms[metric], 5);
    tamper(r);
    const placement = placeMetricsRequest(index, r);
    return [...new Set(placement.unexpected.map((u) => u.reason))];
  };
  const metricOf = (r: MetricsRequest) => r.resourceMetrics[0].scopeMetrics[0].metrics[0];
  assert.deepEqual(reasonOf(1, (r) => { metricOf(r).name = 'other'; }), ['unknown_metric']);
  assert.deepEqual(reasonOf(1, (r) => { metricOf(r).name = ms[0].name; }), ['wrong_temporality']);
  assert.deepEqual(reasonOf(1, (r) => { metricOf(r).name = ms[2].name; }), ['wrong_instrument'], 'monotonic sum sent as an up-down counter');
  assert.deepEqual(reasonOf(5, (r) => { metricOf(r).name = ms[7].name; }), ['wrong_instrument']);
  assert.deepEqual(reasonOf(1, (r) => { firstPoint(r).attributes.route = 'route-9'; }), ['foreign_attributes']);
  assert.deepEqual(reasonOf(1, (r) => { firstPoint(r).timeUnixNano += 1n; }), ['off_tick']);
  assert.deepEqual(reasonOf(1, (r) => { firstPoint(r).timeUnixNano += 10n * identity.intervalNs; }), ['tick_out_of_range']);
  assert.deepEqual(reasonOf(1, (r) => { firstPoint(r).startTimeUnixNano = identity.startUnixNano; }), ['bad_start_time'], 'a delta point must start at the previous tick');
  assert.deepEqual(reasonOf(0, (r) => { firstPoint(r).startTimeUnixNano += identity.intervalNs; }), ['bad_start_time']);
  assert.deepEqual(reasonOf(0, (r) => {
    const p = firstPoint(r);
    p.attributes['tally.generation'] = String(generationAt(ms[0].model, 0, 5) + 1);
  }), ['wrong_generation']);
  const foreign = decoded(ms[1], 5);
  foreign.resourceMetrics[0].resource.attributes['tally.run.id'] = 'another-run';
  const placement = placeMetricsRequest(index, foreign);
  assert.equal(placement.foreignRunPoints, 20);
  assert.equal(placement.placed.length + placement.unexpected.length, 0);
});

test('commitPlacement leaves out the points a receiver rejected, and keeps one byte per point', () => {
  const ms = metrics();
  const index = placementIndex(space(ms));
  const store = new ObservationStore(ms.map((m) => m.layout.seriesCount), TICKS);
  const placement = placeMetricsRequest(index, decoded(ms[3], 2));
  commitPlacement(store, placement, (p) => p.series % 2 === 0);
  for (let s = 0; s < 20; s++) assert.equal(store.count(3, s, 2), s % 2 === 0 ? 0 : 1);
  assert.equal(store.pointsReceived, 10);
  for (let i = 0; i < 300; i++) commitPlacement(store, placement);
  assert.equal(store.count(3, 1, 2), 255, 'counts saturate at 255');
});
