/**
 * Histograms as Prometheus stores them, and how read-back checks them against the model:
 *
 * - an OTLP explicit-bucket histogram becomes a classic histogram: `<name>_count`,
 *   `<name>_sum` and one `<name>_bucket{le}` per bound plus `le="+Inf"`, with cumulative
 *   bucket counts; or, with Prometheus's `otlp.convert_histograms_to_nhcb`, one native
 *   histogram with custom buckets (the bounds);
 * - an OTLP exponential histogram becomes one native histogram series, at schema
 *   `min(scale, 8)` (finer scales are merged down, as Prometheus does).
 *
 * A histogram data point is one point of the ledger: it is present when its `_count`
 * sample (or its native sample) is, and it matches when every part does; the first part
 * that differs is the point's mismatch. Pure.
 *
 * @see https://opentelemetry.io/docs/specs/otel/compatibility/prometheus_and_openmetrics/#histograms
 * @see https://prometheus.io/docs/specs/native_histograms/
 * @see https://prometheus.io/docs/prometheus/latest/querying/api/#native-histograms
 */
import { CollectorError } from '../../core/errors.ts';
import { exponentialShape, histogramShape } from '../../core/instruments-histogram.ts';
import { shapeFactor, type MetricModel } from '../../core/instruments.ts';
import type { PointMismatch } from '../../reconcile/observations.ts';

/** The highest native-histogram schema Prometheus stores; finer OTLP scales are merged down to it. */
export const MAX_NATIVE_SCHEMA = 8;

/** A classic histogram point: count, sum, and the cumulative count at each bound then `+Inf`. */
export interface ClassicHistogramPoint {
  count: number;
  sum: number;
  /** `cumulative[i]` counts observations ≤ bounds[i]; the last entry is `+Inf` (= count). */
  cumulative: number[];
}

/** One populated native-histogram bucket (the zero bucket apart). */
export interface NativeBucket {
  lower: number;
  upper: number;
  count: number;
}

/** A native histogram point. */
export interface NativeHistogramPoint {
  count: number;
  sum: number;
  /** Observations in the zero bucket. */
  zeroCount: number;
  /** Populated buckets other than the zero bucket, in ascending order. */
  buckets: NativeBucket[];
}

/** How read-back checks a classic histogram metric. */
export interface ClassicHistogramReadback {
  kind: 'classic';
  /** The explicit bounds; `le` labels are matched by value. */
  bounds: readonly number[];
  expected(series: number, tick: number): ClassicHistogramPoint;
}

/** How read-back checks a native histogram metric. */
export interface NativeHistogramReadback {
  kind: 'native';
  expected(series: number, tick: number): NativeHistogramPoint;
}

/** Either representation. */
export type HistogramReadback = ClassicHistogramReadback | NativeHistogramReadback;

/**
 * The classic (or, with `nhcb`, native custom-bucket) expectation of an explicit-bucket
 * histogram metric: at tick k, k times the per-tick shape (cumulative, or delta converted
 * to cumulative upstream), or the shape itself for delta points stored as sent
 * (`deltaAsSent`). Generation 0 (no churn).
 */
export function explicitHistogramReadback(model: MetricModel, nhcb = false, deltaAsSent = false): HistogramReadback {
  const shape = (series: number, tick: number) => {
    const s = histogramShape(model.seed, model.metricIndex, series, 0, model.bucketValues);
    const k = cumulativeFactor(model, tick, deltaAsSent);
    return { counts: s.bucketCounts.map((c) => c * k), count: s.count * k, sum: s.sum * k };
  };
  if (!nhcb) {
    return {
      kind: 'classic',
      bounds: model.bounds,
      expected(series, tick) {
        const { counts, count, sum } = shape(series, tick);
        let running = 0;
        return { count, sum, cumulative: counts.map((c) => (running += c)) };
      },
    };
  }
  return {
    kind: 'native',
    expected(series, tick) {
      const { counts, count, sum } = shape(series, tick);
      const edges = [-Infinity, ...model.bounds, Infinity];
      const buckets = counts.map((c, i) => ({ lower: edges[i], upper: edges[i + 1], count: c })).filter((b) => b.count > 0);
      return { count, sum, zeroCount: 0, buckets };
    },
  };
}

/**
 * The native expectation of an exponential histogram metric: k times the per-tick shape,
 * positive buckets merged down to schema {@link MAX_NATIVE_SCHEMA} when the scale is finer.
 * OTLP bucket i at scale s is (2^(i·2^-s), 2^((i+1)·2^-s)].
 */
export function exponentialHistogramReadback(model: MetricModel, deltaAsSent = false): NativeHistogramReadback {
  return {
    kind: 'native',
    expected(series, tick) {
      const s = exponentialShape(model.seed, model.metricIndex, series, 0, model.scale, model.maxSize);
      const k = cumulativeFactor(model, tick, deltaAsSent);
      const schema = Math.min(s.scale, MAX_NATIVE_SCHEMA);
      const shift = s.scale - schema;
      const merged = new Map<number, number>();
      s.bucketCounts.forEach((c, b) => {
        if (c === 0) return;
        const index = (s.offset + b) >> shift;
        merged.set(index, (merged.get(index) ?? 0) + c * k);
      });
      const base = 2 ** (2 ** -schema);
      const buckets = [...merged].sort((a, b) => a[0] - b[0]).map(([index, count]) => ({ lower: base ** index, upper: base ** (index + 1), count }));
      return { count: s.count * k, sum: s.sum * k, zeroCount: s.zeroCount * k, buckets };
    },
  };
}

/**
 * Shapes a stored point holds at tick k: k for cumulative points and for delta points
 * converted to cumulative upstream; 1 for delta points stored as sent (`deltaAsSent`).
 */
function cumulativeFactor(model: MetricModel, tick: number, deltaAsSent: boolean): number {
  if (model.temporality === 'delta') return deltaAsSent ? 1 : tick;
  return shapeFactor(model, tick);
}

/** What read-back found of one classic histogram point, part by part (a part not read stays undefined). */
export interface ClassicHistogramSeen {
  count?: number;
  sum?: number;
  /** `le` value → cumulative count. */
  buckets: Map<number, number>;
}

/** Floats as Prometheus returns them: equal, or both NaN. */
function same(a: number, b: number): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

/** The first part of a classic histogram point that differs from the expectation; undefined when all match. */
export function compareClassic(expected: ClassicHistogramPoint, bounds: readonly number[], seen: ClassicHistogramSeen): PointMismatch | undefined {
  if (seen.count === undefined || !same(expected.count, seen.count)) return { field: 'count', expected: expected.count, actual: seen.count ?? 'absent' };
  if (seen.sum === undefined || !same(expected.sum, seen.sum)) return { field: 'sum', expected: expected.sum, actual: seen.sum ?? 'absent' };
  const les = [...bounds, Infinity];
  for (let i = 0; i < les.length; i++) {
    const actual = seen.buckets.get(les[i]);
    if (actual === undefined || !same(expected.cumulative[i], actual)) return { field: `bucket{le="${les[i] === Infinity ? '+Inf' : les[i]}"}`, expected: expected.cumulative[i], actual: actual ?? 'absent' };
  }
  if (seen.buckets.size > les.length) return { field: 'bucket{le}', expected: les.length, actual: seen.buckets.size };
  return undefined;
}

/** Relative tolerance for bucket boundaries, which Prometheus computes in floating point. */
const BOUNDARY_TOLERANCE = 1e-9;

function sameBoundary(a: number, b: number): boolean {
  if (a === b) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  return Math.abs(a - b) <= BOUNDARY_TOLERANCE * Math.max(Math.abs(a), Math.abs(b));
}

/** The first part of a native histogram point that differs from the expectation; undefined when all match. */
export function compareNative(expected: NativeHistogramPoint, seen: NativeHistogramPoint): PointMismatch | undefined {
  if (!same(expected.count, seen.count)) return { field: 'count', expected: expected.count, actual: seen.count };
  if (!same(expected.sum, seen.sum)) return { field: 'sum', expected: expected.sum, actual: seen.sum };
  if (expected.zeroCount !== seen.zeroCount) return { field: 'zeroCount', expected: expected.zeroCount, actual: seen.zeroCount };
  const n = Math.max(expected.buckets.length, seen.buckets.length);
  for (let i = 0; i < n; i++) {
    const e = expected.buckets[i];
    const a = seen.buckets[i];
    if (e === undefined || a === undefined) return { field: `buckets[${i}]`, expected: e === undefined ? 'absent' : `(${e.lower}, ${e.upper}]: ${e.count}`, actual: a === undefined ? 'absent' : `(${a.lower}, ${a.upper}]: ${a.count}` };
    if (!sameBoundary(e.upper, a.upper) || !sameBoundary(e.lower, a.lower)) return { field: `buckets[${i}].bounds`, expected: `(${e.lower}, ${e.upper}]`, actual: `(${a.lower}, ${a.upper}]` };
    if (e.count !== a.count) return { field: `buckets[${i}].count`, expected: e.count, actual: a.count };
  }
  return undefined;
}

function bad(pointer: string, expected: string, got: unknown): never {
  throw new CollectorError(`Prometheus native histogram at ${pointer}: ${expected} expected, got ${JSON.stringify(got)?.slice(0, 100)}`, {
    code: 'TALLY_COLLECTOR_BAD_REPLY',
    details: { pointer, expected },
  });
}

function numberText(value: unknown, pointer: string): number {
  if (typeof value !== 'string') bad(pointer, 'a number as a string', value);
  const n = value === '+Inf' ? Infinity : value === '-Inf' ? -Infinity : Number(value);
  if (Number.isNaN(n) && value !== 'NaN') bad(pointer, 'a number as a string', value);
  return n;
}

/**
 * Parse a native histogram value of the query API: `{count, sum, buckets: [[boundaryRule,
 * lower, upper, count], …]}` with numbers as strings. The bucket symmetric around zero
 * ([-threshold, threshold]) is the zero bucket.
 * @throws CollectorError `TALLY_COLLECTOR_BAD_REPLY` naming the JSON pointer of a malformed part.
 * @see https://prometheus.io/docs/prometheus/latest/querying/api/#native-histograms
 */
export function parseNativeHistogram(value: unknown, pointer: string): NativeHistogramPoint {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad(pointer, 'a histogram object', value);
  const v = value as { count?: unknown; sum?: unknown; buckets?: unknown };
  const out: NativeHistogramPoint = { count: numberText(v.count, `${pointer}/count`), sum: numberText(v.sum, `${pointer}/sum`), zeroCount: 0, buckets: [] };
  if (v.buckets === undefined) return out;
  if (!Array.isArray(v.buckets)) bad(`${pointer}/buckets`, 'an array', v.buckets);
  v.buckets.forEach((b: unknown, i: number) => {
    const p = `${pointer}/buckets/${i}`;
    if (!Array.isArray(b) || b.length !== 4 || typeof b[0] !== 'number') bad(p, '[boundaryRule, lower, upper, count]', b);
    const lower = numberText(b[1], `${p}/1`);
    const upper = numberText(b[2], `${p}/2`);
    const count = numberText(b[3], `${p}/3`);
    // The zero bucket is [-threshold, threshold]; a custom-bucket histogram's first bucket (-Inf, b0] is not.
    if (lower === -upper) out.zeroCount += count;
    else out.buckets.push({ lower, upper, count });
  });
  out.buckets.sort((a, b) => a.upper - b.upper);
  return out;
}
