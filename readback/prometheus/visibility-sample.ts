/**
 * A sample of a run's read-back space for visibility polls: at most `maxSeries` series per
 * metric, as whole chunks spread evenly over the series space (every k-th chunk), with the
 * sampled series renumbered 0..n−1. A poll then reads only the sample (its queries and the
 * replies the main thread parses stay bounded whatever the cardinality), the poller's
 * per-point state is the sample's size, and the final read-back still reads every point.
 * The lag histogram and the visibility counts are the sample's.
 *
 * Pure.
 */
import type { HistogramReadback } from './histograms.ts';
import type { ReadbackMetric, ReadbackSpace } from './space.ts';

/** A sampled space and how its series map to the run's. */
export interface VisibilitySample {
  space: ReadbackSpace;
  /** Sampled series per metric. */
  trackedCounts: number[];
  /** Series per metric in the run. */
  totalCounts: number[];
  /** The run's series index of sampled series `tracked` of metric `m`. */
  seriesOf(m: number, tracked: number): number;
}

/** Which chunks to keep: every k-th, spread over the space, until `maxSeries` would be passed (at least one). */
function pickChunks(ranges: readonly (readonly [number, number])[], maxSeries: number): number[] {
  const total = ranges.reduce((a, [f, e]) => a + e - f, 0);
  if (total <= maxSeries) return ranges.map((_, i) => i);
  const perChunk = total / ranges.length;
  const wanted = Math.max(1, Math.floor(maxSeries / perChunk));
  const stride = ranges.length / wanted;
  const picked: number[] = [];
  let series = 0;
  for (let j = 0; j < wanted; j++) {
    const i = Math.floor(j * stride);
    const size = ranges[i][1] - ranges[i][0];
    if (picked.length > 0 && series + size > maxSeries) break;
    picked.push(i);
    series += size;
  }
  return picked;
}

/** The last index j < n with `sorted[j] ≤ value` (0 when none). */
function lastAtMost(sorted: Int32Array, n: number, value: number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (sorted[mid] <= value) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function sampleMetric(metric: ReadbackMetric, maxSeries: number): { metric: ReadbackMetric; seriesOf(t: number): number; count: number } {
  const ranges = metric.selectorSeries ?? [[0, metric.seriesCount] as const];
  const picked = pickChunks(ranges, maxSeries);
  // Sampled chunk j covers run series [firsts[j], firsts[j] + size) and sampled series [starts[j], starts[j+1]).
  const starts = new Int32Array(picked.length + 1);
  const firsts = new Int32Array(picked.length);
  picked.forEach((i, j) => {
    firsts[j] = ranges[i][0];
    starts[j + 1] = starts[j] + ranges[i][1] - ranges[i][0];
  });
  const count = starts[picked.length];
  const seriesOf = (t: number): number => {
    const j = lastAtMost(starts, picked.length, t);
    return firsts[j] + t - starts[j];
  };
  const trackedOf = (s: number): number => {
    if (s < firsts[0]) return -1;
    const j = lastAtMost(firsts, picked.length, s);
    return s - firsts[j] < starts[j + 1] - starts[j] ? starts[j] + s - firsts[j] : -1;
  };
  const h = metric.histogram;
  const histogram: HistogramReadback | undefined = h === undefined ? undefined : h.kind === 'classic' ? { ...h, expected: (t, k) => h.expected(seriesOf(t), k) } : { ...h, expected: (t, k) => h.expected(seriesOf(t), k) };
  const sampled: ReadbackMetric = {
    name: metric.name,
    seriesCount: count,
    runMatchers: metric.runMatchers,
    selectors: picked.map((i) => metric.selectors[i]),
    seriesIndexOf: (labels) => trackedOf(metric.seriesIndexOf(labels)),
    optionalLabelsOf: (labels) => metric.optionalLabelsOf(labels),
    seriesLabels: (t) => metric.seriesLabels(seriesOf(t)),
    expectedValue: (t, k) => metric.expectedValue(seriesOf(t), k),
    ...(metric.expected === undefined ? {} : { expected: (t: number, k: number) => metric.expected!(seriesOf(t), k) }),
    ...(histogram === undefined ? {} : { histogram }),
  };
  return { metric: sampled, seriesOf, count };
}

/**
 * Sample a space for visibility polls.
 * @param maxSeries most series per metric (whole chunks; at least one chunk per metric).
 */
export function visibilitySample(space: ReadbackSpace, maxSeries: number): VisibilitySample {
  const parts = space.metrics.map((m) => sampleMetric(m, maxSeries));
  return {
    space: { ...space, metrics: parts.map((p) => p.metric) },
    trackedCounts: parts.map((p) => p.count),
    totalCounts: space.metrics.map((m) => m.seriesCount),
    seriesOf: (m, t) => parts[m].seriesOf(t),
  };
}
