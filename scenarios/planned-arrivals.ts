/**
 * The target arrival rate second by second: how many arrivals an open-model schedule has
 * due in each report interval, so a report draws the target beside what was achieved
 * (exact for ramps and bursts, not a stage average). Pure.
 *
 * @see https://grafana.com/docs/k6/latest/using-k6/scenarios/executors/ (arrival-rate executors)
 */
import { isOpenModel, openSchedule, type ExecutorSpec, type OpenSchedule } from '../core/schedule.ts';

/** The first arrival due at or after `atMs` (arrivals are due in order: offsetMs is monotone). */
function firstDueAtOrAfter(schedule: OpenSchedule, atMs: number): number {
  let lo = 0;
  let hi = schedule.arrivals;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (schedule.offsetMs(mid) < atMs) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Arrivals due in each interval `[k · intervalMs, (k + 1) · intervalMs)` of the run, for
 * k = 0 … ⌈durationMs / intervalMs⌉ − 1 (and on to the last arrival's interval: a burst
 * released before the end is released whole); undefined for a closed model (VUs, no target rate).
 * @param spec the scenario's executor (rates per second, times in ms).
 * @param durationMs the run's duration (ms), as the schedule takes it.
 * @param intervalMs the report interval (ms), > 0.
 * @returns a count per interval; they add up to the schedule's planned arrivals.
 */
export function plannedArrivalsPerInterval(spec: ExecutorSpec, durationMs: number, intervalMs: number): number[] | undefined {
  if (!isOpenModel(spec)) return undefined;
  const schedule = openSchedule(spec, durationMs);
  const last = schedule.arrivals > 0 ? Math.floor(schedule.offsetMs(schedule.arrivals - 1) / intervalMs) + 1 : 0;
  const intervals = Math.max(Math.ceil(durationMs / intervalMs), last);
  const out: number[] = [];
  let before = 0;
  for (let k = 0; k < intervals; k++) {
    const next = Math.min(schedule.arrivals, firstDueAtOrAfter(schedule, (k + 1) * intervalMs));
    out.push(next - before);
    before = next;
  }
  return out;
}
