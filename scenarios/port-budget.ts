/**
 * Port and file-descriptor budget for connection churn: will this load run out of
 * ephemeral ports (EADDRNOTAVAIL) or descriptors (EMFILE) before it ends?
 *
 * The model, per (source address, destination address:port) pair:
 * - connect() without an explicit bind() picks the source port so that the 4-tuple is
 *   unique, so every pair has the whole `ip_local_port_range` (less reserved ports) to itself.
 *   (A bind() to a local address before connect(), without IP_BIND_ADDRESS_NO_PORT, makes
 *   the port exclusive to that address across all destinations: count one pair per address.)
 * - An open connection holds its port. With `close: fin` the client closes first and its
 *   socket sits in TIME_WAIT for TCP_TIMEWAIT_LEN (60 s, fixed at compile time), holding the
 *   port for that pair; `close: rst` (SO_LINGER 0) skips TIME_WAIT entirely.
 * - `tcp_tw_reuse` lets connect() take a port whose TIME_WAIT socket is at least
 *   `tcp_tw_reuse_delay` old (1 s) when TCP timestamps were negotiated (PAWS makes it safe):
 *   1 = always, 2 = loopback traffic only (default), 0 = never. When it applies, a closed
 *   connection holds its port for the delay, not 60 s.
 * - `tcp_max_tw_buckets` caps TIME_WAIT sockets per namespace; beyond it the kernel skips
 *   TIME_WAIT (TcpExt.TCPTimeWaitOverflow), which frees ports but loses TIME_WAIT's protection.
 * - The connect cliff, long before exhaustion: connect() searches the ports of one parity
 *   first (half the range; bind() takes the other), and checks every port held by a
 *   TIME_WAIT socket it meets against the established hash. Once TIME_WAIT sockets hold
 *   about that half, every connect() scans it, and the call goes from about 12 µs to
 *   3.6–5.2 ms (measured on Linux 6.18 at ~32,000 TIME_WAIT): a 2,000/s run fell to
 *   256–714 starts/s at 16 s although its ports lasted 32 s. Only held TIME_WAIT ports
 *   count: with `tcp_tw_reuse` applying, a port is reused at the first check.
 *
 * Load is assumed to spread evenly over pairs. With Cilium socket-LB the connect() to a
 * Service VIP is rewritten to a backend before the port is chosen, so each backend is a
 * destination; without it the VIP:port is one destination.
 *
 * `planPortBudget` is pure; `readPortBudgetHost` is the small /proc edge.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CollectorError, PlanError } from '../core/errors.ts';

/** TCP_TIMEWAIT_LEN: how long Linux keeps a socket in TIME_WAIT, in milliseconds (include/net/tcp.h). */
export const TCP_TIMEWAIT_LEN_MS = 60_000;

/** Budgets above this fraction of their limit get a LOW_HEADROOM warning. */
export const LOW_HEADROOM_FRACTION = 0.8;

/** How the client ends a connection: `fin` (orderly, client TIME_WAIT) or `rst` (abortive, none). */
export type CloseMode = 'fin' | 'rst';

/** `net.ipv4.tcp_tw_reuse`: 0 off, 1 on, 2 loopback only. */
export type TcpTwReuse = 0 | 1 | 2;

/** Host settings that bound the budget, as read by {@link readPortBudgetHost}. */
export interface PortBudgetHost {
  /** `ip_local_port_range`, inclusive. */
  readonly localPortRange: { readonly low: number; readonly high: number };
  /** Ports in the range listed in `ip_local_reserved_ports`. */
  readonly reservedPortCount: number;
  /** `tcp_tw_reuse`. */
  readonly tcpTwReuse: TcpTwReuse;
  /** `tcp_timestamps` ≠ 0. Reuse also needs the peer to negotiate timestamps. */
  readonly tcpTimestamps: boolean;
  /** `tcp_tw_reuse_delay` in milliseconds (1000 where the sysctl does not exist). */
  readonly twReuseDelayMs: number;
  /** TIME_WAIT length in milliseconds; {@link TCP_TIMEWAIT_LEN_MS} on Linux. */
  readonly timeWaitMs: number;
  /** `tcp_max_tw_buckets`: TIME_WAIT sockets allowed in the namespace. */
  readonly maxTimeWaitBuckets: number;
  /** Soft `RLIMIT_NOFILE` (Max open files), descriptors; Infinity when unlimited. */
  readonly fdSoftLimit: number;
  /** Hard `RLIMIT_NOFILE`, descriptors; the soft limit can be raised this far (`ulimit -n`). */
  readonly fdHardLimit: number;
  /** Descriptors the process already has open. */
  readonly fdsInUse: number;
}

/** The planned load, from the scenario. */
export interface PortBudgetLoad {
  /** New connections per second (arrival rate; one connection per request with `reuse: never`). */
  readonly ratePerSecond: number;
  /** Run length in milliseconds. */
  readonly durationMs: number;
  /** Most connections open at once (upper bound on ports and descriptors held by open connections). */
  readonly maxInFlight: number;
  /** How the client closes. */
  readonly closeMode: CloseMode;
  /** Number of (source address, destination address:port) pairs the load spreads over; ≥ 1. */
  readonly pairCount: number;
  /** True when the traffic is loopback (127.0.0.0/8, ::1): what `tcp_tw_reuse = 2` requires. */
  readonly destinationLoopback: boolean;
  /** Descriptors per open connection: 1, or 2 when the target runs in the same process. Default 1. */
  readonly fdsPerConnection?: number;
}

/** Codes of {@link PortBudgetWarning}. The first three make `ok` false. */
export type PortBudgetWarningCode =
  | 'PORT_BUDGET_EXHAUSTED'
  | 'PORT_BUDGET_CONNECT_CLIFF'
  | 'FD_BUDGET_EXCEEDED'
  | 'PORT_BUDGET_STEADY_STATE_EXCEEDED'
  | 'PORT_BUDGET_LOW_HEADROOM'
  | 'TIME_WAIT_BUCKETS_OVERFLOW'
  | 'FD_BUDGET_LOW_HEADROOM';

/** One warning: a stable code, a sentence with the numbers, and the numbers themselves. */
export interface PortBudgetWarning {
  readonly code: PortBudgetWarningCode;
  readonly message: string;
  readonly numbers: Readonly<Record<string, number | boolean | null>>;
}

/** Every number the budget computed. Ports are per pair unless the name says otherwise. */
export interface PortBudgetNumbers {
  /** Usable ephemeral ports for one pair: range size less reserved ports. */
  readonly portsPerPair: number;
  readonly pairCount: number;
  /** `portsPerPair × pairCount`. */
  readonly portsTotal: number;
  readonly ratePerPairPerSecond: number;
  /** `ceil(maxInFlight / pairCount)`: ports held by open connections. */
  readonly inFlightPerPair: number;
  /** Whether `tcp_tw_reuse` shortens the port hold for this load. */
  readonly twReuseApplies: boolean;
  /** Milliseconds a closed connection keeps its port unusable for its pair: 0, the reuse delay, or TIME_WAIT. */
  readonly portHoldMs: number;
  /** Ports held after close at steady state (capped by tcp_max_tw_buckets). */
  readonly heldPortsSteadyPerPair: number;
  /** Open plus held ports at steady state. */
  readonly portsNeededSteadyPerPair: number;
  /** Open plus held ports at the end of the run (the peak, since holds only accumulate). */
  readonly portsNeededPeakPerPair: number;
  /** `portsPerPair − portsNeededPeakPerPair`; negative means short. */
  readonly headroomPortsPerPair: number;
  /** Milliseconds from a clean start until a pair has no free port; null if that never happens. */
  readonly timeToExhaustionMs: number | null;
  /** TIME_WAIT ports per pair at which connect() slows by orders of magnitude: half the usable range (the parity it searches first). */
  readonly connectCliffTimeWaitPerPair: number;
  /** Milliseconds from a clean start until TIME_WAIT holds that many ports of a pair; null if that never happens (RST, reuse applies, the buckets cap it). */
  readonly timeToConnectCliffMs: number | null;
  /** TIME_WAIT sockets in the namespace at the run's peak, all pairs. */
  readonly timeWaitSocketsPeak: number;
  readonly maxTimeWaitBuckets: number;
  /** `fdsInUse + maxInFlight × fdsPerConnection`. */
  readonly fdsNeeded: number;
  readonly fdSoftLimit: number;
  /** `fdSoftLimit − fdsNeeded`; negative means EMFILE. */
  readonly fdHeadroom: number;
}

/** The budget: `ok` is false when ports run out during the run or descriptors exceed the soft limit. */
export interface PortBudget {
  readonly ok: boolean;
  readonly warnings: readonly PortBudgetWarning[];
  readonly numbers: PortBudgetNumbers;
}

/**
 * Compute the port and descriptor budget of a churn load on a host.
 * @param host host settings (see {@link readPortBudgetHost}).
 * @param load the planned load.
 * @returns `{ ok, warnings, numbers }`; ports per pair, rates per second, times in milliseconds.
 * @throws PlanError `TALLY_PLAN_INVALID` when an input is out of range (empty port range,
 *   non-positive rate or duration, pairCount < 1, tcp_tw_reuse not 0/1/2).
 * @see Documentation/networking/ip-sysctl.rst (ip_local_port_range, ip_local_reserved_ports,
 *   tcp_tw_reuse, tcp_tw_reuse_delay, tcp_max_tw_buckets); getrlimit(2) RLIMIT_NOFILE
 */
export function planPortBudget(host: PortBudgetHost, load: PortBudgetLoad): PortBudget {
  validate(host, load);
  const numbers = computeNumbers(host, load);
  const warnings = [...portWarnings(host, load, numbers), ...fdWarnings(host, load, numbers)];
  const ok = !warnings.some((w) => w.code === 'PORT_BUDGET_EXHAUSTED' || w.code === 'PORT_BUDGET_CONNECT_CLIFF' || w.code === 'FD_BUDGET_EXCEEDED');
  return { ok, warnings, numbers };
}

function computeNumbers(host: PortBudgetHost, load: PortBudgetLoad): PortBudgetNumbers {
  const { pairCount } = load;
  const portsPerPair = host.localPortRange.high - host.localPortRange.low + 1 - host.reservedPortCount;
  const ratePerPairPerSecond = load.ratePerSecond / pairCount;
  const inFlightPerPair = Math.ceil(load.maxInFlight / pairCount);
  const twReuseApplies = reuseBlocker(host, load) === null;
  const portHoldMs = load.closeMode === 'rst' ? 0 : twReuseApplies ? Math.min(host.twReuseDelayMs, host.timeWaitMs) : host.timeWaitMs;
  const heldCapPerPair = load.closeMode === 'rst' ? 0 : host.maxTimeWaitBuckets / pairCount;
  const held = (ms: number): number => Math.min((ratePerPairPerSecond * Math.min(ms, portHoldMs)) / 1000, heldCapPerPair);
  const heldPortsSteadyPerPair = held(portHoldMs);
  const portsNeededSteadyPerPair = inFlightPerPair + heldPortsSteadyPerPair;
  const portsNeededPeakPerPair = inFlightPerPair + held(load.durationMs);
  let timeToExhaustionMs: number | null = null;
  if (inFlightPerPair >= portsPerPair) timeToExhaustionMs = 0;
  else if (portsNeededSteadyPerPair > portsPerPair) timeToExhaustionMs = ((portsPerPair - inFlightPerPair) * 1000) / ratePerPairPerSecond;
  const connectCliffTimeWaitPerPair = Math.floor(portsPerPair / 2);
  // Only TIME_WAIT held for its whole length fills the range; the buckets cap can stop it short.
  const timeWaitHeld = load.closeMode === 'fin' && !twReuseApplies && heldCapPerPair > connectCliffTimeWaitPerPair;
  let timeToConnectCliffMs: number | null = null;
  if (timeWaitHeld && inFlightPerPair + (ratePerPairPerSecond * host.timeWaitMs) / 1000 > connectCliffTimeWaitPerPair) {
    timeToConnectCliffMs = Math.max(0, Math.round(((connectCliffTimeWaitPerPair - inFlightPerPair) * 1000) / ratePerPairPerSecond));
  }
  const timeWaitSocketsPeak = load.closeMode === 'rst' ? 0
    : Math.min((load.ratePerSecond * Math.min(load.durationMs, host.timeWaitMs)) / 1000, portsPerPair * pairCount);
  const fdsNeeded = host.fdsInUse + load.maxInFlight * (load.fdsPerConnection ?? 1);
  return {
    portsPerPair, pairCount, portsTotal: portsPerPair * pairCount, ratePerPairPerSecond, inFlightPerPair,
    twReuseApplies, portHoldMs, heldPortsSteadyPerPair, portsNeededSteadyPerPair, portsNeededPeakPerPair,
    headroomPortsPerPair: portsPerPair - portsNeededPeakPerPair,
    timeToExhaustionMs, connectCliffTimeWaitPerPair, timeToConnectCliffMs, timeWaitSocketsPeak, maxTimeWaitBuckets: host.maxTimeWaitBuckets,
    fdsNeeded, fdSoftLimit: host.fdSoftLimit, fdHeadroom: host.fdSoftLimit - fdsNeeded,
  };
}

/** Why tcp_tw_reuse does not shorten the hold for this load, or null when it does. */
function reuseBlocker(host: PortBudgetHost, load: PortBudgetLoad): string | null {
  if (load.closeMode === 'rst') return 'RST close leaves no TIME_WAIT to reuse';
  if (host.tcpTwReuse === 0) return 'tcp_tw_reuse=0 never reuses TIME_WAIT ports';
  if (host.tcpTwReuse === 2 && !load.destinationLoopback) {
    return 'tcp_tw_reuse=2 reuses TIME_WAIT ports for loopback traffic only, and this destination is not loopback (a Service VIP or pod IP never is)';
  }
  if (!host.tcpTimestamps) return 'tcp_tw_reuse needs TCP timestamps, and tcp_timestamps=0';
  return null;
}

function portWarnings(host: PortBudgetHost, load: PortBudgetLoad, n: PortBudgetNumbers): PortBudgetWarning[] {
  const out: PortBudgetWarning[] = [];
  const core = {
    portsPerPair: n.portsPerPair,
    pairCount: n.pairCount,
    ratePerPairPerSecond: n.ratePerPairPerSecond,
    portHoldMs: n.portHoldMs,
    portsNeededSteadyPerPair: n.portsNeededSteadyPerPair,
    timeToExhaustionMs: n.timeToExhaustionMs,
    twReuseApplies: n.twReuseApplies,
  };
  const why = reuseBlocker(host, load);
  const advice = `${why === null ? `tcp_tw_reuse=${host.tcpTwReuse} applies (ports held ${n.portHoldMs} ms)` : why}; ` +
    'more source addresses or destinations, close: rst, or a lower rate would fit';
  const need = `${fmt(n.portsNeededSteadyPerPair)} ports per pair needed at steady state ` +
    `(${fmt(n.ratePerPairPerSecond)}/s × ${n.portHoldMs / 1000} s held + ${fmt(n.inFlightPerPair)} open) > ${fmt(n.portsPerPair)} available`;
  const exhaustS = n.timeToExhaustionMs === null ? '' : `${(n.timeToExhaustionMs / 1000).toFixed(1)} s`;
  if (n.timeToExhaustionMs !== null && n.timeToExhaustionMs <= load.durationMs) {
    out.push({
      code: 'PORT_BUDGET_EXHAUSTED',
      message: `${need}: connect() fails with EADDRNOTAVAIL after about ${exhaustS} of a ${load.durationMs / 1000} s run; ${advice}`,
      numbers: { ...core, durationMs: load.durationMs },
    });
  } else if (n.timeToExhaustionMs !== null) {
    out.push({
      code: 'PORT_BUDGET_STEADY_STATE_EXCEEDED',
      message: `${need}: this run ends first, but a run longer than ${exhaustS}, or a rerun within ` +
        `${host.timeWaitMs / 1000} s, runs out of ports; ${advice}`,
      numbers: { ...core, durationMs: load.durationMs },
    });
  } else if (n.portsNeededPeakPerPair > LOW_HEADROOM_FRACTION * n.portsPerPair) {
    out.push({
      code: 'PORT_BUDGET_LOW_HEADROOM',
      message: `${fmt(n.portsNeededPeakPerPair)} of ${fmt(n.portsPerPair)} ports per pair in use at the peak ` +
        `(over ${LOW_HEADROOM_FRACTION * 100} %): anything else connecting to the same destination can tip it over`,
      numbers: { ...core, portsNeededPeakPerPair: n.portsNeededPeakPerPair },
    });
  }
  if (n.timeToConnectCliffMs !== null && n.timeToConnectCliffMs <= load.durationMs && (n.timeToExhaustionMs === null || n.timeToConnectCliffMs < n.timeToExhaustionMs)) {
    out.push({
      code: 'PORT_BUDGET_CONNECT_CLIFF',
      message: `connect() slows from about 12 µs to several ms per call once TIME_WAIT holds about ${fmt(n.connectCliffTimeWaitPerPair)} ports per pair ` +
        `(the half of the range it searches first): after about ${(n.timeToConnectCliffMs / 1000).toFixed(1)} s of a ${load.durationMs / 1000} s run, ` +
        `and the start rate falls far below ${fmt(load.ratePerSecond)}/s; ${advice}`,
      numbers: { ...core, connectCliffTimeWaitPerPair: n.connectCliffTimeWaitPerPair, timeToConnectCliffMs: n.timeToConnectCliffMs, durationMs: load.durationMs },
    });
  }
  if (n.timeWaitSocketsPeak > n.maxTimeWaitBuckets) {
    out.push({
      code: 'TIME_WAIT_BUCKETS_OVERFLOW',
      message: `${fmt(n.timeWaitSocketsPeak)} TIME_WAIT sockets at the peak > tcp_max_tw_buckets ${fmt(n.maxTimeWaitBuckets)}: ` +
        'the kernel closes the excess without TIME_WAIT (TcpExt.TCPTimeWaitOverflow), so the run measures an unusual datapath',
      numbers: { timeWaitSocketsPeak: n.timeWaitSocketsPeak, maxTimeWaitBuckets: n.maxTimeWaitBuckets },
    });
  }
  return out;
}

function fdWarnings(host: PortBudgetHost, load: PortBudgetLoad, n: PortBudgetNumbers): PortBudgetWarning[] {
  const numbers = {
    fdsNeeded: n.fdsNeeded,
    fdsInUse: host.fdsInUse,
    maxInFlight: load.maxInFlight,
    fdsPerConnection: load.fdsPerConnection ?? 1,
    fdSoftLimit: host.fdSoftLimit,
    fdHardLimit: host.fdHardLimit,
  };
  const raise = n.fdsNeeded <= host.fdHardLimit
    ? `lower maxInFlight or raise the soft limit (ulimit -n) up to the hard limit ${fmt(host.fdHardLimit)}`
    : `lower maxInFlight; even the hard limit ${fmt(host.fdHardLimit)} is too low`;
  if (n.fdsNeeded > host.fdSoftLimit) {
    return [{
      code: 'FD_BUDGET_EXCEEDED',
      message: `${fmt(n.fdsNeeded)} descriptors needed (${fmt(host.fdsInUse)} open + ${fmt(load.maxInFlight)} in flight × ` +
        `${numbers.fdsPerConnection}) > soft limit ${fmt(host.fdSoftLimit)}: connects fail with EMFILE; ${raise}`,
      numbers,
    }];
  }
  if (n.fdsNeeded > LOW_HEADROOM_FRACTION * host.fdSoftLimit) {
    return [{
      code: 'FD_BUDGET_LOW_HEADROOM',
      message: `${fmt(n.fdsNeeded)} of ${fmt(host.fdSoftLimit)} descriptors in use at the peak (over ${LOW_HEADROOM_FRACTION * 100} %)`,
      numbers,
    }];
  }
  return [];
}

function validate(host: PortBudgetHost, load: PortBudgetLoad): void {
  const problems: string[] = [];
  const { low, high } = host.localPortRange;
  if (!(Number.isInteger(low) && Number.isInteger(high) && low >= 1 && high <= 65535 && low <= high)) problems.push(`port range ${low}-${high}`);
  if (!(host.reservedPortCount >= 0 && host.reservedPortCount <= high - low)) problems.push(`reservedPortCount ${host.reservedPortCount}`);
  if (![0, 1, 2].includes(host.tcpTwReuse)) problems.push(`tcpTwReuse ${host.tcpTwReuse}`);
  if (!(host.timeWaitMs > 0 && host.twReuseDelayMs >= 0 && host.maxTimeWaitBuckets >= 0)) problems.push('TIME_WAIT settings');
  if (!(load.ratePerSecond > 0 && Number.isFinite(load.ratePerSecond))) problems.push(`ratePerSecond ${load.ratePerSecond}`);
  if (!(load.durationMs > 0 && Number.isFinite(load.durationMs))) problems.push(`durationMs ${load.durationMs}`);
  if (!(Number.isInteger(load.maxInFlight) && load.maxInFlight >= 1)) problems.push(`maxInFlight ${load.maxInFlight}`);
  if (!(Number.isInteger(load.pairCount) && load.pairCount >= 1)) problems.push(`pairCount ${load.pairCount}`);
  if (problems.length > 0) throw new PlanError(`port budget: invalid input: ${problems.join(', ')}`, { details: { problems } });
}

function fmt(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/**
 * Parse `ip_local_port_range` ("32768\t60999").
 * @returns the inclusive range `{ low, high }`.
 * @throws CollectorError `TALLY_COLLECTOR_BAD_REPLY` naming the file when it is not two integers.
 * @see Documentation/networking/ip-sysctl.rst ip_local_port_range
 */
export function parseLocalPortRange(text: string, file = '/proc/sys/net/ipv4/ip_local_port_range'): { low: number; high: number } {
  const tokens = text.trim().split(/\s+/);
  if (tokens.length !== 2 || !tokens.every((t) => /^\d+$/.test(t))) throw garbled(file, 1, 'expected "low high"', text);
  return { low: Number(tokens[0]), high: Number(tokens[1]) };
}

/**
 * Count the ports of `ip_local_reserved_ports` ("8080,9000-9010" or empty) inside a range.
 * @returns reserved ports within `range`, each counted once.
 * @throws CollectorError `TALLY_COLLECTOR_BAD_REPLY` naming the file when an item is not `n` or `a-b`.
 * @see Documentation/networking/ip-sysctl.rst ip_local_reserved_ports
 */
export function countReservedPorts(text: string, range: { low: number; high: number }, file = '/proc/sys/net/ipv4/ip_local_reserved_ports'): number {
  const reserved = new Set<number>();
  for (const item of text.trim().split(',').filter((s) => s.length > 0)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(item.trim());
    if (m === null) throw garbled(file, 1, `expected "port" or "low-high", got "${item}"`, text);
    const from = Math.max(Number(m[1]), range.low);
    const to = Math.min(Number(m[2] ?? m[1]), range.high);
    for (let p = from; p <= to; p++) reserved.add(p);
  }
  return reserved.size;
}

/**
 * Parse the "Max open files" row of `/proc/self/limits` (Node has no getrlimit).
 * @returns `{ soft, hard }` in descriptors; `unlimited` becomes Infinity.
 * @throws CollectorError `TALLY_COLLECTOR_BAD_REPLY` naming file and line when the row is missing or garbled.
 * @see proc(5) /proc/pid/limits; getrlimit(2) RLIMIT_NOFILE
 */
export function parseOpenFilesLimit(text: string, file = '/proc/self/limits'): { soft: number; hard: number } {
  const lines = text.split('\n');
  const index = lines.findIndex((l) => l.startsWith('Max open files'));
  if (index < 0) throw garbled(file, 0, 'no "Max open files" row', '');
  const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)\s+files\s*$/.exec(lines[index]);
  if (m === null) throw garbled(file, index + 1, 'expected "Max open files <soft> <hard> files"', lines[index]);
  const value = (s: string): number => (s === 'unlimited' ? Number.POSITIVE_INFINITY : Number(s));
  return { soft: value(m[1]), hard: value(m[2]) };
}

function garbled(file: string, line: number, problem: string, text: string): CollectorError {
  return new CollectorError(`${line > 0 ? `${file}:${line}` : file}: ${problem}`, {
    code: 'TALLY_COLLECTOR_BAD_REPLY',
    details: { file, line, text: text.slice(0, 200) },
  });
}

/**
 * Read the host settings for {@link planPortBudget} from /proc: the ipv4 sysctls of the
 * caller's network namespace and this process's descriptor limit and open descriptors.
 * @param root the /proc mount; default `/proc`.
 * @returns a {@link PortBudgetHost}; `timeWaitMs` is the compile-time {@link TCP_TIMEWAIT_LEN_MS}.
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` when a required file cannot be read;
 *   `TALLY_COLLECTOR_BAD_REPLY` when one is garbled.
 * @see Documentation/networking/ip-sysctl.rst; proc(5)
 */
export async function readPortBudgetHost(root = '/proc'): Promise<PortBudgetHost> {
  const ipv4 = join(root, 'sys/net/ipv4');
  const [range, reserved, reuse, timestamps, reuseDelay, maxTw, limits, fds] = await Promise.all([
    read(join(ipv4, 'ip_local_port_range')),
    read(join(ipv4, 'ip_local_reserved_ports')),
    read(join(ipv4, 'tcp_tw_reuse')),
    read(join(ipv4, 'tcp_timestamps')),
    read(join(ipv4, 'tcp_tw_reuse_delay'), true),
    read(join(ipv4, 'tcp_max_tw_buckets')),
    read(join(root, 'self/limits')),
    readdir(join(root, 'self/fd')).catch((error: unknown) => {
      throw new CollectorError(`${join(root, 'self/fd')}: read failed`, { cause: error });
    }),
  ]);
  const localPortRange = parseLocalPortRange(range.text, range.file);
  const tcpTwReuse = integer(reuse);
  if (tcpTwReuse !== 0 && tcpTwReuse !== 1 && tcpTwReuse !== 2) throw garbled(reuse.file, 1, 'expected 0, 1 or 2', reuse.text);
  const nofile = parseOpenFilesLimit(limits.text, limits.file);
  return {
    localPortRange,
    reservedPortCount: countReservedPorts(reserved.text, localPortRange, reserved.file),
    tcpTwReuse,
    tcpTimestamps: integer(timestamps) !== 0,
    // Kernels before tcp_tw_reuse_delay hard-code one second (checked at 1 s or 1 ms granularity).
    twReuseDelayMs: reuseDelay.text === '' ? 1000 : integer(reuseDelay),
    timeWaitMs: TCP_TIMEWAIT_LEN_MS,
    maxTimeWaitBuckets: integer(maxTw),
    fdSoftLimit: nofile.soft,
    fdHardLimit: nofile.hard,
    // readdir's own descriptor on the fd directory is listed too.
    fdsInUse: Math.max(0, fds.length - 1),
  };
}

async function read(file: string, optional = false): Promise<{ file: string; text: string }> {
  try {
    return { file, text: await readFile(file, 'utf8') };
  } catch (error) {
    if (optional && (error as NodeJS.ErrnoException).code === 'ENOENT') return { file, text: '' };
    throw new CollectorError(`${file}: read failed (${(error as NodeJS.ErrnoException).code ?? 'unknown'})`, {
      details: { file, line: 0 },
      cause: error,
    });
  }
}

function integer(source: { file: string; text: string }): number {
  const t = source.text.trim();
  if (!/^-?\d+$/.test(t)) throw garbled(source.file, 1, 'expected one integer', source.text);
  return Number(t);
}
