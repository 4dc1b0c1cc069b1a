import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TallyError, ConfigError } from '../../core/errors.ts';
import { parseScenario } from '../../scenarios/load.ts';
import { inMeasurementNamespace, outputsFromFlags } from '../../scenarios/outputs-spec.ts';
import { redactScenarioDocument } from '../../pipeline/run-files.ts';

const BASE = 'name: s\nduration: 5s\nload: { executor: constant-arrival-rate, rate: 10 }\n';
const problems = (text: string): { pointer: string }[] => {
  try {
    parseScenario(text);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
};

test('outputs: normalised with the documented defaults', () => {
  const { scenario } = parseScenario(`${BASE}outputs:\n  - { type: prometheus-remote-write, url: http://127.0.0.1:9090/api/v1/write }\n  - { type: otlp, url: http://otelcol:4318, headers: { X-Scope-OrgID: team }, timeout: 2s, queueSize: 10, retry: { maxElapsedTime: 1s }, drainTimeout: 3s }\n`);
  assert.deepEqual(scenario.outputs, [
    { kind: 'prometheus-remote-write', url: 'http://127.0.0.1:9090/api/v1/write', headers: {}, timeoutMs: 5000, queueSnapshots: 600, maxSnapshotsPerRequest: 60, retry: { initialIntervalMs: 500, maxIntervalMs: 5000, maxElapsedTimeMs: 30000 }, drainTimeoutMs: 10000 },
    { kind: 'otlp', url: 'http://otelcol:4318', headers: { 'X-Scope-OrgID': 'team' }, timeoutMs: 2000, queueSnapshots: 10, maxSnapshotsPerRequest: 60, retry: { initialIntervalMs: 500, maxIntervalMs: 5000, maxElapsedTimeMs: 1000 }, drainTimeoutMs: 3000 },
  ]);
});

test('bad outputs are refused with their pointers', () => {
  const cases: [string, string][] = [
    ['  - { type: kafka, url: http://x:1 }', '/outputs/0/type'],
    ['  - { type: otlp, url: ftp://x:1 }', '/outputs/0/url'],
    ['  - { type: otlp, url: http://user:pw@x:1 }', '/outputs/0/url'],
    ['  - { type: otlp }', '/outputs/0/url'],
    ['  - { type: otlp, url: http://x:1, queueSize: 0 }', '/outputs/0/queueSize'],
    ['  - { type: otlp, url: http://x:1, timeout: soon }', '/outputs/0/timeout'],
  ];
  for (const [yaml, pointer] of cases) assert.ok(problems(`${BASE}outputs:\n${yaml}\n`).some((p) => p.pointer === pointer), `${yaml} → ${pointer}`);
});

test('a generated metric may not take the measurement namespace, in either form', () => {
  for (const name of ['tally.self.requests', 'tally_self_requests', 'Tally.Self.x', 'tally.self_x']) assert.equal(inMeasurementNamespace(name), true, name);
  for (const name of ['tally.requests', 'tally.selfish', 'self.tally']) assert.equal(inMeasurementNamespace(name), false, name);
  const p = problems('name: s\nduration: 5s\ntelemetry:\n  metrics:\n    - { name: tally.self.requests, instrument: counter, attributes: { a: 2 } }\n');
  assert.deepEqual(p.map((x) => x.pointer), ['/telemetry/metrics/0/name']);
});

test('--output KIND=URL: both kinds, with the defaults; anything else is a usage error with its pointer', () => {
  const [rw, otlp] = outputsFromFlags(['prometheus-remote-write=http://127.0.0.1:9090/api/v1/write', 'otlp=https://otelcol:4318']);
  assert.deepEqual([rw.kind, rw.url, rw.timeoutMs, otlp.kind, otlp.url], ['prometheus-remote-write', 'http://127.0.0.1:9090/api/v1/write', 5000, 'otlp', 'https://otelcol:4318']);
  assert.deepEqual(outputsFromFlags([]), []);
  for (const bad of ['kafka=http://x:1', 'otlp', 'otlp=x:1', 'otlp=http://u:p@x:1']) {
    assert.throws(() => outputsFromFlags([bad]), (e) => e instanceof TallyError && e.code === 'TALLY_CONFIG_INVALID' && (e as ConfigError).problems[0].pointer === '--output', bad);
  }
});

test("plan.json never holds an output's secret header values (every header but the known harmless ones, as for telemetry.headers)", () => {
  const doc = { outputs: [{ type: 'otlp', url: 'http://x:1', headers: { Authorization: 'Bearer s3cret', 'X-Tenant-Auth': 'hidden', 'X-Scope-OrgID': 'team' } }] };
  const saved = JSON.stringify(redactScenarioDocument(doc));
  assert.doesNotMatch(saved, /s3cret|hidden/);
  assert.match(saved, /"X-Scope-OrgID":"team"/, 'the Mimir/Cortex tenant is on the harmless list');
});
