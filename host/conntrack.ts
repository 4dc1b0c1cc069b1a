/**
 * Parser for `/proc/net/stat/nf_conntrack`: netfilter connection-tracking statistics,
 * one row of `%08x` hex columns per possible CPU under a header row.
 *
 * The column set depends on the kernel, so columns are named from the header:
 * - before 5.x: `entries searched found new invalid ignore delete delete_list insert
 *   insert_failed drop early_drop icmp_error expect_new expect_create expect_delete search_restart`;
 * - later: `searched` became `clashres` (clash resolutions), `delete_list` became
 *   `chainlength` (inserts refused for a too-long hash chain), and `new`, `ignore`,
 *   `delete` are printed as constant 0.
 *
 * `entries` is not per CPU: every row repeats the namespace-wide conntrack count, so it
 * is a gauge and is never summed (summing would multiply it by the CPU count). The other
 * columns are per-CPU 32-bit counters; they are summed across CPUs and also kept per CPU
 * so a delta can spot one CPU's counter wrapping.
 *
 * Note: Cilium's kube-proxy replacement keeps its own BPF conntrack maps; these netfilter
 * counters only see traffic that still goes through netfilter on the host.
 *
 * Pure: text in, values out.
 */
import { garbledProcText, procLines } from './proc-text.ts';

/** Parsed `/proc/net/stat/nf_conntrack`. */
export interface ConntrackStats {
  /** Column names from the header, in file order, `entries` included. */
  readonly columns: readonly string[];
  /** Conntrack entries in the namespace (gauge), from the last CPU row; null if the kernel has no `entries` column. */
  readonly entries: number | null;
  /** Every column except `entries`, summed across CPUs (events, cumulative since boot or module load). */
  readonly totals: Readonly<Record<string, number>>;
  /** Per-CPU values of every column except `entries`: `perCpu[cpuRow][column]`. */
  readonly perCpu: readonly Readonly<Record<string, number>>[];
}

const HEX = /^[0-9a-fA-F]+$/;

/**
 * Parse `/proc/net/stat/nf_conntrack` (or `/proc/<pid>/net/stat/nf_conntrack`).
 * @param text the file's text: a header row, then one hex row per possible CPU.
 * @param file path, for errors; defaults to `/proc/net/stat/nf_conntrack`.
 * @returns columns, the `entries` gauge, per-column totals across CPUs and per-CPU values.
 * @throws CollectorError `TALLY_COLLECTOR_BAD_REPLY` naming file and line when the file is
 *   empty, has no CPU rows, a header name is not an identifier or repeats, a row has the wrong
 *   number of columns, or a value is not hex.
 * @see Documentation/networking/nf_conntrack-sysctl.rst; net/netfilter/nf_conntrack_standalone.c ct_cpu_seq_show
 */
export function parseConntrackStats(text: string, file = '/proc/net/stat/nf_conntrack'): ConntrackStats {
  const lines = procLines(text);
  if (lines.length === 0) throw garbledProcText({ file, line: 0 }, 'file is empty');
  const columns = parseHeader(lines[0], file);
  if (lines.length === 1) throw garbledProcText({ file, line: lines[0].lineNo }, 'header but no CPU rows', lines[0].text);

  const entriesAt = columns.indexOf('entries');
  const totals: Record<string, number> = {};
  for (const name of columns) if (name !== 'entries') totals[name] = 0;
  const perCpu: Record<string, number>[] = [];
  let entries: number | null = null;

  for (const { lineNo, text: line } of lines.slice(1)) {
    const at = { file, line: lineNo };
    const tokens = line.trim().split(/\s+/);
    if (tokens.length !== columns.length) {
      throw garbledProcText(at, `${tokens.length} columns, header has ${columns.length}`, line);
    }
    const row: Record<string, number> = {};
    for (let k = 0; k < tokens.length; k++) {
      if (!HEX.test(tokens[k])) throw garbledProcText(at, `expected hex, got "${tokens[k]}" in column "${columns[k]}"`, line);
      const value = parseInt(tokens[k], 16);
      if (k === entriesAt) {
        entries = value;
      } else {
        row[columns[k]] = value;
        totals[columns[k]] += value;
      }
    }
    perCpu.push(row);
  }
  return { columns, entries, totals, perCpu };
}

function parseHeader(header: { lineNo: number; text: string }, file: string): string[] {
  const columns = header.text.trim().split(/\s+/);
  const seen = new Set<string>();
  for (const name of columns) {
    if (!/^[a-z_][a-z0-9_]*$/i.test(name)) {
      throw garbledProcText({ file, line: header.lineNo }, `header column "${name}" is not a name`, header.text);
    }
    if (seen.has(name)) throw garbledProcText({ file, line: header.lineNo }, `header column "${name}" repeats`, header.text);
    seen.add(name);
  }
  return columns;
}
