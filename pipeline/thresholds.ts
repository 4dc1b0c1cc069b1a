/**
 * Thresholds while the run goes: after each interval line, the abortOnFail thresholds past
 * their `delayAbortEval` are evaluated on the run's figures so far (a live snapshot of
 * results.json, with percentiles from the merged histograms), and the first one breached
 * stops the run through the stop switch with the reason `threshold:<name> <expression>`.
 * What was measured is kept; results.json then says `complete: false` with that reason
 * and `thresholds.abortedBy`. As k6 does with `abortOnFail`.
 *
 * @see https://grafana.com/docs/k6/latest/using-k6/thresholds/#abort-a-test-when-a-threshold-is-crossed
 */
import type { IntervalLine } from '../reports/aggregate.ts';
import type { ThresholdResult } from '../reconcile/thresholds.ts';
import type { RunRecord } from './run-record.ts';

/** Prefix of a stop reason given by a breached abortOnFail threshold. */
export const THRESHOLD_STOP_PREFIX = 'threshold:';

/** The threshold (`<name> <expression>`) a stop reason names, or undefined for another reason. */
export function abortingThreshold(stopReason: string | undefined): string | undefined {
  return stopReason?.startsWith(THRESHOLD_STOP_PREFIX) ? stopReason.slice(THRESHOLD_STOP_PREFIX.length) : undefined;
}

/**
 * A watcher to call with each interval line written, or undefined when the scenario has no
 * abortOnFail threshold (nothing to check, nothing spent).
 */
export function thresholdWatch(record: RunRecord): ((line: IntervalLine) => void) | undefined {
  const { scenario, stop } = record.parts;
  const watched = scenario.thresholds.filter((t) => t.abortOnFail);
  // A shard sees a part of the run: its thresholds are judged on the whole by `tally merge`.
  if (watched.length === 0 || record.parts.shard !== undefined) return undefined;
  return (line) => {
    if (stop.reason !== undefined) return;
    if (!watched.some((t) => line.endMs >= t.delayAbortEvalMs)) return;
    const results = record.snapshot(false, { live: true }).thresholds?.results as ThresholdResult[] | undefined;
    const breached = results?.find((r, i) => r.abortOnFail && r.status === 'breached' && line.endMs >= scenario.thresholds[i].delayAbortEvalMs);
    if (breached !== undefined) stop.stop(`${THRESHOLD_STOP_PREFIX}${breached.name} ${breached.expression}`);
  };
}
