/**
 * The cross-check of a trace sample's loss estimate with the backend's own count of the
 * run's traces, polled: a backend's search index catches up seconds after its trace-by-id
 * path (a live Tempo 2.0.1 reported 592 of 1,000 stored traces on the first search, all
 * 1,000 some seconds later). One reading would report that lag as loss.
 *
 * The count is read every `pollIntervalMs` until it agrees with the sample's Wilson
 * interval, or has not moved for `stableForMs`, or `maxWaitMs` has passed since the first
 * reading; a disagreement that remains is reported (`consistentWithSample: false`), and the
 * results raise it as a finding.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { systemClock, type Clock } from '../../core/clock.ts';
import type { WilsonInterval } from '../../reconcile/traces-sample.ts';
import type { TraceBackend, TraceCountFailure, TraceCountMethod } from './backend.ts';

/** Count failures worth asking again: the backend may answer later. */
const TRANSIENT: ReadonlySet<string> = new Set(['server_error', 'not_ready', 'rate_limited']);

/** How to cross-check the sample's loss estimate with the backend's count. */
export interface CrossCheckOptions {
  /** Traces the run sent into the counted window (the population the sample came from). */
  expectedTraces: number;
  /** Longest wait for an agreeing or stable count after the first reading, ms. Default 0: one reading. */
  maxWaitMs?: number;
  /** Time between readings, ms. Default 1000. */
  pollIntervalMs?: number;
  /** A count that has not changed for this long is final, ms. Default 5000. */
  stableForMs?: number;
  /** Time source for the polling; default the process clock. */
  clock?: Clock;
  /** How to wait between readings; default a timer. */
  sleep?: (ms: number) => Promise<void>;
}

/** Why the polling stopped. */
export type CrossCheckSettled =
  /** The count agrees with the sample's interval. */
  | 'consistent'
  /** The count stopped moving for `stableForMs` without agreeing. */
  | 'stable'
  /** `maxWaitMs` passed first. */
  | 'max_wait'
  /** No count could be had (the backend has no count, or answered `unsupported`). */
  | 'no_count';

/** What the cross-check found. */
export interface CrossCheckResult {
  method: TraceCountMethod | 'none';
  expectedTraces: number;
  /** Traces the backend counted at the last reading, or `null` when no count was obtained. */
  observedTraces: number | null;
  /** max(0, 1 − observed/expected), or `null`. */
  lossRatio: number | null;
  /** True when the search hit its limit: `observedTraces` is then a lower bound (so `lossRatio` an upper bound). */
  lowerBound: boolean;
  /** Whether `lossRatio` is compatible with the sample's interval; `null` when not compared. */
  consistentWithSample: boolean | null;
  endpoint: string | null;
  /** Why there is no count (`unsupported`, `bad_request`, …), when there is none. */
  failure: TraceCountFailure | null;
  /** Count readings taken. */
  readings: number;
  /** Time from the first reading to the last, ms. */
  waitedMs: number;
  settledBy: CrossCheckSettled;
}

/** A result without any count. */
export function noCrossCheck(expectedTraces: number, failure: TraceCountFailure | null = null, endpoint: string | null = null, readings = 0, waitedMs = 0): CrossCheckResult {
  return { method: 'none', expectedTraces, observedTraces: null, lossRatio: null, lowerBound: false, consistentWithSample: null, endpoint, failure, readings, waitedMs, settledBy: 'no_count' };
}

/**
 * Whether a count agrees with the sample: the loss it implies lies in the sample's interval.
 * A truncated search only bounds the loss from above; it contradicts the sample only when
 * that bound is below the interval. Pure.
 * @returns the loss ratio the count implies and the verdict (`null` when the sample checked nothing).
 */
export function judgeCount(expectedTraces: number, observed: number, lowerBound: boolean, interval: WilsonInterval): { lossRatio: number; consistentWithSample: boolean | null } {
  const lossRatio = expectedTraces === 0 ? 0 : Math.max(0, 1 - observed / expectedTraces);
  const consistentWithSample = interval.ratio === null ? null
    : lowerBound ? lossRatio >= interval.lower : lossRatio >= interval.lower && lossRatio <= interval.upper;
  return { lossRatio, consistentWithSample };
}

/**
 * Poll the backend's count until it agrees with the sample, stops moving, or the wait is over.
 * @param interval the sample's trace-loss interval.
 * @throws CollectorError when the backend cannot be reached (from its `countRunTraces`).
 */
export async function pollCrossCheck(backend: TraceBackend, options: CrossCheckOptions, interval: WilsonInterval): Promise<CrossCheckResult> {
  const count = backend.countRunTraces?.bind(backend);
  if (count === undefined) return noCrossCheck(options.expectedTraces);
  const clock = options.clock ?? systemClock;
  const sleep = options.sleep ?? ((ms: number) => delay(ms));
  const maxWaitMs = Math.max(0, options.maxWaitMs ?? 0);
  const pollIntervalMs = Math.max(1, options.pollIntervalMs ?? 1000);
  const stableForMs = Math.max(0, options.stableForMs ?? 5000);
  const startMs = clock.monotonicMs();
  let readings = 0;
  let last: CrossCheckResult = noCrossCheck(options.expectedTraces);
  let unchangedSinceMs: number | null = null;
  // Bounded: every pass waits pollIntervalMs, and the loop ends once maxWaitMs has passed.
  for (;;) {
    const reading = await count();
    readings++;
    const nowMs = clock.monotonicMs();
    const waitedMs = Math.round(nowMs - startMs);
    if (!reading.ok) {
      last = noCrossCheck(options.expectedTraces, reading.failure, reading.endpoint, readings, waitedMs);
      // Only a server that may answer later is asked again: a refused query (bad request, unauthorized, unsupported) stays refused.
      if (!TRANSIENT.has(reading.failure.reason)) return last;
      unchangedSinceMs = null;
    } else {
      const { lossRatio, consistentWithSample } = judgeCount(options.expectedTraces, reading.observedTraces, reading.lowerBound, interval);
      unchangedSinceMs = last.observedTraces === reading.observedTraces ? (unchangedSinceMs ?? nowMs) : nowMs;
      last = {
        method: reading.method, expectedTraces: options.expectedTraces, observedTraces: reading.observedTraces, lossRatio, lowerBound: reading.lowerBound,
        consistentWithSample, endpoint: reading.endpoint, failure: null, readings, waitedMs, settledBy: 'consistent',
      };
      if (consistentWithSample !== false) return last;
      if (readings > 1 && nowMs - unchangedSinceMs >= stableForMs) return { ...last, settledBy: 'stable' };
    }
    if (nowMs - startMs + pollIntervalMs > maxWaitMs) return { ...last, settledBy: last.method === 'none' ? 'no_count' : 'max_wait' };
    await sleep(pollIntervalMs);
  }
}
