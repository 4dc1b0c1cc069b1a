/**
 * A long run's interval lines made from a short real run's, for measuring the HTML report
 * at length without running for an hour: the real run's lines within its planned duration
 * are repeated in order, each copy renumbered and shifted in time (interval k ends at
 * (k + 1) s). The whole-run figures (results.json) stay the short run's. Every value drawn
 * is a measured one; only their number and times are synthetic.
 */
import type { IntervalLine } from '../../reports/aggregate.ts';

/**
 * `count` interval lines from the lines of a real run.
 * @param plannedMs the real run's planned duration: the drain after it is not repeated.
 */
export function repeatIntervals(lines: readonly IntervalLine[], plannedMs: number, count: number): IntervalLine[] {
  const steady = lines.filter((l) => l.endMs <= plannedMs);
  if (steady.length === 0) throw new Error('no interval lines within the planned duration to repeat');
  const intervalMs = steady[0].endMs / (steady[0].interval + 1);
  return Array.from({ length: count }, (_, k) => ({ ...structuredClone(steady[k % steady.length]), interval: k, endMs: (k + 1) * intervalMs }));
}
