/**
 * Parser for `/proc/net/sockstat` and `/proc/net/sockstat6`: socket-state gauges.
 *
 * Lines look like `TCP: inuse 1 orphan 0 tw 1 alloc 1 mem 277`: a protocol, then
 * name/value pairs. Every protocol and field is kept.
 *
 * Units worth knowing:
 * - `TCP.inuse`, `orphan`, `tw`, `alloc`: sockets (in use, orphaned, TIME_WAIT, allocated).
 *   `tw`, `orphan` and `alloc` count IPv4 and IPv6 together; `inuse` is IPv4 only (IPv6 is
 *   `TCP6.inuse` in sockstat6).
 * - Scope: `inuse` and `tw` are per network namespace; `orphan`, `alloc` and `mem` are
 *   host-wide even when read through `/proc/<pid>/net/sockstat` of another namespace.
 * - `TCP.mem`, `UDP.mem`: pages (PAGE_SIZE, usually 4096 bytes), compared against
 *   `tcp_mem` / `udp_mem`, which are also in pages.
 * - `FRAG.memory`: bytes.
 *
 * Pure: text in, values out.
 */
import { garbledProcText, parseDecimalToken, procLines } from './proc-text.ts';

/** Socket gauges by protocol then field, e.g. `{ TCP: { inuse: 1, tw: 1, mem: 277 }, sockets: { used: 13 } }`. */
export type Sockstat = Readonly<Record<string, Readonly<Record<string, number>>>>;

/**
 * Parse `/proc/net/sockstat` (or `sockstat6`, or the `/proc/<pid>/net/…` forms).
 * @param text the file's text.
 * @param file path, for errors; defaults to `/proc/net/sockstat`.
 * @returns gauges by protocol then field (see the module note for units).
 * @throws CollectorError `TALLY_COLLECTOR_BAD_REPLY` naming file and line when a line lacks
 *   `Proto:`, has an odd number of tokens after it, a non-integer value, or a protocol repeats.
 * @see proc(5) /proc/net/sockstat; net/ipv4/proc.c sockstat_seq_show
 */
export function parseSockstat(text: string, file = '/proc/net/sockstat'): Sockstat {
  const lines = procLines(text);
  if (lines.length === 0) throw garbledProcText({ file, line: 0 }, 'file is empty');
  const out: Record<string, Record<string, number>> = {};
  for (const { lineNo, text: line } of lines) {
    const at = { file, line: lineNo };
    const colon = line.indexOf(':');
    if (colon <= 0) throw garbledProcText(at, 'expected "PROTO: name value …"', line);
    const proto = line.slice(0, colon);
    const tokens = line.slice(colon + 1).trim().split(/\s+/).filter((t) => t.length > 0);
    if (tokens.length === 0 || tokens.length % 2 !== 0) {
      throw garbledProcText(at, `expected name/value pairs after "${proto}:"`, line);
    }
    if (Object.hasOwn(out, proto)) throw garbledProcText(at, `protocol "${proto}" appears twice`, line);
    const fields: Record<string, number> = {};
    for (let k = 0; k < tokens.length; k += 2) {
      fields[tokens[k]] = parseDecimalToken(tokens[k + 1], at, line);
    }
    out[proto] = fields;
  }
  return out;
}
