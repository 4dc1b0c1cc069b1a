/**
 * The OpenTelemetry Collector's own counters, read at the start and the end of a run and
 * turned into run-window deltas per (component kind, component id, signal).
 *
 * Two ways to read them, giving the same {@link OtelcolSnapshot}:
 * - scrape its Prometheus endpoint (default `http://127.0.0.1:8888/metrics`);
 * - ask a Prometheus that scrapes it, through an injected {@link InstantQuery}. An instant
 *   query sees the last scrape at or before the instant (within the 5-minute lookback), so
 *   the window is aligned to scrapes: read a scrape interval after the run ends.
 *
 * Every name spelling of {@link classifyOtelcolName} is accepted. Series are summed over
 * the labels that do not identify a component (transport, service_instance_id, job,
 * instance…) after each raw series' reset handling, so a fleet of collectors adds up.
 *
 * @see https://opentelemetry.io/docs/collector/internal-telemetry/
 */
import type { CollectorStageInput } from '../../reconcile/waterfall.ts';
import { counterDeltas, type CounterFlag } from './counter-delta.ts';
import { parseExposition, type ExpositionSample } from './exposition.ts';
import type { InstantQuery } from './instant-query.ts';
import {
  OTELCOL_NAME_REGEX,
  classifyOtelcolName,
  componentIdOf,
  signalOf,
  type OtelcolComponentKind,
  type OtelcolCounter,
  type OtelcolSignal,
} from './names.ts';
import { scrapeText, type ScrapeOptions } from './scrape.ts';

/** The collector's default internal-telemetry endpoint. */
export const OTELCOL_DEFAULT_METRICS_URL = 'http://127.0.0.1:8888/metrics';

/** One reading of the collector's data-flow metrics. */
export interface OtelcolSnapshot {
  readonly source: 'scrape' | 'promql';
  /** Data-flow counters (receiver/processor/exporter), as exposed. */
  readonly counters: readonly ExpositionSample[];
  /** Exporter queue size and capacity gauges. */
  readonly gauges: readonly ExpositionSample[];
  /** Samples with a NaN or non-numeric value, left out. */
  readonly unusableSamples: number;
}

/** A component's counters over the window, summed over its series. */
export interface OtelcolComponentDelta {
  readonly kind: OtelcolComponentKind;
  /** e.g. `otlp`, `otlp/tempo`, `memory_limiter`; `''` when the series named none. */
  readonly id: string;
  readonly signal: OtelcolSignal;
  /** Increase per measure, in items of the signal. Only measures that were exposed are present. */
  readonly counters: Partial<Record<OtelcolCounter, number>>;
}

/** An exporter's sending queue at both readings (batches, or items with an items sizer). */
export interface OtelcolQueueReading {
  readonly exporter: string;
  /** From the `data_type` label; null on versions without it. */
  readonly signal: OtelcolSignal | null;
  readonly sizeBefore: number | null;
  readonly sizeAfter: number | null;
  readonly capacity: number | null;
}

/** What the collector says happened in the window. */
export interface OtelcolDelta {
  /** Sorted by kind, id, signal. */
  readonly components: readonly OtelcolComponentDelta[];
  readonly queues: readonly OtelcolQueueReading[];
  /** Resets and vanished series. */
  readonly flags: readonly CounterFlag[];
  /** NaN or non-numeric samples in either reading. */
  readonly unusableSamples: number;
}

/**
 * Keep the collector's data-flow samples from an exposition body.
 * @throws CollectorError `TALLY_COLLECTOR_BAD_REPLY` for a body that does not parse (see parseExposition).
 */
export function otelcolSnapshotFromText(text: string, source = 'otelcol'): OtelcolSnapshot {
  const parsed = parseExposition(text, (name) => classifyOtelcolName(name) !== null, source);
  return { source: 'scrape', ...split(parsed.samples), unusableSamples: parsed.unusableSamples };
}

/**
 * Scrape the collector's Prometheus endpoint.
 * @param url default {@link OTELCOL_DEFAULT_METRICS_URL}.
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` / `TALLY_COLLECTOR_BAD_REPLY` (see scrapeText).
 * @throws ConfigError `TALLY_CONFIG_INVALID` for a URL that is not http(s).
 */
export async function scrapeOtelcol(url: string = OTELCOL_DEFAULT_METRICS_URL, options: ScrapeOptions = {}): Promise<OtelcolSnapshot> {
  const text = await scrapeText(url, { what: 'otelcol', ...options });
  return otelcolSnapshotFromText(text, `otelcol ${url}`);
}

/**
 * Read the collector's metrics from a Prometheus that scrapes it: one instant query for
 * every name spelling, classified here.
 * @param timeSec evaluation instant, seconds since the epoch.
 * @throws whatever `query` throws (CollectorError from the Prometheus client).
 */
export async function queryOtelcolSnapshot(query: InstantQuery, timeSec: number): Promise<OtelcolSnapshot> {
  const vector = await query(`{__name__=~"${OTELCOL_NAME_REGEX}"}`, timeSec);
  const samples: ExpositionSample[] = [];
  let unusableSamples = 0;
  for (const { labels, value } of vector) {
    const name = labels.__name__;
    if (name === undefined || classifyOtelcolName(name) === null) continue;
    if (Number.isNaN(value)) {
      unusableSamples++;
      continue;
    }
    const { __name__: _, ...rest } = labels;
    samples.push({ name, labels: rest, value });
  }
  return { source: 'promql', ...split(samples), unusableSamples };
}

function split(samples: readonly ExpositionSample[]): { counters: ExpositionSample[]; gauges: ExpositionSample[] } {
  const counters: ExpositionSample[] = [];
  const gauges: ExpositionSample[] = [];
  for (const s of samples) (classifyOtelcolName(s.name)?.instrument === 'gauge' ? gauges : counters).push(s);
  return { counters, gauges };
}

/**
 * Run-window deltas per (kind, component id, signal), with counter resets handled per raw
 * series (the post-reset value is the delta, flagged).
 * @param before the reading at the run's start.
 * @param after the reading at its end (after the collector had time to flush).
 */
export function otelcolDelta(before: OtelcolSnapshot, after: OtelcolSnapshot): OtelcolDelta {
  const { deltas, flags } = counterDeltas(before.counters, after.counters);
  const byComponent = new Map<string, { kind: OtelcolComponentKind; id: string; signal: OtelcolSignal; counters: Partial<Record<OtelcolCounter, number>> }>();
  for (const d of deltas) {
    const metric = classifyOtelcolName(d.name);
    if (metric === null || metric.instrument !== 'counter') continue;
    const signal = signalOf(metric, d.labels);
    if (signal === null) continue;
    const id = componentIdOf(metric.kind, d.labels);
    const key = `${metric.kind}\u0000${id}\u0000${signal}`;
    let entry = byComponent.get(key);
    if (entry === undefined) {
      entry = { kind: metric.kind, id, signal, counters: {} };
      byComponent.set(key, entry);
    }
    entry.counters[metric.measure] = (entry.counters[metric.measure] ?? 0) + d.delta;
  }
  const components = [...byComponent.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, c]) => c);
  return { components, queues: queueReadings(before.gauges, after.gauges), flags, unusableSamples: before.unusableSamples + after.unusableSamples };
}

function queueReadings(before: readonly ExpositionSample[], after: readonly ExpositionSample[]): OtelcolQueueReading[] {
  const rows = new Map<string, { exporter: string; signal: OtelcolSignal | null; sizeBefore: number | null; sizeAfter: number | null; capacity: number | null }>();
  const visit = (samples: readonly ExpositionSample[], which: 'before' | 'after'): void => {
    for (const s of samples) {
      const metric = classifyOtelcolName(s.name);
      if (metric === null || metric.instrument !== 'gauge') continue;
      const exporter = componentIdOf('exporter', s.labels);
      const signal = signalOf(metric, s.labels);
      const key = `${exporter}\u0000${signal ?? ''}`;
      let row = rows.get(key);
      if (row === undefined) {
        row = { exporter, signal, sizeBefore: null, sizeAfter: null, capacity: null };
        rows.set(key, row);
      }
      // Several collector instances: queue sizes add up; capacities too.
      if (metric.measure === 'queue_capacity') {
        if (which === 'after') row.capacity = (row.capacity ?? 0) + s.value;
      } else if (which === 'before') row.sizeBefore = (row.sizeBefore ?? 0) + s.value;
      else row.sizeAfter = (row.sizeAfter ?? 0) + s.value;
    }
  };
  visit(before, 'before');
  visit(after, 'after');
  return [...rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
}

/**
 * Chain interval deltas (snapshots taken each interval) into one run-window delta: a reset
 * between two readings then loses at most one interval's counts, not the run's.
 * @param deltas consecutive deltas, in time order.
 * @returns components summed; queue sizes from the first `before` and the last `after`; flags concatenated.
 */
export function sumOtelcolDeltas(deltas: readonly OtelcolDelta[]): OtelcolDelta {
  const byComponent = new Map<string, OtelcolComponentDelta & { counters: Partial<Record<OtelcolCounter, number>> }>();
  const queues = new Map<string, OtelcolQueueReading>();
  for (const d of deltas) {
    for (const c of d.components) {
      const key = `${c.kind}\u0000${c.id}\u0000${c.signal}`;
      const entry = byComponent.get(key) ?? { kind: c.kind, id: c.id, signal: c.signal, counters: {} };
      for (const [measure, value] of Object.entries(c.counters) as [OtelcolCounter, number][]) entry.counters[measure] = (entry.counters[measure] ?? 0) + value;
      byComponent.set(key, entry);
    }
    for (const q of d.queues) {
      const key = `${q.exporter}\u0000${q.signal ?? ''}`;
      const first = queues.get(key);
      queues.set(key, { ...q, sizeBefore: first === undefined ? q.sizeBefore : first.sizeBefore });
    }
  }
  const sorted = <T>(m: Map<string, T>): T[] => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
  return {
    components: sorted(byComponent),
    queues: sorted(queues),
    flags: deltas.flatMap((d) => d.flags),
    unusableSamples: deltas.reduce((a, d) => a + d.unusableSamples, 0),
  };
}

/** Which components of a collector carry tally's traffic; default all. */
export interface CollectorSelection {
  /** Receiver ids, e.g. `['otlp']`. */
  receivers?: readonly string[];
  /** Exporter ids toward the backend under test, e.g. `['otlphttp/tempo']`. */
  exporters?: readonly string[];
}

/**
 * Sum a delta into the waterfall's collector stage input for one signal.
 * With several exporters selected (fan-out), `exported` sums them: select the one toward
 * the backend under test, or the waterfall reports an inconsistency.
 * @param signal `metric_points` or `spans`.
 */
export function collectorStageTotals(delta: OtelcolDelta, signal: OtelcolSignal, selection: CollectorSelection = {}): CollectorStageInput {
  const sum = (kind: OtelcolComponentKind, measure: OtelcolCounter, ids?: readonly string[]): number => {
    let total = 0;
    for (const c of delta.components) {
      if (c.kind !== kind || c.signal !== signal || (ids !== undefined && !ids.includes(c.id))) continue;
      total += c.counters[measure] ?? 0;
    }
    return total;
  };
  let processorInOutGap = 0;
  for (const c of delta.components) {
    if (c.kind !== 'processor' || c.signal !== signal) continue;
    const incoming = c.counters.incoming;
    const outgoing = c.counters.outgoing;
    if (incoming !== undefined) processorInOutGap += Math.max(0, incoming - (outgoing ?? 0));
  }
  const exporterIds = new Set(delta.components.filter((c) => c.kind === 'exporter' && c.signal === signal && (selection.exporters?.includes(c.id) ?? true)).map((c) => c.id));
  let queueSizeAfter: number | undefined;
  for (const q of delta.queues) {
    if (q.sizeAfter === null || (q.signal !== null && q.signal !== signal) || !(selection.exporters?.includes(q.exporter) ?? true)) continue;
    queueSizeAfter = (queueSizeAfter ?? 0) + q.sizeAfter;
  }
  const { receivers, exporters } = selection;
  return {
    receiverAccepted: sum('receiver', 'accepted', receivers),
    receiverRefused: sum('receiver', 'refused', receivers),
    receiverFailed: sum('receiver', 'failed', receivers),
    processorDropped: sum('processor', 'dropped'),
    processorRefused: sum('processor', 'refused'),
    processorInOutGap,
    exporterSent: sum('exporter', 'sent', exporters),
    exporterSendFailed: sum('exporter', 'send_failed', exporters),
    exporterEnqueueFailed: sum('exporter', 'enqueue_failed', exporters),
    exporterCount: exporterIds.size,
    ...(queueSizeAfter === undefined ? {} : { queueSizeAfter }),
  };
}
