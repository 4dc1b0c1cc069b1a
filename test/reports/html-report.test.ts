/**
 * The HTML report's pure renderers, on recorded runs: a ramping run on the embedded target
 * and receiver (errors, rejected points, traces, thresholds; test/fixtures/results/ramp-run,
 * with its interval lines, recorded by `tally run` of the scenario.yaml beside them) and a remote-write run read back from Prometheus 2.42 (waterfall,
 * visibility lag). Checked here without a browser: the page is self-contained, every plot's
 * data and axes are complete and carry units, the figures it prints are results.json's,
 * the spectrum is HdrHistogram's percentile distribution, every section without data says
 * why, and text from the run cannot break out of the page. The page as drawn in a real
 * browser: test/e2e/html-report-browser.test.ts.
 *
 * After an intended change to the page: `UPDATE_GOLDEN=1 node --test test/reports/html-report.test.ts`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseIntervalLines } from '../../pipeline/interval-lines.ts';
import type { IntervalLine } from '../../reports/aggregate.ts';
import { valueAt } from '../../reports/html-figures.ts';
import type { PlotSpec } from '../../reports/html-plot-spec.ts';
import { renderRunHtml } from '../../reports/html-report.ts';
import { esc, type HtmlAssets } from '../../reports/html-page.ts';
import { summarySections } from '../../reports/render.ts';
import { formatFigure } from '../../reports/render-thresholds.ts';
import { validateResults, type Results } from '../../reports/results.ts';
import { repeatIntervals } from '../support/synthetic-intervals.ts';

const FIXTURES = new URL('../fixtures/results/', import.meta.url);
const ramp = JSON.parse(readFileSync(new URL('ramp-run/results.json', FIXTURES), 'utf8')) as Results;
const rampLines = parseIntervalLines(readFileSync(new URL('ramp-run/intervals.ndjson', FIXTURES), 'utf8'));
const readback = JSON.parse(readFileSync(new URL('readback.results.json', FIXTURES), 'utf8')) as Results;
/** Stand-ins for uPlot's files: the page's own parts are what is checked here. */
const ASSETS: HtmlAssets = { uplotJs: '/* uPlot */', uplotCss: '/* uPlot css */' };

function plotsOf(html: string): PlotSpec[] {
  const m = /<script type="application\/json" id="tally-plots">(.*?)<\/script>/s.exec(html);
  assert.ok(m, 'the page carries its plots as JSON');
  return JSON.parse(m[1]) as PlotSpec[];
}

/** The page's sections: id → inner HTML. */
function sectionsOf(html: string): Map<string, string> {
  return new Map([...html.matchAll(/<section id="([^"]+)">(.*?)<\/section>/gs)].map((m) => [m[1], m[2]]));
}

test('the recorded runs still validate against the results schema', () => {
  assert.doesNotThrow(() => validateResults(ramp));
  assert.doesNotThrow(() => validateResults(readback));
  assert.ok(rampLines.length > 0);
});

test('the page is one self-contained file: uPlot inlined, no URL to fetch, a policy that forbids the network', () => {
  const html = renderRunHtml({ results: ramp, intervals: rampLines, assets: ASSETS });
  assert.ok(html.includes('/* uPlot */') && html.includes('/* uPlot css */'));
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none';/);
  assert.deepEqual([...html.matchAll(/\b(?:src|href)="(?!#)([^"]*)"/g)].map((m) => m[1]), [], 'no src or href but in-page anchors');
  assert.doesNotMatch(html, /https?:\/\/(?!github\.com)/, 'no URL anywhere but a citation');
});

test('every plot has its element, units on every axis, a legend name for every series, and whole columns', () => {
  const html = renderRunHtml({ results: ramp, intervals: rampLines, assets: ASSETS });
  const plots = plotsOf(html);
  assert.deepEqual(plots.map((p) => p.id), [
    'plot-rate', 'plot-latencyUs', 'plot-serviceUs', 'plot-connectUs', 'plot-ttfbUs', 'plot-spectrum', 'plot-errors',
    'plot-otlp-points', 'plot-otlp-spans', 'plot-exporter-queue', 'plot-loss-points', 'plot-datapath-gauges', 'plot-datapath-counters',
  ]);
  for (const p of plots) {
    assert.ok(html.includes(`<figure class="plot" id="${p.id}"`), `${p.id} has its element`);
    for (const axis of [p.y, ...(p.y2 ? [p.y2] : [])]) assert.ok(axis.unit !== '' && axis.label !== '', `${p.id}: y axis "${axis.label}" has a unit`);
    if (p.x.format === 'seconds') assert.ok(p.x.unit === 's' && p.x.label.includes('(s)'), `${p.id}: time axis in s`);
    else assert.ok(p.x.format === 'category' || p.x.format === 'percentile' || p.x.unit !== '', `${p.id}: x axis has a unit`);
    assert.equal(p.data.length, p.series.length + 1, `${p.id}: one column per series`);
    for (const col of p.data) assert.equal(col.length, p.data[0].length, `${p.id}: columns of equal length`);
    for (const s of p.series) assert.ok(s.label !== '' && /^#[0-9a-f]{6}$/.test(s.color), `${p.id}: named, coloured series`);
    assert.ok(p.series.some((_, i) => p.data[i + 1].some((v) => v !== null)), `${p.id} has something to draw`);
  }
});

test('the rate plot draws the schedule\'s target per second (a ramp), beside what started and what was achieved', () => {
  const rate = plotsOf(renderRunHtml({ results: ramp, intervals: rampLines, assets: ASSETS })).find((p) => p.id === 'plot-rate')!;
  const col = (label: string): (number | null)[] => rate.data[rate.series.findIndex((s) => s.label.startsWith(label)) + 1];
  assert.deepEqual(col('target'), rampLines.map((l) => l.load?.plannedArrivals ?? null));
  assert.ok(col('target')[0]! < col('target')[3]!, 'the ramp rises');
  assert.deepEqual(col('started'), rampLines.map((l) => l.load!.started));
  assert.deepEqual(col('achieved'), rampLines.map((l) => l.load!.achievedRatePerSecond));
  // Interval lines from before the target was written: a constant rate is still drawn, a ramp is said to be missing.
  const old = rampLines.map((l) => ({ ...l, load: l.load && { ...l.load, plannedArrivals: undefined } })) as IntervalLine[];
  const html = renderRunHtml({ results: ramp, intervals: old, assets: ASSETS });
  assert.ok(!plotsOf(html).find((p) => p.id === 'plot-rate')!.series.some((s) => s.label.startsWith('target')));
  assert.match(sectionsOf(html).get('rate')!, /class="note">The target rate per second is not in these interval lines/);
});

test('a closed model draws active VUs instead of a target; 5xx responses join the errors; a counter the kernel lacks is named', () => {
  const closed = structuredClone(ramp);
  closed.summary.load.model = 'closed';
  closed.summary.load.executor = 'constant-vus';
  const lines = structuredClone(rampLines);
  lines[2].load!.statusClasses['5xx'] = 7;
  for (const l of lines) delete l.datapath?.['conntrack.count'];
  const html = renderRunHtml({ results: closed, intervals: lines, assets: ASSETS });
  const plots = plotsOf(html);
  const rate = plots.find((p) => p.id === 'plot-rate')!;
  assert.ok(rate.title.includes('closed model'));
  assert.deepEqual(rate.series.map((x) => x.label), ['achieved (responses/s)', 'started (iterations/s)', 'active VUs']);
  assert.equal(rate.y2?.unit, 'VUs');
  const errors = plots.find((p) => p.id === 'plot-errors')!;
  const fivexx = errors.series.findIndex((x) => x.label === 'HTTP 5xx responses');
  assert.equal(errors.data[fivexx + 1][2], 7);
  assert.deepEqual(plots.find((p) => p.id === 'plot-datapath-gauges')!.series.map((x) => x.label), ['TIME_WAIT sockets']);
  assert.match(sectionsOf(html).get('datapath')!, /class="note">Not available on this host \(the kernel has no such counter\): conntrack entries\./);
});

test('latency over time: each second\'s p50, p99 and max as measured, in ms; seconds without requests are gaps', () => {
  const plots = plotsOf(renderRunHtml({ results: ramp, intervals: rampLines, assets: ASSETS }));
  const latency = plots.find((p) => p.id === 'plot-latencyUs')!;
  assert.deepEqual(latency.series.map((s) => s.label), ['p50', 'p99', 'max']);
  assert.ok(latency.y.log && latency.y.unit === 'ms');
  for (const [i, l] of rampLines.entries()) {
    const expected = l.load && l.load.completed > 0 ? l.load.latencyUs.p99 / 1000 : null;
    assert.equal(latency.data[2][i], expected, `second ${i}`);
  }
});

test('the spectrum is HdrHistogram\'s percentile distribution of the merged histograms: its 50th and 90th percentiles are results.json\'s', () => {
  const spectrum = plotsOf(renderRunHtml({ results: ramp, intervals: rampLines, assets: ASSETS })).find((p) => p.id === 'plot-spectrum')!;
  assert.equal(spectrum.x.format, 'percentile');
  assert.ok(spectrum.x.log && spectrum.y.log);
  assert.deepEqual(spectrum.series.map((s) => s.label.replace(/ \(.*/, '')), ['latency', 'service time', 'connect', 'TTFB']);
  const at = (inverse: number, series: number): number | null => spectrum.data[series + 1][spectrum.data[0].indexOf(inverse)];
  const l = ramp.summary.load;
  assert.equal(at(2, 0), l.latencyUs.p50 / 1000, 'p50 (1/(1−p) = 2)');
  assert.equal(at(10, 0), l.latencyUs.p90 / 1000, 'p90 (1/(1−p) = 10)');
  assert.ok(spectrum.data[0].at(-1)! > 100, 'on past the 99th percentile');
  assert.equal(at(2, 3), l.ttfbUs.p50 / 1000, 'TTFB p50');
  assert.ok(spectrum.series[0].label.includes(`${l.latencyUs.count.toLocaleString('en-US')} samples`));
});

test('every printed figure carries its results.json path and exact value, and its text is that value', () => {
  const html = renderRunHtml({ results: ramp, intervals: rampLines, assets: ASSETS });
  const figures = [...html.matchAll(/data-path="([^"]+)" data-unit="([^"]+)" data-value="([^"]*)">([^<]*)</g)].map((m) => ({ path: m[1], unit: m[2], value: m[3], text: m[4] }));
  const paths = figures.map((f) => f.path);
  for (const p of ['summary.load.achievedRatePerSecond', 'summary.load.latencyUs.p99', 'summary.load.errors.total', 'summary.metrics.lossRatio', 'summary.traces.spansSent', 'generator.saturated', 'thresholds.results.0.observed']) assert.ok(paths.includes(p), p);
  for (const f of figures) {
    const v = valueAt(ramp, f.path);
    assert.equal(f.value, String(v), f.path);
    assert.equal(f.text, f.unit === 'flag' ? (v ? 'yes' : 'no') : formatFigure(v as number, f.unit as 'us'), f.path);
  }
  const statuses = [...html.matchAll(/data-status="([a-z_]+)"/g)].map((m) => m[1]);
  assert.deepEqual(statuses, ramp.thresholds.results.map((t: { status: string }) => t.status));
});

test('a section without data says why: no load, no thresholds, no interval lines, no read-back', () => {
  const telemetryOnly = structuredClone(ramp);
  delete telemetryOnly.summary.load;
  delete telemetryOnly.histograms;
  delete telemetryOnly.thresholds;
  const lines = rampLines.map(({ load: _load, datapath: _datapath, ...rest }) => rest) as IntervalLine[];
  const sections = sectionsOf(renderRunHtml({ results: telemetryOnly, intervals: lines, assets: ASSETS }));
  for (const id of ['thresholds', 'rate', 'latency', 'spectrum', 'errors', 'datapath', 'visibility']) {
    assert.match(sections.get(id)!, /<p class="empty">No [^<]+/, `${id} says why it is empty`);
    assert.doesNotMatch(sections.get(id)!, /<figure/, `${id} has no plot`);
  }
  const noLines = sectionsOf(renderRunHtml({ results: ramp, intervals: [], assets: ASSETS }));
  for (const id of ['rate', 'latency', 'errors', 'otlp', 'datapath']) assert.match(noLines.get(id)!, /No interval lines: intervals\.ndjson is missing/, id);
  assert.match(noLines.get('spectrum')!, /<figure class="plot" id="plot-spectrum"/, 'the whole-run spectrum needs no interval lines');
});

test('nothing summary.md says is left out: its every section and row is in the page', () => {
  for (const results of [ramp, readback]) {
    const summary = sectionsOf(renderRunHtml({ results, intervals: rampLines, assets: ASSETS })).get('summary')!;
    for (const s of summarySections(results)) {
      assert.ok(summary.includes(`<h3>${esc(s.section)}</h3>`), s.section);
      for (const [k, v] of s.rows) assert.ok(summary.includes(`<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`), `${s.section}: ${k}`);
    }
  }
});

test('a read-back run: the loss waterfall by stage with its table, and the visibility-lag histogram holding every visible point', () => {
  const html = renderRunHtml({ results: readback, intervals: [], assets: ASSETS });
  const plots = plotsOf(html);
  const waterfall = plots.find((p) => p.id === 'plot-waterfall-0')!;
  assert.deepEqual(waterfall.x.categories, ['sent', 'acknowledged (first hop)', 'stored', 'queryable (read-back)']);
  assert.deepEqual(waterfall.data[1], readback.waterfalls[0].stages.map((s: { count: number }) => s.count));
  assert.match(sectionsOf(html).get('waterfall')!, /data-path="waterfalls\.0\.stages\.3\.count"/);
  const visibility = plots.find((p) => p.id === 'plot-visibility')!;
  const v = readback.readback.visibility;
  assert.equal((visibility.data[1] as number[]).reduce((a, b) => a + b, 0), v.pointsVisible);
  assert.ok(visibility.x.label.includes(`bins of ${v.pollIntervalMs / 1000} s`), 'bins as wide as the poll interval (the resolution)');
});

test('text from the run cannot break out of the page: names escaped, JSON cannot end its script element', () => {
  const hostile = structuredClone(ramp);
  hostile.run.scenario = '<script>alert(1)</script>';
  hostile.findings.push({ kind: 'x</script><script>alert(2)//', count: 1, detail: '"><img src=x>' });
  const lines = structuredClone(rampLines);
  lines[1].load!.errorsByClass['</script><b>'] = 1;
  const html = renderRunHtml({ results: hostile, intervals: lines, assets: ASSETS });
  assert.ok(!html.includes('<script>alert'), 'no script from the run');
  assert.ok(!html.includes('<img src=x>'));
  assert.equal(html.match(/<\/script>/g)!.length, 3, 'only the page\'s own three scripts end');
  assert.ok(plotsOf(html).find((p) => p.id === 'plot-errors')!.series.some((s) => s.label === '</script><b>'), 'the label survives, escaped, in the JSON');
});

test('a 1-hour run (3,600 interval lines) stays a file of a few MB', () => {
  const hour = repeatIntervals(rampLines, ramp.run.plannedDurationMs, 3600);
  const html = renderRunHtml({ results: ramp, intervals: hour, assets: ASSETS });
  const bytes = Buffer.byteLength(html);
  assert.ok(bytes < 3 * 1024 * 1024, `${bytes} bytes`);
  for (const p of plotsOf(html).filter((x) => x.x.format === 'seconds')) assert.equal(p.data[0].length, 3600, p.id);
});

test('golden: the page of the recorded ramp run (uPlot stubbed)', () => {
  const html = renderRunHtml({ results: ramp, intervals: rampLines, assets: ASSETS });
  const file = new URL('./golden/ramp-run.report.html', import.meta.url);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, html);
  assert.equal(html, readFileSync(file, 'utf8'), 'report.html differs from its golden file');
});
