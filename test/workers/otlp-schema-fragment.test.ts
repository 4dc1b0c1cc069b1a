/**
 * The proposed scenario-schema fragment for metric entries (scenarios/metrics.schema-fragment.json)
 * compiles under Ajv2020 strict mode once merged into the current schema, and accepts or
 * refuses metric entries as core/instruments.ts does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { metricModel, type InstrumentOptions } from '../../core/instruments.ts';

const read = (path: string): any => JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8'));

function mergedValidator() {
  const schema = read('../../scenarios/scenario.schema.json');
  const fragment = read('../../scenarios/metrics.schema-fragment.json');
  Object.assign(schema.$defs, fragment.$defs);
  Object.assign(schema.$defs.telemetry.properties, fragment.telemetryProperties);
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
  ajv.addKeyword({ keyword: 'unit', schemaType: 'string' });
  return ajv.compile(schema);
}

const scenario = (metric: Record<string, unknown>, resource?: Record<string, unknown>) => ({
  name: 'frag', duration: '10s', telemetry: { metrics: [{ name: 'm', attributes: { a: 2 }, ...metric }], ...(resource ? { resource } : {}) },
});

test('merged fragment: valid metric entries pass and are valid models; invalid ones are refused by both', () => {
  const validate = mergedValidator();
  const good: Record<string, unknown>[] = [
    { instrument: 'counter', temporality: 'cumulative' },
    { instrument: 'up-down-counter', temporality: 'delta', churn: { ratio: 0.1, everyTicks: 6 } },
    { instrument: 'gauge', exemplars: { ratio: 0.5 } },
    { instrument: 'histogram', temporality: 'delta', buckets: [1, 5, 10] },
    { instrument: 'exponential-histogram', temporality: 'cumulative', scale: 4, maxSize: 20 },
  ];
  for (const m of good) {
    assert.equal(validate(scenario(m)), true, JSON.stringify(validate.errors));
    assert.doesNotThrow(() => metricModel(1, 0, 2, m as unknown as InstrumentOptions));
  }
  const bad: Record<string, unknown>[] = [
    { instrument: 'gauge', temporality: 'delta' },
    { instrument: 'counter', temporality: 'cumulative', buckets: [1] },
    { instrument: 'histogram', temporality: 'delta', scale: 2 },
    { instrument: 'exponential-histogram', temporality: 'delta', scale: 21 },
    { instrument: 'counter', temporality: 'delta', churn: { ratio: 2, everyTicks: 1 } },
    { instrument: 'counter', temporality: 'delta', exemplars: {} },
    { instrument: 'summary' },
  ];
  for (const m of bad) assert.equal(validate(scenario(m)), false, JSON.stringify(m));
  assert.equal(validate(scenario({ instrument: 'counter', attributes: { 'tally.generation': 2 } })), false, 'reserved attribute');
});

test('merged fragment: resource attributes, with tally.run.id and tally.shard reserved', () => {
  const validate = mergedValidator();
  assert.equal(validate(scenario({ instrument: 'counter' }, { 'deployment.environment': 'lab', 'k8s.node.count': 3, canary: true })), true, JSON.stringify(validate.errors));
  assert.equal(validate(scenario({ instrument: 'counter' }, { 'tally.shard': 1 })), false);
  assert.equal(validate(scenario({ instrument: 'counter' }, { nested: { a: 1 } })), false);
});
