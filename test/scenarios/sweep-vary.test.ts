/**
 * `--vary` fields: paths in either form resolve against the scenario schema to a number, an
 * integer or a duration (with the schema's unit and bounds); other fields are refused with
 * the `/vary` pointer; a step's document has the field set and is otherwise untouched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scenarioSchema } from '../../scenarios/load.ts';
import { documentValue, parseVaryField, parseVaryValue, varyTokens, withVaried } from '../../scenarios/sweep-vary.ts';

test('paths: dotted, with [i], or a JSON pointer', () => {
  assert.deepEqual(varyTokens('telemetry.metrics[0].attributes.pod'), ['telemetry', 'metrics', '0', 'attributes', 'pod']);
  assert.deepEqual(varyTokens('/telemetry/metrics/0/attributes/pod'), ['telemetry', 'metrics', '0', 'attributes', 'pod']);
});

test('kinds from the schema: load.rate a number, an attribute count an integer, exportInterval a duration with its bounds', () => {
  const rate = parseVaryField('load.rate', scenarioSchema);
  assert.equal(rate.kind, 'number');
  assert.equal(rate.pointer, '/load/rate');
  assert.equal(rate.unit, 'iterations per timeUnit');
  const pod = parseVaryField('telemetry.metrics.0.attributes.pod', scenarioSchema);
  assert.equal(pod.kind, 'integer');
  assert.equal(pod.maximum, 1_000_000);
  const interval = parseVaryField('/telemetry/exportInterval', scenarioSchema);
  assert.equal(interval.kind, 'duration');
  assert.equal(interval.minimum, 100);
  assert.equal(parseVaryField('telemetry.traces.ratePerSecond', scenarioSchema).kind, 'number');
});

test('fields that are not numbers or durations, or not fields at all, are refused with the /vary pointer', () => {
  for (const text of ['load.executor', 'load.nope', 'telemetry.metrics.0.name', '']) {
    assert.throws(() => parseVaryField(text, scenarioSchema), (e: { code: string; problems: { pointer: string }[] }) => e.code === 'TALLY_USAGE' && e.problems[0].pointer === '/vary', text);
  }
});

test('values: a duration takes units (a bare number is ms), a number must be one', () => {
  const interval = parseVaryField('telemetry.exportInterval', scenarioSchema);
  assert.equal(parseVaryValue(interval, '2s', 'from'), 2000);
  assert.equal(parseVaryValue(interval, '250', 'from'), 250);
  assert.equal(documentValue(interval, 1234.5), '1234.5ms');
  const rate = parseVaryField('load.rate', scenarioSchema);
  assert.throws(() => parseVaryValue(rate, 'fast', 'to'), (e: { problems: { pointer: string }[] }) => e.problems[0].pointer === '/to');
  assert.equal(documentValue(parseVaryField('telemetry.metrics.0.attributes.pod', scenarioSchema), 12.6), 13);
});

test('a step\'s document: the field set, a new attribute added, everything else as it was', () => {
  const doc = { name: 's', telemetry: { exportInterval: '1s', metrics: [{ name: 'm', attributes: { route: 10 } }] } };
  const pod = parseVaryField('telemetry.metrics.0.attributes.pod', scenarioSchema);
  const step = withVaried(doc, pod, 300);
  assert.deepEqual(step, { name: 's', telemetry: { exportInterval: '1s', metrics: [{ name: 'm', attributes: { route: 10, pod: 300 } }] } });
  assert.deepEqual(doc.telemetry.metrics[0].attributes, { route: 10 }, 'the original is untouched');
  assert.throws(() => withVaried(doc, parseVaryField('telemetry.metrics.3.attributes.pod', scenarioSchema), 1), (e: { code: string }) => e.code === 'TALLY_USAGE');
});
