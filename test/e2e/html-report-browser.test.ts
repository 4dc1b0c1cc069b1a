/**
 * The HTML reports in a real browser: Debian's chromium, headless, driven by
 * playwright-core (test/support/browser.ts), opening the pages that real runs wrote:
 *
 * - a ramping run through runScenario on loopback (embedded target with a seeded delay
 *   against a shorter request timeout, so some requests time out; embedded receiver that
 *   rejects 2 % of data points; traces; thresholds): report.html as `tally run` wrote it
 *   (and `tally report --html` writes the same page again);
 * - `tally compare --html` of that run and a second, lossier one;
 * - a run read back from a real Prometheus 2.42 (remote write, visibility polls and the
 *   waterfall from its ingest counters): the visibility-lag histogram and the waterfall;
 * - the first run's page with its interval lines repeated to an hour (3,600 lines).
 *
 * Each page: no console error, no request but the file itself, every plot drawn (its
 * canvas has pixels in a series' colour) with a legend naming its series, the figures
 * printed equal to results.json (the text read back as a number, within its printed
 * precision), the threshold and verdict tables as computed. Screenshots (PNG) and the
 * printed page (PDF) are saved under each run directory for a person to look at.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareRunDirs } from '../../pipeline/compare.ts';
import { htmlAssets, REPORT_HTML_FILE } from '../../pipeline/html-report.ts';
import { readIntervalLines } from '../../pipeline/interval-lines.ts';
import { runScenario } from '../../pipeline/run.ts';
import { valueAt } from '../../reports/html-figures.ts';
import type { PlotSpec } from '../../reports/html-plot-spec.ts';
import { renderRunHtml } from '../../reports/html-report.ts';
import type { Results } from '../../reports/results.ts';
import { inspectPlots, launchChromium, openReport, printedFigures, type Browser, type OpenedReport } from '../support/browser.ts';
import { repeatIntervals } from '../support/synthetic-intervals.ts';
import { startPrometheus, type PrometheusServer } from '../peers/prometheus.ts';
import { remoteWriteScenario } from './readback-helpers.ts';

const CLI = new URL('../../bin/tally.ts', import.meta.url).pathname;
const sink = { write: (_s: string) => true, isTTY: false };

function scenario(name: string, rejectRatio: number): string {
  return `
name: ${name}
seed: 11
duration: 5s
load:
  executor: ramping-arrival-rate
  startRate: 100
  stages: [{ duration: 2s, target: 300 }, { duration: 3s, target: 300 }]
  maxInFlight: 256
  connection: { requestTimeout: 40ms }
telemetry:
  exportInterval: 1s
  metrics: [{ name: tally.requests, instrument: counter, attributes: { route: 10, pod: 20 } }]
  traces: { ratePerSecond: 20, spansPerTrace: 3 }
embedded:
  target: { latency: { distribution: uniform, min: 1ms, max: 50ms } }
  receiver: { faults: { rejectDataPointRatio: ${rejectRatio} } }
thresholds:
  latency: ['p(99)<5s']
  otlp_loss: ['rate==0']
  errors: ['rate<0.5']
`;
}

let dir: string;
let browser: Browser;
let prom: PrometheusServer | undefined;
let first: { outDir: string; results: Results };

async function run(name: string, text: string): Promise<{ outDir: string; results: Results }> {
  const path = join(dir, `${name}.yaml`);
  await writeFile(path, text);
  return runScenario({ scenarioPath: path, outDir: join(dir, name), stdout: sink, handleSignals: false });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tally-html-'));
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await prom?.stop();
});

/** The plot specs the page carries (what it meant to draw). */
async function specsOf(opened: OpenedReport): Promise<PlotSpec[]> {
  return JSON.parse((await opened.page.locator('#tally-plots').textContent()) ?? '[]') as PlotSpec[];
}

/** No error, nothing fetched, every plot drawn with a legend naming its series. @returns the plots' ids. */
async function assertDrawn(opened: OpenedReport, file: string): Promise<string[]> {
  assert.deepEqual(opened.errors, [], 'no console errors');
  assert.deepEqual(opened.requests.filter((u) => !u.endsWith(file)), [], 'nothing requested but the file itself');
  const specs = await specsOf(opened);
  assert.equal(opened.timing.plots, specs.length);
  assert.equal(opened.timing.failed, 0);
  const drawn = await inspectPlots(opened.page);
  for (const [i, p] of drawn.entries()) {
    const spec = specs[i];
    assert.ok(p.canvasWidth >= 320 && p.canvasHeight > 100, `${p.id}: a canvas`);
    assert.equal(p.title, spec.title, `${p.id}: titled`);
    assert.deepEqual(p.legend, [spec.x.label, ...spec.series.map((s) => s.label)], `${p.id}: the legend names every series`);
    assert.ok(Math.max(...p.seriesPixels) >= 20, `${p.id}: a series is drawn (pixels by series: ${p.seriesPixels.join(', ')})`);
  }
  return drawn.map((p) => p.id);
}

/** A printed figure read back as a number in results.json's unit, and half its last printed digit (the rounding). */
function readBack(text: string, unit: string): { value: number; tolerance: number } {
  if (unit === 'flag') return { value: text === 'yes' ? 1 : 0, tolerance: 0 };
  const m = /^([\d,]+(?:\.(\d+))?)(µs|ms|s|\/s|%)?$/.exec(text);
  assert.ok(m, `"${text}" is a printed number`);
  const scale = { µs: 1, ms: 1000, s: 1_000_000, '/s': 1, '%': 0.01 }[m[3] ?? ''] ?? 1;
  const half = 0.5 * 10 ** -(m[2]?.length ?? 0);
  return { value: Number(m[1].replaceAll(',', '')) * scale, tolerance: half * scale };
}

/** Every printed figure is results.json's value at its path, exactly in its attribute and to its precision in its text. */
async function assertFigures(opened: OpenedReport, results: Results): Promise<string[]> {
  const figures = await printedFigures(opened.page);
  for (const f of figures) {
    const v = valueAt(results, f.path);
    assert.equal(f.value, String(v), f.path);
    const numeric = typeof v === 'boolean' ? Number(v) : (v as number);
    const { value, tolerance } = readBack(f.text, f.unit);
    assert.ok(Math.abs(value - numeric) <= tolerance + 1e-9, `${f.path}: printed ${f.text}, results.json ${numeric}`);
  }
  return figures.map((f) => f.path);
}

test('report.html of a real run: every plot drawn and named, the printed figures and thresholds are results.json\'s, screenshot and print', async (t) => {
  first = await run('ramp', scenario('html-ramp', 0.02));
  const file = join(first.outDir, REPORT_HTML_FILE);
  // tally report --html renders the same page again from the run directory.
  const written = await readFile(file, 'utf8');
  const again = spawnSync(process.execPath, [CLI, 'report', first.outDir, '--html'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(again.status, 0, again.stderr);
  assert.ok(again.stdout.includes(`report: ${file}`));
  assert.equal(await readFile(file, 'utf8'), written);
  const opened = await openReport(browser, file);
  t.diagnostic(`chromium ${browser.version}: ${opened.timing.plots} plots drawn in ${opened.timing.drawMs.toFixed(1)} ms, ready ${opened.timing.readyAtMs.toFixed(0)} ms after navigation; ${(await stat(file)).size} bytes`);
  const ids = await assertDrawn(opened, file);
  for (const id of ['plot-rate', 'plot-latencyUs', 'plot-serviceUs', 'plot-connectUs', 'plot-ttfbUs', 'plot-spectrum', 'plot-errors', 'plot-otlp-points', 'plot-otlp-spans', 'plot-exporter-queue', 'plot-loss-points', 'plot-datapath-gauges', 'plot-datapath-counters']) {
    assert.ok(ids.includes(id), `${id} is drawn (timeouts and rejected points are seeded, so this run has errors and loss)`);
  }
  const legend = (await inspectPlots(opened.page)).find((p) => p.id === 'plot-rate')!.legend;
  for (const name of ['target (planned arrivals/s)', 'started (iterations/s)', 'achieved (responses/s)', 'late starts/s', 'dropped iterations/s']) assert.ok(legend.includes(name), name);
  const paths = await assertFigures(opened, first.results);
  for (const p of ['summary.load.achievedRatePerSecond', 'summary.load.latencyUs.p99', 'summary.load.errors.total', 'summary.metrics.lossRatio', 'summary.traces.spansReceived']) assert.ok(paths.includes(p), p);
  const statuses = await opened.page.locator('[data-status]').evaluateAll((els) => els.map((e) => e.getAttribute('data-status')));
  assert.deepEqual(statuses, first.results.thresholds.results.map((x: { status: string }) => x.status));
  assert.equal(first.results.thresholds.results.length, 3);

  const png = join(first.outDir, 'report.png');
  await opened.page.screenshot({ path: png, fullPage: true });
  assert.deepEqual([...(await readFile(png)).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], 'a PNG');
  // Print: the print stylesheet hides the navigation, the plots are redrawn at print width.
  await opened.page.emulateMedia({ media: 'print' });
  assert.equal(await opened.page.locator('nav').isVisible(), false);
  await opened.page.evaluate("window.dispatchEvent(new Event('beforeprint'))");
  const printed = await inspectPlots(opened.page);
  for (const p of printed) assert.ok(p.canvasWidth <= 680 * 2 && Math.max(...p.seriesPixels) >= 20, `${p.id} redrawn for print`);
  const pdf = await opened.page.pdf({ format: 'A4' });
  await writeFile(join(first.outDir, 'report.pdf'), pdf);
  assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
  await opened.page.close();
});

test('tally compare --html: the verdict table first, baselines and candidate overlaid and named, every plot drawn', async (t) => {
  assert.ok(first, 'the first test ran');
  const lossy = await run('lossy', scenario('html-ramp', 0.1));
  const htmlPath = join(lossy.outDir, 'compare.html');
  const cli = spawnSync(process.execPath, [CLI, 'compare', first.outDir, lossy.outDir, '--html', htmlPath], { encoding: 'utf8', timeout: 60_000 });
  assert.ok(cli.status === 0 || cli.status === 3, cli.stderr);
  const comparison = await compareRunDirs({ baselineDirs: [first.outDir], candidateDir: lossy.outDir });
  const opened = await openReport(browser, htmlPath);
  t.diagnostic(`${opened.timing.plots} plots drawn in ${opened.timing.drawMs.toFixed(1)} ms`);
  const ids = await assertDrawn(opened, htmlPath);
  assert.ok(ids.includes('plot-cmp-spectrum-latencyUs') && ids.includes('plot-cmp-p99') && ids.includes('plot-cmp-lost'));
  const rows = await opened.page.locator('tr[data-figure]').evaluateAll((els) => els.map((e) => [e.getAttribute('data-figure'), e.getAttribute('data-verdict')]));
  assert.deepEqual(rows, comparison.rows.map((r) => [r.figure, r.verdict]));
  assert.equal(comparison.rows.find((r) => r.figure === 'otlp_loss')?.verdict, 'regressed', '10% rejected against 2%');
  const top = await opened.page.locator('section').first().getAttribute('id');
  assert.equal(top, 'verdicts');
  const p99 = (await inspectPlots(opened.page)).find((p) => p.id === 'plot-cmp-p99')!;
  assert.deepEqual(p99.legend.slice(1), [`baseline ${first.results.run.id}`, `candidate ${lossy.results.run.id}`]);
  assert.ok(p99.seriesPixels.every((n) => n >= 20), 'both runs drawn');
  await opened.page.screenshot({ path: join(lossy.outDir, 'compare.png'), fullPage: true });
  await opened.page.close();
});

test('a run read back from a real Prometheus 2.42: the visibility-lag histogram and the loss waterfall drawn', async () => {
  prom = await startPrometheus();
  const rb = await run('readback', remoteWriteScenario({
    name: 'html-readback', seed: 3, remoteWriteUrl: prom.remoteWriteUrl, prometheusUrl: prom.url, attributes: '{ route: 10, pod: 20 }', ticks: 8, intervalMs: 500,
    extra: 'load: { executor: constant-arrival-rate, rate: 100 }',
  }));
  assert.ok(rb.results.readback?.visibility?.pointsVisible > 0 && rb.results.waterfalls?.length > 0, 'read back, with a waterfall');
  const file = join(rb.outDir, REPORT_HTML_FILE);
  const opened = await openReport(browser, file);
  const ids = await assertDrawn(opened, file);
  assert.ok(ids.includes('plot-visibility') && ids.includes('plot-waterfall-0'), ids.join(', '));
  const paths = await assertFigures(opened, rb.results);
  assert.ok(paths.includes('readback.visibility.lagUs.p99') && paths.includes('waterfalls.0.stages.0.count'));
  await opened.page.screenshot({ path: join(rb.outDir, 'report.png'), fullPage: true });
  await opened.page.close();
});

test('an hour of interval lines (the real run\'s, repeated to 3,600): a file of a few MB, every plot drawn', async (t) => {
  assert.ok(first, 'the first test ran');
  const hour = repeatIntervals(await readIntervalLines(first.outDir), first.results.run.plannedDurationMs, 3600);
  const t0 = performance.now();
  const html = renderRunHtml({ results: first.results, intervals: hour, assets: await htmlAssets() });
  const renderMs = performance.now() - t0;
  const file = join(first.outDir, 'report-hour.html');
  await writeFile(file, html);
  const opened = await openReport(browser, file);
  const bytes = Buffer.byteLength(html);
  t.diagnostic(`3,600 lines: ${bytes} bytes, rendered in ${renderMs.toFixed(0)} ms (Node), ${opened.timing.plots} plots drawn in ${opened.timing.drawMs.toFixed(0)} ms, ready ${opened.timing.readyAtMs.toFixed(0)} ms after navigation (chromium)`);
  assert.ok(bytes < 3 * 1024 * 1024, `${bytes} bytes`);
  await assertDrawn(opened, file);
  // Far inside the test's timeout; a page that took this long would not be "fast".
  assert.ok(opened.timing.readyAtMs < 15_000, `ready after ${opened.timing.readyAtMs} ms`);
  await opened.page.screenshot({ path: join(first.outDir, 'report-hour.png'), fullPage: true });
  await opened.page.close();
});
