/**
 * Shared pieces for parsing /proc text: line splitting, the "garbled file" error,
 * integer tokens, and the header/value line-pair table used by /proc/net/snmp and
 * /proc/net/netstat.
 *
 * Pure: every function takes text and returns values. The file path is passed in only
 * so that errors can name it.
 */
import { CollectorError } from '../core/errors.ts';

/** Where in a /proc file a problem is: the path and the 1-based line (0 for the whole file). */
export interface ProcTextLocation {
  /** Path the text was read from, e.g. `/proc/net/snmp`. */
  file: string;
  /** 1-based line number; 0 when the problem is the file as a whole (e.g. empty). */
  line: number;
}

/**
 * Counters from a header/value line-pair file, by group then field.
 * Shape: `{ Tcp: { ActiveOpens: 57, … }, Udp: { … } }`. Values are as the kernel prints
 * them (mostly unsigned 64-bit counters; a few signed constants such as `Tcp.MaxConn = -1`).
 * Values above 2^53 lose precision as JS numbers; no counter reaches that in practice.
 */
export type ProcNetCounters = Readonly<Record<string, Readonly<Record<string, number>>>>;

/**
 * Build the error for a /proc file whose text is not in the documented format.
 * @param location the file and 1-based line.
 * @param problem what is wrong, in a few words.
 * @param lineText the offending line, echoed (truncated) into `details.text`.
 * @returns a CollectorError with code `TALLY_COLLECTOR_BAD_REPLY` and details `{ file, line, text }`.
 */
export function garbledProcText(location: ProcTextLocation, problem: string, lineText = ''): CollectorError {
  const text = lineText.length > 200 ? `${lineText.slice(0, 200)}…` : lineText;
  const where = location.line > 0 ? `${location.file}:${location.line}` : location.file;
  return new CollectorError(`${where}: ${problem}`, {
    code: 'TALLY_COLLECTOR_BAD_REPLY',
    details: { file: location.file, line: location.line, text },
  });
}

/**
 * Split /proc text into lines, keeping 1-based line numbers and dropping blank lines
 * (the kernel ends every file with a newline; blank lines carry nothing).
 * @returns `[{ lineNo, text }]` with `text` trimmed of trailing whitespace.
 */
export function procLines(text: string): { lineNo: number; text: string }[] {
  const out: { lineNo: number; text: string }[] = [];
  const raw = text.split('\n');
  for (let i = 0; i < raw.length; i++) {
    const line = raw[i].trimEnd();
    if (line.trim().length > 0) out.push({ lineNo: i + 1, text: line });
  }
  return out;
}

const DECIMAL = /^-?\d+$/;

/**
 * Parse one decimal integer token as the kernel prints it (`%lu`, `%ld`, `%d`).
 * @throws CollectorError `TALLY_COLLECTOR_BAD_REPLY` naming file and line when the token is not an integer.
 */
export function parseDecimalToken(token: string, location: ProcTextLocation, lineText: string): number {
  if (!DECIMAL.test(token)) throw garbledProcText(location, `expected a decimal integer, got "${token}"`, lineText);
  return Number(token);
}

/**
 * Parse a one-value sysctl file such as `/proc/sys/net/netfilter/nf_conntrack_count`.
 * @param text the file's text, e.g. `"0\n"`.
 * @param file path, for errors.
 * @returns the integer value.
 * @throws CollectorError `TALLY_COLLECTOR_BAD_REPLY` when the file is empty or not a single integer.
 * @see Documentation/networking/nf_conntrack-sysctl.rst
 */
export function parseSysctlInteger(text: string, file: string): number {
  const lines = procLines(text);
  if (lines.length !== 1) {
    const extra = lines[1];
    throw garbledProcText({ file, line: extra?.lineNo ?? 0 }, 'expected exactly one line with one integer', extra?.text ?? '');
  }
  const { lineNo, text: line } = lines[0];
  const tokens = line.trim().split(/\s+/);
  if (tokens.length !== 1) throw garbledProcText({ file, line: lineNo }, 'expected one integer', line);
  return parseDecimalToken(tokens[0], { file, line: lineNo }, line);
}

/**
 * Parse the header/value line-pair format of `/proc/net/snmp` and `/proc/net/netstat`:
 * for each group, a line `Group: Name1 Name2 …` followed by `Group: v1 v2 …`.
 * Every group and field is kept, so kernels that add fields need no code change.
 * @param text the file's text.
 * @param file path, for errors.
 * @returns counters by group then field ({@link ProcNetCounters}).
 * @throws CollectorError `TALLY_COLLECTOR_BAD_REPLY` naming file and line when a header has
 *   no value line, the prefixes differ, the counts differ, a value is not an integer, or a
 *   group repeats.
 * @see proc(5), /proc/net/snmp and /proc/net/netstat
 */
export function parseHeaderValuePairs(text: string, file: string): ProcNetCounters {
  const lines = procLines(text);
  if (lines.length === 0) throw garbledProcText({ file, line: 0 }, 'file is empty');
  const groups: Record<string, Record<string, number>> = {};
  for (let i = 0; i < lines.length; i += 2) {
    const header = splitGroupLine(lines[i], file);
    if (i + 1 >= lines.length) {
      throw garbledProcText({ file, line: lines[i].lineNo }, `header for "${header.group}" has no value line`, lines[i].text);
    }
    const values = splitGroupLine(lines[i + 1], file);
    const at = { file, line: lines[i + 1].lineNo };
    if (values.group !== header.group) {
      throw garbledProcText(at, `value line is for "${values.group}", header was "${header.group}"`, lines[i + 1].text);
    }
    if (values.tokens.length !== header.tokens.length) {
      throw garbledProcText(at, `${values.tokens.length} values for ${header.tokens.length} "${header.group}" fields`, lines[i + 1].text);
    }
    if (Object.hasOwn(groups, header.group)) {
      throw garbledProcText({ file, line: lines[i].lineNo }, `group "${header.group}" appears twice`, lines[i].text);
    }
    const fields: Record<string, number> = {};
    header.tokens.forEach((name, k) => {
      fields[name] = parseDecimalToken(values.tokens[k], at, lines[i + 1].text);
    });
    groups[header.group] = fields;
  }
  return groups;
}

function splitGroupLine(line: { lineNo: number; text: string }, file: string): { group: string; tokens: string[] } {
  const colon = line.text.indexOf(':');
  if (colon <= 0) throw garbledProcText({ file, line: line.lineNo }, 'expected "Group: …"', line.text);
  const rest = line.text.slice(colon + 1).trim();
  return { group: line.text.slice(0, colon), tokens: rest.length === 0 ? [] : rest.split(/\s+/) };
}
