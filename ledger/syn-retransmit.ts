/**
 * The SYN-retransmit signature: connect times that cluster just after the moments
 * Linux retransmits an unanswered SYN. A dropped SYN (a full or racing conntrack table,
 * a backend not yet ready, a policy drop) does not fail the connect; it delays it by
 * the retransmission timeout, so the latency histogram grows peaks at those moments.
 *
 * The schedule (RFC 6298 initial RTO of 1 s, TCP_TIMEOUT_INIT):
 * - Before Linux 6.5, RTOs double: 1, 2, 4, 8 s → retransmits at 1, 3, 7, 15, 31, 63 s.
 * - Since Linux 6.5, `tcp_syn_linear_timeouts` (default 4) keeps the first RTOs at the
 *   initial value: 1, 1, 1, 1, 1, 2, 4 s → retransmits at 1, 2, 3, 4, 5, 7, 11, 19, 35, 67 s,
 *   and `tcp_syn_retries + tcp_syn_linear_timeouts` retransmits in all.
 * So the schedule is an input: read `tcp_syn_linear_timeouts` from the client's namespace
 * (absent means 0). A 2 s connect is noise on an old kernel and two lost SYNs on a new one.
 *
 * A connection counts for retransmit k when its connect time is in
 * [t_k, t_k + slackMs + slackFraction · t_k]: never earlier than the timer, later by the
 * round trip, timer slack and event-loop delay.
 *
 * Pure: values in, a finding out.
 */
import { InternalError } from '../core/errors.ts';

/** One bucket of an HDR-style histogram: a connect time and how many connections had it. */
export interface ValueCount {
  /** Connect time in microseconds. */
  readonly valueUs: number;
  /** Connections with this connect time; ≥ 0. */
  readonly count: number;
}

/** Connect times: raw values in microseconds, or HDR-style (value, count) buckets. */
export type ConnectTimes = readonly number[] | readonly ValueCount[];

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

/** Tolerance around each retransmit time. */
export interface SynWindowTolerance {
  /** Fixed allowance after the retransmit time, milliseconds; default 200. */
  readonly slackMs?: number;
  /** Proportional allowance, as a fraction of the retransmit time; default 0.1. */
  readonly slackFraction?: number;
}

/** The schedule before Linux 6.5: 1, 3, 7, 15, 31, 63 s. */
export const CLASSIC_SYN_SCHEDULE: SynSchedule = { linearTimeouts: 0 };

/** The default schedule since Linux 6.5: 1, 2, 3, 4, 5, 7, 11, 19, 35, 67 s. */
export const LINEAR_SYN_SCHEDULE: SynSchedule = { linearTimeouts: 4 };

/** One retransmit window and the connections in it. */
export interface SynRetransmitWindow {
  /** SYN retransmits this window stands for (1 = the first retransmit). */
  readonly retransmits: number;
  /** Inclusive lower bound, microseconds: the retransmit time. */
  readonly lowUs: number;
  /** Inclusive upper bound, microseconds. */
  readonly highUs: number;
  /** Connections whose connect time fell in the window. */
  readonly count: number;
}

/** The finding: how many connections carry the signature of 1, 2, … SYN retransmits. */
export interface SynRetransmitFinding {
  readonly kind: 'syn_retransmit_signature';
  /** Connections per retransmit count: `{ retransmits1: n, retransmits2: n, … }`, every window present. */
  readonly counts: Readonly<Record<`retransmits${number}`, number>>;
  /** Connections in any window. */
  readonly total: number;
  /** All connections examined. */
  readonly observed: number;
  /** The windows, in retransmit order. */
  readonly windows: readonly SynRetransmitWindow[];
}

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

/**
 * Count connections whose connect time carries the SYN-retransmit signature.
 * @param connectTimes connect times in microseconds, raw or as HDR-style `{ valueUs, count }` buckets.
 * @param schedule the client kernel's SYN schedule ({@link CLASSIC_SYN_SCHEDULE}, {@link LINEAR_SYN_SCHEDULE}, or read from sysctls).
 * @param tolerance window width beyond each retransmit time.
 * @returns a `syn_retransmit_signature` finding; windows that overlap (only with a very wide
 *   tolerance) count a connection once, in the lower window.
 * @throws InternalError `TALLY_INTERNAL` when a time or count is negative or not finite, or the schedule is invalid.
 * @see Documentation/networking/ip-sysctl.rst tcp_syn_retries, tcp_syn_linear_timeouts; RFC 6298
 */
export function findSynRetransmitSignature(
  connectTimes: ConnectTimes,
  schedule: SynSchedule,
  tolerance: SynWindowTolerance = {},
): SynRetransmitFinding {
  const slackMs = tolerance.slackMs ?? 200;
  const slackFraction = tolerance.slackFraction ?? 0.1;
  const bounds = synRetransmitTimesMs(schedule).map((tMs, k) => ({
    retransmits: k + 1,
    lowUs: tMs * 1000,
    highUs: (tMs + slackMs + slackFraction * tMs) * 1000,
  }));
  const counts = bounds.map(() => 0);
  let observed = 0;
  for (const { valueUs, count } of buckets(connectTimes)) {
    observed += count;
    const k = bounds.findIndex((b) => valueUs >= b.lowUs && valueUs <= b.highUs);
    if (k >= 0) counts[k] += count;
  }
  const windows = bounds.map((b, k) => ({ ...b, count: counts[k] }));
  const byName: Record<`retransmits${number}`, number> = {};
  for (const w of windows) byName[`retransmits${w.retransmits}`] = w.count;
  return {
    kind: 'syn_retransmit_signature',
    counts: byName,
    total: counts.reduce((a, b) => a + b, 0),
    observed,
    windows,
  };
}

function* buckets(connectTimes: ConnectTimes): Generator<ValueCount> {
  for (const item of connectTimes) {
    const bucket = typeof item === 'number' ? { valueUs: item, count: 1 } : item;
    if (!(Number.isFinite(bucket.valueUs) && bucket.valueUs >= 0 && Number.isFinite(bucket.count) && bucket.count >= 0)) {
      throw new InternalError('connect times: values and counts must be finite and non-negative', { details: { bucket } });
    }
    yield bucket;
  }
}
