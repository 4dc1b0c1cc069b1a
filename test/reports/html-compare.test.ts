/**
 * The comparison page's pure renderer, on recorded runs: the verdict table first, row for
 * row the comparison's (values exact in data attributes), then the baselines and the
 * candidate overlaid on the same axes, each named in the legend; spectra from the
 * baselines' merged histograms. In a real browser: test/e2e/html-report-browser.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseIntervalLines } from '../../pipeline/interval-lines.ts';
import { DEFAULT_COMPARE_OPTIONS } from '../../reconcile/compare.ts';
import { compareRuns } from '../../reports/compare-figures.ts';
import type { CompareRun } from '../../reports/compare-inputs.ts';
import { renderCompareHtml } from '../../reports/html-compare.ts';
import type { PlotSpec } from '../../reports/html-plot-spec.ts';
import type { Results } from '../../reports/results.ts';

const FIXTURES = new URL('../fixtures/results/ramp-run/', import.meta.url);
const ASSETS = { uplotJs: '/* uPlot */', uplotCss: '' };

function run(dir: string, mutate?: (r: Results) => void): CompareRun {
  const results = JSON.parse(readFileSync(new URL('results.json', FIXTURES), 'utf8')) as Results;
  mutate?.(results);
  return { dir, results, intervals: parseIntervalLines(readFileSync(new URL('intervals.ndjson', FIXTURES), 'utf8')) };
}

const baselines = [run('base-a', (r) => (r.run.id = 'base-a-run')), run('base-b', (r) => (r.run.id = 'base-b-run'))];
const candidate = run('cand', (r) => {
  r.run.id = 'cand-run';
  r.summary.metrics.pointsMissing += 50;
  r.summary.metrics.lossRatio = r.summary.metrics.pointsMissing / r.summary.metrics.pointsSent;
});
const comparison = compareRuns(baselines, candidate, DEFAULT_COMPARE_OPTIONS);
const html = renderCompareHtml({ comparison, baselines, candidate, assets: ASSETS });
const plots = JSON.parse(/<script type="application\/json" id="tally-plots">(.*?)<\/script>/s.exec(html)![1]) as PlotSpec[];

test('the verdict table comes first, one row per figure with its verdict and exact values', () => {
  assert.ok(html.indexOf('id="verdicts"') < html.indexOf('id="spectra"') && html.indexOf('id="spectra"') < html.indexOf('id="over-time"'));
  const rows = [...html.matchAll(/<tr data-figure="([^"]+)" data-verdict="([a-z]+)">(.*?)<\/tr>/gs)];
  assert.deepEqual(rows.map((m) => [m[1].replaceAll('&#39;', "'"), m[2]]), comparison.rows.map((r) => [r.figure, r.verdict]));
  for (const [i, m] of rows.entries()) {
    const values = [...m[3].matchAll(/data-role="(baseline|candidate)" data-value="([^"]*)"/g)].map((v) => v[2]);
    const row = comparison.rows[i];
    assert.deepEqual(values, [row.baseline === null ? '' : String(row.baseline), row.candidate === null ? '' : String(row.candidate)], row.figure);
  }
  assert.ok(comparison.rows.some((r) => r.verdict === 'regressed'), 'the candidate\'s extra loss regressed');
  assert.match(html, /id="compare-headline">REGRESSION/);
});

test('baselines and candidate overlaid on the same axes, each named in the legend', () => {
  const overlays = plots.filter((p) => p.id.startsWith('plot-cmp-') && !p.id.includes('spectrum'));
  assert.deepEqual(overlays.map((p) => p.id), ['plot-cmp-rate', 'plot-cmp-p99', 'plot-cmp-p50', 'plot-cmp-errors', 'plot-cmp-lost']);
  for (const p of overlays) {
    assert.deepEqual(p.series.map((s) => s.label), ['baseline base-a-run', 'baseline base-b-run', 'candidate cand-run'], p.id);
    assert.equal(p.data.length, 4);
    assert.ok(p.y.unit !== '' && p.x.unit === 's', `${p.id} has units`);
  }
  const spectra = plots.filter((p) => p.id.startsWith('plot-cmp-spectrum-'));
  assert.deepEqual(spectra.map((p) => p.id), ['plot-cmp-spectrum-latencyUs', 'plot-cmp-spectrum-serviceUs', 'plot-cmp-spectrum-connectUs', 'plot-cmp-spectrum-ttfbUs']);
  const count = candidate.results.summary.load.latencyUs.count as number;
  // The two baselines merged hold twice the samples of one run.
  assert.deepEqual(spectra[0].series.map((s) => s.label), [`2 baselines merged (${(2 * count).toLocaleString('en-US')} samples)`, `candidate (${count.toLocaleString('en-US')} samples)`]);
});
