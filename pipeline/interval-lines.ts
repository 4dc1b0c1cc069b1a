/**
 * Reading a run directory's intervals.ndjson back (tally compare, the HTML report): whole
 * lines only, since a run killed mid-write can leave a partial last line.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { IntervalLine } from '../reports/aggregate.ts';

/** intervals.ndjson's name in a run directory. */
export const INTERVALS_FILE = 'intervals.ndjson';

/** Parse intervals.ndjson text: every whole line, in order; a partial line is left out. */
export function parseIntervalLines(text: string): IntervalLine[] {
  const lines: IntervalLine[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      lines.push(JSON.parse(line) as IntervalLine);
    } catch {
      // A run killed mid-write can leave a partial last line; the complete ones count.
    }
  }
  return lines;
}

/** A run directory's interval lines (none when the file is missing or unreadable). */
export async function readIntervalLines(runDir: string): Promise<IntervalLine[]> {
  return parseIntervalLines(await readFile(join(runDir, INTERVALS_FILE), 'utf8').catch(() => ''));
}
