/**
 * JUnit XML for CI systems (Jenkins, GitLab, GitHub test reporters), written with
 * junit-report-builder: one test suite per run or comparison.
 *
 * - A run: one test case per threshold (`tally.thresholds`), per reconciliation check
 *   (`tally.reconciliation`: OTLP loss, duplicates, value mismatches, span loss) and for the
 *   generator's saturation and the run's completeness (`tally.run`); a failure carries the
 *   figures in its message; a check the run could not make is skipped.
 * - A comparison: one test case per figure (`tally.compare.<group>`): regressed fails with
 *   baseline, candidate and change in the message, inconclusive is skipped.
 *
 * Pure: results in, XML text out (the builder's `build()`, never its file writer).
 * @see https://github.com/davidparsson/junit-report-builder
 * @see https://github.com/testmoapp/junitxml (the format as the usual consumers read it)
 */
import junitReportBuilder from 'junit-report-builder';
import type { Builder, TestSuite } from 'junit-report-builder';
import type { ThresholdResult } from '../reconcile/thresholds.ts';
import type { Comparison, CompareRow } from './compare-figures.ts';
import { formatUs } from './render.ts';
import { formatFigure } from './render-thresholds.ts';
import type { Results } from './results.ts';

// The package is CommonJS (`module.exports = builder`) but its types declare `export default`,
// which under nodenext types the default import as the module object: the value is the builder.
const builder = junitReportBuilder as unknown as Builder;

/** JUnit's timestamp form (ISO 8601 without zone or fraction, as Ant writes it; tally's are UTC). */
function junitTimestamp(iso: string): string {
  return iso.slice(0, 19);
}

const pct = (ratio: number): string => `${(ratio * 100).toFixed(ratio > 0 && ratio < 0.001 ? 4 : 2)}%`;
const int = (n: number): string => n.toLocaleString('en-US');

function thresholdCases(suite: TestSuite, r: Results): void {
  for (const t of (r.thresholds?.results ?? []) as ThresholdResult[]) {
    const c = suite.testCase().className('tally.thresholds').name(`${t.name} ${t.expression}`);
    if (t.status === 'no_data') c.failure(`no data: the run did not measure ${t.metric}`, 'threshold_no_data');
    else if (t.status === 'breached') c.failure(`observed ${formatFigure(t.observed!, t.unit)}, limit ${t.expression}${t.abortOnFail ? ' (abortOnFail)' : ''}`, 'threshold_breached');
  }
}

/** A reconciliation check: fails when `count` > 0, skipped when the run could not check it. */
function check(suite: TestSuite, name: string, checked: boolean, count: number, message: () => string): void {
  const c = suite.testCase().className('tally.reconciliation').name(name);
  if (!checked) c.skipped();
  else if (count > 0) c.failure(message(), name.replaceAll(' ', '_'));
}

function reconciliationCases(suite: TestSuite, r: Results): void {
  const m = r.summary.metrics;
  if (m) {
    const ok = m.reconciled !== false;
    const st = m.missingByExportStage ?? {};
    check(suite, 'otlp loss', ok, m.pointsMissing ?? 0, () => `${int(m.pointsMissing)} of ${int(m.pointsSent)} data points missing (${pct(m.lossRatio)}): rejected ${int(st.rejected ?? 0)}, failed export ${int(st.failedExport ?? 0)}, dropped by queue ${int(st.droppedByQueue ?? 0)}, unsettled ${int(st.unsettled ?? 0)}, lost after ack ${int(st.lostAfterAck ?? 0)}`);
    check(suite, 'otlp duplicates', ok, m.duplicatePoints ?? 0, () => `${int(m.duplicatePoints)} data points received more than once (of ${int(m.pointsSent)} sent)`);
    check(suite, 'otlp value mismatches', ok, m.valueMismatches ?? 0, () => `${int(m.valueMismatches)} data points received with another value than sent`);
  }
  const t = r.summary.traces;
  if (t) check(suite, 'span loss', t.reconciled === true, t.spansMissing ?? 0, () => `${int(t.spansMissing)} of ${int(t.spansSent)} spans missing (${pct(t.spanLossRatio)}); ${int(t.tracesMissing)} traces missing, ${int(t.tracesIncomplete)} incomplete`);
}

function runCases(suite: TestSuite, r: Results): void {
  const g = r.generator;
  const sat = suite.testCase().className('tally.run').name('generator not saturated');
  if (g.saturated) sat.failure(`the generator was saturated: ${g.reasons.join('; ')} (CPU ${pct(g.cpuRatio)}, late starts ${pct(g.lateStartRatio)})`, 'generator_saturated');
  const complete = suite.testCase().className('tally.run').name('run complete');
  if (!r.complete) complete.failure(`the run is incomplete: ${r.incompleteReason ?? 'unknown'} after ${(r.run.elapsedMs / 1000).toFixed(1)} s of ${r.run.plannedDurationMs / 1000} s`, 'incomplete');
}

/** JUnit XML of one run's results.json. */
export function runJUnit(r: Results): string {
  const b = builder.newBuilder();
  const suite = b.testSuite().name(`tally run ${r.run.id}`).timestamp(junitTimestamp(r.run.startedAt)).time(r.run.elapsedMs / 1000);
  suite.property('scenario', r.run.scenario).property('seed', String(r.run.seed)).property('complete', String(r.complete));
  thresholdCases(suite, r);
  reconciliationCases(suite, r);
  runCases(suite, r);
  return b.build();
}

function rowValue(row: CompareRow, v: number | null): string {
  if (v === null) return 'n/a';
  if (row.unit === 'us') return formatUs(v);
  if (row.unit === 'per_second') return `${v.toFixed(1)}/s`;
  if (row.unit === 'flag') return v ? 'saturated' : 'not saturated';
  return int(v);
}

/** JUnit XML of a comparison: regressed rows fail, inconclusive ones are skipped. */
export function compareJUnit(c: Comparison): string {
  const b = builder.newBuilder();
  const suite = b.testSuite().name(`tally compare ${c.candidate.runId} against ${c.baselines.map((x) => x.runId).join(', ')}`);
  suite.property('candidate', c.candidate.runId).property('baselines', c.baselines.map((x) => x.runId).join(','));
  for (const row of c.rows) {
    const tc = suite.testCase().className(`tally.compare.${row.group}`).name(row.figure);
    if (row.verdict === 'inconclusive') tc.skipped();
    else if (row.verdict === 'regressed') {
      const change = row.changeRatio === null ? 'from 0' : `${row.changeRatio >= 0 ? '+' : ''}${(row.changeRatio * 100).toFixed(1)}%`;
      const p = row.pValue === undefined ? '' : `, p=${row.pValue.toPrecision(2)}`;
      tc.failure(`regressed: baseline ${rowValue(row, row.baseline)}, candidate ${rowValue(row, row.candidate)} (${change}; ${row.reason.replaceAll('_', ' ')}${p})`, 'regression');
    }
  }
  return b.build();
}
