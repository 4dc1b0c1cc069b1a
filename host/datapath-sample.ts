/**
 * The /proc edge: read the datapath counter files once, parse them, and stamp the
 * sample with monotonic time. Take one sample before and one after a run, then call
 * `deltaCounters` (datapath-delta.ts).
 *
 * Namespaces: `/proc/net/*` is a symlink to `/proc/self/net/*`, the reader's own network
 * namespace. Passing `root = '/proc/<pid>'` reads `/proc/<pid>/net/*` instead, i.e. the
 * namespace of that process (a pod's pause process, a `tally lab` netns). Sysctls are
 * different: `/proc/sys/net/*` always shows the namespace of the process that opens it,
 * and `/proc/<pid>` has no `sys/`. So with a pid root the sysctl files are unavailable
 * unless `sysctlRoot` is given; the per-namespace conntrack count is still in
 * `conntrackStats.entries`.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../core/clock.ts';
import { systemClock } from '../core/clock.ts';
import { CollectorError } from '../core/errors.ts';
import { parseConntrackStats } from './conntrack.ts';
import type { ConntrackStats } from './conntrack.ts';
import { parseSysctlInteger } from './proc-text.ts';
import type { ProcNetCounters } from './proc-text.ts';
import { parseNetstat, parseSnmp } from './snmp.ts';
import { parseSockstat } from './sockstat.ts';
import type { Sockstat } from './sockstat.ts';

/**
 * One /proc file's outcome: its parsed value, or why it could not be read.
 * `unavailable` is data, not an error: nf_conntrack files are absent when the module is
 * not loaded, and a `/proc/<pid>` root vanishes when the process exits.
 */
export type ProcSource<T> =
  | { readonly status: 'ok'; readonly file: string; readonly value: T }
  | {
      readonly status: 'unavailable';
      readonly file: string;
      /** The errno code from the read, e.g. `ENOENT`, `EACCES`. */
      readonly errno: string;
      /** Why, in one sentence. */
      readonly reason: string;
    };

/** One reading of the datapath counters of one network namespace. */
export interface DatapathSample {
  /** The /proc root read, e.g. `/proc` or `/proc/4242`. */
  readonly root: string;
  /** Monotonic milliseconds (Clock.monotonicMs) at the midpoint of the reads; only differences mean anything. */
  readonly monotonicMs: number;
  /** Milliseconds the reads took; the files are not read atomically, so this bounds the skew between them. */
  readonly readSpanMs: number;
  /** Wall-clock milliseconds since the Unix epoch at the start of the reads, for reports only. */
  readonly wallMs: number;
  /** `<root>/net/stat/nf_conntrack`. */
  readonly conntrackStats: ProcSource<ConntrackStats>;
  /** `<sysctlRoot>/net/netfilter/nf_conntrack_count`: entries (gauge). */
  readonly conntrackCount: ProcSource<number>;
  /** `<sysctlRoot>/net/netfilter/nf_conntrack_max`: table size limit in entries (gauge). */
  readonly conntrackMax: ProcSource<number>;
  /** `<root>/net/snmp`. */
  readonly snmp: ProcSource<ProcNetCounters>;
  /** `<root>/net/netstat`. */
  readonly netstat: ProcSource<ProcNetCounters>;
  /** `<root>/net/sockstat`. */
  readonly sockstat: ProcSource<Sockstat>;
  /** `<root>/net/sockstat6` (absent when IPv6 is disabled). */
  readonly sockstat6: ProcSource<Sockstat>;
}

/** Options for {@link sampleDatapathCounters}. */
export interface DatapathSampleOptions {
  /** Time source; defaults to the process clock. */
  clock?: Clock;
  /** Directory holding `net/netfilter/…` sysctls; defaults to `<root>/sys`. */
  sysctlRoot?: string;
}

/** Read errors that mean "not there / not for us" rather than "broken". */
const UNAVAILABLE_ERRNOS = new Set(['ENOENT', 'ENOTDIR', 'EACCES', 'EPERM']);

/**
 * Read and parse every datapath counter file that exists under `root`.
 * @param root a /proc mount (`/proc`) or a process directory (`/proc/<pid>`) for another netns.
 * @param options clock and sysctl root.
 * @returns a {@link DatapathSample}; missing or forbidden files are `unavailable` with the errno and reason.
 * @throws CollectorError `TALLY_COLLECTOR_BAD_REPLY` naming file and line when a file is garbled;
 *   `TALLY_COLLECTOR_FAILED` when a read fails for another reason (EIO, EISDIR, …).
 * @see proc(5); Documentation/networking/nf_conntrack-sysctl.rst
 */
export async function sampleDatapathCounters(root = '/proc', options: DatapathSampleOptions = {}): Promise<DatapathSample> {
  const clock = options.clock ?? systemClock;
  const sysctlRoot = options.sysctlRoot ?? join(root, 'sys');
  const net = join(root, 'net');
  const wallMs = clock.nowMs();
  const startMs = clock.monotonicMs();
  const [conntrackStats, conntrackCount, conntrackMax, snmp, netstat, sockstat, sockstat6] = await Promise.all([
    readSource(join(net, 'stat/nf_conntrack'), parseConntrackStats, CONNTRACK_HINT),
    readSource(join(sysctlRoot, 'net/netfilter/nf_conntrack_count'), parseSysctlInteger, CONNTRACK_SYSCTL_HINT),
    readSource(join(sysctlRoot, 'net/netfilter/nf_conntrack_max'), parseSysctlInteger, CONNTRACK_SYSCTL_HINT),
    readSource(join(net, 'snmp'), parseSnmp, ''),
    readSource(join(net, 'netstat'), parseNetstat, ''),
    readSource(join(net, 'sockstat'), parseSockstat, ''),
    readSource(join(net, 'sockstat6'), parseSockstat, ' (IPv6 disabled?)'),
  ]);
  const endMs = clock.monotonicMs();
  return {
    root,
    monotonicMs: (startMs + endMs) / 2,
    readSpanMs: endMs - startMs,
    wallMs,
    conntrackStats,
    conntrackCount,
    conntrackMax,
    snmp,
    netstat,
    sockstat,
    sockstat6,
  };
}

const CONNTRACK_HINT = ' (nf_conntrack module not loaded in this kernel or namespace)';
const CONNTRACK_SYSCTL_HINT = ' (nf_conntrack not loaded, or no sysctl tree under this root: /proc/<pid> has none)';

async function readSource<T>(file: string, parse: (text: string, file: string) => T, hint: string): Promise<ProcSource<T>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const errno = (error as NodeJS.ErrnoException).code ?? 'UNKNOWN';
    if (UNAVAILABLE_ERRNOS.has(errno)) {
      const what = errno === 'ENOENT' || errno === 'ENOTDIR' ? 'absent' : 'not readable';
      return { status: 'unavailable', file, errno, reason: `${file} is ${what} (${errno})${errno === 'ENOENT' ? hint : ''}` };
    }
    throw new CollectorError(`${file}: read failed (${errno})`, { details: { file, line: 0, errno }, cause: error });
  }
  return { status: 'ok', file, value: parse(text, file) };
}
