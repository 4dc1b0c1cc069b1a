/**
 * The deterministic series space: series index ↔ attributes, and the value of every
 * data point as a function of (seed, metric, series, tick). Both the generator and the
 * reconciler call these, so the checker regenerates what it expects instead of storing
 * what was sent.
 *
 * @see README.md "How it measures" (Determinism: everything is derived from the seed)
 */
import { hash32 } from './rng.ts';

/** Attribute keys in declared order with their value counts. */
export interface SeriesLayout {
  keys: string[];
  counts: number[];
  /** Product of counts: the number of series. */
  seriesCount: number;
}

/** Build the layout of a metric's attribute map (declared key order is significant). */
export function seriesLayout(attributes: Record<string, number>): SeriesLayout {
  const keys = Object.keys(attributes);
  const counts = keys.map((k) => attributes[k]);
  return { keys, counts, seriesCount: counts.reduce((a, b) => a * b, 1) };
}

/**
 * Attribute values of series `index`: mixed radix over the value counts, first key most
 * significant. Values are `<key>-<digit>`.
 */
export function seriesAttributes(layout: SeriesLayout, index: number): Record<string, string> {
  const out: Record<string, string> = {};
  let rest = index;
  for (let j = layout.keys.length - 1; j >= 0; j--) {
    const c = layout.counts[j];
    out[layout.keys[j]] = `${layout.keys[j]}-${rest % c}`;
    rest = Math.floor(rest / c);
  }
  // Keep declared key order in the returned object.
  const ordered: Record<string, string> = {};
  for (const k of layout.keys) ordered[k] = out[k];
  return ordered;
}

/**
 * Inverse of {@link seriesAttributes}.
 * @returns the series index, or -1 when the attributes are not of this layout
 * (missing key, extra key, foreign value, digit out of range).
 */
export function seriesIndexOf(layout: SeriesLayout, attributes: Record<string, unknown>): number {
  let index = 0;
  let seen = 0;
  for (let j = 0; j < layout.keys.length; j++) {
    const key = layout.keys[j];
    const value = attributes[key];
    if (typeof value !== 'string' || !value.startsWith(key) || value.charCodeAt(key.length) !== 45 /* - */) return -1;
    const digitText = value.slice(key.length + 1);
    const digit = Number(digitText);
    if (!Number.isInteger(digit) || digit < 0 || digit >= layout.counts[j] || String(digit) !== digitText) return -1;
    index = index * layout.counts[j] + digit;
    seen++;
  }
  // Every declared key matched, so any extra key makes the count differ.
  let keyCount = 0;
  for (const _ in attributes) keyCount++;
  return seen === layout.keys.length && keyCount === seen ? index : -1;
}

/** Per-tick increment of a counter series: an integer in [1, 100] derived from (seed, metric, series). */
export function counterIncrement(seed: number, metricIndex: number, seriesIndex: number): number {
  return 1 + (hash32(seed, metricIndex, seriesIndex) % 100);
}

/**
 * Cumulative counter value at tick `tick` (ticks count from 1): `tick · inc(series)`.
 * A lost delta point would show as a lasting offset in this sum; a lost cumulative point
 * only as a gap.
 */
export function cumulativeCounterValue(seed: number, metricIndex: number, seriesIndex: number, tick: number): number {
  return tick * counterIncrement(seed, metricIndex, seriesIndex);
}
