/**
 * The temporality-fidelity finding: for every delta series identity, the running sum a
 * consumer that accumulates its deltas would hold at the end of the run, against the one
 * it holds given which points arrived. A lost delta point leaves a lasting offset in that
 * sum (a lost cumulative point only a gap), so each identity with a non-zero offset is a
 * value error downstream even though no single point was wrong. Pure.
 *
 * @see ../core/instruments-series.ts deltaAccumulation
 * @see https://opentelemetry.io/docs/specs/otel/metrics/data-model/#sums-delta-to-cumulative
 */
import { deltaAccumulation, seriesLifecycle, type MetricModel, type SeriesIdentity } from '../core/instruments.ts';
import { SAMPLE_LIMIT, type ObservationStore } from './observations.ts';

/** One delta identity whose accumulated sum is off. */
export interface DeltaOffsetSample {
  metricIndex: number;
  slot: number;
  generation: number;
  /** Last tick summed (the identity's last point, or the run's last tick). */
  lastTick: number;
  /** Sum (counter, up-down counter) or count (histograms) the consumer should hold. */
  expected: number;
  observed: number;
  /** expected − observed. */
  offset: number;
  missingTicks: number;
}

/** Delta accumulation over a run. */
export interface DeltaOffsets {
  /** Delta identities checked (every identity of every delta metric). */
  identities: number;
  /** Identities whose accumulated sum differs from the expected one. */
  identitiesWithOffset: number;
  /** Σ |offset| over those identities (in each metric's unit: a Sum, or a histogram count). */
  offsetTotal: number;
  /** Per metric index (delta metrics only). */
  byMetric: { metricIndex: number; identities: number; identitiesWithOffset: number; offsetTotal: number }[];
  samples: DeltaOffsetSample[];
}

/**
 * Accumulate every delta identity of every delta metric over ticks 1..ticks.
 * @param models the run's metric models, by metric index (cumulative metrics and gauges are skipped).
 * @param seen what arrived (a point counts as arrived once, whatever its copies).
 * @param owned a sharded run's shard: the series range of each metric it sent (others are another shard's).
 * @returns exact counts; at most {@link SAMPLE_LIMIT} samples.
 */
export function deltaOffsets(models: readonly MetricModel[], seen: ObservationStore, ticks: number, owned?: (metricIndex: number) => { seriesStart: number; seriesEnd: number }): DeltaOffsets {
  const out: DeltaOffsets = { identities: 0, identitiesWithOffset: 0, offsetTotal: 0, byMetric: [], samples: [] };
  for (const model of models) {
    if (model.temporality !== 'delta' || model.instrument === 'gauge') continue;
    const m = model.metricIndex;
    const per = { metricIndex: m, identities: 0, identitiesWithOffset: 0, offsetTotal: 0 };
    const identities: SeriesIdentity[] = model.churn === undefined
      ? Array.from({ length: model.seriesCount }, (_, slot) => ({ slot, generation: 0, birthTick: 0 }))
      : seriesLifecycle(model, ticks).starts.map((s) => ({ slot: s.slot, generation: s.generation, birthTick: s.birthTick }));
    const range = owned?.(m);
    for (const id of identities) {
      if (range !== undefined && (id.slot < range.seriesStart || id.slot >= range.seriesEnd)) continue;
      const a = deltaAccumulation(model, id, ticks, (k) => seen.count(m, id.slot, k) > 0);
      per.identities++;
      if (a.offset === 0) continue;
      per.identitiesWithOffset++;
      per.offsetTotal += Math.abs(a.offset);
      if (out.samples.length < SAMPLE_LIMIT) {
        out.samples.push({ metricIndex: m, slot: id.slot, generation: id.generation, lastTick: a.lastTick, expected: a.expected, observed: a.observed, offset: a.offset, missingTicks: a.missingTicks });
      }
    }
    out.identities += per.identities;
    out.identitiesWithOffset += per.identitiesWithOffset;
    out.offsetTotal += per.offsetTotal;
    out.byMetric.push(per);
  }
  return out;
}
