/**
 * The comparison built from runs (a recorded results.json with histograms and interval
 * lines made for the test): which rows exist, which rule judged them, what merged
 * histograms give, the warnings, and the three renderings of the same object.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHistogramUs, encodeHistogram, recordUs } from '../../core/histogram.ts';
import { DEFAULT_COMPARE_OPTIONS } from '../../reconcile/compare.ts';
import type { IntervalLine } from '../../reports/aggregate.ts';
import { compareRuns } from '../../reports/compare-figures.ts';
import type { CompareRun } from '../../reports/compare-inputs.ts';
import { renderCompareMarkdown, renderCompareTerminal } from '../../reports/compare-render.ts';
import { compareJUnit } from '../../reports/junit.ts';
import type { Results } from '../../reports/results.ts';
import { parseJUnit } from '../support/junit.ts';

const recorded = JSON.parse(readFileSync(new URL('../fixtures/results/embedded.results.json', import.meta.url), 'utf8')) as Results;

/** A run whose latency-like histograms hold `n` values around `centerUs` (± 5 %), with matching interval lines. */
function run(name: string, centerUs: number, change: (r: Results) => void = () => {}): CompareRun {
  const results = structuredClone(recorded);
  results.run.id = name;
  const h = createHistogramUs();
  for (let i = 0; i < 600; i++) recordUs(h, centerUs * (0.95 + (0.1 * i) / 600));
  const encoded = encodeHistogram(h);
  const p50 = h.getValueAtPercentile(50);
  const p99 = h.getValueAtPercentile(99);
  h.destroy();
  results.histograms = { latencyUs: encoded, serviceUs: encoded, ttfbUs: encoded, connectUs: encoded };
  for (const k of ['latencyUs', 'serviceUs', 'ttfbUs', 'connectUs']) Object.assign(results.summary.load[k], { p50, p99 });
  const intervals: IntervalLine[] = [0, 1, 2].map((i) => {
    const jitter = 1 + (i - 1) * 0.01;
    const q = { p50: p50 * jitter, p99: p99 * jitter, max: p99 * jitter };
    return {
      interval: i, endMs: (i + 1) * 1000, shards: 2, eventLoopDelayP99MaxUs: 0, workerCpuMaxRatio: 0,
      load: { started: 200, iterationsCompleted: 200, completed: 200, newConnections: 200, connectionsPerSecond: 200, vusActive: 0, stageStarted: {}, backends: {}, ok: 200, errors: 0, errorsByClass: {}, statusClasses: { '2xx': 200 }, lateStarts: 0, droppedIterations: 0, maxInFlight: 5, achievedRatePerSecond: 200 - i, latencyUs: q, connectUs: q, serviceUs: q, ttfbUs: q },
    };
  });
  // The recorded run had receiver faults; these runs start from no loss.
  const m = results.summary.metrics;
  m.pointsMissing = 0;
  m.lossRatio = 0;
  for (const k of Object.keys(m.missingByExportStage)) m.missingByExportStage[k] = 0;
  change(results);
  return { dir: `runs/${name}`, results, intervals };
}

const o = DEFAULT_COMPARE_OPTIONS;
const baselines = [run('night-1', 20_000), run('night-2', 20_200), run('night-3', 19_900)];
const row = (c: ReturnType<typeof compareRuns>, figure: string) => c.rows.find((r) => r.figure === figure);

test('the same run against itself: every row unchanged, nothing regressed', () => {
  const c = compareRuns([baselines[0]], run('night-1', 20_000), o);
  assert.equal(c.regressed, false);
  assert.deepEqual(c.rows.filter((r) => r.verdict !== 'unchanged').map((r) => r.figure), []);
  assert.deepEqual(c.counts, { improved: 0, regressed: 0, unchanged: c.rows.length, inconclusive: 0 });
});

test('a 30% slower candidate against three baselines: the latency rows regress, with the merged histograms\' values', () => {
  const c = compareRuns(baselines, run('candidate', 26_000), o);
  assert.equal(c.regressed, true);
  for (const f of ['latency p(50)', 'latency p(99)', 'service p(50)', 'ttfb p(99)', 'connect p(50)']) {
    const r = row(c, f)!;
    assert.equal(r.verdict, 'regressed', f);
    assert.equal(r.reason, 'significant');
    assert.deepEqual(r.samples, { baseline: 9, candidate: 3 });
  }
  const p50 = row(c, 'latency p(50)')!;
  assert.ok(p50.baseline! > 19_000 && p50.baseline! < 21_000 && p50.candidate! > 25_000);
  assert.equal(row(c, 'achieved_rate')!.verdict, 'unchanged');
  assert.equal(row(c, 'otlp_loss')!.verdict, 'unchanged');
});

test('exact counts: loss that rises from zero regresses, a saturated generator makes latency inconclusive', () => {
  const lossy = run('lossy', 20_000, (r) => {
    r.summary.metrics.pointsMissing = 30;
    r.summary.metrics.missingByExportStage.rejected = 30;
  });
  const c = compareRuns(baselines, lossy, o);
  assert.equal(row(c, 'otlp_loss')!.verdict, 'regressed');
  assert.equal(row(c, 'otlp_loss')!.reason, 'rose_from_zero');
  assert.equal(row(c, 'otlp_loss{stage:rejected}')!.verdict, 'regressed');
  assert.equal(row(c, 'latency p(50)')!.verdict, 'unchanged');
  const saturated = compareRuns(baselines, run('busy', 30_000, (r) => {
    r.generator.saturated = true;
    r.generator.reasons = ['late starts 5% > 1%'];
  }), o);
  assert.equal(row(saturated, 'latency p(50)')!.verdict, 'inconclusive');
  assert.equal(row(saturated, 'latency p(50)')!.reason, 'generator_saturated');
  assert.equal(row(saturated, 'generator_saturated')!.verdict, 'inconclusive');
  assert.ok(saturated.warnings.some((w) => w.includes('busy')));
  // A saturated baseline among steady ones is left out of the latency verdicts, not the comparison.
  const busyNight = run('busy-night', 40_000, (r) => {
    r.generator.saturated = true;
  });
  const withBusy = compareRuns([...baselines, busyNight], run('candidate', 26_000), o);
  assert.equal(row(withBusy, 'latency p(50)')!.verdict, 'regressed');
  assert.deepEqual(row(withBusy, 'latency p(50)')!.samples, { baseline: 9, candidate: 3 });
  assert.equal(row(withBusy, 'generator_saturated')!.verdict, 'unchanged');
  assert.deepEqual(row(withBusy, 'generator_saturated')!.baselineRange, [0, 1]);
});

test('warnings: other scenarios, a run without metrics (its rows are left out), no histograms', () => {
  const other = run('other', 20_000, (r) => {
    r.run.scenario = 'another';
    delete r.summary.metrics;
    delete r.histograms;
  });
  const c = compareRuns([baselines[0]], other, o);
  assert.equal(c.warnings.length >= 3, true);
  assert.equal(row(c, 'otlp_loss'), undefined);
  assert.equal(row(c, 'latency p(50)')!.reason, 'no_data');
});

test('the terminal table, Markdown and JUnit render the same rows', () => {
  const c = compareRuns(baselines, run('candidate', 26_000), o);
  const terminal = renderCompareTerminal(c);
  const markdown = renderCompareMarkdown(c);
  for (const r of c.rows) {
    assert.ok(terminal.includes(r.figure), `terminal: ${r.figure}`);
    assert.ok(markdown.includes(`\`${r.figure}\``), `markdown: ${r.figure}`);
  }
  assert.equal(markdown.split('\n').filter((l) => l.startsWith('| `')).length, c.rows.length);
  const [suite] = parseJUnit(compareJUnit(c));
  assert.equal(suite.tests, c.rows.length);
  assert.equal(suite.failures, c.counts.regressed);
  assert.equal(suite.skipped, c.counts.inconclusive);
  assert.deepEqual(suite.cases.filter((x) => x.failure).map((x) => x.name), c.rows.filter((r) => r.verdict === 'regressed').map((r) => r.figure));
  assert.equal(JSON.parse(JSON.stringify(c)).rows.length, c.rows.length);
});
