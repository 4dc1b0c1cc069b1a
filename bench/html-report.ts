/**
 * `npm run bench -- html [--run DIR]`: the HTML report's size and render time for a real
 * 30 s run (`DIR`, or a fresh run of scenarios/smoke.yaml, what `npm start` runs) and for
 * a 1-hour run synthesised from it (its interval lines repeated with shifted times to
 * 3,600 lines: test/support/synthetic-intervals.ts; the whole-run figures stay the real
 * run's). Render time is measured twice: the pure renderer in Node (results and lines in,
 * HTML out), and in Debian's chromium, from navigation start until every plot is drawn
 * (the page's own `tallyReport.readyAtMs`). Medians of `--repeat` (default 5) each.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { htmlAssets } from '../pipeline/html-report.ts';
import { readIntervalLines } from '../pipeline/interval-lines.ts';
import { runScenario } from '../pipeline/run.ts';
import type { IntervalLine } from '../reports/aggregate.ts';
import { renderRunHtml } from '../reports/html-report.ts';
import type { Results } from '../reports/results.ts';
import { launchChromium, openReport } from '../test/support/browser.ts';
import { repeatIntervals } from '../test/support/synthetic-intervals.ts';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const round1 = (x: number): number => Math.round(x * 10) / 10;

async function measure(name: string, dir: string, results: Results, intervals: IntervalLine[], repeat: number): Promise<Record<string, unknown>> {
  const assets = await htmlAssets();
  const renderMs: number[] = [];
  let html = '';
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    html = renderRunHtml({ results, intervals, assets });
    renderMs.push(performance.now() - t0);
  }
  const path = join(dir, `${name}.html`);
  await writeFile(path, html);
  const browser = await launchChromium();
  const ready: number[] = [];
  const draw: number[] = [];
  let plots = 0;
  try {
    for (let i = 0; i < repeat; i++) {
      const opened = await openReport(browser, path);
      if (opened.errors.length > 0 || opened.timing.failed > 0) throw new Error(`${name}: the page failed: ${opened.errors.join('; ')}`);
      ready.push(opened.timing.readyAtMs);
      draw.push(opened.timing.drawMs);
      plots = opened.timing.plots;
      await opened.page.close();
    }
  } finally {
    await browser.close();
  }
  return {
    intervalLines: intervals.length,
    plots,
    fileBytes: Buffer.byteLength(html),
    nodeRenderMs: round1(median(renderMs)),
    browserDrawPlotsMs: round1(median(draw)),
    browserReadyMs: round1(median(ready)),
    path,
  };
}

/** Run the bench. @returns the figures for the real and the synthesised hour-long run. */
export async function htmlReportBench(argv: string[]): Promise<unknown> {
  const { values } = parseArgs({ args: argv, options: { run: { type: 'string' }, repeat: { type: 'string' } } });
  const repeat = Number(values.repeat ?? 5);
  const dir = await mkdtemp(join(tmpdir(), 'tally-bench-html-'));
  let runDir = values.run;
  if (runDir === undefined) {
    runDir = join(dir, 'smoke');
    await runScenario({ scenarioPath: new URL('../scenarios/smoke.yaml', import.meta.url).pathname, outDir: runDir, stdout: { write: () => true, isTTY: false }, handleSignals: false });
  }
  const results = JSON.parse(await readFile(join(runDir, 'results.json'), 'utf8')) as Results;
  const intervals = await readIntervalLines(runDir);
  const hour = repeatIntervals(intervals, results.run.plannedDurationMs, 3600);
  return {
    run: { dir: runDir, id: results.run.id, plannedDurationMs: results.run.plannedDurationMs },
    real: await measure('real', dir, results, intervals, repeat),
    hourSynthesised: { note: `the real run's ${intervals.filter((l) => l.endMs <= results.run.plannedDurationMs).length} interval lines repeated with shifted times to 3,600; whole-run figures unchanged`, ...(await measure('hour', dir, results, hour, repeat)) },
  };
}
