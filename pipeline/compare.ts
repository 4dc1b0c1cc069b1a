/**
 * `tally compare <baseline>... <candidate>`: read each run directory (results.json and
 * intervals.ndjson), compare the candidate with the baselines (reports/compare-figures.ts,
 * rules in reconcile/compare.ts), and write the JUnit XML and the HTML page when asked.
 * The CLI prints the table, `--json` or `--markdown`, and exits with its regression code
 * when a figure regressed.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.ts';
import { writeFileAtomic } from '../host/files.ts';
import { DEFAULT_COMPARE_OPTIONS, type CompareOptions } from '../reconcile/compare.ts';
import { compareRuns, type Comparison } from '../reports/compare-figures.ts';
import type { CompareRun } from '../reports/compare-inputs.ts';
import { compareJUnit } from '../reports/junit.ts';
import { validateResults, type Results } from '../reports/results.ts';
import { writeCompareHtmlReport } from './html-report.ts';
import { INTERVALS_FILE, readIntervalLines } from './interval-lines.ts';
import { RESULTS_FILE } from './results-files.ts';

export { DEFAULT_COMPARE_OPTIONS };

export { INTERVALS_FILE };

/**
 * Read a run directory's results.json (validated against the results schema).
 * @throws ConfigError `TALLY_CONFIG_UNREADABLE` when it is missing or not JSON, `TALLY_CONFIG_INVALID` when it breaks the schema.
 */
export async function readRunResults(runDir: string): Promise<Results> {
  let results: Results;
  try {
    results = JSON.parse(await readFile(join(runDir, RESULTS_FILE), 'utf8')) as Results;
  } catch (cause) {
    throw new ConfigError(`${runDir} holds no readable ${RESULTS_FILE} (is it a tally run directory?)`, [{ pointer: '', message: `${RESULTS_FILE} is expected` }], { code: 'TALLY_CONFIG_UNREADABLE', cause });
  }
  try {
    validateResults(results);
  } catch (cause) {
    const problems = ((cause as { details?: { problems?: { pointer: string; message: string }[] } }).details?.problems ?? []).slice(0, 20);
    throw new ConfigError(`${join(runDir, RESULTS_FILE)} does not match this tally's results schema`, problems, { cause });
  }
  return results;
}

/** One run directory as compare reads it (a missing intervals.ndjson leaves no per-interval samples). */
export async function readCompareRun(runDir: string): Promise<CompareRun> {
  const results = await readRunResults(runDir);
  return { dir: runDir, results, intervals: await readIntervalLines(runDir) };
}

/** Options of {@link compareRunDirs}. */
export interface CompareDirsOptions {
  baselineDirs: readonly string[];
  candidateDir: string;
  options?: Partial<CompareOptions>;
  /** Write the comparison's JUnit XML here. */
  junitPath?: string;
  /** Write the comparison's HTML page here (verdicts, baselines and candidate overlaid). */
  htmlPath?: string;
}

/**
 * Compare run directories.
 * @throws ConfigError (exit 2) for a directory without a valid results.json, or bad options.
 */
export async function compareRunDirs(o: CompareDirsOptions): Promise<Comparison> {
  const options: CompareOptions = { ...DEFAULT_COMPARE_OPTIONS, ...o.options };
  const bad = Object.entries(options).filter(([k, v]) => !(Number.isFinite(v) && v >= 0 && (k !== 'alpha' || (v > 0 && v < 1))));
  if (bad.length > 0) throw new ConfigError('bad compare options', bad.map(([k]) => ({ pointer: `/${k}`, message: k === 'alpha' ? 'must be between 0 and 1' : 'must be a number ≥ 0' })), { code: 'TALLY_USAGE' });
  const baselines = await Promise.all(o.baselineDirs.map(readCompareRun));
  const candidate = await readCompareRun(o.candidateDir);
  const comparison = compareRuns(baselines, candidate, options);
  if (o.junitPath !== undefined) await writeFileAtomic(o.junitPath, compareJUnit(comparison));
  if (o.htmlPath !== undefined) await writeCompareHtmlReport(o.htmlPath, comparison, baselines, candidate);
  return comparison;
}
