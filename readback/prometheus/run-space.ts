/**
 * A run's metrics as Prometheus holds them: each planned metric's Prometheus name and
 * labels (translate.ts, as a Prometheus OTLP receiver names them, with `tally.run.id`
 * promoted to the run label `tally_run_id`), the read-back space over them, and the
 * remote-write shard tasks that send exactly those series. Remote write and read-back
 * derive from the same naming, so they cannot disagree. Pure.
 *
 * For OTLP through a pipeline, the read-back expects the run label too: configure the
 * receiver to promote `tally.run.id` (Prometheus `otlp.promote_resource_attributes`, the
 * collector's `resource_to_telemetry_conversion`), or two runs land in the same series.
 *
 * @see ./translate.ts expectedSeries
 * @see https://prometheus.io/docs/guides/opentelemetry/#promoting-resource-attributes
 */
import { ConfigError } from '../../core/errors.ts';
import { seriesAttributes, type SeriesLayout } from '../../core/series.ts';
import { cumulativeSampleValue, isSingleSampleInstrument, type SingleSampleInstrument } from '../../core/sample-value.ts';
import type { Plan } from '../../scenarios/plan.ts';
import type { Scenario } from '../../scenarios/types.ts';
import type { ShardRemoteWriteTask } from '../../workers/remote-write-shard.ts';
import { layoutMetric, type ReadbackSpace } from './space.ts';
import { expectedSeries, prometheusLabelName, type OtlpMetricShape, type TranslateOptions } from '../../wire/prometheus-translate.ts';

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

/**
 * The read-back space of a run: ticks 1..T at `startEpochMs + k · exportIntervalMs`.
 * @param maxSamplesPerQuery bound of one chunk query's reply, in samples.
 */
export function runReadbackSpace(plan: Plan, naming: readonly MetricNaming[], maxSamplesPerQuery: number): ReadbackSpace {
  const ticks = plan.telemetry?.ticks ?? 0;
  const maxSeriesPerSelector = Math.max(1, Math.floor(maxSamplesPerQuery / Math.max(1, ticks)));
  const metrics = naming.map((n) =>
    layoutMetric({
      name: n.name,
      layout: n.layout,
      labelNames: Object.fromEntries(n.layout.keys.map((k, j) => [k, n.labelNames[j]])),
      commonLabels: n.commonLabels,
      maxSeriesPerSelector,
      expectedValue: (series, tick) => cumulativeSampleValue(plan.seed, n.metricIndex, n.instrument, series, tick),
    }),
  );
  return { metrics, ticks, startMs: plan.startEpochMs, intervalMs: plan.telemetry?.exportIntervalMs ?? 1 };
}

/**
 * The remote-write part of each shard: contiguous series slices, as the OTLP shards get.
 * @param url the receiver URL (`telemetry.endpoint`).
 * @returns one task per shard, `undefined` for a shard with no series.
 */
export function remoteWriteShardTasks(scenario: Scenario, plan: Plan, naming: readonly MetricNaming[], url: string): (ShardRemoteWriteTask | undefined)[] {
  const t = scenario.telemetry;
  if (t === undefined || plan.telemetry === undefined) return [];
  const faults = t.remoteWrite?.faults ?? { outOfOrderRequestRatio: 0, duplicateRequestRatio: 0 };
  return Array.from({ length: plan.workers }, (_, shard) => {
    const metrics = naming
      .map((n) => {
        const count = n.layout.seriesCount;
        return {
          metricIndex: n.metricIndex,
          name: n.name,
          instrument: n.instrument,
          keys: n.layout.keys,
          counts: n.layout.counts,
          labelNames: n.labelNames,
          commonLabels: n.commonLabels,
          seriesStart: Math.floor((count * shard) / plan.workers),
          seriesEnd: Math.floor((count * (shard + 1)) / plan.workers),
        };
      })
      .filter((m) => m.seriesEnd > m.seriesStart);
    if (metrics.length === 0) return undefined;
    return {
      url,
      headers: { ...t.headers },
      timeoutMs: t.timeoutMs,
      seed: plan.seed,
      exportIntervalMs: t.exportIntervalMs,
      ticks: plan.telemetry!.ticks,
      maxBatchDataPoints: t.maxBatchDataPoints,
      faults: { ...faults },
      metrics,
    };
  });
}
