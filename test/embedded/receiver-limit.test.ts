/**
 * The embedded receiver's throughput limit: the token bucket is a pure state machine (full
 * at the start, refilled at the rate, capped at the burst, a request that does not fit takes
 * nothing), and on a real socket a request over the limit is answered 429 with Retry-After
 * and stores nothing, while the next one that fits is stored.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import fc from 'fast-check';
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { DataPointBucket } from '../../embedded/receiver-limit.ts';
import { startOtlpReceiver } from '../../embedded/otlp-receiver.ts';
import { seriesLayout } from '../../core/series.ts';
import { ObservationStore } from '../../reconcile/observations.ts';
import { buildBatch } from '../../workers/otlp-metrics.ts';
import { parseScenario } from '../../scenarios/load.ts';

test('the bucket starts full with one export interval of tokens, refills at the rate and never holds more than the burst', () => {
  const b = new DataPointBucket({ dataPointsPerSecond: 1000 }, 500);
  assert.equal(b.burst, 500);
  assert.equal(b.take(500, 0), true);
  assert.equal(b.take(1, 0), false);
  assert.equal(b.take(250, 250), true, 'a quarter second refills 250');
  assert.equal(b.tokens(10_000), 500, 'capped at the burst');
  assert.equal(new DataPointBucket({ dataPointsPerSecond: 1000, burstDataPoints: 7 }, 500).burst, 7);
});

test('property: over any run, the points accepted never exceed burst + rate × elapsed, and a paced load at the rate always fits', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 10_000 }), fc.array(fc.record({ gapMs: fc.integer({ min: 0, max: 2000 }), points: fc.integer({ min: 1, max: 5000 }) }), { maxLength: 100 }), (rate, requests) => {
      const b = new DataPointBucket({ dataPointsPerSecond: rate }, 1000);
      let now = 0;
      let accepted = 0;
      for (const r of requests) {
        now += r.gapMs;
        if (b.take(r.points, now)) accepted += r.points;
        assert.ok(accepted <= b.burst + (rate * now) / 1000 + 1e-6);
      }
      const paced = new DataPointBucket({ dataPointsPerSecond: rate }, 1000);
      for (let k = 0; k < 20; k++) assert.equal(paced.take(rate, k * 1000), true);
    }),
  );
});

const START_NS = 1_795_280_351_000_000_000n;
const layout = seriesLayout({ a: 20 });
const metricTask = { metricIndex: 0, name: 'm', unit: '1', temporality: 'cumulative' as const, keys: layout.keys, counts: layout.counts, seriesStart: 0, seriesEnd: 20 };
const body = (tick: number): Uint8Array => ProtobufMetricsSerializer.serializeRequest(buildBatch({ runId: 'run-1', shard: 0, seed: 7, startUnixNano: String(START_NS) }, metricTask, 0, 20, tick, 1000))!;

test('on a real socket: over the limit is 429 with Retry-After and stores nothing; once the bucket refills, stored', async () => {
  const store = new ObservationStore([20], 3);
  const r = await startOtlpReceiver({
    space: { runId: 'run-1', seed: 7, startUnixNano: START_NS, exportIntervalNs: 1_000_000_000n, ticks: 3, metrics: [{ metricIndex: 0, name: 'm', layout }] },
    store,
    faults: { rejectDataPointRatio: 0, failRequestRatio: 0, retryAfterMs: 1000 },
    // 25 points/s: the second request (20 points, 10 tokens left) is refused unless it comes
    // 400 ms after the first, which a loaded host does not take.
    limits: { dataPointsPerSecond: 25, burstDataPoints: 30 },
  });
  try {
    const post = (tick: number) => request(`${r.url}/v1/metrics`, { method: 'POST', body: body(tick), headers: { 'content-type': 'application/x-protobuf' } });
    const first = await post(1);
    assert.equal(first.statusCode, 200);
    await first.body.arrayBuffer();
    const second = await post(2);
    assert.equal(second.statusCode, 429);
    assert.equal(second.headers['retry-after'], '1');
    await second.body.arrayBuffer();
    assert.equal(store.pointsReceived, 20);
    assert.equal(r.stats().requestsThrottledByLimit, 1);
    assert.equal(r.stats().pointsThrottledByLimit, 20);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const third = await post(2);
    assert.equal(third.statusCode, 200);
    await third.body.arrayBuffer();
    assert.equal(store.pointsReceived, 40);
  } finally {
    await r.close();
  }
});

test('the scenario: limits are normalised, and warned about when the telemetry goes elsewhere', () => {
  const base = 'name: l\nduration: 2s\ntelemetry: { exportInterval: 1s, metrics: [{ name: m, instrument: counter, attributes: { a: 2 } }]';
  const { scenario } = parseScenario(`${base} }\nembedded: { receiver: { limits: { dataPointsPerSecond: 1000 } } }\n`);
  assert.deepEqual(scenario.embedded.receiver.limits, { dataPointsPerSecond: 1000 });
  const { warnings } = parseScenario(`${base}, endpoint: 'http://127.0.0.1:4318' }\nembedded: { receiver: { limits: { dataPointsPerSecond: 1000, burstDataPoints: 10 } } }\n`);
  assert.ok(warnings.some((w) => w.pointer === '/embedded/receiver/limits'));
  assert.throws(() => parseScenario(`${base} }\nembedded: { receiver: { limits: { dataPointsPerSecond: 0 } } }\n`), (e: { problems: { pointer: string }[] }) => e.problems.some((p) => p.pointer === '/embedded/receiver/limits/dataPointsPerSecond'));
});
