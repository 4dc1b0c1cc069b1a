import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../../core/errors.ts';
import { loadScenarioFile, parseScenario } from '../../scenarios/load.ts';

const VALID = `
name: ok
seed: 3
duration: 10s
load: { executor: constant-arrival-rate, rate: 100 }
telemetry:
  metrics:
    - { name: m, instrument: counter, attributes: { a: 2, b: 3 } }
`;

function problemsOf(text: string): { pointer: string; message: string }[] {
  try {
    parseScenario(text);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.equal(err.code, 'TALLY_CONFIG_INVALID');
    return err.problems;
  }
  assert.fail('the scenario was accepted');
}

test('a valid scenario normalises with defaults and parsed durations', () => {
  const { scenario, warnings } = parseScenario(VALID);
  assert.deepEqual(warnings, []);
  assert.equal(scenario.durationMs, 10_000);
  assert.deepEqual(scenario.load?.executor, { executor: 'constant-arrival-rate', ratePerSecond: 100 });
  assert.equal(scenario.load?.connection.close, 'fin');
  assert.equal(scenario.telemetry?.exportIntervalMs, 5000);
  assert.equal(scenario.telemetry?.metrics[0].temporality, 'cumulative');
});

test('JSON scenarios are accepted too', () => {
  const { scenario } = parseScenario(JSON.stringify({ name: 'j', duration: '2s', load: { executor: 'constant-arrival-rate', rate: 5 } }));
  assert.deepEqual(scenario.load?.executor, { executor: 'constant-arrival-rate', ratePerSecond: 5 });
});

// Each case: a mutation of the valid scenario, and the JSON pointer its error must name.
const BAD: [string, string, string][] = [
  ['missing name', VALID.replace('name: ok', ''), '/name'],
  ['name with capitals', VALID.replace('name: ok', 'name: Not OK'), '/name'],
  ['duration without a unit', VALID.replace('duration: 10s', 'duration: 10'), '/duration'],
  ['duration with a bad unit', VALID.replace('duration: 10s', 'duration: 10 parsecs'), '/duration'],
  ['unknown top-level field', `${VALID}\nextra: 1\n`, '/extra'],
  ['unknown executor', VALID.replace('constant-arrival-rate', 'shared-iterations'), '/load/executor'],
  ['negative rate', VALID.replace('rate: 100', 'rate: -5'), '/load/rate'],
  ['misspelt load field', VALID.replace('rate: 100', 'rate: 100, maxInflight: 3'), '/load/maxInflight'],
  ['close mode not fin/rst', VALID.replace('rate: 100', 'rate: 100, connection: { close: linger }'), '/load/connection/close'],
  ['zero-valued attribute count', VALID.replace('a: 2', 'a: 0'), '/telemetry/metrics/0/attributes/a'],
  ['unknown instrument', VALID.replace('instrument: counter', 'instrument: thermometer'), '/telemetry/metrics/0/instrument'],
  ['metric without attributes', VALID.replace(', attributes: { a: 2, b: 3 }', ''), '/telemetry/metrics/0/attributes'],
  ['export interval longer than the run', VALID.replace('telemetry:', 'telemetry:\n  exportInterval: 1m'), '/telemetry/exportInterval'],
  ['duplicate metric names', VALID.replace('attributes: { a: 2, b: 3 } }', 'attributes: { a: 2 } }\n    - { name: m, instrument: counter, attributes: { a: 2 } }'), '/telemetry/metrics/1/name'],
  ['fault ratio above 1', `${VALID}\nembedded: { receiver: { faults: { rejectDataPointRatio: 1.5 } } }\n`, '/embedded/receiver/faults/rejectDataPointRatio'],
  ['target that is not http', VALID.replace('rate: 100', 'rate: 100, target: "ftp://x"'), '/load/target'],
  ['cardinality over the limit', VALID.replace('a: 2, b: 3', 'a: 100000, b: 1000'), '/telemetry/metrics/0/attributes'],
  ['neither load nor telemetry', 'name: x\nduration: 5s\n', ''],
  ['ramping-arrival-rate without stages', VALID.replace('constant-arrival-rate, rate: 100', 'ramping-arrival-rate'), '/load/stages'],
  ['rate given to a VU executor', VALID.replace('constant-arrival-rate, rate: 100', 'constant-vus, vus: 4, rate: 100'), '/load/rate'],
  ['stages longer than the run', VALID.replace('constant-arrival-rate, rate: 100', 'ramping-vus, stages: [{ duration: 8s, target: 4 }, { duration: 3s, target: 0 }]'), '/load/stages'],
  ['fractional VU target', VALID.replace('constant-arrival-rate, rate: 100', 'ramping-vus, stages: [{ duration: 8s, target: 2.5 }]'), '/load/stages/0/target'],
  ['stage without a target', VALID.replace('constant-arrival-rate, rate: 100', 'ramping-arrival-rate, stages: [{ duration: 8s }]'), '/load/stages/0/target'],
  ['burst window longer than its period', VALID.replace('constant-arrival-rate, rate: 100', 'burst, burst: { connections: 10, window: 2s, every: 1s }'), '/load/burst/window'],
  ['burst without connections', VALID.replace('constant-arrival-rate, rate: 100', 'burst, burst: { window: 20ms, every: 1s }'), '/load/burst/connections'],
  ['reuse in neither form', VALID.replace('rate: 100', 'rate: 100, connection: { reuse: sometimes }'), '/load/connection/reuse'],
  ['requestsPerConnection of 0', VALID.replace('rate: 100', 'rate: 100, connection: { reuse: { requestsPerConnection: 0 } }'), '/load/connection/reuse/requestsPerConnection'],
  ['tcp-crr against an http target', VALID.replace('rate: 100', 'rate: 100, protocol: tcp-crr, target: "http://127.0.0.1:80/"'), '/load/target'],
  ['tcp target without a port', VALID.replace('rate: 100', 'rate: 100, protocol: tcp-crr, target: "tcp://127.0.0.1"'), '/load/target'],
  ['local address that is not an IP', VALID.replace('rate: 100', 'rate: 100, localAddresses: ["10.0.0.300"]'), '/load/localAddresses/0'],
  ['keep-alive with tcp-crr', VALID.replace('rate: 100', 'rate: 100, protocol: tcp-crr, connection: { reuse: keep-alive }'), '/load/connection/reuse'],
  ['DNS mode misspelt', VALID.replace('rate: 100', 'rate: 100, dns: { resolve: always }'), '/load/dns/resolve'],
];

test('every executor normalises to rates per second and times in ms', () => {
  const withLoad = (load: string): unknown => parseScenario(VALID.replace('{ executor: constant-arrival-rate, rate: 100 }', load)).scenario.load?.executor;
  assert.deepEqual(withLoad('{ executor: constant-arrival-rate, rate: 30, timeUnit: 1m }'), { executor: 'constant-arrival-rate', ratePerSecond: 0.5 });
  assert.deepEqual(withLoad('{ executor: ramping-arrival-rate, startRate: 10, stages: [{ duration: 2s, target: 50 }, { duration: 3s, target: 0 }] }'), {
    executor: 'ramping-arrival-rate',
    startRatePerSecond: 10,
    stages: [{ durationMs: 2000, target: 50 }, { durationMs: 3000, target: 0 }],
  });
  assert.deepEqual(withLoad('{ executor: burst, burst: { connections: 200, window: 50ms, every: 2s } }'), { executor: 'burst', connections: 200, windowMs: 50, everyMs: 2000 });
  assert.deepEqual(withLoad('{ executor: constant-vus, vus: 8 }'), { executor: 'constant-vus', vus: 8 });
  assert.deepEqual(withLoad('{ executor: ramping-vus, stages: [{ duration: 4s, target: 6 }] }'), { executor: 'ramping-vus', startVUs: 1, stages: [{ durationMs: 4000, target: 6 }] });
});

test('connection lifecycle fields normalise with their defaults', () => {
  const load = parseScenario(VALID.replace('rate: 100', 'rate: 100, connection: { reuse: { requestsPerConnection: 5 }, close: rst }, localAddresses: [127.0.0.2, "::1"], dns: { resolve: per-connection }')).scenario.load;
  assert.deepEqual(load?.connection.reuse, { requestsPerConnection: 5 });
  assert.equal(load?.connection.close, 'rst');
  assert.deepEqual(load?.localAddresses, ['127.0.0.2', '::1']);
  assert.deepEqual(load?.dns, { resolve: 'per-connection', ttlMs: 30_000 });
  assert.equal(load?.protocol, 'http1');
  assert.equal(load?.requestsPerIteration, 1);
});

for (const [kind, text, pointer] of BAD) {
  test(`rejects ${kind} with a pointer to ${pointer || 'the document'}`, () => {
    const problems = problemsOf(text);
    assert.ok(
      problems.some((p) => p.pointer === pointer),
      `no problem at ${pointer}; got ${JSON.stringify(problems)}`,
    );
    for (const p of problems) assert.ok(p.message.length > 0);
  });
}

test('every error is listed, not just the first', () => {
  const problems = problemsOf(VALID.replace('duration: 10s', 'duration: 10').replace('rate: 100', 'rate: -1'));
  const pointers = problems.map((p) => p.pointer);
  assert.ok(pointers.includes('/duration'));
  assert.ok(pointers.includes('/load/rate'));
});

test('YAML syntax errors are config errors, not crashes', () => {
  const problems = problemsOf('name: [unclosed\nduration: 5s');
  assert.ok(problems.length > 0);
});

test('an unreadable file is TALLY_CONFIG_UNREADABLE', async () => {
  await assert.rejects(loadScenarioFile('/nonexistent/scenario.yaml'), (err: unknown) => err instanceof ConfigError && err.code === 'TALLY_CONFIG_UNREADABLE');
});

test('every file under scenarios/ validates', async () => {
  const dir = new URL('../../scenarios/', import.meta.url).pathname;
  const files = (await readdir(dir)).filter((f) => /\.(ya?ml|json)$/.test(f) && !f.endsWith('.schema.json'));
  assert.ok(files.length > 0);
  for (const f of files) await loadScenarioFile(join(dir, f));
});
