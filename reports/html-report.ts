/**
 * report.html of a run: results.json and intervals.ndjson in, one self-contained HTML page
 * out (reports/html-page.ts). Sections: thresholds, key figures, arrival rate against
 * target, latency over time, the whole-run percentile spectrum, errors by class, OTLP by
 * final state and exporter queue, the loss waterfall, the visibility lag, the datapath,
 * the findings, and every table of summary.md. A section without data says why. Pure (the caller reads the files and
 * uPlot's assets, and writes the page).
 */
import type { IntervalLine } from './aggregate.ts';
import { findingsHtml, keyFiguresHtml, runHeaderHtml, summaryTablesHtml, thresholdsHtml, waterfallTablesHtml } from './html-figures.ts';
import { esc, plotSectionHtml, renderPage, type HtmlAssets, type PageSection } from './html-page.ts';
import type { PlotSection, PlotSpec } from './html-plot-spec.ts';
import { datapathSection, errorsSection, latencySection, otlpSection, rateSection } from './html-run-plots.ts';
import { spectrumSection, visibilitySection, waterfallSection } from './html-whole-run-plots.ts';
import type { Results } from './results.ts';

export type { HtmlAssets };

/** What report.html is rendered from. */
export interface RunHtmlInput {
  results: Results;
  /** intervals.ndjson, parsed, in order (empty when the file is missing: the time plots then say so). */
  intervals: readonly IntervalLine[];
  assets: HtmlAssets;
}

/** Plot sections with their ids and titles, in page order. */
function plotSections(results: Results, lines: readonly IntervalLine[]): [id: string, title: string, section: PlotSection, extra?: string][] {
  const noLines = 'No interval lines: intervals.ndjson is missing or empty, so nothing can be drawn over time.';
  const timed = (make: () => PlotSection): PlotSection => (lines.length === 0 ? { plots: [], empty: noLines } : make());
  return [
    ['rate', 'Arrival rate', timed(() => rateSection(results, lines))],
    ['latency', 'Latency over time', timed(() => latencySection(lines))],
    ['spectrum', 'Latency spectrum', spectrumSection(results)],
    ['errors', 'Errors', timed(() => errorsSection(results, lines))],
    ['otlp', 'OTLP telemetry', timed(() => otlpSection(results, lines))],
    ['waterfall', 'Loss by stage', waterfallSection(results), waterfallTablesHtml(results)],
    ['visibility', 'Visibility lag', visibilitySection(results)],
    ['datapath', 'Datapath', timed(() => datapathSection(results, lines))],
  ];
}

/**
 * Render report.html.
 * @returns the page (UTF-8 text); its plots are drawn in the browser from the data it carries.
 */
export function renderRunHtml(input: RunHtmlInput): string {
  const { results, intervals } = input;
  const plots: PlotSpec[] = [];
  const sections: PageSection[] = [
    { id: 'thresholds', title: 'Thresholds', html: thresholdsHtml(results) },
    { id: 'figures', title: 'Key figures', html: keyFiguresHtml(results) },
  ];
  for (const [id, title, section, extra] of plotSections(results, intervals)) {
    plots.push(...section.plots);
    sections.push({ id, title, html: `${plotSectionHtml(section)}${extra ? `\n${extra}` : ''}` });
  }
  sections.push({ id: 'findings', title: 'Findings', html: findingsHtml(results) });
  sections.push({ id: 'summary', title: 'Summary', html: `<p class="note">Every figure of summary.md and the terminal summary.</p>\n${summaryTablesHtml(results)}` });
  return renderPage({
    title: `tally: ${results.run.scenario} ${results.run.id}`,
    header: runHeaderHtml(results),
    sections,
    plots,
    assets: input.assets,
    footer: `Run by tally ${esc(results.run.tallyVersion)}; drawn from its results.json and intervals.ndjson (${intervals.length.toLocaleString('en-US')} interval lines). Percentiles per second are each second's merged histogram, the spectrum the whole run's merged histograms: nothing is averaged.`,
  });
}
