/**
 * HDR histograms (core/histogram.ts, µs) as Prometheus native histograms and OpenTelemetry
 * exponential histograms: the same base-2 exponential buckets, where schema (Prometheus) =
 * scale (OTLP) = s gives bucket boundaries at 2^(i / 2^s). Prometheus bucket i covers
 * (2^((i−1)/2^s), 2^(i/2^s)]; OTLP bucket i covers (2^(i/2^s), 2^((i+1)/2^s)], so the same
 * bucket has OTLP index = Prometheus index − 1.
 *
 * Counts are exact: every HDR bucket (1 µs wide below 2,048 µs, within 0.1 % above) goes
 * whole to the exponential bucket of its lowest value, so the total count is the HDR
 * histogram's and the percentiles differ only by the exponential buckets' width (about 4.4 %
 * either side at schema 3). The sum is Σ count × lowest value of each HDR bucket, exact below
 * 2,048 µs and within 0.1 % above.
 *
 * The HDR side is read from its V2 encoding (the uncompressed form `WasmHistogram.encode()`
 * writes): a 40-byte header, then counts as ZigZag LEB128 varints, a negative one standing for
 * a run of empty buckets. Pure.
 *
 * @see https://github.com/HdrHistogram/HdrHistogram/blob/master/src/main/java/org/HdrHistogram/AbstractHistogram.java (encodeIntoByteBuffer, V2)
 * @see https://prometheus.io/docs/specs/native_histograms/
 * @see https://opentelemetry.io/docs/specs/otel/metrics/data-model/#exponentialhistogram
 */
import { InternalError } from './errors.ts';
import type { Histogram } from './histogram.ts';

/** A native histogram with integer counts, buckets sparse and ascending. */
export interface NativeHistogram {
  /** Prometheus schema = OTLP scale (−4..8). */
  schema: number;
  /** Observations at or below this magnitude count in the zero bucket. */
  zeroThreshold: number;
  zeroCount: number;
  /** Every observation. */
  count: number;
  /** Sum of observations, in the target unit. */
  sum: number;
  /** Prometheus bucket indexes of the populated buckets, ascending. */
  indexes: number[];
  /** Count of each bucket in `indexes`. */
  counts: number[];
}

/** Prometheus's default zero threshold, 2^−128 (client_golang `DefNativeHistogramZeroThreshold`). */
export const DEFAULT_ZERO_THRESHOLD = 2 ** -128;
/** The schema tally pushes: 8 buckets per power of two, factor 2^(1/8) ≈ 1.09 (client_golang's default bucket factor 1.1). */
export const MEASUREMENT_SCHEMA = 3;

const V2_COOKIE_BASE = 0x1c849303;
const HEADER_BYTES = 40;

/** HDR bucket layout, as HdrHistogram derives it from its construction parameters. */
interface HdrLayout {
  unitMagnitude: number;
  subBucketHalfCountMagnitude: number;
  subBucketHalfCount: number;
}

function hdrLayout(significantDigits: number, lowestDiscernible: number): HdrLayout {
  const largestSingleUnit = 2 * 10 ** significantDigits;
  const subBucketCountMagnitude = Math.ceil(Math.log2(largestSingleUnit));
  const subBucketHalfCountMagnitude = Math.max(subBucketCountMagnitude, 1) - 1;
  return { unitMagnitude: Math.floor(Math.log2(lowestDiscernible)), subBucketHalfCountMagnitude, subBucketHalfCount: 2 ** subBucketHalfCountMagnitude };
}

/** Lowest value of HDR counts-array index `index`. */
function hdrValueFromIndex(l: HdrLayout, index: number): number {
  let bucketIndex = Math.floor(index / l.subBucketHalfCount) - 1;
  let subBucketIndex = (index % l.subBucketHalfCount) + l.subBucketHalfCount;
  if (bucketIndex < 0) {
    subBucketIndex -= l.subBucketHalfCount;
    bucketIndex = 0;
  }
  return subBucketIndex * 2 ** (bucketIndex + l.unitMagnitude);
}

/**
 * Visit every populated bucket of an HDR histogram's V2 encoding, as (lowest value, count).
 * @throws InternalError `TALLY_INTERNAL` for bytes that are not an uncompressed V2 encoding.
 */
export function forEachHdrBucket(bytes: Uint8Array, visit: (lowestValue: number, count: number) => void): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < HEADER_BYTES || (view.getInt32(0) & ~0xf0) !== V2_COOKIE_BASE) throw new InternalError('not an HDR V2 encoding');
  const payloadBytes = view.getInt32(4);
  // Offset 8, normalizingIndexOffset: hdr-histogram-js writes 1 and ignores it on reading, as here.
  const layout = hdrLayout(view.getInt32(12), Number(view.getBigInt64(16)));
  const end = Math.min(bytes.byteLength, HEADER_BYTES + payloadBytes);
  let at = HEADER_BYTES;
  let index = 0;
  while (at < end) {
    // LEB128, at most 9 bytes for 64 bits; built with multiplication so counts past 2^31 stay exact.
    let raw = 0;
    let scale = 1;
    for (let i = 0; i < 9; i++) {
      const b = bytes[at++];
      if (i === 8) {
        raw += b * scale;
        break;
      }
      raw += (b & 0x7f) * scale;
      scale *= 128;
      if ((b & 0x80) === 0) break;
    }
    const value = raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
    if (value < 0) {
      index += -value;
      continue;
    }
    if (value > 0) visit(hdrValueFromIndex(layout, index), value);
    index++;
  }
}

/** Precomputed bucket bounds within [0.5, 1) for positive schemas (client_golang `nativeHistogramBounds`). */
const BOUNDS = new Map<number, Float64Array>();
function boundsFor(schema: number): Float64Array {
  let b = BOUNDS.get(schema);
  if (b === undefined) {
    const n = 2 ** schema;
    b = new Float64Array(n);
    for (let j = 0; j < n; j++) b[j] = 2 ** (j / n) / 2;
    BOUNDS.set(schema, b);
  }
  return b;
}

/**
 * Prometheus bucket index of a positive value at `schema`: i with 2^((i−1)/2^s) < x ≤ 2^(i/2^s).
 * @see https://github.com/prometheus/client_golang/blob/main/prometheus/histogram.go (findBucket via math.Frexp)
 */
export function nativeBucketIndex(x: number, schema: number): number {
  // frexp: x = frac · 2^exp with frac in [0.5, 1).
  let exp = Math.floor(Math.log2(x)) + 1;
  let frac = x / 2 ** exp;
  if (frac >= 1) {
    frac /= 2;
    exp++;
  } else if (frac < 0.5) {
    frac *= 2;
    exp--;
  }
  if (schema > 0) {
    const bounds = boundsFor(schema);
    let lo = 0;
    let hi = bounds.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (bounds[mid] < frac) lo = mid + 1;
      else hi = mid;
    }
    return lo + (exp - 1) * bounds.length;
  }
  let key = frac === 0.5 ? exp - 1 : exp;
  const offset = 2 ** -schema - 1;
  key = Math.floor((key + offset) / 2 ** -schema);
  return key;
}

/**
 * An HDR histogram (V2 encoding) as a native histogram.
 * @param bytes `WasmHistogram.encode()` output.
 * @param unitScale factor from HDR units to the target unit (1e-6: µs → s).
 * @throws InternalError `TALLY_INTERNAL` as {@link forEachHdrBucket}.
 */
export function nativeFromHdr(bytes: Uint8Array, unitScale: number, schema = MEASUREMENT_SCHEMA): NativeHistogram {
  const byIndex = new Map<number, number>();
  let count = 0;
  let sum = 0;
  let zeroCount = 0;
  forEachHdrBucket(bytes, (lowest, n) => {
    count += n;
    const x = lowest * unitScale;
    sum += x * n;
    if (x <= DEFAULT_ZERO_THRESHOLD) {
      zeroCount += n;
      return;
    }
    const i = nativeBucketIndex(x, schema);
    byIndex.set(i, (byIndex.get(i) ?? 0) + n);
  });
  const indexes = [...byIndex.keys()].sort((a, b) => a - b);
  return { schema, zeroThreshold: DEFAULT_ZERO_THRESHOLD, zeroCount, count, sum, indexes, counts: indexes.map((i) => byIndex.get(i)!) };
}

/** The uncompressed V2 encoding of a (WebAssembly) HDR histogram from core/histogram.ts. */
export function encodeHdrV2(h: Histogram): Uint8Array {
  return (h as unknown as { encode(): Uint8Array }).encode();
}

/** Prometheus's sparse form: spans of consecutive buckets, and counts as deltas to the previous bucket. */
export interface NativeSpans {
  /** Offset to the previous span's end (the first: the first index), and length. */
  spans: { offset: number; length: number }[];
  /** Count deltas, bucket by bucket across spans (the first against 0). */
  deltas: number[];
}

/**
 * Spans and deltas of a native histogram's positive buckets.
 * @see https://prometheus.io/docs/specs/native_histograms/ (buckets, spans and deltas)
 */
export function nativeSpans(h: NativeHistogram): NativeSpans {
  const spans: { offset: number; length: number }[] = [];
  const deltas: number[] = [];
  let previousIndex = 0;
  let previousCount = 0;
  for (let k = 0; k < h.indexes.length; k++) {
    const i = h.indexes[k];
    if (k > 0 && i === previousIndex + 1) spans[spans.length - 1].length++;
    else spans.push({ offset: k === 0 ? i : i - previousIndex - 1, length: 1 });
    deltas.push(h.counts[k] - previousCount);
    previousIndex = i;
    previousCount = h.counts[k];
  }
  return { spans, deltas };
}

/**
 * OTLP's dense positive buckets: `offset` is the OTLP index of the first (Prometheus index − 1),
 * then one count per bucket up to the last populated one.
 */
export function exponentialBuckets(h: NativeHistogram): { offset: number; bucketCounts: number[] } {
  if (h.indexes.length === 0) return { offset: 0, bucketCounts: [] };
  const first = h.indexes[0];
  const bucketCounts = new Array<number>(h.indexes[h.indexes.length - 1] - first + 1).fill(0);
  for (let k = 0; k < h.indexes.length; k++) bucketCounts[h.indexes[k] - first] = h.counts[k];
  return { offset: first - 1, bucketCounts };
}
