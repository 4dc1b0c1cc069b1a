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
import { synRetransmitTimesMs, type SynSchedule } from '../core/syn-schedule.ts';

export { CLASSIC_SYN_SCHEDULE, LINEAR_SYN_SCHEDULE, synRetransmitTimesMs, type SynSchedule } from '../core/syn-schedule.ts';

/** One bucket of an HDR-style histogram: a connect time and how many connections had it. */
export interface ValueCount {
  /** Connect time in microseconds. */
  readonly valueUs: number;
  /** Connections with this connect time; ≥ 0. */
  readonly count: number;
}

/** Connect times: raw values in microseconds, or HDR-style (value, count) buckets. */
export type ConnectTimes = readonly number[] | readonly ValueCount[];

/** Tolerance around each retransmit time. */
export interface SynWindowTolerance {
  /** Fixed allowance after the retransmit time, milliseconds; default 200. */
  readonly slackMs?: number;
  /** Proportional allowance, as a fraction of the retransmit time; default 0.1. */
  readonly slackFraction?: number;
}

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

/** Retransmit counters of the network namespace the load's sockets live in, over the run (null: not readable). */
export interface SocketRetransmitCounters {
  /** `TcpExt.TCPSynRetrans`: SYN (and SYN-ACK) retransmits. */
  readonly tcpSynRetrans: number | null;
  /** `Tcp.RetransSegs`: every retransmitted segment, SYNs included (an upper bound when TCPSynRetrans is missing). */
  readonly retransSegs: number | null;
}

/** How much of a signature the sockets' own counters bear out. */
export interface SynCorroboration {
  /** Connections whose SYN retransmits the counter accounts for. */
  readonly corroborated: number;
  /** Connections in a signature window that the counter does not account for: slow connects, not dropped SYNs. */
  readonly uncorroborated: number;
  /** The counter used; null when none could be read. */
  readonly counter: 'TCPSynRetrans' | 'RetransSegs' | null;
  readonly counterDelta: number | null;
}

/**
 * Check a signature against the retransmit counters of the namespace the sockets live in:
 * a connection in window k retransmitted its SYN k times, so the counter's delta is spent
 * on the windows in order (fewest retransmits first); what it cannot pay for is
 * uncorroborated. Without counters nothing is corroborated: a connect time alone cannot
 * tell a dropped SYN from a generator that saw the connect late.
 * @param finding from {@link findSynRetransmitSignature}.
 * @param counters the sockets' namespace's counter deltas over the run, or undefined.
 * @see Documentation/networking/snmp_counter.rst (TCPSynRetrans, RetransSegs)
 */
export function corroborateSynSignature(finding: SynRetransmitFinding, counters: SocketRetransmitCounters | undefined): SynCorroboration {
  const counter = counters?.tcpSynRetrans != null ? 'TCPSynRetrans' : counters?.retransSegs != null ? 'RetransSegs' : null;
  const counterDelta = counter === 'TCPSynRetrans' ? counters!.tcpSynRetrans : counter === 'RetransSegs' ? counters!.retransSegs : null;
  let budget = counterDelta ?? 0;
  let corroborated = 0;
  for (const w of finding.windows) {
    const paid = Math.min(w.count, Math.floor(budget / w.retransmits));
    corroborated += paid;
    budget -= paid * w.retransmits;
  }
  return { corroborated, uncorroborated: finding.total - corroborated, counter, counterDelta };
}
