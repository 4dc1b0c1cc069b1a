/**
 * The README's "Capacity and cardinality" section: its `budget` example is a valid part of a
 * scenario, and the calibration stand-ins it and the Scenarios section name
 * (`embedded.target.capacity`, `embedded.receiver.limits`) parse as written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { parseScenario } from '../../scenarios/load.ts';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

test('the README capacity section\'s YAML examples are valid scenario parts', () => {
  const start = README.indexOf('\n## Capacity and cardinality');
  assert.ok(start > 0);
  const section = README.slice(start, README.indexOf('\n## ', start + 5));
  const blocks = [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]);
  assert.ok(blocks.length >= 1);
  for (const block of blocks) {
    const doc = parseDocument(block).toJS() as Record<string, unknown>;
    const scenario = { name: 'readme', duration: '1m', telemetry: { metrics: [{ name: 'm', instrument: 'counter', attributes: { a: 2 } }] }, ...doc };
    assert.doesNotThrow(() => parseScenario(JSON.stringify(scenario)), block);
  }
});

test('the stand-ins as the README writes them', () => {
  const capacity = /`(\{ serviceTime: 4ms, servers: 1, queueLimit: 10000 \})`/.exec(README)![1];
  const { scenario } = parseScenario(`name: r\nduration: 2s\nload: { executor: constant-arrival-rate, rate: 10 }\nembedded: { target: { capacity: ${capacity} } }\n`);
  assert.equal(scenario.embedded.target.capacity!.serviceTimeMs, 4);
  assert.match(README, /limits: \{ dataPointsPerSecond: 2000 \}/);
});
