/**
 * The HTML report's plots over time, from intervals.ndjson (one line per second): arrival
 * rate against target, latency percentiles per second, errors by class, datapath counters,
 * OTLP data points and spans by final state, exporter queue depth. Each section gives its
 * plots, or why it has none. Per-second percentiles are plotted as measured (each second's
 * merged histogram), never averaged. Pure.
 */
import type { IntervalLine } from './aggregate.ts';
import { colorAt, emptySection, msOf, positiveOrNull, type PlotAxis, type PlotSection, type PlotSpec } from './html-plot-spec.ts';
import type { Results } from './results.ts';

type Load = NonNullable<IntervalLine['load']>;

const TIME_AXIS: PlotAxis = { label: 'time since start (s)', unit: 's', format: 'seconds' };
const int = (n: number): string => Math.round(n).toLocaleString('en-US');

/** Length of one interval (s), from the lines themselves (1 s for tally run's). */
export function intervalSeconds(lines: readonly IntervalLine[]): number {
  const first = lines[0];
  return first === undefined ? 1 : first.endMs / (first.interval + 1) / 1000;
}

/** The x column: each interval's end, s since the run start. */
function timeColumn(lines: readonly IntervalLine[]): number[] {
  return lines.map((l) => l.endMs / 1000);
}

function timePlot(id: string, title: string, y: PlotAxis, lines: readonly IntervalLine[], series: { label: string; pick: (l: IntervalLine) => number | null; axis?: 0 | 1; dash?: number[]; style?: 'line' | 'step' }[], y2?: PlotAxis): PlotSpec {
  return {
    id,
    title,
    x: TIME_AXIS,
    y,
    ...(y2 ? { y2 } : {}),
    series: series.map((s, i) => ({ label: s.label, color: colorAt(i), ...(s.axis ? { axis: s.axis } : {}), ...(s.dash ? { dash: s.dash } : {}), ...(s.style ? { style: s.style } : {}) })),
    data: [timeColumn(lines), ...series.map((s) => lines.map(s.pick))],
    syncKey: 'time',
  };
}

const perSecond = (n: number | undefined, seconds: number): number | null => (n === undefined ? null : n / seconds);

/**
 * Target vs achieved arrival rate per second, with late starts and dropped iterations (a
 * closed model: achieved rate and active VUs).
 */
export function rateSection(results: Results, lines: readonly IntervalLine[]): PlotSection {
  const load = results.summary?.load;
  if (load === undefined || !lines.some((l) => l.load)) return emptySection('No load: the scenario has no `load` section (a telemetry-only run), so no arrival rate was measured.');
  const s = intervalSeconds(lines);
  const y: PlotAxis = { label: 'iterations per second', unit: '/s', format: 'number' };
  const y2: PlotAxis = { label: 'late starts, dropped (/s)', unit: '/s', format: 'number' };
  const achieved = { label: 'achieved (responses/s)', pick: (l: IntervalLine) => l.load?.achievedRatePerSecond ?? null };
  const started = { label: 'started (iterations/s)', pick: (l: IntervalLine) => perSecond(l.load?.started, s) };
  if (load.model === 'closed') {
    const vus: PlotAxis = { label: 'active VUs', unit: 'VUs', format: 'number' };
    return { plots: [timePlot('plot-rate', 'Arrival rate (closed model: VUs loop, no target rate)', y, lines, [achieved, started, { label: 'active VUs', pick: (l) => l.load?.vusActive ?? null, axis: 1, style: 'step' }], vus)] };
  }
  const plannedMs = results.run.plannedDurationMs as number;
  const hasPlanned = lines.some((l) => l.load?.plannedArrivals !== undefined);
  // Runs from before interval lines carried the schedule: a constant rate is still known exactly.
  const constant = !hasPlanned && load.executor === 'constant-arrival-rate';
  const target = hasPlanned || constant
    ? [{ label: 'target (planned arrivals/s)', pick: (l: IntervalLine) => (hasPlanned ? perSecond(l.load?.plannedArrivals ?? 0, s) : l.endMs <= plannedMs ? load.targetRatePerSecond : 0), dash: [6, 4] }]
    : [];
  const series = [
    achieved,
    started,
    ...target,
    { label: 'late starts/s', pick: (l: IntervalLine) => perSecond(l.load?.lateStarts, s), axis: 1 as const },
    { label: 'dropped iterations/s', pick: (l: IntervalLine) => perSecond(l.load?.droppedIterations, s), axis: 1 as const },
  ];
  const note = target.length === 0 ? 'The target rate per second is not in these interval lines (written by an older tally); results.json has the average: ' + `${int(load.targetRatePerSecond)}/s.` : undefined;
  return { plots: [timePlot('plot-rate', `Arrival rate: target ${int(load.targetRatePerSecond)}/s average, achieved ${load.achievedRatePerSecond.toFixed(1)}/s`, y, lines, series, y2)], ...(note ? { note } : {}) };
}

/** The four distributions each interval line carries, as results.json names them. */
export const LATENCY_KINDS: readonly { key: 'latencyUs' | 'serviceUs' | 'connectUs' | 'ttfbUs'; title: string }[] = [
  { key: 'latencyUs', title: 'Latency from the intended start (coordinated-omission corrected)' },
  { key: 'serviceUs', title: 'Service time (from the actual start)' },
  { key: 'connectUs', title: 'Connect' },
  { key: 'ttfbUs', title: 'TTFB (request written → first response byte)' },
];

/** p50, p99 and max per second of the intended-start latency, service time, connect and TTFB (ms, log axis). */
export function latencySection(lines: readonly IntervalLine[]): PlotSection {
  if (!lines.some((l) => l.load)) return emptySection('No load: no request latency was measured.');
  const plots: PlotSpec[] = [];
  const missing: string[] = [];
  for (const kind of LATENCY_KINDS) {
    const pick = (p: 'p50' | 'p99' | 'max') => (l: IntervalLine): number | null => {
      const load: Load | undefined = l.load;
      return load === undefined || load.completed === 0 ? null : positiveOrNull(msOf(load[kind.key][p]));
    };
    if (!lines.some((l) => pick('max')(l) !== null)) {
      missing.push(kind.title);
      continue;
    }
    const y: PlotAxis = { label: 'ms (log scale)', unit: 'ms', format: 'number', log: true };
    plots.push(timePlot(`plot-${kind.key}`, `${kind.title}: p50, p99, max per second`, y, lines, [
      { label: 'p50', pick: pick('p50') },
      { label: 'p99', pick: pick('p99') },
      { label: 'max', pick: pick('max') },
    ]));
  }
  const note = missing.length > 0 ? `No samples for: ${missing.join('; ')} (e.g. connections reused, so no connect was timed).` : undefined;
  return plots.length === 0 ? emptySection(note ?? 'No latency samples.') : { plots, ...(note ? { note } : {}) };
}

/** Errors per second by class, and HTTP 4xx/5xx responses. */
export function errorsSection(results: Results, lines: readonly IntervalLine[]): PlotSection {
  if (!lines.some((l) => l.load)) return emptySection('No load: no requests, so no errors.');
  const s = intervalSeconds(lines);
  const classes = [...new Set(lines.flatMap((l) => Object.keys(l.load?.errorsByClass ?? {})))].sort();
  const statuses = ['4xx', '5xx'].filter((c) => lines.some((l) => (l.load?.statusClasses[c] ?? 0) > 0));
  if (classes.length === 0 && statuses.length === 0) {
    return emptySection(`No errors: every one of the ${int(results.summary?.load?.requests ?? 0)} requests got an HTTP response, none of them 4xx or 5xx.`);
  }
  const y: PlotAxis = { label: 'per second', unit: '/s', format: 'number' };
  const series = [
    ...classes.map((c) => ({ label: c, pick: (l: IntervalLine) => (l.load ? (l.load.errorsByClass[c] ?? 0) / s : null) })),
    ...statuses.map((c) => ({ label: `HTTP ${c} responses`, pick: (l: IntervalLine) => (l.load ? (l.load.statusClasses[c] ?? 0) / s : null), dash: [4, 3] })),
  ];
  return { plots: [timePlot('plot-errors', 'Errors by class (no HTTP response) and 4xx/5xx responses', y, lines, series)] };
}

const DATAPATH_GAUGES: readonly [string, string][] = [
  ['conntrack.count', 'conntrack entries'],
  ['sockstat.TCP.tw', 'TIME_WAIT sockets'],
];
const DATAPATH_COUNTERS: readonly [string, string][] = [
  ['conntrack.drop', 'conntrack drop'],
  ['conntrack.insert_failed', 'conntrack insert_failed'],
  ['netstat.TcpExt.TCPSynRetrans', 'SYN retransmits'],
  ['netstat.TcpExt.ListenDrops', 'listen drops'],
  ['netstat.TcpExt.ListenOverflows', 'listen overflows'],
];

/** Datapath gauges (conntrack entries, TIME_WAIT sockets) and counter deltas per second (drops, insert_failed, SYN retransmits, listen drops). */
export function datapathSection(results: Results, lines: readonly IntervalLine[]): PlotSection {
  const sampled = lines.filter((l) => l.datapath !== undefined);
  if (sampled.length === 0) {
    return emptySection(results.summary?.load === undefined
      ? 'No datapath counters: they are sampled around the load, and this run has none.'
      : 'No datapath counters in the interval lines: /proc could not be sampled during the load (see results.json `datapath.flags`).');
  }
  const s = intervalSeconds(lines);
  const has = (key: string): boolean => sampled.some((l) => l.datapath![key] !== undefined);
  const gauges = DATAPATH_GAUGES.filter(([k]) => has(k));
  const counters = DATAPATH_COUNTERS.filter(([k]) => has(k));
  const source = results.datapath?.source === undefined ? '' : ` (${results.datapath.source})`;
  const plots: PlotSpec[] = [];
  if (gauges.length > 0) {
    const axes = gauges.map(([, label]): PlotAxis => ({ label, unit: label.split(' ').at(-1)!, format: 'number' }));
    plots.push(timePlot('plot-datapath-gauges', `Datapath gauges at each second's end${source}`, axes[0], lines, gauges.map(([k, label], i) => ({ label, pick: (l) => l.datapath?.[k] ?? null, ...(i === 1 ? { axis: 1 as const } : {}) })), axes[1]));
  }
  if (counters.length > 0) {
    const y: PlotAxis = { label: 'per second', unit: '/s', format: 'number' };
    plots.push(timePlot('plot-datapath-counters', `Datapath drops and retransmits per second${source}`, y, lines, counters.map(([k, label]) => ({ label, pick: (l) => perSecond(l.datapath?.[k], s) }))));
  }
  const unavailable = [...DATAPATH_GAUGES, ...DATAPATH_COUNTERS].filter(([k]) => !has(k)).map(([, label]) => label);
  const note = unavailable.length > 0 ? `Not available on this host (the kernel has no such counter): ${unavailable.join(', ')}.` : undefined;
  return plots.length === 0 ? emptySection(note!) : { plots, ...(note ? { note } : {}) };
}

const POINT_STATES: readonly [keyof NonNullable<IntervalLine['metrics']>, string][] = [
  ['pointsSent', 'sent'],
  ['pointsAcknowledged', 'acknowledged'],
  ['pointsRejected', 'rejected (partial_success)'],
  ['pointsFailed', 'failed'],
  ['pointsDropped', 'dropped by queue'],
  ['pointsUnsettled', 'unsettled'],
];
const SPAN_STATES: readonly [keyof NonNullable<IntervalLine['traces']>, string][] = [
  ['spansSent', 'sent'],
  ['spansAcknowledged', 'acknowledged'],
  ['spansRejected', 'rejected (partial_success)'],
  ['spansFailed', 'failed'],
  ['spansDropped', 'dropped by queue'],
  ['spansUnsettled', 'unsettled'],
];

/** OTLP data points and spans per second by final state (by the second their request settled in), and the exporters' queue depth. */
export function otlpSection(results: Results, lines: readonly IntervalLine[]): PlotSection {
  const hasMetrics = results.summary?.metrics !== undefined;
  const hasTraces = results.summary?.traces !== undefined;
  if (!hasMetrics && !hasTraces) return emptySection('No OTLP telemetry: the scenario has no `telemetry` section.');
  const s = intervalSeconds(lines);
  const plots: PlotSpec[] = [];
  const notes: string[] = [];
  const y: PlotAxis = { label: 'per second', unit: '/s', format: 'number' };
  if (hasMetrics) {
    if (lines.some((l) => l.metrics)) {
      plots.push(timePlot('plot-otlp-points', 'Metric data points per second by final state (when their request settled)', y, lines, POINT_STATES.map(([k, label], i) => ({ label, pick: (l) => (l.metrics ? l.metrics[k] / s : 0), ...(i === 0 ? { dash: [6, 4] } : {}) }))));
    } else notes.push('No metric export request settled during the load.');
  }
  if (hasTraces) {
    if (lines.some((l) => l.traces)) {
      plots.push(timePlot('plot-otlp-spans', 'Spans per second by final state (when their request settled)', y, lines, SPAN_STATES.map(([k, label], i) => ({ label, pick: (l) => (l.traces ? l.traces[k] / s : 0), ...(i === 0 ? { dash: [6, 4] } : {}) }))));
    } else notes.push('No span export request settled during the load.');
  }
  const signals = (['metrics', 'traces'] as const).filter((sig) => lines.some((l) => l.exporter?.[sig] !== undefined));
  if (signals.length > 0) {
    const q: PlotAxis = { label: 'batches in the sending queue', unit: 'batches', format: 'number' };
    plots.push(timePlot('plot-exporter-queue', 'Exporter queue depth (deepest in each second, summed over workers)', q, lines, signals.map((sig) => ({ label: `${sig} queue`, pick: (l) => l.exporter?.[sig]?.queueDepthMax ?? null, style: 'step' as const }))));
  } else notes.push('No exporter queue: this transport sends each request once, without a sending queue (remote write).');
  return { plots, ...(notes.length > 0 ? { note: notes.join(' ') } : {}) };
}
