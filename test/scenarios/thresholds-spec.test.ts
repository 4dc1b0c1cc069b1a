/**
 * Thresholds in the scenario: k6's expression syntax (aggregations by metric type,
 * operators, a trend's bare number in ms), k6 aliases, and bad input named by its JSON
 * pointer; the schema lists exactly the catalog's names, each with its unit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../core/errors.ts';
import { parseScenario, scenarioSchema } from '../../scenarios/load.ts';
import { allThresholdNames, THRESHOLD_NAMES } from '../../scenarios/threshold-names.ts';
import { parseThresholdExpression } from '../../scenarios/thresholds-spec.ts';

const BASE = `
name: th
duration: 10s
load: { executor: constant-arrival-rate, rate: 100 }
telemetry:
  metrics:
    - { name: m, instrument: counter, attributes: { a: 2 } }
`;

function problemsOf(text: string): { pointer: string; message: string }[] {
  try {
    parseScenario(text);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.code, 'TALLY_CONFIG_INVALID');
    return err.problems;
  }
  assert.fail('the scenario was accepted');
}

// [expression, kind, aggregation, percentile, operator, limit, unit]
const PARSED: [string, 'trend' | 'rate' | 'counter' | 'gauge', string, number | undefined, string, number, string][] = [
  ['p(99)<20ms', 'trend', 'p', 99, '<', 20_000, 'us'],
  ['p(99.9) <= 1.5s', 'trend', 'p', 99.9, '<=', 1_500_000, 'us'],
  ['p(95)<200', 'trend', 'p', 95, '<', 200_000, 'us'], // k6: a bare number is ms
  ['avg<300us', 'trend', 'avg', undefined, '<', 300, 'us'],
  ['med>=2µs', 'trend', 'med', undefined, '>=', 2, 'us'],
  ['max<1m', 'trend', 'max', undefined, '<', 60_000_000, 'us'],
  ['min>0', 'trend', 'min', undefined, '>', 0, 'us'],
  ['count>100', 'trend', 'count', undefined, '>', 100, 'count'],
  ['rate<0.001', 'rate', 'rate', undefined, '<', 0.001, 'ratio'],
  ['count==0', 'rate', 'count', undefined, '==', 0, 'count'],
  ['rate===0', 'rate', 'rate', undefined, '==', 0, 'ratio'],
  ['count!=3', 'counter', 'count', undefined, '!=', 3, 'count'],
  ['rate>1e3', 'counter', 'rate', undefined, '>', 1000, 'per_second'],
  ['value>=0.95', 'gauge', 'value', undefined, '>=', 0.95, 'value'],
];

test('expressions parse to aggregation, operator and a limit in the figure\'s unit (trend durations in µs)', () => {
  for (const [expression, kind, aggregation, percentile, operator, limit, unit] of PARSED) {
    const p = parseThresholdExpression(expression, kind);
    assert.ok(!('problem' in p), `${expression}: ${'problem' in p ? p.problem : ''}`);
    assert.deepEqual(p, { aggregation, ...(percentile === undefined ? {} : { percentile }), operator, limit, unit }, expression);
  }
});

test('expressions a metric type does not allow are refused', () => {
  const bad: [string, 'trend' | 'rate' | 'counter' | 'gauge'][] = [
    ['rate<0.1', 'trend'], ['p(99)<1', 'rate'], ['avg<1', 'counter'], ['count==0', 'gauge'], ['value<1', 'trend'],
    ['p(101)<1ms', 'trend'], ['p99<1ms', 'trend'], ['rate<1ms', 'rate'], ['latency<1', 'trend'], ['p(99)=1ms', 'trend'], ['', 'rate'], ['rate<', 'rate'],
  ];
  for (const [expression, kind] of bad) assert.ok('problem' in parseThresholdExpression(expression, kind), `${expression} on a ${kind}`);
});

test('a scenario normalises its thresholds, k6 aliases resolved and abortOnFail options parsed', () => {
  const { scenario, warnings } = parseScenario(`${BASE}
thresholds:
  latency: ['p(99)<20ms', 'p(50)<2ms']
  http_req_connecting: ['p(99)<5ms']
  http_req_failed: [{ threshold: 'rate<0.001', abortOnFail: true, delayAbortEval: '10s' }]
  otlp_loss: ['rate==0']
  dropped_iterations: ['count==0']
  'errors{class:ECONNRESET}': ['count==0']
`);
  assert.deepEqual(warnings, []);
  assert.deepEqual(scenario.thresholds.map((t) => [t.name, t.metric, t.kind, t.expression]), [
    ['latency', 'latency', 'trend', 'p(99)<20ms'],
    ['latency', 'latency', 'trend', 'p(50)<2ms'],
    ['http_req_connecting', 'connect', 'trend', 'p(99)<5ms'],
    ['http_req_failed', 'errors', 'rate', 'rate<0.001'],
    ['otlp_loss', 'otlp_loss', 'rate', 'rate==0'],
    ['dropped_iterations', 'dropped_iterations', 'counter', 'count==0'],
    ['errors{class:ECONNRESET}', 'errors{class:ECONNRESET}', 'rate', 'count==0'],
  ]);
  const failed = scenario.thresholds[3];
  assert.equal(failed.abortOnFail, true);
  assert.equal(failed.delayAbortEvalMs, 10_000);
  assert.equal(scenario.thresholds[0].abortOnFail, false);
  assert.deepEqual(parseScenario(BASE).scenario.thresholds, []);
});

test('bad thresholds are named by their JSON pointer, nothing is run', () => {
  const cases: [string, string, string][] = [
    ['an unknown name', `  latencyy: ['p(99)<1s']`, '/thresholds/latencyy'],
    ["k6's http_req_duration (not the same figure)", `  http_req_duration: ['p(99)<1s']`, '/thresholds/http_req_duration'],
    ['a bad expression', `  latency: ['p(99)<1s', 'p99<1s']`, '/thresholds/latency/1'],
    ['a bad expression in object form', `  errors: [{ threshold: 'avg<1' }]`, '/thresholds/errors/0/threshold'],
    ['an empty list', `  errors: []`, '/thresholds/errors'],
    ['a bad delayAbortEval', `  errors: [{ threshold: 'rate<0.1', abortOnFail: true, delayAbortEval: 10 }]`, '/thresholds/errors/0/delayAbortEval'],
    ['a figure the run cannot produce', `  visibility_lag: ['p(99)<30s']`, '/thresholds/visibility_lag'],
    ['span loss without traces', `  span_loss: ['rate==0']`, '/thresholds/span_loss'],
  ];
  for (const [what, block, pointer] of cases) {
    const problems = problemsOf(`${BASE}thresholds:\n${block}\n`);
    assert.ok(problems.some((p) => p.pointer === pointer), `${what}: ${JSON.stringify(problems)}`);
  }
  const noLoad = problemsOf(`name: th\nduration: 2s\ntelemetry:\n  exportInterval: 1s\n  metrics: [{ name: m, instrument: counter, attributes: { a: 1 } }]\nthresholds:\n  latency: ['p(99)<1s']\n`);
  assert.deepEqual(noLoad.map((p) => p.pointer), ['/thresholds/latency']);
});

test('delayAbortEval without abortOnFail is a warning, with its pointer', () => {
  const { warnings } = parseScenario(`${BASE}thresholds:\n  errors: [{ threshold: 'rate<0.1', delayAbortEval: 5s }]\n`);
  assert.deepEqual(warnings.map((w) => w.pointer), ['/thresholds/errors/0/delayAbortEval']);
});

test('the scenario schema lists exactly the catalog\'s names and aliases, each with a description and its unit', () => {
  const defs = (scenarioSchema as { $defs: Record<string, { properties: Record<string, { description?: string; unit?: string }> }> }).$defs;
  const listed = defs.thresholds.properties;
  assert.deepEqual(Object.keys(listed), allThresholdNames());
  for (const t of THRESHOLD_NAMES) {
    for (const name of [t.name, ...(t.aliases ?? [])]) {
      assert.equal(listed[name].unit, t.unit, `${name}: unit`);
      assert.ok((listed[name].description ?? '').includes(t.description), `${name}: description`);
    }
  }
});
