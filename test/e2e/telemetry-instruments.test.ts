/**
 * Every instrument × temporality × transport, end to end through `tally run` against
 * the embedded receiver on loopback: one scenario per transport and temporality holding
 * all five instruments (a gauge has no temporality, so it rides along in both), with
 * exemplars and resource attributes. Each run must reconcile with 0 loss, 0 value
 * mismatches (every field of every point checked against the model by the receiver) and
 * nothing unexpected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { finding, runScenario } from './telemetry-helpers.ts';

const TRANSPORTS = ['grpc', 'http/protobuf', 'http/json'] as const;
const TEMPORALITIES = ['delta', 'cumulative'] as const;
/** Series per metric below; 4 ticks at 500 ms. */
const SERIES = { counter: 12, 'up-down-counter': 8, gauge: 6, histogram: 10, 'exponential-histogram': 9 };
const TICKS = 4;

/** Requests per tick: each shard packs its slices of every metric, in order, 16 points a request. */
function requestsPerTick(workers: number): number {
  let n = 0;
  for (let s = 0; s < workers; s++) {
    const points = Object.values(SERIES).reduce((a, c) => a + Math.floor((c * (s + 1)) / workers) - Math.floor((c * s) / workers), 0);
    n += Math.ceil(points / 16);
  }
  return n;
}

function scenario(protocol: string, temporality: string): string {
  const t = `temporality: ${temporality}, `;
  return `
name: e2e-instruments
seed: 17
duration: 2s
telemetry:
  protocol: ${protocol}
  exportInterval: 500ms
  batch: { maxDataPoints: 16 }
  resource: { deployment.environment: e2e, k8s.node.count: 3 }
  metrics:
    - { name: c.requests, instrument: counter, ${t}unit: "{request}", attributes: { route: 4, code: 3 }, exemplars: { ratio: 0.5 } }
    - { name: c.inflight, instrument: up-down-counter, ${t}attributes: { pod: 8 } }
    - { name: c.temperature, instrument: gauge, unit: Cel, attributes: { zone: 6 }, exemplars: { ratio: 1 } }
    - { name: c.latency, instrument: histogram, ${t}unit: ms, buckets: [1, 10, 100, 1000], attributes: { route: 10 } }
    - { name: c.size, instrument: exponential-histogram, ${t}unit: By, scale: 2, maxSize: 6, attributes: { route: 3, code: 3 } }
`;
}

for (const protocol of TRANSPORTS) {
  for (const temporality of TEMPORALITIES) {
    test(`every instrument, ${temporality}, over ${protocol}: 0 loss and exact values`, async () => {
      const { results, lines } = await runScenario(scenario(protocol, temporality));
      assert.equal(results.complete, true);
      const m = results.summary.metrics;
      const planned = Object.values(SERIES).reduce((a, n) => a + n, 0) * TICKS;
      assert.equal(m.protocol, protocol);
      assert.equal(m.pointsPlanned, planned);
      assert.equal(m.pointsSent, planned);
      assert.equal(m.pointsAcknowledged, planned);
      assert.equal(m.pointsReceived, planned);
      assert.equal(m.pointsMissing, 0);
      assert.equal(m.valueMismatches, 0, JSON.stringify(results.reconciliation?.samples?.valueMismatches?.slice(0, 3)));
      assert.equal(m.unexpectedPoints, 0, JSON.stringify(results.reconciliation?.samples?.unexpected?.slice(0, 3)));
      assert.equal(m.duplicatePoints, 0);
      assert.equal(m.pointsResent, 0);
      if (protocol === 'grpc') assert.equal(results.receiver.grpcRequests, m.requests);
      else assert.equal(results.receiver.grpcRequests, 0);
      // Each metric by itself: every series' every tick.
      const perMetric = results.reconciliation.metrics.map((r: { pointsReceived: number }) => r.pointsReceived);
      assert.deepEqual(perMetric, Object.values(SERIES).map((n) => n * TICKS));
      // Delta identities accumulate to exactly their expected sums; cumulative runs have none to check.
      if (temporality === 'delta') {
        assert.equal(m.deltaAccumulation.identities, 12 + 8 + 10 + 9);
        assert.equal(m.deltaAccumulation.identitiesWithOffset, 0);
      } else assert.equal(m.deltaAccumulation.identities, 0);
      assert.equal(results.findings.length, 0, JSON.stringify(results.findings));
      assert.equal(finding(results, 'value_mismatches'), 0);
      // Requests pack several metrics (16 points each), and the interval log adds up to the totals.
      assert.equal(m.requests, requestsPerTick(results.run.workers) * TICKS);
      assert.equal(lines.reduce((a, l) => a + (l.metrics?.pointsAcknowledged ?? 0), 0), planned);
      assert.ok(lines.some((l) => l.exporter?.metrics !== undefined), 'exporter interval data in intervals.ndjson');
      assert.equal(m.exporter.enqueued, m.requests);
    });
  }
}
