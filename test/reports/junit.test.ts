/**
 * JUnit XML of a run, from the recorded results.json files: one suite per run, a test
 * case per threshold and per reconciliation check, the generator and completeness cases;
 * failures carry the figures; a check the run could not make is skipped. The XML is
 * checked by a well-kept parser and the structure CI consumers read (test/support/junit.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { runJUnit } from '../../reports/junit.ts';
import type { Results } from '../../reports/results.ts';
import { parseJUnit } from '../support/junit.ts';

const load = (name: string): Results => JSON.parse(readFileSync(new URL(`../fixtures/results/${name}.results.json`, import.meta.url), 'utf8')) as Results;

test('an embedded run with receiver faults: the loss check fails with its figures, the others pass', () => {
  const r = load('embedded');
  const [suite] = parseJUnit(runJUnit(r));
  assert.equal(suite.name, `tally run ${r.run.id}`);
  assert.equal(suite.properties.scenario, r.run.scenario);
  const byName = new Map(suite.cases.map((c) => [`${c.classname}/${c.name}`, c]));
  const loss = byName.get('tally.reconciliation/otlp loss')!;
  assert.equal(r.summary.metrics.pointsMissing > 0, true);
  assert.equal(loss.failure?.type, 'otlp_loss');
  assert.ok(loss.failure!.message.includes(r.summary.metrics.pointsMissing.toLocaleString('en-US')));
  assert.equal(byName.get('tally.reconciliation/otlp duplicates')!.failure, undefined);
  assert.equal(byName.get('tally.reconciliation/otlp value mismatches')!.failure, undefined);
  assert.ok(byName.has('tally.reconciliation/span loss'));
  assert.equal(byName.get('tally.run/generator not saturated')!.failure, undefined);
  assert.equal(byName.get('tally.run/run complete')!.failure, undefined);
});

test('thresholds: one case each, breached and no-data ones fail; an incomplete, saturated run fails its run cases', () => {
  const r = load('embedded');
  r.complete = false;
  r.incompleteReason = 'threshold:latency p(99)<1ms';
  r.generator.saturated = true;
  r.generator.reasons = ['late starts 2% > 1%'];
  r.thresholds = {
    ok: false, breached: 1, noData: 1, abortedBy: 'latency p(99)<1ms',
    results: [
      { name: 'latency', metric: 'latency', expression: 'p(99)<1ms', observed: 32_959, limit: 1000, unit: 'us', status: 'breached', abortOnFail: true },
      { name: 'http_req_failed', metric: 'errors', expression: 'rate<0.01', observed: 0, limit: 0.01, unit: 'ratio', status: 'ok', abortOnFail: false },
      { name: 'conntrack_drops', metric: 'conntrack_drops', expression: 'count==0', observed: null, limit: 0, unit: 'count', status: 'no_data', abortOnFail: false },
    ],
  };
  const [suite] = parseJUnit(runJUnit(r));
  const thresholds = suite.cases.filter((c) => c.classname === 'tally.thresholds');
  assert.deepEqual(thresholds.map((c) => [c.name, c.failure?.type ?? 'ok']), [
    ['latency p(99)<1ms', 'threshold_breached'],
    ['http_req_failed rate<0.01', 'ok'],
    ['conntrack_drops count==0', 'threshold_no_data'],
  ]);
  assert.ok(thresholds[0].failure!.message.includes('32.96ms'));
  const run = new Map(suite.cases.filter((c) => c.classname === 'tally.run').map((c) => [c.name, c]));
  assert.equal(run.get('generator not saturated')!.failure?.type, 'generator_saturated');
  assert.equal(run.get('run complete')!.failure?.type, 'incomplete');
});

test('a run read back from Prometheus, and one whose metrics were not read back (the checks are skipped)', () => {
  const readback = load('readback');
  const [suite] = parseJUnit(runJUnit(readback));
  assert.ok(suite.cases.some((c) => c.name === 'otlp loss'));
  const external = load('embedded');
  external.summary.metrics.reconciled = false;
  external.summary.traces.reconciled = false;
  const [ext] = parseJUnit(runJUnit(external));
  const skipped = ext.cases.filter((c) => c.skipped !== undefined).map((c) => c.name);
  assert.deepEqual(skipped, ['otlp loss', 'otlp duplicates', 'otlp value mismatches', 'span loss']);
});

test('names and messages with XML metacharacters stay well-formed', () => {
  const r = load('embedded');
  r.run.id = 'a<b>&"c"';
  r.thresholds = { ok: false, breached: 1, noData: 0, results: [{ name: 'errors{class:ECONNRESET}', metric: 'errors{class:ECONNRESET}', expression: 'count<1', observed: 2, limit: 1, unit: 'count', status: 'breached', abortOnFail: false }] };
  const [suite] = parseJUnit(runJUnit(r));
  assert.equal(suite.name, 'tally run a<b>&"c"');
  assert.equal(suite.cases[0].name, 'errors{class:ECONNRESET} count<1');
});
