/**
 * The read-back space of a run: the Prometheus naming of its metrics
 * (scenarios/prometheus-naming.ts) laid out as chunked selectors, with the value every
 * (series, tick) must have. Pure.
 */
import { cumulativeSampleValue } from '../../core/sample-value.ts';
import type { Plan } from '../../scenarios/plan.ts';
import type { MetricNaming } from '../../scenarios/prometheus-naming.ts';
import { layoutMetric, type ReadbackSpace } from './space.ts';

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
