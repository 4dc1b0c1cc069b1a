/**
 * The telemetry part of the scenario: the merged metric schema accepts and refuses what
 * core/instruments.ts does, cross-field problems name their JSON pointers (metric-model
 * problems under /telemetry/metrics/<i>), and every telemetry and receiver field is
 * normalised (defaults applied, durations in ms).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../core/errors.ts';
import { parseScenario } from '../../scenarios/load.ts';
import { planRun } from '../../scenarios/plan.ts';

const withMetric = (metric: string, extra = ''): string => `
name: t
duration: 10s
telemetry:
  metrics:
    - { name: m, attributes: { a: 4 }, ${metric} }
${extra}`;

function pointersOf(text: string): string[] {
  try {
    parseScenario(text);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems.map((p) => p.pointer);
  }
  assert.fail('accepted');
}

test('every instrument and temporality is accepted; temporality defaults to cumulative, a gauge has none', () => {
  const cases: [string, string | undefined][] = [
    ['instrument: counter', 'cumulative'],
    ['instrument: counter, temporality: delta', 'delta'],
    ['instrument: up-down-counter, temporality: delta, churn: { ratio: 0.1, everyTicks: 3 }', 'delta'],
    ['instrument: gauge, exemplars: { ratio: 0.5 }', undefined],
    ['instrument: histogram, temporality: delta, buckets: [1, 5, 10]', 'delta'],
    ['instrument: exponential-histogram, scale: 4, maxSize: 20', 'cumulative'],
  ];
  for (const [metric, temporality] of cases) {
    const m = parseScenario(withMetric(metric)).scenario.telemetry!.metrics[0];
    assert.equal(m.temporality, temporality, metric);
  }
  const m = parseScenario(withMetric('instrument: histogram, temporality: delta, buckets: [1, 5, 10], exemplars: { ratio: 0.25 }')).scenario.telemetry!.metrics[0];
  assert.deepEqual(m, { name: 'm', instrument: 'histogram', temporality: 'delta', unit: '1', attributes: { a: 4 }, buckets: [1, 5, 10], exemplars: { ratio: 0.25 } });
});

test('refusals name the field: schema rules and the metric model\'s own, prefixed /telemetry/metrics/<i>', () => {
  assert.ok(pointersOf(withMetric('instrument: gauge, temporality: delta')).includes('/telemetry/metrics/0/temporality'));
  assert.ok(pointersOf(withMetric('instrument: counter, buckets: [1]')).includes('/telemetry/metrics/0/buckets'));
  assert.ok(pointersOf(withMetric('instrument: histogram, scale: 2')).includes('/telemetry/metrics/0/scale'));
  assert.ok(pointersOf(withMetric('instrument: exponential-histogram, scale: 21')).includes('/telemetry/metrics/0/scale'));
  assert.ok(pointersOf(withMetric('instrument: summary')).includes('/telemetry/metrics/0/instrument'));
  // Strictly increasing bounds is the model's rule, not the schema's.
  assert.deepEqual(pointersOf(withMetric('instrument: histogram, buckets: [5, 1]')), ['/telemetry/metrics/0/buckets']);
  assert.ok(pointersOf(withMetric('instrument: counter, attributes: { tally.generation: 2 }').replace(', attributes: { a: 4 }', '')).includes('/telemetry/metrics/0/attributes/tally.generation'));
  assert.ok(pointersOf(withMetric('instrument: counter', '  resource: { tally.shard: 1 }')).includes('/telemetry/resource/tally.shard'));
  assert.ok(pointersOf(withMetric('instrument: counter', 'embedded: { receiver: { faults: { latency: { distribution: uniform, min: 2s, max: 1s } } } }')).includes('/embedded/receiver/faults/latency/min'));
  assert.ok(pointersOf(withMetric('instrument: counter', 'embedded: { receiver: { tls: { certFile: a, keyFile: b, requireClientCert: true } } }')).includes('/embedded/receiver/tls/caFile'));
});

test('export settings normalise: protocol, gzip, TLS, retry, queue, batch, headers, resource, durations in ms', () => {
  const { scenario, warnings } = parseScenario(`
name: t
duration: 10s
telemetry:
  endpoint: https://collector:4317
  protocol: grpc
  compression: gzip
  tls: { caFile: /ca.pem, serverName: collector }
  timeout: 2s
  retry: { initialInterval: 100ms, maxInterval: 2s, maxElapsedTime: 1m }
  queue: { queueSize: 50, whenFull: drop }
  batch: { maxDataPoints: 300 }
  headers: { authorization: Bearer x }
  resource: { deployment.environment: lab, canary: true }
  metrics:
    - { name: m, instrument: counter, attributes: { a: 4 } }
`);
  assert.deepEqual(warnings, []);
  const t = scenario.telemetry!;
  assert.equal(t.protocol, 'grpc');
  assert.equal(t.compression, 'gzip');
  assert.deepEqual(t.tls, { insecureSkipVerify: false, caFile: '/ca.pem', serverName: 'collector' });
  assert.equal(t.timeoutMs, 2000);
  assert.deepEqual(t.retry, { enabled: true, initialIntervalMs: 100, maxIntervalMs: 2000, multiplier: 1.5, randomizationFactor: 0.5, maxElapsedTimeMs: 60_000 });
  assert.deepEqual(t.queue, { queueSize: 50, numConsumers: 10, whenFull: 'drop' });
  assert.equal(t.maxBatchDataPoints, 300);
  assert.deepEqual(t.resource, { 'deployment.environment': 'lab', canary: true });
  // Defaults: the collector's exporterhelper values.
  const d = parseScenario(withMetric('instrument: counter')).scenario.telemetry!;
  assert.deepEqual([d.protocol, d.compression, d.timeoutMs, d.maxBatchDataPoints], ['http/protobuf', 'none', 10_000, 2000]);
  assert.deepEqual(d.retry, { enabled: true, initialIntervalMs: 5000, maxIntervalMs: 30_000, multiplier: 1.5, randomizationFactor: 0.5, maxElapsedTimeMs: 300_000 });
  assert.deepEqual(d.queue, { queueSize: 1000, numConsumers: 10, whenFull: 'block' });
  assert.equal(d.tls, undefined);
  // Warnings: TLS settings that cannot apply.
  const w = parseScenario(withMetric('instrument: counter').replace('telemetry:\n', 'telemetry:\n  endpoint: http://x:4318\n  tls: { caFile: /ca.pem }\n')).warnings;
  assert.deepEqual(w.map((x) => x.pointer), ['/telemetry/tls']);
});

test('receiver faults normalise with durations in ms; unset options stay absent', () => {
  const { scenario } = parseScenario(withMetric('instrument: counter', `embedded:
  receiver:
    faults:
      throttleRequestRatio: 0.1
      retryAfter: 2s
      retryAfterFormat: http-date
      faultAttempts: 2
      latency: { distribution: exponential, mean: 20ms, max: 200ms }
      rejectDeltaTemporality: true
    tls: { certFile: /s.crt, keyFile: /s.key }`));
  assert.deepEqual(scenario.embedded.receiver, {
    faults: {
      rejectDataPointRatio: 0, rejectSpanRatio: 0, failRequestRatio: 0, retryAfterMs: 2000, throttleRequestRatio: 0.1, retryAfterFormat: 'http-date',
      faultAttempts: 2, latency: { distribution: 'exponential', meanMs: 20, maxMs: 200 }, rejectDeltaTemporality: true,
    },
    tls: { certFile: '/s.crt', keyFile: '/s.key', requireClientCert: false },
  });
});

test('the planner derives each metric\'s model over its full cardinality', () => {
  const { scenario } = parseScenario(withMetric('instrument: histogram, temporality: delta, buckets: [1, 2], churn: { ratio: 0.5, everyTicks: 2 }'));
  const plan = planRun(scenario, 1_700_000_000_000, 3);
  const p = plan.telemetry!.metrics[0];
  assert.equal(p.model.seriesCount, 4);
  assert.equal(p.model.temporality, 'delta');
  assert.deepEqual(p.model.bounds, [1, 2]);
  assert.equal(p.model.churn?.perBoundary, 2);
});
