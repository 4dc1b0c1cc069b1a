import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseScenario } from '../../scenarios/load.ts';
import { planRun } from '../../scenarios/plan.ts';
import { runMetricNaming, RUN_LABEL } from '../../scenarios/prometheus-naming.ts';

const SCENARIO = `
name: naming
duration: 5s
telemetry:
  protocol: prometheus/remote-write
  endpoint: http://127.0.0.1:9090/api/v1/write
  exportInterval: 1s
  metrics:
    - { name: http.server.requests, instrument: counter, unit: "1", attributes: { http.route: 2 } }
    - { name: queue.depth, instrument: gauge, unit: By, attributes: { pod: 2 } }
backends:
  prometheus: { url: http://127.0.0.1:9090, translationStrategy: UnderscoreEscapingWithoutSuffixes }
`;

test('backends.prometheus.translationStrategy selects the Prometheus names remote write sends and read-back expects', () => {
  const { scenario } = parseScenario(SCENARIO);
  assert.equal(scenario.backends?.prometheus?.translationStrategy, 'UnderscoreEscapingWithoutSuffixes');
  const plan = planRun(scenario, 1_700_000_000_000, 1);
  const without = runMetricNaming(plan, { translationStrategy: scenario.backends?.prometheus?.translationStrategy });
  const withSuffixes = runMetricNaming(plan);
  // The spec's suffixes: `_total` for a monotonic sum, the unit for a gauge in bytes.
  assert.deepEqual(withSuffixes.map((n) => n.name), ['http_server_requests_total', 'queue_depth_bytes']);
  assert.deepEqual(without.map((n) => n.name), ['http_server_requests', 'queue_depth']);
  for (const n of [...without, ...withSuffixes]) {
    assert.equal(n.commonLabels[RUN_LABEL], plan.runId);
    assert.ok(n.labelNames.every((l) => /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(l)), n.labelNames.join());
  }
  const utf8 = runMetricNaming(plan, { translationStrategy: 'NoUTF8EscapingWithSuffixes' });
  assert.deepEqual(utf8.map((n) => n.name), ['http.server.requests_total', 'queue.depth_bytes']);
});
