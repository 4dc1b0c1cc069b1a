/**
 * Run-window deltas of monotonic counters read twice (a scrape or an instant query at the
 * start and at the end of the run). Pure.
 *
 * Per series (name and full label set):
 * - both readings, `after ≥ before`: delta `after − before`;
 * - `after < before`: the counter was reset (process restart); the post-reset value is
 *   taken as the delta, a lower bound (what was counted before the restart in the window
 *   is lost), and a `reset` flag says so;
 * - only in `after`: the series was created in the window (the OpenTelemetry SDK creates
 *   a counter series at its first increment), so it counted from zero: delta `after`,
 *   flagged `appeared`;
 * - only in `before`: the series vanished (restart, relabelling): delta unknown, counted
 *   as 0 and flagged `vanished`.
 *
 * Resets between the two readings that end above the first reading cannot be seen from
 * two readings; take snapshots each interval and chain the deltas when that matters.
 */
import type { ExpositionSample } from './exposition.ts';

/** A counter series' change over the window. */
export interface SeriesDelta {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** First reading; null when the series appeared in the window. */
  readonly before: number | null;
  /** Second reading; null when the series vanished. */
  readonly after: number | null;
  /** Increase over the window, in the counter's unit (spans, data points, samples); never negative. */
  readonly delta: number;
  /** How the delta was obtained when not a plain difference. */
  readonly note?: 'reset' | 'appeared' | 'vanished';
}

/** Something a reader could not report plainly. */
export interface CounterFlag {
  /** The series, `name{label="value",…}`, or a metric name. */
  readonly series: string;
  readonly kind: 'reset' | 'appeared' | 'vanished';
  /** Why, in one sentence. */
  readonly message: string;
}

/**
 * Stable key of a series: the name and its labels sorted by name, in exposition syntax.
 * @example seriesKey('up', { job: 'a', instance: 'b' }) === 'up{instance="b",job="a"}'
 */
export function seriesKey(name: string, labels: Readonly<Record<string, string>>): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return name;
  keys.sort();
  let out = `${name}{`;
  for (let i = 0; i < keys.length; i++) out += `${i === 0 ? '' : ','}${keys[i]}=${JSON.stringify(labels[keys[i]])}`;
  return `${out}}`;
}

/**
 * Deltas of every counter series between two readings.
 * @param before samples of the first reading (counters only: gauges do not belong here).
 * @param after samples of the second reading.
 * @returns one {@link SeriesDelta} per series in either reading, in key order, and one
 *   flag per series whose delta is not a plain difference. `appeared` series are flagged
 *   only when `flagAppeared` is true: for OpenTelemetry SDK counters they are routine.
 */
export function counterDeltas(
  before: readonly ExpositionSample[],
  after: readonly ExpositionSample[],
  options: { flagAppeared?: boolean } = {},
): { deltas: SeriesDelta[]; flags: CounterFlag[] } {
  const first = new Map<string, ExpositionSample>();
  for (const s of before) first.set(seriesKey(s.name, s.labels), s);
  const second = new Map<string, ExpositionSample>();
  for (const s of after) second.set(seriesKey(s.name, s.labels), s);
  const keys = [...new Set([...first.keys(), ...second.keys()])].sort();
  const deltas: SeriesDelta[] = [];
  const flags: CounterFlag[] = [];
  for (const key of keys) {
    const a = first.get(key);
    const b = second.get(key);
    if (a !== undefined && b !== undefined) {
      if (b.value >= a.value) {
        deltas.push({ name: b.name, labels: b.labels, before: a.value, after: b.value, delta: b.value - a.value });
      } else {
        deltas.push({ name: b.name, labels: b.labels, before: a.value, after: b.value, delta: b.value, note: 'reset' });
        flags.push({ series: key, kind: 'reset', message: `went down (${a.value} → ${b.value}): reset in the window; the post-reset value is taken as the delta, a lower bound` });
      }
    } else if (b !== undefined) {
      deltas.push({ name: b.name, labels: b.labels, before: null, after: b.value, delta: b.value, note: 'appeared' });
      if (options.flagAppeared === true) flags.push({ series: key, kind: 'appeared', message: `created in the window; counted from zero (delta ${b.value})` });
    } else if (a !== undefined) {
      deltas.push({ name: a.name, labels: a.labels, before: a.value, after: null, delta: 0, note: 'vanished' });
      flags.push({ series: key, kind: 'vanished', message: 'present in the first reading only: its increase is unknown and counted as 0' });
    }
  }
  return { deltas, flags };
}
