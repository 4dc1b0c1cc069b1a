import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../core/errors.ts';
import { parseScenario } from '../../scenarios/load.ts';
import { redactScenarioDocument } from '../../pipeline/run-files.ts';

function problems(text: string): { pointer: string; message: string }[] {
  try {
    parseScenario(text);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

const RW = `
name: rw
duration: 5s
telemetry:
  protocol: prometheus/remote-write
  endpoint: http://127.0.0.1:9090/api/v1/write
  exportInterval: 500ms
  metrics:
    - { name: tally.requests, instrument: counter, attributes: { route: 2 } }
`;

test('remote write and backends normalise with their defaults', () => {
  const { scenario } = parseScenario(`${RW}backends:\n  prometheus: { url: http://127.0.0.1:9090 }\n  tempo: { url: http://127.0.0.1:3200 }\n  collector: { metricsUrl: http://127.0.0.1:8888/metrics, exporters: [prometheusremotewrite] }\n`);
  assert.deepEqual(scenario.telemetry?.remoteWrite, { faults: { outOfOrderRequestRatio: 0, duplicateRequestRatio: 0 } });
  assert.deepEqual(scenario.backends, {
    prometheus: { url: 'http://127.0.0.1:9090', maxSamplesPerQuery: 200_000, pollIntervalMs: 1000, visibilitySeries: 10_000, timeoutMs: 30_000, datapathMetrics: false, translationStrategy: 'UnderscoreEscapingWithSuffixes', convertHistogramsToNhcb: false, deltaIngestion: 'converted' },
    collector: { metricsUrl: 'http://127.0.0.1:8888/metrics', exporters: ['prometheusremotewrite'] },
    tempo: { url: 'http://127.0.0.1:3200', sampleSize: 100 },
  });
  assert.equal(scenario.reconcile.maxWaitMs, 30_000);
});

test('cross-field rules name the field: remote write without endpoint, with traces, with a histogram; maxWait < settle; both auths; ms intervals; the embedded receiver', () => {
  const pointers = (text: string): string[] => problems(text).map((p) => p.pointer).sort();
  assert.deepEqual(pointers(RW.replace('  endpoint: http://127.0.0.1:9090/api/v1/write\n', '')), ['/telemetry/endpoint']);
  assert.deepEqual(pointers(RW.replace('  metrics:', '  traces: { ratePerSecond: 10 }\n  metrics:')), ['/telemetry/traces']);
  assert.deepEqual(pointers(`${RW}reconcile: { settle: 5s, maxWait: 1s }\n`), ['/reconcile/maxWait']);
  assert.deepEqual(pointers(RW.replace('exportInterval: 500ms', 'exportInterval: 500.5ms')), ['/telemetry/exportInterval']);
  assert.deepEqual(
    pointers(`${RW}backends:\n  prometheus:\n    url: http://127.0.0.1:9090\n    auth: { bearerTokenFile: /t, basic: { username: u, passwordFile: /p, passwordEnv: P } }\n`),
    ['/backends/prometheus/auth', '/backends/prometheus/auth/basic'],
  );
  const embedded = RW.replace('  protocol: prometheus/remote-write\n  endpoint: http://127.0.0.1:9090/api/v1/write\n', '');
  assert.deepEqual(pointers(`${embedded}backends:\n  prometheus: { url: http://127.0.0.1:9090 }\n`), ['/backends/prometheus']);
  // Credentials in the URL are refused by the schema (no userinfo).
  assert.deepEqual(pointers(`${RW}backends:\n  prometheus: { url: "http://u:p@127.0.0.1:9090" }\n`), ['/backends/prometheus/url']);
});

test('plan.json redaction: OTLP/remote-write headers entirely, secret-looking API headers, nothing else', () => {
  const doc = {
    telemetry: { headers: { Authorization: 'Bearer abc', 'X-Other': 'v' } },
    backends: { prometheus: { auth: { bearerTokenFile: '/run/token', headers: { 'X-Scope-OrgID': 'tenant', 'X-Api-Key': 'k1234' } } } },
  };
  const redacted = redactScenarioDocument(doc);
  assert.deepEqual(redacted.telemetry.headers, { Authorization: '[REDACTED]', 'X-Other': '[REDACTED]' });
  assert.deepEqual(redacted.backends.prometheus.auth, { bearerTokenFile: '/run/token', headers: { 'X-Scope-OrgID': 'tenant', 'X-Api-Key': '[REDACTED]' } });
  assert.equal(doc.telemetry.headers.Authorization, 'Bearer abc', 'the input is not modified');
});
