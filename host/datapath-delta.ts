/**
 * The pure core of the /proc collector: turn two {@link DatapathSample}s into what
 * changed between them.
 *
 * - Monotonic counters (ActiveOpens, TCPSynRetrans, conntrack insert_failed, …) become
 *   deltas. A counter that went down (a wrap, a module reload, a recreated namespace) is
 *   flagged `reset` with a null delta, never reported as a negative number.
 * - Gauges (conntrack entries/count/max, Tcp.CurrEstab, every sockstat field, the fixed
 *   Tcp.Rto*, Tcp.MaxConn, Ip.Forwarding, Ip.DefaultTTL) are reported as before/after pairs:
 *   a difference of two gauge readings says nothing about what happened in between.
 *
 * Keys are dotted and stable across runs, for reports and `compare`:
 * `snmp.Tcp.ActiveOpens`, `netstat.TcpExt.ListenDrops`, `conntrack.insert_failed`,
 * `conntrack.entries`, `conntrack.count`, `conntrack.max`, `sockstat.TCP.tw`, `sockstat6.TCP6.inuse`.
 */
import { InternalError } from '../core/errors.ts';
import type { DatapathSample, ProcSource } from './datapath-sample.ts';

/** Whether a key is a monotonic counter (report a delta) or a gauge (report before/after). */
export type CounterKind = 'counter' | 'gauge';

/** A monotonic counter over the interval. */
export interface CounterDelta {
  /** Value in the first sample. */
  readonly before: number;
  /** Value in the second sample. */
  readonly after: number;
  /** `after − before` in the counter's own unit (events, segments, connections); null when `reset`. */
  readonly delta: number | null;
  /** True when the counter went down (on any CPU, for per-CPU conntrack counters): wrapped or reset. */
  readonly reset: boolean;
}

/** A gauge read at both ends of the interval. */
export interface GaugeReading {
  readonly before: number;
  readonly after: number;
}

/** Something the delta could not report plainly. */
export interface CounterFlag {
  /** The dotted key, or the source name (`snmp`, `conntrackStats`, …) for `unavailable`. */
  readonly key: string;
  /**
   * - `reset`: a counter decreased; its delta is null.
   * - `appeared` / `vanished`: the key exists in only one sample (a kernel module loaded or unloaded).
   * - `unavailable`: the source file could not be read in one or both samples.
   */
  readonly kind: 'reset' | 'appeared' | 'vanished' | 'unavailable';
  /** Why, in one sentence. */
  readonly message: string;
}

/** What changed between two samples of the same namespace. */
export interface DatapathDelta {
  /** The /proc root both samples were read from. */
  readonly root: string;
  /** Milliseconds between the samples' monotonic midpoints. */
  readonly intervalMs: number;
  /** Monotonic counters by dotted key. */
  readonly counters: Readonly<Record<string, CounterDelta>>;
  /** Gauges by dotted key. */
  readonly gauges: Readonly<Record<string, GaugeReading>>;
  /** Resets, keys present in one sample only, unavailable sources; in key order. */
  readonly flags: readonly CounterFlag[];
}

const GAUGE_KEYS = new Set([
  'snmp.Ip.Forwarding',
  'snmp.Ip.DefaultTTL',
  'snmp.Tcp.RtoAlgorithm',
  'snmp.Tcp.RtoMin',
  'snmp.Tcp.RtoMax',
  'snmp.Tcp.MaxConn',
  'snmp.Tcp.CurrEstab',
  'netstat.MPTcpExt.MPCurrEstab',
  'conntrack.entries',
  'conntrack.count',
  'conntrack.max',
]);

/**
 * Classify a dotted key as a monotonic counter or a gauge.
 * @param key e.g. `snmp.Tcp.CurrEstab` (gauge), `snmp.Tcp.ActiveOpens` (counter).
 * @returns `gauge` for the fixed set above and every `sockstat`/`sockstat6` key; `counter` otherwise.
 * @see proc(5); RFC 4022 (tcpCurrEstab is a gauge)
 */
export function counterKind(key: string): CounterKind {
  if (GAUGE_KEYS.has(key) || key.startsWith('sockstat.') || key.startsWith('sockstat6.')) return 'gauge';
  return 'counter';
}

type SourceName = 'conntrackStats' | 'conntrackCount' | 'conntrackMax' | 'snmp' | 'netstat' | 'sockstat' | 'sockstat6';
const SOURCES: readonly SourceName[] = ['conntrackStats', 'conntrackCount', 'conntrackMax', 'snmp', 'netstat', 'sockstat', 'sockstat6'];

/** Flattened sample: dotted key → value, plus per-CPU vectors for conntrack counters. */
interface Flat {
  readonly values: Map<string, number>;
  readonly perCpu: Map<string, number[]>;
}

/**
 * Compute per-counter deltas and gauge before/after pairs between two samples.
 * @param before the earlier sample.
 * @param after the later sample, from the same root and the same clock (same thread:
 *   `performance.now()` origins differ between worker threads).
 * @returns a {@link DatapathDelta}; counters in their own units, `intervalMs` in milliseconds.
 * @throws InternalError `TALLY_INTERNAL` when the roots differ or `after` is earlier than `before`.
 * @see proc(5); Documentation/networking/nf_conntrack-sysctl.rst
 */
export function deltaCounters(before: DatapathSample, after: DatapathSample): DatapathDelta {
  if (before.root !== after.root) {
    throw new InternalError(`deltaCounters: samples from different roots (${before.root}, ${after.root})`);
  }
  const intervalMs = after.monotonicMs - before.monotonicMs;
  if (intervalMs < 0) throw new InternalError(`deltaCounters: samples out of order (interval ${intervalMs} ms)`);

  const flags: CounterFlag[] = [];
  for (const name of SOURCES) {
    const reason = unavailableReason(before[name], after[name]);
    if (reason !== null) flags.push({ key: name, kind: 'unavailable', message: reason });
  }
  const a = flatten(before);
  const b = flatten(after);
  const counters: Record<string, CounterDelta> = {};
  const gauges: Record<string, GaugeReading> = {};
  const keys = [...new Set([...a.values.keys(), ...b.values.keys()])].sort();
  for (const key of keys) {
    const x = a.values.get(key);
    const y = b.values.get(key);
    if (x === undefined || y === undefined) {
      // A whole source missing on one side is already one `unavailable` flag.
      if (!sourceMissingOnOneSide(key, before, after)) {
        const kind = x === undefined ? 'appeared' : 'vanished';
        flags.push({ key, kind, message: `${key} is only in the ${x === undefined ? 'second' : 'first'} sample` });
      }
      continue;
    }
    if (counterKind(key) === 'gauge') {
      gauges[key] = { before: x, after: y };
      continue;
    }
    const reset = decreased(x, y, a.perCpu.get(key), b.perCpu.get(key));
    counters[key] = { before: x, after: y, delta: reset ? null : y - x, reset };
    if (reset) flags.push({ key, kind: 'reset', message: `${key} went down (${x} → ${y}): wrapped or reset` });
  }
  return { root: before.root, intervalMs, counters, gauges, flags };
}

function decreased(x: number, y: number, cpusBefore: number[] | undefined, cpusAfter: number[] | undefined): boolean {
  if (cpusBefore !== undefined && cpusAfter !== undefined && cpusBefore.length === cpusAfter.length) {
    // One CPU's u32 wrapping can hide inside a growing sum; compare CPU by CPU.
    return cpusBefore.some((v, cpu) => cpusAfter[cpu] < v);
  }
  return y < x;
}

function unavailableReason(x: ProcSource<unknown>, y: ProcSource<unknown>): string | null {
  if (x.status === 'ok' && y.status === 'ok') return null;
  if (x.status === 'unavailable' && y.status === 'unavailable') return x.reason;
  const missing = x.status === 'unavailable' ? x : y;
  const which = x.status === 'unavailable' ? 'first' : 'second';
  return missing.status === 'unavailable' ? `${missing.reason}, in the ${which} sample only` : null;
}

function sourceMissingOnOneSide(key: string, before: DatapathSample, after: DatapathSample): boolean {
  const name = sourceOfKey(key);
  return before[name].status !== after[name].status;
}

function sourceOfKey(key: string): SourceName {
  if (key === 'conntrack.count') return 'conntrackCount';
  if (key === 'conntrack.max') return 'conntrackMax';
  if (key.startsWith('conntrack.')) return 'conntrackStats';
  return key.slice(0, key.indexOf('.')) as SourceName;
}

function flatten(sample: DatapathSample): Flat {
  const values = new Map<string, number>();
  const perCpu = new Map<string, number[]>();
  const ct = sample.conntrackStats;
  if (ct.status === 'ok') {
    if (ct.value.entries !== null) values.set('conntrack.entries', ct.value.entries);
    for (const [column, total] of Object.entries(ct.value.totals)) {
      values.set(`conntrack.${column}`, total);
      perCpu.set(`conntrack.${column}`, ct.value.perCpu.map((row) => row[column]));
    }
  }
  if (sample.conntrackCount.status === 'ok') values.set('conntrack.count', sample.conntrackCount.value);
  if (sample.conntrackMax.status === 'ok') values.set('conntrack.max', sample.conntrackMax.value);
  for (const name of ['snmp', 'netstat', 'sockstat', 'sockstat6'] as const) {
    const source = sample[name];
    if (source.status !== 'ok') continue;
    for (const [group, fields] of Object.entries(source.value)) {
      for (const [field, value] of Object.entries(fields)) values.set(`${name}.${group}.${field}`, value);
    }
  }
  return { values, perCpu };
}
