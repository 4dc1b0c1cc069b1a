/**
 * Writing the HTML reports: `report.html` of a run (beside results.json: `tally run`,
 * `tally report --html`) and the comparison page (`tally compare --html FILE`). Reads
 * intervals.ndjson and uPlot's script and stylesheet from node_modules (inlined, so the
 * page needs no network), renders with the pure renderers in reports/, and writes the page
 * atomically.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { writeFileAtomic } from '../host/files.ts';
import type { IntervalLine } from '../reports/aggregate.ts';
import type { Comparison } from '../reports/compare-figures.ts';
import type { CompareRun } from '../reports/compare-inputs.ts';
import { renderCompareHtml } from '../reports/html-compare.ts';
import type { HtmlAssets } from '../reports/html-page.ts';
import { renderRunHtml } from '../reports/html-report.ts';
import type { Results } from '../reports/results.ts';
import { readIntervalLines } from './interval-lines.ts';

/** report.html's name in a run directory. */
export const REPORT_HTML_FILE = 'report.html';

const require = createRequire(import.meta.url);
let assets: Promise<HtmlAssets> | undefined;

/** uPlot's IIFE build and stylesheet, read once per process. */
export function htmlAssets(): Promise<HtmlAssets> {
  assets ??= Promise.all([
    readFile(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
    readFile(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
  ]).then(([uplotJs, uplotCss]) => ({ uplotJs, uplotCss }));
  return assets;
}

/**
 * Write `<runDir>/report.html` from results and the directory's intervals.ndjson.
 * @returns the page's path.
 * @throws IoError `TALLY_IO_FAILED` naming the file when it cannot be written.
 */
export async function writeRunHtmlReport(runDir: string, results: Results, intervals?: readonly IntervalLine[]): Promise<string> {
  const path = join(runDir, REPORT_HTML_FILE);
  const html = renderRunHtml({ results, intervals: intervals ?? (await readIntervalLines(runDir)), assets: await htmlAssets() });
  await writeFileAtomic(path, html);
  return path;
}

/**
 * Write a comparison's page to `path`.
 * @throws IoError `TALLY_IO_FAILED` naming the file when it cannot be written.
 */
export async function writeCompareHtmlReport(path: string, comparison: Comparison, baselines: readonly CompareRun[], candidate: CompareRun): Promise<void> {
  await writeFileAtomic(path, renderCompareHtml({ comparison, baselines, candidate, assets: await htmlAssets() }));
}
