/**
 * Temporality fidelity end to end through `tally run`:
 * - a receiver without delta support (`rejectDeltaTemporality`, as Prometheus's OTLP
 *   receiver) refuses every request holding a delta metric whole, so every series in such
 *   a request is lost, cumulative ones included, while requests without a delta point
 *   pass;
 * - a lost delta point leaves a lasting offset in the accumulated sum, recomputed here
 *   from the model for each sampled identity.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { counterIncrementOf, metricModel } from '../../core/instruments.ts';
import { finding, runScenario } from './telemetry-helpers.ts';

for (const protocol of ['http/protobuf', 'grpc'] as const) {
  test(`delta refused by the receiver over ${protocol}: whole requests lost, cumulative series in them too`, async () => {
    // Each shard packs [cumulative A, delta D, head of cumulative B] into its first 20-point request; the rest of B goes alone.
    const { results } = await runScenario(`
name: e2e-delta-refused
seed: 31
duration: 2s
telemetry:
  protocol: ${protocol}
  exportInterval: 500ms
  batch: { maxDataPoints: 20 }
  metrics:
    - { name: a.cumulative, instrument: counter, temporality: cumulative, attributes: { k: 4 } }
    - { name: d.delta, instrument: counter, temporality: delta, attributes: { k: 4 } }
    - { name: b.cumulative, instrument: histogram, temporality: cumulative, attributes: { k: 200 } }
embedded: { receiver: { faults: { rejectDeltaTemporality: true } } }
`);
    const m = results.summary.metrics;
    const [a, d, b] = results.reconciliation.metrics;
    assert.equal(d.pointsMissing, d.pointsSent, 'every delta point is lost');
    assert.equal(a.pointsMissing, a.pointsSent, 'every cumulative point sharing a request with a delta one is lost');
    assert.ok(b.pointsMissing > 0 && b.pointsReceived > 0, 'B is lost only where it shared a request with delta points');
    assert.equal(m.requestsFailed, results.receiver.requestsRefusedDelta);
    assert.equal(m.requestsFailed, results.run.workers * 4, 'one refused request per shard and tick');
    assert.equal(m.pointsFailed, m.requestsFailed * 20, 'each refused request is lost whole');
    assert.equal(m.pointsMissing, m.pointsFailed);
    assert.deepEqual(m.missingByExportStage, { rejected: 0, failedExport: m.pointsFailed, droppedByQueue: 0, unsettled: 0, lostAfterAck: 0 });
    if (protocol === 'grpc') assert.equal(m.grpcCodes['3'], m.requestsFailed); // INVALID_ARGUMENT
    else assert.equal(m.statuses['400'], m.requestsFailed);
    assert.equal(m.retries, 0, 'a refusal is not retryable');
    assert.equal(finding(results, 'delta_temporality_refused_requests'), m.requestsFailed);
  });
}

test('a lost delta point leaves a lasting offset in the accumulated sum; a lost cumulative point does not', async () => {
  const seed = 37;
  const { results } = await runScenario(`
name: e2e-delta-offset
seed: ${seed}
duration: 3s
telemetry:
  exportInterval: 500ms
  retry: { enabled: false }
  metrics:
    - { name: d.count, instrument: counter, temporality: delta, attributes: { k: 50 } }
    - { name: c.count, instrument: counter, temporality: cumulative, attributes: { k: 50 } }
    - { name: d.latency, instrument: histogram, temporality: delta, attributes: { k: 30 } }
embedded: { receiver: { faults: { rejectDataPointRatio: 0.08 } } }
`);
  const m = results.summary.metrics;
  const [dCount, cCount, dLatency] = results.reconciliation.metrics;
  assert.ok(dCount.pointsMissing > 0 && cCount.pointsMissing > 0 && dLatency.pointsMissing > 0);
  const acc = m.deltaAccumulation;
  assert.equal(acc.identities, 50 + 30);
  assert.deepEqual(acc.byMetric.map((x: { metricIndex: number }) => x.metricIndex), [0, 2], 'cumulative metrics carry no accumulated offset');
  assert.ok(acc.identitiesWithOffset > 0 && acc.identitiesWithOffset <= dCount.pointsMissing + dLatency.pointsMissing);
  assert.equal(finding(results, 'delta_accumulation_offsets'), acc.identitiesWithOffset);
  // Every sampled counter identity is off by exactly its increment per missing tick (from the model).
  const model = metricModel(seed, 0, 50, { instrument: 'counter', temporality: 'delta' });
  const samples = results.reconciliation.deltaOffsets.filter((s: { metricIndex: number }) => s.metricIndex === 0);
  assert.ok(samples.length > 0);
  for (const s of samples) {
    assert.ok(s.missingTicks >= 1);
    assert.equal(s.offset, s.missingTicks * counterIncrementOf(model, s.slot, 0));
    assert.equal(s.expected - s.observed, s.offset);
  }
});
