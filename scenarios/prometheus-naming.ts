/**
 * A run's metrics as Prometheus holds them: each planned metric's Prometheus name and
 * labels (wire/prometheus-translate.ts, as a Prometheus OTLP receiver names them, with
 * `tally.run.id` promoted to the run label `tally_run_id`). Remote write (the shards send
 * exactly these series) and read-back (it queries exactly these) derive from this one
 * naming, so they cannot disagree. Pure.
 *
 * For OTLP through a pipeline, the read-back expects the run label too: configure the
 * receiver to promote `tally.run.id` (Prometheus `otlp.promote_resource_attributes`, the
 * collector's `resource_to_telemetry_conversion`), or two runs land in the same series.
 *
 * @see ../wire/prometheus-translate.ts expectedSeries
 * @see https://prometheus.io/docs/guides/opentelemetry/#promoting-resource-attributes
 */
import { RUN_ID_ATTRIBUTE, SCOPE, SERVICE_NAME, SHARD_ATTRIBUTE } from '../core/telemetry-identity.ts';
import { ConfigError } from '../core/errors.ts';
import { seriesAttributes, type SeriesLayout } from '../core/series.ts';
import type { Instrument, MetricModel } from '../core/instruments.ts';
import { expectedSeries, prometheusLabelName, type OtlpMetricShape, type PrometheusMetricType, type TranslateOptions } from '../wire/prometheus-translate.ts';
import { seriesSlice, type Plan, type PlannedMetric } from './plan.ts';

/** The label every series of a run carries: `tally.run.id` promoted. */
export const RUN_LABEL = 'tally_run_id';
/** The resource attribute the run label comes from. */
export const RUN_RESOURCE_ATTRIBUTE = RUN_ID_ATTRIBUTE;
/** The translation tally assumes: Prometheus's defaults, with the run id promoted. */
export const RUN_TRANSLATION: TranslateOptions = { promoteResourceAttributes: [RUN_RESOURCE_ATTRIBUTE] };

/** One metric's Prometheus naming. */
export interface MetricNaming {
  metricIndex: number;
  /** `__name__`; for a histogram, the family (`<name>_count`, `_sum`, `_bucket` for a classic one). */
  name: string;
  instrument: Instrument;
  /** How Prometheus stores it: one sample per point (counter, gauge), a classic or a native histogram. */
  type: PrometheusMetricType;
  /** The model of the metric's values (core/instruments.ts). */
  model: MetricModel;
  layout: SeriesLayout;
  /** Label name of each attribute key, in key order. */
  labelNames: string[];
  /** Labels every series carries besides its attributes (`job`, `tally_run_id`). */
  commonLabels: Record<string, string>;
  /**
   * Labels a storing path may add, with the value series `index` then carries: the other
   * resource attributes (`service_name`, `tally_shard`, the scenario's `telemetry.resource`)
   * when a collector's prometheusremotewrite exporter converts resource attributes to
   * labels, and the instrumentation scope (`otel_scope_name`, `otel_scope_version`).
   */
  optionalLabels: Record<string, (series: number) => string>;
}

/** Options of {@link runMetricNaming}. */
export interface NamingOptions {
  /** Prometheus's `otlp.translation_strategy` (default UnderscoreEscapingWithSuffixes). */
  translationStrategy?: TranslateOptions['translationStrategy'];
  /** The scenario's extra resource attributes (`telemetry.resource`). */
  resource?: Readonly<Record<string, string | number | boolean>>;
  /** Prometheus's `otlp.convert_histograms_to_nhcb`: explicit-bucket histograms stored as native histograms with custom buckets. */
  convertHistogramsToNhcb?: boolean;
}

/** The shard that sends series `series` of a metric with `count` series: the slice holding it (scenarios/plan.ts seriesSlice). */
export function shardOfSeries(count: number, series: number, shardCount: number): number {
  let shard = Math.min(shardCount - 1, Math.floor((series * shardCount) / count));
  while (shard > 0 && seriesSlice(count, shard, shardCount).seriesStart > series) shard--;
  while (shard < shardCount - 1 && seriesSlice(count, shard, shardCount).seriesEnd <= series) shard++;
  return shard;
}

/** The labels a storing path may add to every series of a metric with `count` series (see {@link MetricNaming.optionalLabels}). */
function pathLabels(plan: Plan, count: number, translation: TranslateOptions, resource: NamingOptions['resource']): Record<string, (series: number) => string> {
  const out: Record<string, (series: number) => string> = {};
  const add = (attribute: string, value: (series: number) => string): void => {
    const label = prometheusLabelName(attribute, translation);
    if (label !== null) out[label] = value;
  };
  add('service.name', () => SERVICE_NAME);
  // A sharded run's resource names the process shard (scenarios/shard-plan.ts), an unsharded one the thread.
  add(SHARD_ATTRIBUTE, (series) => String(shardOfSeries(count, series, plan.shard?.count ?? plan.workers)));
  for (const [key, value] of Object.entries(resource ?? {})) add(key, () => String(value));
  add('otel_scope_name', () => SCOPE.name);
  add('otel_scope_version', () => SCOPE.version);
  return out;
}

/** The OTLP shape Prometheus sees: cumulative (a delta metric is read back once converted to cumulative upstream). */
function otlpShape(m: PlannedMetric, attributes: Record<string, string>): OtlpMetricShape {
  const { name, unit } = m;
  switch (m.instrument) {
    case 'gauge':
      return { name, unit, kind: 'gauge', attributes };
    case 'histogram':
      return { name, unit, kind: 'histogram', temporality: 'cumulative', explicitBounds: m.model.bounds, attributes };
    case 'exponential-histogram':
      return { name, unit, kind: 'exponential_histogram', temporality: 'cumulative', attributes };
    default:
      return { name, unit, kind: 'sum', monotonic: m.instrument === 'counter', temporality: 'cumulative', attributes };
  }
}

/**
 * The Prometheus naming of every planned metric.
 * @throws ConfigError `TALLY_CONFIG_INVALID` (pointer `/telemetry/metrics/<i>/…`) for a metric
 * whose name or an attribute escapes to nothing, or that a churning series space would make unreadable.
 */
export function runMetricNaming(plan: Plan, options: NamingOptions = {}): MetricNaming[] {
  const metrics = plan.telemetry?.metrics ?? [];
  const translation: TranslateOptions = {
    ...RUN_TRANSLATION,
    ...(options.translationStrategy === undefined ? {} : { translationStrategy: options.translationStrategy }),
    ...(options.convertHistogramsToNhcb ? { convertHistogramsToNhcb: true } : {}),
  };
  const resource = { attributes: { 'service.name': SERVICE_NAME, [RUN_RESOURCE_ATTRIBUTE]: plan.runId } };
  return metrics.map((m) => {
    if (m.model.churn !== undefined) {
      throw new ConfigError(`read-back of churning metric ${m.name} is not supported`, [{ pointer: `/telemetry/metrics/${m.metricIndex}/churn`, message: 'read-back expects a fixed series space (no churn)' }]);
    }
    const translated = expectedSeries(otlpShape(m, seriesAttributes(m.layout, 0)), resource, translation);
    if ('unsupported' in translated) {
      throw new ConfigError(`metric ${m.name} has no Prometheus series: ${translated.message}`, [{ pointer: `/telemetry/metrics/${m.metricIndex}`, message: translated.unsupported }]);
    }
    const labelNames = m.layout.keys.map((k) => prometheusLabelName(k, translation) ?? '');
    const attributeLabels = new Set(labelNames);
    const sample = translated.samples[0];
    const commonLabels: Record<string, string> = {};
    for (const [name, value] of Object.entries(sample.labels)) if (!attributeLabels.has(name) && name !== 'le') commonLabels[name] = value;
    const optionalLabels = pathLabels(plan, m.layout.seriesCount, translation, options.resource);
    for (const label of [...attributeLabels, ...Object.keys(commonLabels)]) delete optionalLabels[label];
    const name = translated.type === 'counter' || translated.type === 'gauge' ? sample.name : translated.metricName;
    return { metricIndex: m.metricIndex, name, instrument: m.instrument, type: translated.type, model: m.model, layout: m.layout, labelNames, commonLabels, optionalLabels };
  });
}
