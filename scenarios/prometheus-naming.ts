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
import { ConfigError } from '../core/errors.ts';
import { seriesAttributes, type SeriesLayout } from '../core/series.ts';
import { isSingleSampleInstrument, type SingleSampleInstrument } from '../core/sample-value.ts';
import { expectedSeries, prometheusLabelName, type OtlpMetricShape, type TranslateOptions } from '../wire/prometheus-translate.ts';
import type { Plan } from './plan.ts';

/** The label every series of a run carries: `tally.run.id` promoted. */
export const RUN_LABEL = 'tally_run_id';
/** The resource attribute the run label comes from. */
export const RUN_RESOURCE_ATTRIBUTE = 'tally.run.id';
/** The translation tally assumes: Prometheus's defaults, with the run id promoted. */
export const RUN_TRANSLATION: TranslateOptions = { promoteResourceAttributes: [RUN_RESOURCE_ATTRIBUTE] };

/** One metric's Prometheus naming. */
export interface MetricNaming {
  metricIndex: number;
  /** `__name__`. */
  name: string;
  instrument: SingleSampleInstrument;
  layout: SeriesLayout;
  /** Label name of each attribute key, in key order. */
  labelNames: string[];
  /** Labels every series carries besides its attributes (`job`, `tally_run_id`). */
  commonLabels: Record<string, string>;
}

function otlpShape(instrument: SingleSampleInstrument, name: string, unit: string, attributes: Record<string, string>): OtlpMetricShape {
  if (instrument === 'gauge') return { name, unit, kind: 'gauge', attributes };
  return { name, unit, kind: 'sum', monotonic: instrument === 'counter', temporality: 'cumulative', attributes };
}

/**
 * The Prometheus naming of every planned metric.
 * @throws ConfigError `TALLY_CONFIG_INVALID` (pointer `/telemetry/metrics/<i>/…`) for a metric
 * Prometheus cannot hold as one series per point (histograms, delta) or whose name escapes to nothing.
 */
export function runMetricNaming(plan: Plan, translationStrategy?: TranslateOptions['translationStrategy']): MetricNaming[] {
  const metrics = plan.telemetry?.metrics ?? [];
  const translation: TranslateOptions = translationStrategy === undefined ? RUN_TRANSLATION : { ...RUN_TRANSLATION, translationStrategy };
  const resource = { attributes: { 'service.name': 'tally', [RUN_RESOURCE_ATTRIBUTE]: plan.runId } };
  return metrics.map((m) => {
    const instrument = m.instrument as string;
    if (!isSingleSampleInstrument(instrument)) {
      throw new ConfigError(`read-back of ${instrument} metrics is not supported`, [{ pointer: `/telemetry/metrics/${m.metricIndex}/instrument`, message: 'counter, up-down-counter or gauge is expected' }]);
    }
    const translated = expectedSeries(otlpShape(instrument, m.name, m.unit, seriesAttributes(m.layout, 0)), resource, translation);
    if ('unsupported' in translated) {
      throw new ConfigError(`metric ${m.name} has no Prometheus series: ${translated.message}`, [{ pointer: `/telemetry/metrics/${m.metricIndex}`, message: translated.unsupported }]);
    }
    const labelNames = m.layout.keys.map((k) => prometheusLabelName(k, translation) ?? '');
    const attributeLabels = new Set(labelNames);
    const sample = translated.samples[0];
    const commonLabels: Record<string, string> = {};
    for (const [name, value] of Object.entries(sample.labels)) if (!attributeLabels.has(name)) commonLabels[name] = value;
    return { metricIndex: m.metricIndex, name: sample.name, instrument, layout: m.layout, labelNames, commonLabels };
  });
}
