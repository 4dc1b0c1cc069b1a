/**
 * `tally merge <shard-dir>... --out DIR`: parse flags, call pipeline/merge.ts, and return
 * the exit code: 0, or 99 when a threshold is breached on the merged figures (as a run).
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '../../core/errors.ts';
import type { TextOut } from '../../core/text-out.ts';
import { mergeRuns } from '../../pipeline/merge.ts';
import { writeRunJUnit } from '../../pipeline/report.ts';
import { EXIT_THRESHOLDS_BREACHED } from '../exit-codes.ts';

/** Usage text of `tally merge`. */
export const MERGE_USAGE = `usage: tally merge <shard-run-dir>... --out DIR [--allow-incomplete] [--overwrite] [--junit FILE]
  adds up the shards of one sharded run (tally run --shard i/N) exactly: counters summed, histograms merged,
  ledgers united, reconciliations combined, thresholds judged on the whole run.
  refuses shards of different plans, duplicate or missing indexes, and unfinished shards (--allow-incomplete
  merges those, marked incomplete).
  exit codes: 0 ok, ${EXIT_THRESHOLDS_BREACHED} a threshold breached, 2 bad input (the shards' codes: TALLY_MERGE_*), 1 runtime failure`;

/**
 * Run `tally merge …`.
 * @returns 0, or {@link EXIT_THRESHOLDS_BREACHED}.
 * @throws ConfigError `TALLY_USAGE` for bad flags; ShardError `TALLY_MERGE_*` (exit 2) for shards that do not make one run.
 */
export async function mergeCommand(argv: string[], out: TextOut): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { out: { type: 'string' }, 'allow-incomplete': { type: 'boolean' }, overwrite: { type: 'boolean' }, junit: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}\n${MERGE_USAGE}`, [], { code: 'TALLY_USAGE' });
  }
  const v = parsed.values;
  if (v.help) {
    out.write(`${MERGE_USAGE}\n`);
    return 0;
  }
  if (v.out === undefined || parsed.positionals.length === 0) throw new ConfigError(`tally merge takes shard directories and --out DIR\n${MERGE_USAGE}`, [], { code: 'TALLY_USAGE' });
  const { results } = await mergeRuns({ runDirs: parsed.positionals, outDir: v.out, allowIncomplete: v['allow-incomplete'], overwrite: v.overwrite, stdout: out });
  if (v.junit !== undefined) await writeRunJUnit(v.junit, results);
  return results.thresholds?.ok === false ? EXIT_THRESHOLDS_BREACHED : 0;
}
