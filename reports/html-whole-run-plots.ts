/**
 * The HTML report's whole-run plots, from results.json: the latency percentile spectrum
 * from the merged HDR histograms (value against 1/(1−p) on a log axis, as the
 * HdrHistogram plotter draws it), the loss waterfall (or, without read-back, the
 * ledger's loss by stage), and the visibility-lag histogram. Each section gives its plots,
 * or why it has none. Pure.
 *
 * @see https://hdrhistogram.github.io/HdrHistogram/plotFiles.html
 */
import type { Waterfall } from '../reconcile/waterfall.ts';
import { percentileDistribution, recordedValues } from './hdr-distribution.ts';
import { colorAt, emptySection, msOf, type PlotAxis, type PlotSection, type PlotSpec } from './html-plot-spec.ts';
import type { Results } from './results.ts';
import { SIGNAL_TITLE, STAGE_LABEL } from './waterfall-render.ts';

const int = (n: number): string => Math.round(n).toLocaleString('en-US');

/** The whole-run histograms the spectrum draws (results.json `histograms`), in order. */
export const SPECTRUM_HISTOGRAMS: readonly { key: string; label: string }[] = [
  { key: 'latencyUs', label: 'latency (intended start)' },
  { key: 'serviceUs', label: 'service time' },
  { key: 'connectUs', label: 'connect' },
  { key: 'ttfbUs', label: 'TTFB' },
  { key: 'dnsUs', label: 'DNS' },
];

/** The spectrum's x axis: 1/(1−p), log, printed as percentiles. */
const PERCENTILE_AXIS: PlotAxis = { label: 'percentile (log scale of 1/(1−p))', unit: '', format: 'percentile', log: true };

/**
 * One spectrum plot: each series' percentile distribution on a shared x column (the
 * distributions' percentile levels are the same sequence, each as far as its count goes).
 * @param series label, colour and the encoded histogram(s) (several are merged).
 * @returns undefined when no series has samples.
 */
export function spectrumPlot(id: string, title: string, series: readonly { label: string; color: string; encoded: string | readonly string[]; dash?: number[] }[]): PlotSpec | undefined {
  const drawn = series.map((s) => ({ ...s, d: percentileDistribution(s.encoded) })).filter((s) => s.d.count > 0);
  if (drawn.length === 0) return undefined;
  const xs = [...new Set(drawn.flatMap((s) => s.d.rows.map((r) => r.inverse)))].sort((a, b) => a - b);
  const at = new Map(xs.map((x, i) => [x, i]));
  const columns = drawn.map((s) => {
    const col = new Array<number | null>(xs.length).fill(null);
    for (const r of s.d.rows) col[at.get(r.inverse)!] = Math.max(0.001, msOf(r.valueUs));
    return col;
  });
  return {
    id,
    title,
    x: PERCENTILE_AXIS,
    y: { label: 'ms (log scale)', unit: 'ms', format: 'number', log: true },
    series: drawn.map((s) => ({ label: `${s.label} (${int(s.d.count)} samples)`, color: s.color, ...(s.dash ? { dash: s.dash } : {}) })),
    data: [xs.map((x) => Math.round(x * 1000) / 1000), ...columns],
  };
}

/** The whole-run latency spectrum of the run's merged histograms. */
export function spectrumSection(results: Results): PlotSection {
  const h = results.histograms as Record<string, string> | undefined;
  if (h === undefined) {
    return emptySection(results.summary?.load === undefined
      ? 'No latency histograms: the run has no load.'
      : 'No latency histograms: results.json has no `histograms` (written by an older tally, or the run stopped before the load reported).');
  }
  const series = SPECTRUM_HISTOGRAMS.filter((s) => h[s.key] !== undefined).map((s, i) => ({ label: s.label, color: colorAt(i), encoded: h[s.key] }));
  const plot = spectrumPlot('plot-spectrum', 'Latency percentile spectrum of the whole run (merged HDR histograms)', series);
  return plot === undefined ? emptySection('No latency samples: no request completed.') : { plots: [plot] };
}

function waterfallPlot(w: Waterfall, index: number): PlotSpec {
  const names = w.stages.map((s) => STAGE_LABEL[s.stage]);
  const lost = w.stages.map((s, i) => (i === 0 ? null : (w.steps.find((st) => st.to === s.stage)?.loss ?? null)));
  return {
    id: `plot-waterfall-${index}`,
    title: `Loss waterfall: ${SIGNAL_TITLE[w.signal]}, ${int(w.lossTotal)} lost (${int(w.unattributedTotal)} unattributed)`,
    x: { label: 'stage', unit: '', format: 'category', categories: names },
    y: { label: `${SIGNAL_TITLE[w.signal]} at the stage`, unit: w.signal === 'spans' ? 'spans' : 'points', format: 'number' },
    y2: { label: 'lost in the step into the stage', unit: w.signal === 'spans' ? 'spans' : 'points', format: 'number' },
    series: [
      { label: 'at the stage', color: colorAt(0), style: 'bars', barAlign: -1 },
      { label: 'lost in the step into it', color: colorAt(3), style: 'bars', barAlign: 1, axis: 1 },
    ],
    data: [names.map((_, i) => i), w.stages.map((s) => s.count), lost],
  };
}

const EXPORT_STAGES: readonly [string, string][] = [
  ['rejected', 'rejected (partial_success)'],
  ['failedExport', 'failed export'],
  ['droppedByQueue', 'dropped by queue'],
  ['unsettled', 'unsettled'],
  ['lostAfterAck', 'lost after acknowledgement'],
];

/** Without read-back: the ledger's loss by stage, against what the embedded receiver saw. */
function ledgerLossPlot(id: string, what: string, missing: Record<string, number>, unit: string): PlotSpec {
  return {
    id,
    title: `Missing ${what} by the stage that admits to them (ledger and embedded receiver)`,
    x: { label: 'stage', unit: '', format: 'category', categories: EXPORT_STAGES.map(([, l]) => l) },
    y: { label: `${what} missing`, unit, format: 'number' },
    series: [{ label: `${what} missing`, color: colorAt(3), style: 'bars' }],
    data: [EXPORT_STAGES.map((_, i) => i), EXPORT_STAGES.map(([k]) => missing[k] ?? 0)],
  };
}

/**
 * The loss waterfall of each signal (results.json `waterfalls`); without it, the ledger's
 * missing points and spans by stage when the run reconciled against the embedded receiver.
 */
export function waterfallSection(results: Results): PlotSection {
  const waterfalls = (results.waterfalls ?? []) as Waterfall[];
  if (waterfalls.length > 0) return { plots: waterfalls.map(waterfallPlot) };
  const m = results.summary?.metrics;
  const t = results.summary?.traces;
  if (m === undefined && t === undefined) return emptySection('No loss waterfall: the run sent no OTLP telemetry.');
  const plots: PlotSpec[] = [];
  const notes = ['No collector or backend counters were read (no `backends.collector`), so there is no stage-by-stage waterfall.'];
  if (m !== undefined) {
    const missing = m.missingByExportStage ?? { ...m.missingByStage };
    if (m.reconciled === false) notes.push('Metric data points were sent to an external endpoint and not read back: their loss is not known.');
    else if ((m.pointsMissing ?? 0) === 0) notes.push(`Metric data points: none missing (${int(m.pointsSent)} sent, ${int(m.pointsReceived)} received).`);
    else plots.push(ledgerLossPlot('plot-loss-points', 'data points', missing, 'points'));
  }
  if (t !== undefined) {
    if (t.reconciled !== true) notes.push('Spans were not reconciled span by span (no embedded receiver): their loss is not known.');
    else if ((t.spansMissing ?? 0) === 0) notes.push(`Spans: none missing (${int(t.spansSent)} sent, ${int(t.spansReceived)} received).`);
    else plots.push(ledgerLossPlot('plot-loss-spans', 'spans', t.missingByStage ?? {}, 'spans'));
  }
  return { plots, note: notes.join(' ') };
}

/** Bins of a lag histogram: the poll interval wide (its resolution), wider when that gives more than `maxBins`. */
function binWidthMs(maxMs: number, pollMs: number, maxBins: number): number {
  let width = Math.max(1, pollMs);
  for (const f of [2, 2.5, 2]) if (maxMs / width > maxBins) width *= f;
  while (maxMs / width > maxBins) width *= 10;
  return width;
}

/** The visibility-lag histogram (results.json `readback.visibility.lagHistogramUs`): points by time to visible. */
export function visibilitySection(results: Results): PlotSection {
  const v = results.readback?.visibility;
  if (v === undefined) {
    return emptySection(results.summary?.metrics === undefined
      ? 'No visibility lag: the run sent no metrics.'
      : 'No visibility lag: nothing was read back from a backend (no `backends.prometheus`). The embedded receiver counts a point the moment it accepts it.');
  }
  const values = recordedValues(v.lagHistogramUs);
  if (values.length === 0) return emptySection(`No point became visible: ${int(v.pointsExpected)} expected, ${int(v.lost)} lost, ${int(v.pending)} pending.`);
  const maxMs = values.at(-1)!.valueUs / 1000;
  const width = binWidthMs(maxMs, v.pollIntervalMs, 60);
  const bins = new Array<number>(Math.floor(maxMs / width) + 1).fill(0);
  for (const r of values) bins[Math.floor(r.valueUs / 1000 / width)] += r.count;
  const plot: PlotSpec = {
    id: 'plot-visibility',
    title: `Time to visible: ${int(v.onTime)} on time (≤ ${v.settleMs / 1000} s), ${int(v.late)} late (≤ ${v.maxWaitMs / 1000} s), ${int(v.lost)} lost`,
    x: { label: `time to visible (s), bins of ${width / 1000} s`, unit: 's', format: 'number' },
    y: { label: 'data points', unit: 'points', format: 'number' },
    series: [{ label: 'points visible', color: colorAt(0), style: 'bars' }],
    data: [bins.map((_, i) => ((i + 0.5) * width) / 1000), bins],
  };
  return { plots: [plot], note: `Resolution: the poll interval, ${v.pollIntervalMs} ms. Measured from each point's request send time.` };
}
