/**
 * Every scenario example of the README's "Telemetry" section is valid: each YAML block is
 * completed into a scenario (a name, a duration, a metric where the block has none) and
 * parsed by the loader, so the documentation cannot drift from the schema.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { parseScenario } from '../../scenarios/load.ts';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

test('the README Telemetry section\'s examples are valid scenario parts', () => {
  const start = README.indexOf('\n## Telemetry\n');
  const section = README.slice(start, README.indexOf('\n## ', start + 5));
  const blocks = [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]);
  assert.ok(blocks.length >= 7, `${blocks.length} examples`);
  for (const block of blocks) {
    let doc = parseDocument(block).toJS() as Record<string, any> | unknown[];
    // A bare list item is a metric entry.
    if (Array.isArray(doc)) doc = { telemetry: { metrics: doc } };
    const scenario: Record<string, any> = { name: 'readme', duration: '1m', ...doc };
    scenario.telemetry ??= {};
    if (!scenario.telemetry.metrics && !scenario.telemetry.traces) scenario.telemetry.metrics = [{ name: 'm', instrument: 'counter', attributes: { a: 2 } }];
    assert.doesNotThrow(() => parseScenario(JSON.stringify(scenario)), block);
  }
});
