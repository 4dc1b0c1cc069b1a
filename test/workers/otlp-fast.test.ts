/**
 * The fast path (template + in-place patching) decodes to exactly what the official
 * otlp-transformer serializer's bytes decode to, for every instrument × temporality, with
 * exemplars and with series churn, over several ticks. Exemplars, which the official
 * serializer cannot write, are checked against the official JSON body extended with them
 * and against the model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMetricsRequest, type MetricsRequest } from '../../wire/otlp/codec.ts';
import { linkExemplarTraces, metricModel, type ExemplarTraceLink, type InstrumentOptions } from '../../core/instruments.ts';
import { expectedTrace, parseTraceIdHex, resolveTraceModel, traceStartUnixNano } from '../../core/trace-model.ts';
import { seriesLayout } from '../../core/series.ts';
import { buildOfficialBatch, encodeOfficial, type BatchIdentity, type BatchMetric } from '../../workers/otlp-build.ts';
import { FastMetricBatch } from '../../workers/otlp-fast.ts';

const identity: BatchIdentity = {
  runId: 'run-20250101-abcdef',
  shard: 3,
  startUnixNano: 1_735_689_600_123_456_789n,
  intervalNs: 5_000_000_000n,
  resource: { 'deployment.environment': 'test', 'host.count': 2, 'tally.flag': true, 'tally.ratio': 0.5 },
};

function metric(options: InstrumentOptions, link?: ExemplarTraceLink): BatchMetric {
  const layout = seriesLayout({ route: 5, status: 3 });
  const model = metricModel(42, 2, layout.seriesCount, options);
  return { name: `tally.${options.instrument}`, unit: options.instrument === 'gauge' ? '' : 'ms', layout, model: link ? linkExemplarTraces(model, link) : model };
}

/** The run's traces, as the trace generator makes them: 3 shards, 0.7 traces per second (3.5 per 5 s tick), 30 traces. */
const TRACES = resolveTraceModel(
  { ratePerSecond: 0.7, spansPerTrace: { min: 1, max: 4 }, shape: 'chain', attributes: {}, kinds: { server: 1 }, statusErrorRatio: 0, spanDurationMs: 5 },
  { runId: identity.runId, seed: 42, shardCount: 3, startUnixNano: identity.startUnixNano },
);
const LINK: ExemplarTraceLink = { traceCount: 30, shardCount: 3, tracesPerTick: 3.5 };

function withoutExemplars(request: MetricsRequest): MetricsRequest {
  const copy = structuredClone(request);
  for (const rm of copy.resourceMetrics) for (const sm of rm.scopeMetrics) for (const m of sm.metrics) for (const p of m.dataPoints) {
    if ('exemplars' in p) p.exemplars = [];
  }
  return copy;
}

function exemplarsOf(request: MetricsRequest): unknown[] {
  const m = request.resourceMetrics[0].scopeMetrics[0].metrics[0];
  return m.dataPoints.map((p) => ('exemplars' in p ? p.exemplars : []));
}

const CASES: [string, InstrumentOptions][] = [
  ['counter/cumulative', { instrument: 'counter', temporality: 'cumulative' }],
  ['counter/delta', { instrument: 'counter', temporality: 'delta' }],
  ['up-down-counter/cumulative', { instrument: 'up-down-counter', temporality: 'cumulative' }],
  ['up-down-counter/delta', { instrument: 'up-down-counter', temporality: 'delta' }],
  ['gauge', { instrument: 'gauge' }],
  ['histogram/cumulative (default bounds)', { instrument: 'histogram', temporality: 'cumulative' }],
  ['histogram/delta (scenario bounds)', { instrument: 'histogram', temporality: 'delta', buckets: [0.5, 1, 2.5, 10, 100] }],
  ['exponential-histogram/cumulative', { instrument: 'exponential-histogram', temporality: 'cumulative', scale: 2, maxSize: 6 }],
  ['exponential-histogram/delta', { instrument: 'exponential-histogram', temporality: 'delta', scale: 0 }],
];

const TICKS = 9;

function checkEquivalent(name: string, options: InstrumentOptions, seriesStart: number, seriesEnd: number, link?: ExemplarTraceLink): { builds: number; exemplars: number } {
  const m = metric(options, link);
  const fast = new FastMetricBatch(identity, m, seriesStart, seriesEnd);
  let exemplars = 0;
  for (let tick = 1; tick <= TICKS; tick++) {
    const official = buildOfficialBatch(identity, m, seriesStart, seriesEnd, tick);
    const fastDecoded = decodeMetricsRequest(fast.encode(tick), 'protobuf');
    const officialDecoded = decodeMetricsRequest(encodeOfficial(official, 'protobuf'), 'protobuf');
    assert.equal(fastDecoded.resourceMetrics[0].scopeMetrics[0].metrics[0].dataPoints.length, seriesEnd - seriesStart);
    assert.deepStrictEqual(withoutExemplars(fastDecoded), officialDecoded, `${name} tick ${tick}: fast ≠ official protobuf`);
    // The official JSON body, extended with the exemplars, carries everything the fast bytes do.
    const jsonDecoded = decodeMetricsRequest(encodeOfficial(official, 'json'), 'json');
    assert.deepStrictEqual(fastDecoded, jsonDecoded, `${name} tick ${tick}: fast ≠ official JSON + exemplars`);
    const expected = official.exemplars.map((e) => (e === null ? [] : [{ filteredAttributes: {}, timeUnixNano: e.timeUnixNano, value: e.value, valueType: 'double', traceId: e.traceId, spanId: e.spanId }]));
    assert.deepStrictEqual(exemplarsOf(fastDecoded), expected, `${name} tick ${tick}: exemplars`);
    exemplars += official.exemplars.filter((e) => e !== null).length;
  }
  return { builds: fast.builds, exemplars };
}

for (const [name, options] of CASES) {
  test(`fast path ≡ official serializer: ${name}, ticks 1..${TICKS}, one template`, () => {
    const { builds } = checkEquivalent(name, options, 0, 15);
    assert.equal(builds, 1, 'patched in place, never rebuilt');
  });

  test(`fast path ≡ official serializer: ${name} with exemplars`, () => {
    const { builds, exemplars } = checkEquivalent(name, { ...options, exemplars: { ratio: 0.5 } }, 2, 14);
    assert.equal(builds, 1);
    assert.ok(exemplars > 0 && exemplars < 12 * TICKS, `some but not all points carry exemplars (${exemplars})`);
  });

  test(`fast path ≡ official serializer: ${name} with exemplars naming generated traces`, () => {
    const { builds, exemplars } = checkEquivalent(name, { ...options, exemplars: { ratio: 1 } }, 0, 15, LINK);
    assert.equal(builds, 1);
    assert.equal(exemplars, 15 * TICKS);
    // Independently of the exemplar code: each id is a trace the generator sends, due in the
    // point's interval, and the span id is that trace's root span.
    const m = metric({ ...options, exemplars: { ratio: 1 } }, LINK);
    const fast = new FastMetricBatch(identity, m, 0, 15);
    const intervalNs = identity.intervalNs;
    for (let tick = 1; tick <= TICKS; tick++) {
      for (const [e] of exemplarsOf(decodeMetricsRequest(fast.encode(tick), 'protobuf')) as { traceId: string; spanId: string }[][]) {
        const parts = parseTraceIdHex(e.traceId)!;
        const trace = expectedTrace(TRACES, parts.shard, parts.seq);
        assert.equal(e.traceId, trace.traceId);
        assert.equal(e.spanId, trace.spans[0].spanId, 'the root span');
        const startNs = traceStartUnixNano(TRACES, parts.seq);
        if (tick <= 8) {
          assert.ok(startNs >= identity.startUnixNano + BigInt(tick - 1) * intervalNs && startNs < identity.startUnixNano + BigInt(tick) * intervalNs,
            `${name} tick ${tick}: trace ${parts.seq} is due in the point's interval`);
        } else {
          assert.ok(parts.seq < 30, 'after the traces end, any generated trace');
        }
      }
    }
  });

  test(`fast path ≡ official serializer: ${name} with churn (rebuilt at each boundary)`, () => {
    const { builds } = checkEquivalent(name, { ...options, churn: { ratio: 0.3, everyTicks: 3 }, exemplars: { ratio: 0.3 } }, 0, 15);
    assert.equal(builds, 3, 'one template per churn epoch: ticks 1-3, 4-6, 7-9');
  });
}

test('the fast buffer is ready to send: a single ExportMetricsServiceRequest whose size matches the official one within attribute order', () => {
  const m = metric({ instrument: 'counter', temporality: 'cumulative' });
  const fast = new FastMetricBatch(identity, m, 0, 15);
  const bytes = fast.encode(4);
  const official = encodeOfficial(buildOfficialBatch(identity, m, 0, 15, 4), 'protobuf');
  // Same fields, same widths: only field order inside a point differs, so the sizes agree exactly.
  assert.equal(bytes.byteLength, official.byteLength);
});
