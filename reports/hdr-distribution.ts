/**
 * What the HTML report draws from an encoded HDR histogram (results.json `histograms`,
 * `readback.visibility.lagHistogramUs`): the percentile distribution as HdrHistogram's
 * `outputPercentileDistribution` writes it (the `.hgrm` table the HdrHistogram plotter
 * reads: value, percentile, total count, 1/(1−percentile)), and the recorded values with
 * their counts. Decoded with hdr-histogram-js's JavaScript build (no WebAssembly memory to
 * free). Pure.
 *
 * @see https://github.com/HdrHistogram/HdrHistogramJS (outputPercentileDistribution, RecordedValuesIterator)
 * @see https://hdrhistogram.github.io/HdrHistogram/plotFiles.html (the plotter: value against 1/(1−percentile), log axis)
 */
import hdr from 'hdr-histogram-js';
import type { JsHistogram } from 'hdr-histogram-js';

/** One row of the percentile distribution. */
export interface PercentileRow {
  /** The value at this percentile (µs). */
  valueUs: number;
  /** 0..1. */
  percentile: number;
  /** Samples at or below `valueUs`. */
  totalCount: number;
  /** 1 / (1 − percentile): the plotter's x axis (finite: the 100 % row is left out, as the plotter leaves it). */
  inverse: number;
}

/** A decoded histogram's distribution. */
export interface Distribution {
  count: number;
  maxUs: number;
  rows: PercentileRow[];
}

function decode(encoded: string): JsHistogram {
  return hdr.decodeFromCompressedBase64(encoded, 64, false) as unknown as JsHistogram;
}

/** Decode and merge (counts add bucket by bucket: several runs' histograms become one). */
function decodeMerged(encoded: string | readonly string[]): JsHistogram {
  const all = typeof encoded === 'string' ? [encoded] : encoded;
  const h = decode(all[0]);
  for (const e of all.slice(1)) h.add(decode(e));
  return h;
}

/**
 * The percentile distribution of an encoded µs histogram (or of several merged: baselines),
 * `ticksPerHalfDistance` rows per halving of the remaining percentile distance (5,
 * HdrHistogram's default).
 * @throws the decoder's Error for a string that is not an encoded histogram, or for none.
 */
export function percentileDistribution(encoded: string | readonly string[], ticksPerHalfDistance = 5): Distribution {
  if (encoded.length === 0) throw new RangeError('no histogram to decode');
  const h = decodeMerged(encoded);
  const count = h.totalCount;
  if (count === 0) return { count: 0, maxUs: 0, rows: [] };
  const rows: PercentileRow[] = [];
  for (const line of h.outputPercentileDistribution(ticksPerHalfDistance, 1, true).split('\n').slice(1)) {
    const [value, percentile, totalCount] = line.split(',').map(Number);
    // The table rounds 1/(1−p) to two decimals; it is taken from the percentile's full precision.
    if (Number.isFinite(value) && percentile >= 0 && percentile < 1) rows.push({ valueUs: value, percentile, totalCount, inverse: 1 / (1 - percentile) });
  }
  return { count, maxUs: h.maxValue, rows };
}

/** One recorded value: the highest value of its HDR bucket (µs) and how many samples it holds. */
export interface RecordedValue {
  valueUs: number;
  count: number;
}

/**
 * Every recorded value of an encoded µs histogram with its count, ascending.
 * @throws the decoder's Error for a string that is not an encoded histogram.
 */
export function recordedValues(encoded: string): RecordedValue[] {
  const h = decode(encoded);
  const out: RecordedValue[] = [];
  const it = h.recordedValuesIterator;
  it.reset();
  while (it.hasNext()) {
    const v = it.next();
    out.push({ valueUs: h.highestEquivalentValue(v.valueIteratedTo), count: v.countAddedInThisIterationStep });
  }
  return out;
}
