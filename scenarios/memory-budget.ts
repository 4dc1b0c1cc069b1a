/**
 * The memory a run's bookkeeping will need, estimated from the scenario before anything
 * starts, so that a scenario whose ledger cannot fit (10M series × 168 h at 100 ms is
 * about 30 TB) is refused at validation instead of failing mid-run.
 *
 * Per data point (metric series × tick): the ledger's 4 bits, the observation store's
 * byte, and the ledger file's copy when it is saved (0.5 B); with `backends.prometheus`
 * also the visibility lag (Float32) and two masks. Per span slot (trace × most spans per
 * trace): the span ledger's 4 bits and the span store's byte. Pure.
 *
 * @see ledger/ledger.ts, reconcile/observations.ts, reconcile/visibility.ts, reconcile/span-observations.ts
 */
import type { InputProblem } from '../core/errors.ts';
import type { Scenario } from './types.ts';

/** Above this the scenario is refused (bytes). */
export const MAX_RUN_BOOKKEEPING_BYTES = 4 * 1024 ** 3;
/** Above this the scenario gets a warning (bytes). */
export const WARN_RUN_BOOKKEEPING_BYTES = 1024 ** 3;

/** Bytes per data point without and with Prometheus read-back. */
const POINT_BYTES = 2;
const POINT_BYTES_READBACK = 8;
/** Bytes per span slot. */
const SPAN_BYTES = 1.5;

/** What the bookkeeping of a run needs. */
export interface BookkeepingEstimate {
  points: number;
  spanSlots: number;
  bytes: number;
}

/** Estimate the bookkeeping memory of a normalised scenario. */
export function estimateBookkeeping(scenario: Scenario): BookkeepingEstimate {
  const t = scenario.telemetry;
  if (t === undefined) return { points: 0, spanSlots: 0, bytes: 0 };
  const ticks = Math.floor(scenario.durationMs / t.exportIntervalMs);
  let series = 0;
  for (const m of t.metrics) series += Object.values(m.attributes).reduce((a, n) => a * n, 1);
  const points = series * ticks;
  let spanSlots = 0;
  if (t.traces !== undefined) {
    const spansMax = typeof t.traces.spansPerTrace === 'number' ? t.traces.spansPerTrace : t.traces.spansPerTrace.max;
    spanSlots = Math.ceil((scenario.durationMs * t.traces.ratePerSecond) / 1000) * spansMax;
  }
  const perPoint = scenario.backends?.prometheus !== undefined ? POINT_BYTES_READBACK : POINT_BYTES;
  return { points, spanSlots, bytes: points * perPoint + spanSlots * SPAN_BYTES };
}

function gib(bytes: number): string {
  if (bytes >= 1024 ** 4) return `${Math.round(bytes / 1024 ** 4).toLocaleString('en-US')} TiB`;
  return `${(bytes / 1024 ** 3).toFixed(bytes >= 10 * 1024 ** 3 ? 0 : 1)} GiB`;
}

/**
 * Refuse (or warn about) a scenario whose bookkeeping would not fit.
 * @returns errors and warnings pointing at the metrics or the traces, whichever weighs more.
 */
export function bookkeepingProblems(scenario: Scenario): { errors: InputProblem[]; warnings: InputProblem[] } {
  const e = estimateBookkeeping(scenario);
  const pointer = e.spanSlots * SPAN_BYTES > e.bytes / 2 ? '/telemetry/traces' : '/telemetry/metrics';
  const what = `${e.points.toLocaleString('en-US')} data points (series × ticks) and ${e.spanSlots.toLocaleString('en-US')} span slots need about ${gib(e.bytes)} of ledger and observations`;
  if (e.bytes > MAX_RUN_BOOKKEEPING_BYTES) {
    return { errors: [{ pointer, message: `${what}; at most ${gib(MAX_RUN_BOOKKEEPING_BYTES)}: use fewer series or traces, a longer /telemetry/exportInterval or a shorter /duration` }], warnings: [] };
  }
  if (e.bytes > WARN_RUN_BOOKKEEPING_BYTES) return { errors: [], warnings: [{ pointer, message: `${what}: make sure this machine has it to spare` }] };
  return { errors: [], warnings: [] };
}
