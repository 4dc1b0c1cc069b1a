/**
 * The figures thresholds judge, read from results.json (scenarios/threshold-names.ts lists
 * them), and the `thresholds` section results.json gets. Percentiles of any rank come from
 * the run's HDR histograms: the live aggregator's during a run, or the encoded ones in
 * results.json `histograms` afterwards (never averaged percentiles). Pure, except that
 * decoding a histogram allocates WebAssembly memory, freed before returning.
 */
import { decodeHistogram, valueAtPercentileUs, type Histogram } from '../core/histogram.ts';
import { evaluateThresholds, type Figures, type FigureValue, type ThresholdResult } from '../reconcile/thresholds.ts';
import type { ThresholdSpec } from '../core/thresholds.ts';
import { DATAPATH_THRESHOLDS } from '../scenarios/threshold-names.ts';
import type { Results } from './results.ts';

/** A percentile (0..100) of a named µs histogram (`latencyUs`, … , `visibilityLagUs`), or undefined when it is not at hand. */
export type PercentileSource = (histogram: string, percentile: number) => number | undefined;

/** The trend figures and the results.json fields that hold them (their histograms have the same names). */
const TRENDS: Readonly<Record<string, string>> = { latency: 'latencyUs', service: 'serviceUs', connect: 'connectUs', ttfb: 'ttfbUs', dns: 'dnsUs', scheduler_lag: 'schedulerLagUs' };
const STAGE_FIELDS: Readonly<Record<string, string>> = { rejected: 'rejected', failed_export: 'failedExport', dropped_by_queue: 'droppedByQueue', unsettled: 'unsettled', lost_after_ack: 'lostAfterAck' };
const DATAPATH_SOURCES: readonly [string, string][] = [['conntrack.', 'conntrackStats'], ['snmp.', 'snmp'], ['netstat.', 'netstat']];

/** Percentiles results.json carries without a histogram. */
function knownPercentile(p: Results, percentile: number): number | undefined {
  const known: Record<number, number | undefined> = { 0: p.min, 50: p.p50, 90: p.p90, 99: p.p99, 99.9: p.p999, 100: p.max };
  return known[percentile];
}

function trendOf(p: Results | undefined, histogram: string, source: PercentileSource | undefined): FigureValue | undefined {
  if (p === undefined) return undefined;
  return {
    kind: 'trend',
    count: p.count,
    minUs: p.min ?? 0,
    maxUs: p.max,
    meanUs: p.mean ?? 0,
    percentileUs: (percentile) => source?.(histogram, percentile) ?? knownPercentile(p, percentile),
  };
}

/** Seconds the run's per-second rates are taken over (the planned duration, or what ran of it). */
export function rateSecondsOf(r: Results): number {
  const ms = r.complete ? r.run.plannedDurationMs : Math.min(r.run.elapsedMs, r.run.plannedDurationMs);
  return ms / 1000;
}

/**
 * A datapath counter's run delta: 0 when it did not change (results.json keeps only the
 * counters that changed), undefined when its source could not be read or it was reset.
 */
export function datapathCount(r: Results, key: string): number | undefined {
  const d = r.datapath;
  if (d === undefined) return undefined;
  const c = d.counters[key] as { delta: number | null } | undefined;
  if (c !== undefined) return c.delta ?? undefined;
  const source = DATAPATH_SOURCES.find(([prefix]) => key.startsWith(prefix))?.[1];
  const flags = d.flags as { key: string; kind: string }[];
  if (flags.some((f) => f.key === key || (f.kind === 'unavailable' && f.key === source))) return undefined;
  return 0;
}

function loadFigure(r: Results, metric: string, source: PercentileSource | undefined): FigureValue | undefined {
  const l = r.summary.load;
  if (l === undefined) return undefined;
  if (metric in TRENDS) return trendOf(l[TRENDS[metric]], TRENDS[metric], source);
  const requests = l.requests as number;
  const rate = (numerator: number, denominator = requests): FigureValue => ({ kind: 'rate', numerator, denominator });
  const count = (n: number): FigureValue => ({ kind: 'counter', count: n, elapsedS: rateSecondsOf(r) });
  const sub = /^errors\{(class|status|side):(.+)\}$/.exec(metric);
  if (sub) {
    if (sub[1] === 'class') return rate(l.errors.byClass[sub[2]] ?? 0);
    if (sub[1] === 'status') return rate(l.statusClasses?.[sub[2]] ?? 0);
    return rate((sub[2] === 'generator' ? l.errors.generatorSide : l.errors.targetSide) ?? 0);
  }
  switch (metric) {
    case 'errors':
      return rate(requests - l.ok);
    case 'late_starts':
      return rate(l.lateStarts, l.iterationsStarted ?? 0);
    case 'dropped_iterations':
      return count(l.droppedIterations);
    case 'iterations':
      return count(l.iterationsCompleted ?? requests);
    case 'requests':
      return count(requests);
    case 'syn_retransmit_signature':
      return count(l.synRetransmit?.corroborated ?? l.synRetransmit?.connections ?? 0);
    case 'achieved_rate':
      return { kind: 'gauge', value: l.achievedRatePerSecond };
    case 'achieved_rate_ratio':
      return l.targetRatePerSecond > 0 ? { kind: 'gauge', value: l.achievedRatePerSecond / l.targetRatePerSecond } : undefined;
  }
  return undefined;
}

function telemetryFigure(r: Results, metric: string): FigureValue | undefined {
  const m = r.summary.metrics;
  const rate = (numerator: number, denominator: number): FigureValue => ({ kind: 'rate', numerator, denominator });
  const stage = /^otlp_loss\{stage:(.+)\}$/.exec(metric);
  if (metric.startsWith('otlp_')) {
    if (m === undefined || m.reconciled === false) return undefined;
    if (stage) return rate(m.missingByExportStage?.[STAGE_FIELDS[stage[1]]] ?? 0, m.pointsSent);
    if (metric === 'otlp_loss') return rate(m.pointsMissing ?? 0, m.pointsSent);
    if (metric === 'otlp_duplicates') return rate(m.duplicatePoints ?? 0, m.pointsSent);
    if (metric === 'otlp_value_mismatches') return rate(m.valueMismatches ?? 0, m.pointsSent);
    if (metric === 'otlp_unexpected') return rate(m.unexpectedPoints ?? 0, m.pointsSent);
    return undefined;
  }
  const t = r.summary.traces;
  if (metric === 'span_loss') return t?.reconciled ? rate(t.spansMissing, t.spansSent) : undefined;
  if (metric === 'trace_loss') {
    if (t?.reconciled) return rate(t.tracesMissing, t.tracesSent);
    const loss = r.tempo?.traceLoss;
    return loss ? rate(loss.lost, loss.checked) : undefined;
  }
  return undefined;
}

/**
 * The figures of one results.json.
 * @param source percentiles of any rank (else only p50, p90, p99, p99.9, min and max are known).
 */
export function resultsFigures(r: Results, source?: PercentileSource): Figures {
  return (metric) => {
    if (metric === 'visibility_lag') return trendOf(r.readback?.visibility?.lagUs, 'visibilityLagUs', source);
    if (metric === 'generator_saturated') return { kind: 'gauge', value: r.generator.saturated ? 1 : 0 };
    const datapath = DATAPATH_THRESHOLDS.find((d) => d.name === metric);
    if (datapath) {
      const n = datapathCount(r, datapath.key);
      return n === undefined ? undefined : { kind: 'counter', count: n, elapsedS: rateSecondsOf(r) };
    }
    return loadFigure(r, metric, source) ?? telemetryFigure(r, metric);
  };
}

/**
 * Run `fn` with a percentile source over the histograms encoded in results.json
 * (`histograms`, and the read-back's visibility lag), decoding each at most once and
 * freeing them all afterwards.
 */
export function withResultsHistograms<T>(r: Results, fn: (source: PercentileSource) => T): T {
  const encoded: Record<string, string | undefined> = { ...(r.histograms ?? {}), visibilityLagUs: r.readback?.visibility?.lagHistogramUs };
  const decoded = new Map<string, Histogram>();
  try {
    return fn((name, percentile) => {
      const text = encoded[name];
      if (text === undefined) return undefined;
      let h = decoded.get(name);
      if (h === undefined) {
        h = decodeHistogram(text);
        decoded.set(name, h);
      }
      return h.totalCount === 0 ? undefined : valueAtPercentileUs(h, percentile);
    });
  } finally {
    for (const h of decoded.values()) h.destroy();
  }
}

/** results.json `thresholds`: every result, and whether all held. */
export interface ThresholdsSection {
  ok: boolean;
  breached: number;
  noData: number;
  /** The abortOnFail threshold that stopped the run (`<name> <expression>`), if one did. */
  abortedBy?: string;
  results: ThresholdResult[];
}

/** Build the `thresholds` section from a run's results. */
export function thresholdsSection(specs: readonly ThresholdSpec[], figures: Figures, abortedBy?: string): ThresholdsSection {
  const results = evaluateThresholds(specs, figures);
  const breached = results.filter((t) => t.status === 'breached').length;
  const noData = results.filter((t) => t.status === 'no_data').length;
  return { ok: breached + noData === 0, breached, noData, ...(abortedBy === undefined ? {} : { abortedBy }), results };
}
