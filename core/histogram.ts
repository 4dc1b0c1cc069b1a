/**
 * HDR histograms in microseconds, on hdr-histogram-js's WebAssembly build. Workers
 * record and send their histograms encoded (the HdrHistogram V2 encoding, uncompressed:
 * deflating six histograms held a load thread 1–4 ms every second, the plain encoding
 * 0.25 ms); the main thread decodes and merges them before any percentile is taken.
 * Percentiles are never averaged. Histograms kept in files (results.json) are compressed
 * and base64-encoded.
 *
 * @see https://github.com/HdrHistogram/HdrHistogramJS (encodeIntoCompressedBase64, add)
 */
import hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';

let wasmReady = false;
/** Load the WebAssembly module once per thread. */
export function initHistograms(): void {
  if (!wasmReady) {
    hdr.initWebAssemblySync();
    wasmReady = true;
  }
}

/** Highest value a histogram tracks: one hour in µs. Larger values are clamped to it. */
export const HIGHEST_TRACKABLE_US = 3_600_000_000;

/** A new empty µs histogram (1 µs to 1 h, 3 significant digits). Call `destroy()` when done. */
export function createHistogramUs(): Histogram {
  initHistograms();
  return hdr.build({
    useWebAssembly: true,
    bitBucketSize: 64,
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_TRACKABLE_US,
    numberOfSignificantValueDigits: 3,
  });
}

/** Record one value in µs, clamped to [1, {@link HIGHEST_TRACKABLE_US}] and rounded. */
export function recordUs(histogram: Histogram, valueUs: number): void {
  const v = valueUs < 1 ? 1 : valueUs > HIGHEST_TRACKABLE_US ? HIGHEST_TRACKABLE_US : Math.round(valueUs);
  histogram.recordValue(v);
}

/** Encode for crossing a thread boundary. */
export function encodeHistogram(histogram: Histogram): string {
  return hdr.encodeIntoCompressedBase64(histogram);
}

/** Encode for crossing a thread boundary cheaply: the V2 encoding without deflate (a few KB at most). */
export function encodeHistogramBytes(histogram: Histogram): Uint8Array {
  return (histogram as Histogram & { encode(): Uint8Array }).encode();
}

/** Add a histogram encoded by {@link encodeHistogramBytes} into `into` (exact merge). */
export function mergeEncodedBytes(into: Histogram, encoded: Uint8Array): void {
  initHistograms();
  const h = hdr.WasmHistogram.decode(encoded, 64);
  try {
    into.add(h);
  } finally {
    h.destroy();
  }
}

/** Decode an encoded histogram. Call `destroy()` when done. */
export function decodeHistogram(encoded: string): Histogram {
  initHistograms();
  return hdr.decodeFromCompressedBase64(encoded, 64, true);
}

/** Add an encoded histogram into `into` (exact merge: counts add bucket by bucket). */
export function mergeEncoded(into: Histogram, encoded: string): void {
  const h = decodeHistogram(encoded);
  try {
    into.add(h);
  } finally {
    h.destroy();
  }
}

/** Percentile summary in µs of one histogram. */
export interface PercentilesUs {
  count: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/**
 * The value at a percentile (0–100), kept within the recorded [min, max]. HDR reports the
 * highest value equivalent to its bucket, up to 0.1 % above anything recorded (386,000 µs
 * reads back as 386,047): a percentile above the max is an artefact, not a measurement.
 */
export function valueAtPercentileUs(h: Histogram, percentile: number): number {
  const v = h.getValueAtPercentile(percentile);
  const max = h.maxValue;
  if (v > max) return max;
  const min = h.minNonZeroValue;
  return v < min ? min : v;
}

/** Summarise a histogram (µs); percentiles lie within [min, max]. An empty histogram gives zeros with count 0. */
export function percentilesUs(h: Histogram): PercentilesUs {
  if (h.totalCount === 0) return { count: 0, min: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 };
  return {
    count: h.totalCount,
    min: h.minNonZeroValue,
    p50: valueAtPercentileUs(h, 50),
    p90: valueAtPercentileUs(h, 90),
    p99: valueAtPercentileUs(h, 99),
    p999: valueAtPercentileUs(h, 99.9),
    max: h.maxValue,
    mean: Math.round(h.mean),
  };
}

export type { Histogram };
