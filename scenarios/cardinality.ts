/**
 * The cardinality of a scenario's metrics, for `tally plan`: per metric and in total, the
 * series (OTLP streams, and the series Prometheus stores them as: a classic histogram is one
 * series per bucket plus `_sum` and `_count`), data points per second, and for each attribute
 * the series it multiplies the metric by, and what dropping it or bucketing its values
 * would save. Pure: the plan in, figures out.
 *
 * An attribute with `n` values multiplies its metric's series by `n`: dropping it divides
 * them by `n` (saving `series × (1 − 1/n)`), bucketing its values into `b < n` buckets
 * multiplies them by `b/n` instead.
 */
import type { Plan, PlannedMetric } from './plan.ts';

/** What one attribute costs its metric. */
export interface AttributeCost {
  key: string;
  /** Distinct values (`<key>-0` … `<key>-(n−1)`). */
  values: number;
  /** Series the metric would have without this attribute. */
  seriesWithout: number;
  /** Series that dropping it saves (its metric's series × (1 − 1/values)). */
  seriesSavedByDropping: number;
  /** Data points per second that dropping it saves. */
  dataPointsPerSecondSavedByDropping: number;
  /** The bucketing considered: the values folded into this many buckets (only when fewer than `values`). */
  bucketTo?: number;
  /** Series with the values bucketed. */
  seriesIfBucketed?: number;
  seriesSavedByBucketing?: number;
}

/** One metric's cardinality. */
export interface MetricCardinality {
  metricIndex: number;
  name: string;
  instrument: string;
  /** OTLP series (streams): the product of the attribute value counts. */
  series: number;
  /** Series as Prometheus stores them (a classic histogram: buckets + 1 + 2 per stream). */
  prometheusSeries: number;
  dataPointsPerSecond: number;
  attributes: AttributeCost[];
}

/** The whole scenario's cardinality. */
export interface Cardinality {
  exportIntervalMs: number;
  series: number;
  prometheusSeries: number;
  dataPointsPerSecond: number;
  metrics: MetricCardinality[];
}

/** Default bucket count the plan considers for each attribute. */
export const DEFAULT_BUCKET_TO = 10;

/** Prometheus series per OTLP stream of a metric: classic histograms spread over `_bucket{le}`, `_sum`, `_count`. */
export function prometheusSeriesPerStream(m: Pick<PlannedMetric, 'instrument' | 'model'>, convertHistogramsToNhcb = false): number {
  if (m.instrument === 'histogram' && !convertHistogramsToNhcb) return m.model.bounds.length + 1 + 2;
  return 1;
}

/**
 * The cardinality of a plan's metrics.
 * @param bucketTo the bucket count considered for each attribute (values above it).
 */
export function cardinalityOf(plan: Plan, options: { bucketTo?: number; convertHistogramsToNhcb?: boolean } = {}): Cardinality | undefined {
  const t = plan.telemetry;
  if (t === undefined) return undefined;
  const bucketTo = options.bucketTo ?? DEFAULT_BUCKET_TO;
  const perSecond = (series: number): number => (series * 1000) / t.exportIntervalMs;
  const metrics = t.metrics.map((m): MetricCardinality => {
    const series = m.layout.seriesCount;
    const attributes = m.layout.keys.map((key, j): AttributeCost => {
      const values = m.layout.counts[j];
      const seriesWithout = series / values;
      const cost: AttributeCost = {
        key,
        values,
        seriesWithout,
        seriesSavedByDropping: series - seriesWithout,
        dataPointsPerSecondSavedByDropping: perSecond(series - seriesWithout),
      };
      if (values > bucketTo) {
        cost.bucketTo = bucketTo;
        cost.seriesIfBucketed = seriesWithout * bucketTo;
        cost.seriesSavedByBucketing = series - cost.seriesIfBucketed;
      }
      return cost;
    });
    return {
      metricIndex: m.metricIndex,
      name: m.name,
      instrument: m.instrument,
      series,
      prometheusSeries: series * prometheusSeriesPerStream(m, options.convertHistogramsToNhcb),
      dataPointsPerSecond: perSecond(series),
      attributes,
    };
  });
  const sum = (f: (m: MetricCardinality) => number): number => metrics.reduce((a, m) => a + f(m), 0);
  return { exportIntervalMs: t.exportIntervalMs, series: sum((m) => m.series), prometheusSeries: sum((m) => m.prometheusSeries), dataPointsPerSecond: sum((m) => m.dataPointsPerSecond), metrics };
}
