/**
 * Threshold evaluation, as k6 does it: each {@link ThresholdSpec} aggregates one figure
 * (a trend's percentile, a rate, a count, a gauge's value) and compares it with its limit.
 * A threshold whose figure was not measured (no samples, a counter the host could not read)
 * is `no_data` and counts as breached at the end of a run: a gate that cannot be checked
 * does not pass. Live checks (abortOnFail) skip `no_data`. Pure: the figures come in
 * through {@link Figures} (reports/threshold-figures.ts reads them from results.json).
 *
 * @see https://grafana.com/docs/k6/latest/using-k6/thresholds/
 */
import type { ThresholdSpec, ThresholdUnit } from '../core/thresholds.ts';

/** One figure's measured value, by k6 metric type. Trend values are in µs. */
export type FigureValue =
  | { kind: 'trend'; count: number; minUs: number; maxUs: number; meanUs: number; percentileUs(p: number): number | undefined }
  | { kind: 'rate'; numerator: number; denominator: number }
  | { kind: 'counter'; count: number; elapsedS: number }
  | { kind: 'gauge'; value: number };

/** A figure by its tally name; undefined when the run did not measure it. */
export type Figures = (metric: string) => FigureValue | undefined;

/** How one threshold came out. */
export interface ThresholdResult {
  /** The name as written (an alias stays an alias). */
  name: string;
  /** The tally name it resolved to. */
  metric: string;
  expression: string;
  /** The aggregated value, in `unit`; null when there was nothing to aggregate. */
  observed: number | null;
  /** The limit, in `unit`. */
  limit: number;
  unit: ThresholdUnit;
  status: 'ok' | 'breached' | 'no_data';
  abortOnFail: boolean;
}

/** The aggregated value of a figure, or undefined when there is none. */
export function aggregate(spec: ThresholdSpec, figure: FigureValue | undefined): number | undefined {
  if (figure === undefined) return undefined;
  switch (figure.kind) {
    case 'trend': {
      if (spec.aggregation === 'count') return figure.count;
      if (figure.count === 0) return undefined;
      if (spec.aggregation === 'avg') return figure.meanUs;
      if (spec.aggregation === 'min') return figure.minUs;
      if (spec.aggregation === 'max') return figure.maxUs;
      return figure.percentileUs(spec.aggregation === 'med' ? 50 : (spec.percentile ?? 50));
    }
    case 'rate':
      if (spec.aggregation === 'count') return figure.numerator;
      return figure.denominator > 0 ? figure.numerator / figure.denominator : undefined;
    case 'counter':
      if (spec.aggregation === 'count') return figure.count;
      return figure.elapsedS > 0 ? figure.count / figure.elapsedS : undefined;
    case 'gauge':
      return Number.isFinite(figure.value) ? figure.value : undefined;
  }
}

/** Whether `observed <operator> limit` holds. */
export function holds(observed: number, operator: ThresholdSpec['operator'], limit: number): boolean {
  switch (operator) {
    case '<':
      return observed < limit;
    case '<=':
      return observed <= limit;
    case '>':
      return observed > limit;
    case '>=':
      return observed >= limit;
    case '==':
      return observed === limit;
    case '!=':
      return observed !== limit;
  }
}

/**
 * Evaluate thresholds against figures.
 * @returns one result per threshold, in order.
 */
export function evaluateThresholds(specs: readonly ThresholdSpec[], figures: Figures): ThresholdResult[] {
  return specs.map((spec) => {
    const observed = aggregate(spec, figures(spec.metric));
    const status = observed === undefined ? 'no_data' : holds(observed, spec.operator, spec.limit) ? 'ok' : 'breached';
    return {
      name: spec.name,
      metric: spec.metric,
      expression: spec.expression,
      observed: observed === undefined ? null : observed,
      limit: spec.limit,
      unit: spec.unit,
      status,
      abortOnFail: spec.abortOnFail,
    };
  });
}
