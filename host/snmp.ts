/**
 * Parsers for the SNMP-style protocol counters in `/proc/net/snmp` (Ip, Icmp, IcmpMsg,
 * Tcp, Udp, UdpLite) and the Linux extensions in `/proc/net/netstat` (TcpExt, IpExt,
 * MPTcpExt). Both use header/value line pairs; every field is kept, by group.
 *
 * Fields a churn run reads first:
 * - `Tcp`: ActiveOpens, PassiveOpens, AttemptFails, EstabResets, CurrEstab (a gauge),
 *   InSegs, OutSegs, RetransSegs, InErrs, OutRsts.
 * - `TcpExt`: ListenOverflows, ListenDrops, TCPSynRetrans, TW, TWRecycled, TWKilled,
 *   TCPTimeouts, TCPAbortOnTimeout, TCPTimeWaitOverflow.
 *
 * Pure: text in, values out.
 */
import { parseHeaderValuePairs } from './proc-text.ts';
import type { ProcNetCounters } from './proc-text.ts';

export type { ProcNetCounters } from './proc-text.ts';

/**
 * Parse `/proc/net/snmp` (or `/proc/<pid>/net/snmp` for another network namespace).
 * @param text the file's text.
 * @param file path, for errors; defaults to `/proc/net/snmp`.
 * @returns counters by group then field, e.g. `snmp.Tcp.ActiveOpens` (connections, cumulative).
 * @throws CollectorError `TALLY_COLLECTOR_BAD_REPLY` naming file and line when the text is garbled.
 * @see proc(5) /proc/net/snmp; RFC 4022 (TCP-MIB) for the Tcp field meanings
 */
export function parseSnmp(text: string, file = '/proc/net/snmp'): ProcNetCounters {
  return parseHeaderValuePairs(text, file);
}

/**
 * Parse `/proc/net/netstat` (or `/proc/<pid>/net/netstat`).
 * @param text the file's text.
 * @param file path, for errors; defaults to `/proc/net/netstat`.
 * @returns counters by group then field, e.g. `netstat.TcpExt.TCPSynRetrans` (SYN retransmits, cumulative).
 * @throws CollectorError `TALLY_COLLECTOR_BAD_REPLY` naming file and line when the text is garbled.
 * @see proc(5) /proc/net/netstat; include/uapi/linux/snmp.h (LINUX_MIB_*) for the field meanings
 */
export function parseNetstat(text: string, file = '/proc/net/netstat'): ProcNetCounters {
  return parseHeaderValuePairs(text, file);
}
