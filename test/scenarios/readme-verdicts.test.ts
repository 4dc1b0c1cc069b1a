/**
 * The README's "Verdicts" section stays true: its thresholds example is a valid scenario
 * part, its names table lists every threshold name of the catalog (the error classes and
 * loss stages on one row each), and the exit codes it states are the CLI's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { EXIT_REGRESSION_FOUND, EXIT_THRESHOLDS_BREACHED } from '../../bin/exit-codes.ts';
import { parseScenario } from '../../scenarios/load.ts';
import { THRESHOLD_NAMES } from '../../scenarios/threshold-names.ts';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const start = README.indexOf('\n## Verdicts');
const SECTION = README.slice(start, README.indexOf('\n## ', start + 5));

test('the thresholds example is valid in a scenario with load, metrics and Prometheus read-back', () => {
  const block = /```yaml\n(thresholds:[\s\S]*?)```/.exec(SECTION)![1];
  const doc = {
    name: 'readme',
    duration: '1m',
    load: { executor: 'constant-arrival-rate', rate: 10 },
    telemetry: { endpoint: 'http://127.0.0.1:4318', exportInterval: '5s', metrics: [{ name: 'm', instrument: 'counter', attributes: { a: 2 } }] },
    backends: { prometheus: { url: 'http://127.0.0.1:9090' } },
    ...(parseDocument(block).toJS() as object),
  };
  const { scenario } = parseScenario(JSON.stringify(doc));
  assert.ok(scenario.thresholds.length >= 8);
});

test('the names table lists every threshold name and k6 alias', () => {
  const rows = SECTION.split('\n').filter((l) => l.startsWith('| `'));
  const table = rows.join('\n');
  for (const t of THRESHOLD_NAMES) {
    const sub = /^(errors\{class|otlp_loss\{stage):(.+)\}$/.exec(t.name);
    if (sub) {
      assert.ok(rows.some((r) => r.includes(`\`${sub[1]}:`) && r.includes(sub[2])), t.name);
      continue;
    }
    assert.ok(table.includes(`| \`${t.name}\` |`), t.name);
    for (const a of t.aliases ?? []) assert.ok(table.includes(`\`${a}\``), a);
  }
});

test('the exit codes the README states are the CLI\'s', () => {
  assert.ok(SECTION.includes(`**Exit codes: 0 no regression, ${EXIT_REGRESSION_FOUND} a figure regressed**`));
  assert.ok(SECTION.includes(`**Exit code ${EXIT_THRESHOLDS_BREACHED}**`));
});
