/**
 * Histogram shapes derived from the seed: per tick, each series records a known number of
 * observations in each bucket, every observation of a bucket taking one representative
 * value. The counts are constant per series identity (slot, generation), so a cumulative
 * point at local tick j is j times the per-tick shape and a delta point is the shape itself.
 *
 * Representative values are integers wherever the bucket holds one, so sums are exact
 * integers for the usual bounds (SDK defaults, milliseconds); where a bucket is narrower
 * than 1 the value is its upper bound (a double), and the generator and the checker still
 * agree because both compute sums with this module.
 *
 * @see https://opentelemetry.io/docs/specs/otel/metrics/data-model/#histogram
 * @see https://opentelemetry.io/docs/specs/otel/metrics/data-model/#exponentialhistogram
 */
import { hash32 } from './rng.ts';

/** Default explicit bucket bounds: the OpenTelemetry SDK's default aggregation boundaries. */
export const DEFAULT_HISTOGRAM_BOUNDS: readonly number[] = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];
/** Default exponential histogram scale. */
export const DEFAULT_EXPONENTIAL_SCALE = 3;
/** Default number of populated positive buckets of an exponential histogram point. */
export const DEFAULT_EXPONENTIAL_MAX_SIZE = 10;

/** Per-tick observations of one series identity in an explicit-bucket histogram. */
export interface HistogramShape {
  /** Observations per bucket per tick; bounds.length + 1 entries. */
  bucketCounts: number[];
  /** Σ bucketCounts. ≥ 1. */
  count: number;
  /** Σ bucketCounts[b] · value[b]. */
  sum: number;
  /** Smallest and largest observed value (over a tick, and so over any run of ticks). */
  min: number;
  max: number;
}

/** Per-tick observations of one series identity in a base-2 exponential histogram. */
export interface ExponentialShape {
  scale: number;
  /** Index of the first positive bucket. */
  offset: number;
  /** Observations per positive bucket per tick (maxSize entries). */
  bucketCounts: number[];
  /** Observations of value 0 per tick. */
  zeroCount: number;
  count: number;
  sum: number;
  min: number;
  max: number;
}

/**
 * Representative observation of each explicit bucket (bounds upper-inclusive, OTLP):
 * bucket 0 (-∞, b0] takes floor(b0); bucket i (b[i-1], b[i]] the largest integer in it,
 * else b[i]; the overflow bucket (b[n-1], +∞) takes floor(b[n-1]) + 1.
 * @param bounds strictly increasing finite numbers.
 * @returns bounds.length + 1 values.
 */
export function explicitBucketValues(bounds: readonly number[]): number[] {
  const values = new Array<number>(bounds.length + 1);
  values[0] = Math.floor(bounds[0]);
  for (let i = 1; i < bounds.length; i++) {
    const candidate = Math.floor(bounds[i]);
    values[i] = candidate > bounds[i - 1] ? candidate : bounds[i];
  }
  values[bounds.length] = Math.floor(bounds[bounds.length - 1]) + 1;
  return values;
}

/**
 * Per-tick shape of an explicit-bucket histogram series identity: 0-3 observations per
 * bucket from (seed, metric, slot, generation, bucket); at least one observation.
 */
export function histogramShape(seed: number, metricIndex: number, slot: number, generation: number, values: readonly number[]): HistogramShape {
  const bucketCounts = new Array<number>(values.length);
  let count = 0;
  for (let b = 0; b < values.length; b++) {
    bucketCounts[b] = hash32(seed, metricIndex, slot, generation, b, 0x41) % 4;
    count += bucketCounts[b];
  }
  if (count === 0) {
    bucketCounts[hash32(seed, metricIndex, slot, generation, 0x42) % values.length] = 1;
    count = 1;
  }
  return { bucketCounts, count, ...sumMinMax(bucketCounts, values, 0) };
}

/**
 * Representative value of positive bucket `index` at `scale`: the bucket is
 * (2^(index·2^-scale), 2^((index+1)·2^-scale)]; the value is the largest integer in it,
 * else its upper bound.
 */
export function exponentialBucketValue(scale: number, index: number): number {
  const lower = 2 ** (index * 2 ** -scale);
  const upper = 2 ** ((index + 1) * 2 ** -scale);
  const candidate = Math.floor(upper);
  return candidate > lower ? candidate : upper;
}

/**
 * Per-tick shape of an exponential histogram series identity. Populated positive buckets
 * start at an offset whose values lie near 16..256 (derived per identity), 0-3
 * observations each; 0 or 1 zero-bucket observation; negative buckets stay empty.
 * @param scale -10..20 (OTLP); maxSize ≥ 1 populated buckets.
 */
export function exponentialShape(seed: number, metricIndex: number, slot: number, generation: number, scale: number, maxSize: number): ExponentialShape {
  const perOctave = 2 ** scale;
  const base = Math.ceil(4 * perOctave);
  const offset = base + (hash32(seed, metricIndex, slot, generation, 0x45) % Math.max(1, Math.ceil(4 * perOctave)));
  const bucketCounts = new Array<number>(maxSize);
  const values = new Array<number>(maxSize);
  let count = 0;
  for (let b = 0; b < maxSize; b++) {
    bucketCounts[b] = hash32(seed, metricIndex, slot, generation, b, 0x46) % 4;
    values[b] = exponentialBucketValue(scale, offset + b);
    count += bucketCounts[b];
  }
  if (count === 0) {
    bucketCounts[0] = 1;
    count = 1;
  }
  const zeroCount = hash32(seed, metricIndex, slot, generation, 0x47) % 2;
  const { sum, min, max } = sumMinMax(bucketCounts, values, zeroCount);
  return { scale, offset, bucketCounts, zeroCount, count: count + zeroCount, sum, min, max };
}

function sumMinMax(counts: number[], values: readonly number[], zeroCount: number): { sum: number; min: number; max: number } {
  let sum = 0;
  let min = zeroCount > 0 ? 0 : Infinity;
  let max = zeroCount > 0 ? 0 : -Infinity;
  for (let b = 0; b < counts.length; b++) {
    if (counts[b] === 0) continue;
    sum += counts[b] * values[b];
    if (values[b] < min) min = values[b];
    if (values[b] > max) max = values[b];
  }
  return { sum, min, max };
}
