/**
 * The client kernel's SYN retransmission schedule, and the times it retransmits an
 * unanswered SYN (RFC 6298 initial RTO of 1 s, TCP_TIMEOUT_INIT):
 * - before Linux 6.5, RTOs double: retransmits at 1, 3, 7, 15, 31, 63 s;
 * - since Linux 6.5, `tcp_syn_linear_timeouts` (default 4) keeps the first RTOs at the
 *   initial value: retransmits at 1, 2, 3, 4, 5, 7, 11, 19, 35, 67 s.
 * The preflight (host/preflight.ts) reads it from sysctls; the SYN-retransmit
 * signature (reconcile/syn-retransmit.ts) looks for connect times at those moments. Pure.
 *
 * @see Documentation/networking/ip-sysctl.rst tcp_syn_retries, tcp_syn_linear_timeouts
 */
import { InternalError } from './errors.ts';

/** The client kernel's SYN retransmission schedule. */
export interface SynSchedule {
  /** `tcp_syn_linear_timeouts` of the client namespace: 0 before Linux 6.5, default 4 since. */
  readonly linearTimeouts: number;
  /** Initial RTO in milliseconds; default 1000 (TCP_TIMEOUT_INIT). */
  readonly initialRtoMs?: number;
  /** `tcp_syn_retries`; default 6. Total retransmits are this plus `linearTimeouts`. */
  readonly synRetries?: number;
  /** RTO ceiling in milliseconds; default 120000 (TCP_RTO_MAX, `tcp_rto_max_ms`). */
  readonly maxRtoMs?: number;
}

/** The schedule before Linux 6.5: 1, 3, 7, 15, 31, 63 s. */
export const CLASSIC_SYN_SCHEDULE: SynSchedule = { linearTimeouts: 0 };

/** The default schedule since Linux 6.5: 1, 2, 3, 4, 5, 7, 11, 19, 35, 67 s. */
export const LINEAR_SYN_SCHEDULE: SynSchedule = { linearTimeouts: 4 };

/**
 * The cumulative times at which the kernel retransmits an unanswered SYN.
 * @param schedule the client's schedule.
 * @returns milliseconds after the first SYN, one per retransmit, e.g. `[1000, 3000, 7000, …]`.
 * @throws InternalError `TALLY_INTERNAL` when a schedule field is negative or not finite.
 * @see Documentation/networking/ip-sysctl.rst tcp_syn_retries, tcp_syn_linear_timeouts; RFC 6298 §2.1, §5.5
 */
export function synRetransmitTimesMs(schedule: SynSchedule): number[] {
  const initialRtoMs = schedule.initialRtoMs ?? 1000;
  const maxRtoMs = schedule.maxRtoMs ?? 120_000;
  const linear = schedule.linearTimeouts;
  const retransmits = (schedule.synRetries ?? 6) + linear;
  if (![initialRtoMs, maxRtoMs, linear, retransmits].every((v) => Number.isFinite(v) && v >= 0) || initialRtoMs === 0) {
    throw new InternalError('SYN schedule: fields must be finite and non-negative, initialRtoMs > 0', { details: { schedule } });
  }
  const times: number[] = [];
  let elapsedMs = 0;
  for (let i = 0; i < retransmits; i++) {
    // RTO i (the wait before retransmit i+1): the initial value for the first
    // linear+1 timeouts, then doubling from the initial value.
    const rtoMs = Math.min(i <= linear ? initialRtoMs : initialRtoMs * 2 ** (i - linear), maxRtoMs);
    elapsedMs += rtoMs;
    times.push(elapsedMs);
  }
  return times;
}
