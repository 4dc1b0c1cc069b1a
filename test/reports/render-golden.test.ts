/**
 * Golden files for the renderers: summary.md and the terminal summary of two recorded
 * results.json (an embedded run with load, metrics with faults, and traces; a remote-write
 * run read back from Prometheus 2.42 with its waterfall), compared byte for byte. The
 * fixtures must still validate against the results schema, so they cannot drift from it.
 *
 * After an intended change to a renderer: `UPDATE_GOLDEN=1 node --test
 * test/reports/render-golden.test.ts`, then read the diff of test/reports/golden/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { renderMarkdown, renderTerminal } from '../../reports/render.ts';
import { validateResults, type Results } from '../../reports/results.ts';

const FIXTURES = new URL('../fixtures/results/', import.meta.url);
const GOLDEN = new URL('./golden/', import.meta.url);
const UPDATE = process.env.UPDATE_GOLDEN === '1';

function golden(name: string, actual: string): void {
  const file = new URL(name, GOLDEN);
  if (UPDATE) writeFileSync(file, actual);
  assert.equal(actual, readFileSync(file, 'utf8'), `${name} differs from its golden file`);
}

for (const name of ['embedded', 'readback']) {
  const results = JSON.parse(readFileSync(new URL(`${name}.results.json`, FIXTURES), 'utf8')) as Results;

  test(`${name}: the recorded results.json still validates against the results schema`, () => {
    assert.doesNotThrow(() => validateResults(results));
  });

  test(`${name}: summary.md is its golden file`, () => {
    golden(`${name}.summary.md`, renderMarkdown(results));
  });

  test(`${name}: the terminal summary is its golden file`, () => {
    golden(`${name}.terminal.txt`, renderTerminal(results));
  });
}
