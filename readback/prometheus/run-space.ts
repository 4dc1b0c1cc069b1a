/**
 * The read-back space of a run: the Prometheus naming of its metrics
 * (scenarios/prometheus-naming.ts) laid out as chunked selectors, with the value every
 * (series, tick) must have. Pure.
 */
import { cumulativeSampleValue, type SingleSampleInstrument } from '../../core/sample-value.ts';
import { sumValue } from '../../core/instruments.ts';
import { explicitHistogramReadback, exponentialHistogramReadback, type HistogramReadback } from './histograms.ts';
import type { Plan } from '../../scenarios/plan.ts';
import type { MetricNaming } from '../../scenarios/prometheus-naming.ts';
import { layoutMetric, type ReadbackSpace } from './space.ts';

/**
 * The read-back space of a run: ticks 1..T at `startEpochMs + k · exportIntervalMs`.
 * Counters, up-down counters and gauges are one sample per point; histograms are read
 * part by part (histograms.ts), so their chunks hold fewer series.
 * @param maxSamplesPerQuery bound of one chunk query's reply, in samples.
 */
export function runReadbackSpace(plan: Plan, naming: readonly MetricNaming[], maxSamplesPerQuery: number, options: { deltaIngestion?: 'converted' | 'native' } = {}): ReadbackSpace {
  const ticks = plan.telemetry?.ticks ?? 0;
  const deltaAsSent = options.deltaIngestion === 'native';
  const metrics = naming.map((n) => {
    const histogram = histogramReadback(n, deltaAsSent);
    const sampleValue = deltaAsSent && n.model.temporality === 'delta'
      ? (series: number, tick: number) => sumValue(n.model, series, 0, tick)
      : (series: number, tick: number) => cumulativeSampleValue(plan.seed, n.metricIndex, n.instrument as SingleSampleInstrument, series, tick);
    const samplesPerPoint = histogram?.kind === 'classic' ? histogram.bounds.length + 1 : 1;
    return layoutMetric({
      name: n.name,
      layout: n.layout,
      labelNames: Object.fromEntries(n.layout.keys.map((k, j) => [k, n.labelNames[j]])),
      commonLabels: n.commonLabels,
      optionalLabels: n.optionalLabels,
      maxSeriesPerSelector: Math.max(1, Math.floor(maxSamplesPerQuery / Math.max(1, ticks * samplesPerPoint))),
      expectedValue: histogram === undefined ? sampleValue : (series, tick) => histogram.expected(series, tick).count,
      ...(histogram === undefined ? {} : { histogram }),
    });
  });
  return { metrics, ticks, startMs: plan.startEpochMs, intervalMs: plan.telemetry?.exportIntervalMs ?? 1 };
}

/** How a histogram metric is read back, by the type Prometheus stores it as; undefined for one sample per point. */
function histogramReadback(n: MetricNaming, deltaAsSent: boolean): HistogramReadback | undefined {
  if (n.instrument === 'exponential-histogram') return exponentialHistogramReadback(n.model, deltaAsSent);
  if (n.instrument === 'histogram') return explicitHistogramReadback(n.model, n.type === 'native_histogram', deltaAsSent);
  return undefined;
}
