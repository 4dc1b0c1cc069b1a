/**
 * The OpenTelemetry Collector's own metric names across versions, mapped to one
 * vocabulary: (component kind, measure, signal).
 *
 * Spellings seen in the wild, all accepted:
 * - `otelcol_receiver_accepted_spans` (OpenCensus era, counters without `_total`);
 * - `otelcol_receiver_accepted_spans_total` (OpenTelemetry Go SDK Prometheus exporter, ≈ v0.8x+);
 * - `receiver_accepted_spans[_total]` (no `otelcol_` prefix: a custom namespace, or the
 *   v0.120+ names pushed over OTLP into a backend that adds none);
 * - `otelcol.receiver.accepted_spans` style dotted names (v0.120+ with UTF-8 names kept);
 * - `otelcol_exporter_sent_spans__spans__total` (the v0.130.0 unit-suffix bug, fixed in v0.130.1).
 *
 * Processor counters changed in v0.110: `processor_{accepted,refused,dropped}_*`
 * (memory_limiter only, deprecated) gave way to `processor_{incoming,outgoing}_items`
 * with an `otel_signal` (later `otelcol_signal`) label. Receivers gained
 * `receiver_failed_*` (internal errors, split from `refused_*`) in later versions.
 *
 * @see https://opentelemetry.io/docs/collector/internal-telemetry/#lists-of-internal-metrics
 */

/** The data types the waterfall follows (log records are read too, for completeness). */
export type OtelcolSignal = 'spans' | 'metric_points' | 'log_records';

/** Pipeline component kinds with data-flow counters. */
export type OtelcolComponentKind = 'receiver' | 'processor' | 'exporter';

/** Counter measures, in items of the signal (spans, metric data points, log records). */
export type OtelcolCounter =
  | 'accepted'
  | 'refused'
  | 'failed'
  | 'dropped'
  | 'incoming'
  | 'outgoing'
  | 'sent'
  | 'send_failed'
  | 'enqueue_failed';

/** Gauge measures: the exporter's sending queue, in batches or items depending on its sizer. */
export type OtelcolGauge = 'queue_size' | 'queue_capacity';

/** What a collector self-metric name means. */
export type OtelcolMetricId =
  | { readonly kind: OtelcolComponentKind; readonly instrument: 'counter'; readonly measure: OtelcolCounter; readonly signal: OtelcolSignal | 'from_label' }
  | { readonly kind: 'exporter'; readonly instrument: 'gauge'; readonly measure: OtelcolGauge; readonly signal: 'from_label' };

const COUNTERS_BY_KIND: Readonly<Record<OtelcolComponentKind, readonly OtelcolCounter[]>> = {
  receiver: ['accepted', 'refused', 'failed'],
  processor: ['accepted', 'refused', 'dropped'],
  exporter: ['sent', 'send_failed', 'enqueue_failed'],
};
const PER_SIGNAL = /^(receiver|processor|exporter)_(accepted|refused|failed|dropped|sent|send_failed|enqueue_failed)_(spans|metric_points|log_records)$/;
const ITEMS = /^processor_(incoming|outgoing)_items$/;
const QUEUE = /^exporter_queue_(size|capacity)$/;
/** The v0.130.0 bug appended `__<unit>_` before `_total`; `_total` is already gone here. */
const UNIT_SUFFIX_BUG = /__[A-Za-z0-9]+_*$/;

/**
 * The name with the version differences taken out: dots to underscores, no `otelcol_`
 * prefix, no `_total` suffix, no stray unit suffix.
 * @example canonicalName('otelcol_exporter_sent_spans__spans__total') === 'exporter_sent_spans'
 */
export function canonicalName(name: string): string {
  let n = name.includes('.') ? name.replaceAll('.', '_') : name;
  if (n.startsWith('otelcol_')) n = n.slice('otelcol_'.length);
  if (n.endsWith('_total')) n = n.slice(0, -'_total'.length);
  if (n.includes('__')) n = n.replace(UNIT_SUFFIX_BUG, '');
  return n;
}

/**
 * Classify a collector self-metric name.
 * @param name as exposed or as stored in Prometheus, any of the spellings above.
 * @returns what it measures, or null for every other metric (process, http, rpc, batch…).
 */
export function classifyOtelcolName(name: string): OtelcolMetricId | null {
  const cached = classified.get(name);
  if (cached !== undefined) return cached;
  const id = classifyUncached(name);
  // A handful of distinct names per collector; the bound only guards against label-less floods.
  if (classified.size >= CLASSIFIED_CACHE_LIMIT) classified.clear();
  classified.set(name, id);
  return id;
}

const CLASSIFIED_CACHE_LIMIT = 4096;
const classified = new Map<string, OtelcolMetricId | null>();

function classifyUncached(name: string): OtelcolMetricId | null {
  const n = canonicalName(name);
  const perSignal = PER_SIGNAL.exec(n);
  if (perSignal !== null) {
    const kind = perSignal[1] as OtelcolComponentKind;
    const measure = perSignal[2] as OtelcolCounter;
    if (!COUNTERS_BY_KIND[kind].includes(measure)) return null;
    return { kind, instrument: 'counter', measure, signal: perSignal[3] as OtelcolSignal };
  }
  const items = ITEMS.exec(n);
  if (items !== null) return { kind: 'processor', instrument: 'counter', measure: items[1] as OtelcolCounter, signal: 'from_label' };
  const queue = QUEUE.exec(n);
  if (queue !== null) return { kind: 'exporter', instrument: 'gauge', measure: `queue_${queue[1]}` as OtelcolGauge, signal: 'from_label' };
  return null;
}

const SIGNAL_BY_LABEL: Readonly<Record<string, OtelcolSignal>> = { traces: 'spans', metrics: 'metric_points', logs: 'log_records' };
const SIGNAL_LABELS = ['otel_signal', 'otelcol_signal', 'otelcol.signal', 'data_type'];
const COMPONENT_LABELS: Readonly<Record<OtelcolComponentKind, readonly string[]>> = {
  receiver: ['receiver', 'otelcol_component_id', 'otelcol.component.id'],
  processor: ['processor', 'otelcol_component_id', 'otelcol.component.id'],
  exporter: ['exporter', 'otelcol_component_id', 'otelcol.component.id'],
};

/**
 * The signal of a sample: from the name, or for `processor_*_items` and the queue gauges
 * from the `otel_signal` / `otelcol_signal` / `data_type` label (`traces`, `metrics`, `logs`).
 * @returns null when the label is absent (queue gauges before the `data_type` label) or unknown.
 */
export function signalOf(id: OtelcolMetricId, labels: Readonly<Record<string, string>>): OtelcolSignal | null {
  if (id.signal !== 'from_label') return id.signal;
  for (const label of SIGNAL_LABELS) {
    const value = labels[label];
    if (value !== undefined) return SIGNAL_BY_LABEL[value] ?? null;
  }
  return null;
}

/**
 * The component id of a sample (`otlp`, `otlp/2`, `memory_limiter`), from the label named
 * after its kind or the pipeline-instrumentation `otelcol_component_id` label.
 * @returns `''` when no such label is present.
 */
export function componentIdOf(kind: OtelcolComponentKind, labels: Readonly<Record<string, string>>): string {
  for (const label of COMPONENT_LABELS[kind]) {
    const value = labels[label];
    if (value !== undefined) return value;
  }
  return '';
}

/** Anchored PromQL regex for `__name__` that matches every spelling {@link classifyOtelcolName} accepts (and a few more, filtered after). */
export const OTELCOL_NAME_REGEX = '(otelcol[._])?(receiver|processor|exporter)[._].+';
