/**
 * The comparison page (`tally compare … --html FILE`): the verdict table at the top, then
 * the baselines and the candidate overlaid on the same axes: the whole-run latency spectra
 * (the baselines' histograms merged, as compare judges them), and per second the achieved
 * rate, latency p50 and p99, errors, and OTLP data points lost. Pure.
 */
import type { IntervalLine } from './aggregate.ts';
import { cells, headline } from './compare-render.ts';
import type { Comparison } from './compare-figures.ts';
import type { CompareRun } from './compare-inputs.ts';
import { esc, plotSectionHtml, renderPage, type HtmlAssets, type PageSection } from './html-page.ts';
import { emptySection, msOf, PALETTE, positiveOrNull, type PlotAxis, type PlotSection, type PlotSeries, type PlotSpec } from './html-plot-spec.ts';
import { intervalSeconds } from './html-run-plots.ts';
import { SPECTRUM_HISTOGRAMS, spectrumPlot } from './html-whole-run-plots.ts';

/** What the comparison page is rendered from. */
export interface CompareHtmlInput {
  comparison: Comparison;
  baselines: readonly CompareRun[];
  candidate: CompareRun;
  assets: HtmlAssets;
}

/** The candidate stands out in red; the baselines take the palette's other colours. */
const CANDIDATE_COLOR = PALETTE[3];
const BASELINE_COLORS = PALETTE.filter((_, i) => i !== 3 && i !== 1);

function runLabel(run: CompareRun, role: string): string {
  return `${role} ${run.results.run.id}`;
}

/** The verdict table: every row with its baseline and candidate values (exact ones in data attributes). */
function verdictsHtml(c: Comparison): string {
  const rows = c.rows.map((row, i) => {
    const [figure, baseline, candidate, change, verdict, why] = cells(row);
    const value = (v: number | null, text: string, role: string): string => `<td class="num" data-row="${i}" data-role="${role}" data-value="${v === null ? '' : esc(String(v))}">${esc(text)}</td>`;
    return `<tr data-figure="${esc(row.figure)}" data-verdict="${row.verdict}"><td><code>${esc(figure)}</code></td>${value(row.baseline, baseline, 'baseline')}${value(row.candidate, candidate, 'candidate')}<td class="num">${esc(change)}</td><td class="verdict-${row.verdict}">${esc(verdict)}</td><td>${esc(why)}</td></tr>`;
  });
  const warnings = c.warnings.length > 0 ? `<ul>${c.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>` : '';
  const o = c.options;
  return `<p class="${c.regressed ? 'status-breached' : 'status-ok'}" id="compare-headline">${esc(headline(c))}</p>
<table><thead><tr><th>figure</th><th class="num">baseline</th><th class="num">candidate</th><th class="num">change</th><th>verdict</th><th>why</th></tr></thead><tbody>${rows.join('')}</tbody></table>${warnings}
<p class="note">Rank test: two-sided Mann-Whitney U over per-second values, α = ${o.alpha}, minimum effect ${o.minEffectRatio * 100}% (and ${o.minEffectUs} µs for durations); exact counts: any rise from zero, or above the highest baseline by more than ${o.countToleranceRatio * 100}%.</p>`;
}

/** Baselines' histograms merged against the candidate's, one plot per distribution. */
function spectraSection(baselines: readonly CompareRun[], candidate: CompareRun): PlotSection {
  const plots: PlotSpec[] = [];
  const missing: string[] = [];
  for (const h of SPECTRUM_HISTOGRAMS) {
    const base = baselines.map((b) => b.results.histograms?.[h.key] as string | undefined);
    const cand = candidate.results.histograms?.[h.key] as string | undefined;
    if (cand === undefined || base.some((b) => b === undefined)) {
      if (h.key !== 'dnsUs') missing.push(h.label);
      continue;
    }
    const plot = spectrumPlot(`plot-cmp-spectrum-${h.key}`, `${h.label}: percentile spectrum, baselines merged vs candidate`, [
      { label: baselines.length === 1 ? 'baseline' : `${baselines.length} baselines merged`, color: BASELINE_COLORS[0], encoded: base as string[], dash: [6, 4] },
      { label: 'candidate', color: CANDIDATE_COLOR, encoded: cand },
    ]);
    if (plot !== undefined) plots.push(plot);
  }
  if (plots.length === 0) return emptySection('No latency histograms in these runs (no load, or results.json without `histograms`).');
  return missing.length > 0 ? { plots, note: `Not in every run's results.json: ${missing.join(', ')}.` } : { plots };
}

type Pick = (l: IntervalLine, seconds: number) => number | null;

/** One figure per second of every run on a shared time axis (s since each run's start). */
function overlayPlot(id: string, title: string, y: PlotAxis, baselines: readonly CompareRun[], candidate: CompareRun, pick: Pick): PlotSpec {
  const runs = [...baselines, candidate];
  const xs = [...new Set(runs.flatMap((r) => r.intervals.map((l) => l.endMs / 1000)))].sort((a, b) => a - b);
  const at = new Map(xs.map((x, i) => [x, i]));
  const columns = runs.map((r) => {
    const col = new Array<number | null>(xs.length).fill(null);
    const s = intervalSeconds(r.intervals);
    for (const l of r.intervals) col[at.get(l.endMs / 1000)!] = pick(l, s);
    return col;
  });
  const series: PlotSeries[] = [
    ...baselines.map((b, i) => ({ label: runLabel(b, 'baseline'), color: BASELINE_COLORS[i % BASELINE_COLORS.length], dash: [6, 4], width: 1.25 })),
    { label: runLabel(candidate, 'candidate'), color: CANDIDATE_COLOR, width: 2 },
  ];
  return { id, title, x: { label: 'time since start (s)', unit: 's', format: 'seconds' }, y, series, data: [xs, ...columns], syncKey: 'time' };
}

/** Per-second figures of the baselines and the candidate, overlaid. */
function overTimeSection(baselines: readonly CompareRun[], candidate: CompareRun): PlotSection {
  const runs = [...baselines, candidate];
  if (runs.every((r) => r.intervals.length === 0)) return emptySection('No interval lines: intervals.ndjson is missing in every run directory.');
  const plots: PlotSpec[] = [];
  const perSecond: PlotAxis = { label: 'per second', unit: '/s', format: 'number' };
  const ms: PlotAxis = { label: 'ms (log scale)', unit: 'ms', format: 'number', log: true };
  const loaded = (l: IntervalLine): NonNullable<IntervalLine['load']> | undefined => (l.load !== undefined && l.load.completed > 0 ? l.load : undefined);
  if (runs.some((r) => r.intervals.some((l) => l.load))) {
    plots.push(
      overlayPlot('plot-cmp-rate', 'Achieved rate (responses per second)', perSecond, baselines, candidate, (l) => l.load?.achievedRatePerSecond ?? null),
      overlayPlot('plot-cmp-p99', 'Latency from the intended start: p99 per second', ms, baselines, candidate, (l) => positiveOrNull(msOf(loaded(l)?.latencyUs.p99 ?? 0))),
      overlayPlot('plot-cmp-p50', 'Latency from the intended start: p50 per second', ms, baselines, candidate, (l) => positiveOrNull(msOf(loaded(l)?.latencyUs.p50 ?? 0))),
      overlayPlot('plot-cmp-errors', 'Errors per second (no HTTP response)', perSecond, baselines, candidate, (l, s) => (l.load ? l.load.errors / s : null)),
    );
  }
  if (runs.some((r) => r.intervals.some((l) => l.metrics))) {
    plots.push(overlayPlot('plot-cmp-lost', 'Metric data points not acknowledged per second (rejected, failed, dropped, unsettled)', perSecond, baselines, candidate, (l, s) => {
      const m = l.metrics;
      return m === undefined ? 0 : (m.pointsRejected + m.pointsFailed + m.pointsDropped + m.pointsUnsettled) / s;
    }));
  }
  return plots.length === 0 ? emptySection('Neither load nor metrics in these runs\u2019 interval lines.') : { plots };
}

/**
 * Render the comparison page.
 * @returns the page (UTF-8 text).
 */
export function renderCompareHtml(input: CompareHtmlInput): string {
  const { comparison: c, baselines, candidate } = input;
  const plots: PlotSpec[] = [];
  const sections: PageSection[] = [{ id: 'verdicts', title: 'Verdicts', html: verdictsHtml(c) }];
  for (const [id, title, section] of [['spectra', 'Latency spectra', spectraSection(baselines, candidate)], ['over-time', 'Over time', overTimeSection(baselines, candidate)]] as const) {
    plots.push(...section.plots);
    sections.push({ id, title, html: plotSectionHtml(section) });
  }
  const badge = c.regressed ? '<span class="badge bad">regression</span>' : '<span class="badge ok">no regression</span>';
  const runs = [...baselines.map((b) => `<li>baseline <code>${esc(b.results.run.id)}</code> (${esc(b.dir)})</li>`), `<li>candidate <code>${esc(candidate.results.run.id)}</code> (${esc(candidate.dir)})</li>`];
  const header = `<h1>tally compare: ${esc(candidate.results.run.scenario)}</h1>
<ul class="meta">${runs.join('')}</ul>
<div class="badges">${badge}</div>`;
  return renderPage({
    title: `tally compare: ${candidate.results.run.id}`,
    header,
    sections,
    plots,
    assets: input.assets,
    footer: 'Rendered by tally compare from each run directory\u2019s results.json and intervals.ndjson. Spectra merge the baselines\u2019 HDR histograms bucket by bucket; nothing is averaged.',
  });
}
