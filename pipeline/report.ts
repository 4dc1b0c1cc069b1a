/**
 * `tally report <run-dir>`: render a finished (or stopped) run again from its saved
 * results.json, without running anything: the terminal summary, summary.md and the JUnit
 * XML (default `<run-dir>/junit.xml`). Also the JUnit writer behind `tally run --junit`.
 */
import { join } from 'node:path';
import type { TextOut } from '../core/text-out.ts';
import { writeFileAtomic } from '../host/files.ts';
import { runJUnit } from '../reports/junit.ts';
import { renderMarkdown, renderTerminal } from '../reports/render.ts';
import type { Results } from '../reports/results.ts';
import { readRunResults } from './compare.ts';
import { SUMMARY_FILE } from './results-files.ts';

/** The JUnit file `tally report` writes into a run directory by default. */
export const JUNIT_FILE = 'junit.xml';

/** Write a run's JUnit XML. @throws the fs error when it cannot be written. */
export async function writeRunJUnit(path: string, results: Results): Promise<void> {
  await writeFileAtomic(path, runJUnit(results));
}

/**
 * Re-render a run directory.
 * @returns the results it rendered and where the JUnit XML went.
 * @throws ConfigError (exit 2) for a directory without a valid results.json.
 */
export async function reportRun(o: { runDir: string; junitPath?: string; stdout: TextOut }): Promise<{ results: Results; junitPath: string }> {
  const results = await readRunResults(o.runDir);
  const junitPath = o.junitPath ?? join(o.runDir, JUNIT_FILE);
  await writeFileAtomic(join(o.runDir, SUMMARY_FILE), renderMarkdown(results));
  await writeRunJUnit(junitPath, results);
  o.stdout.write(renderTerminal(results));
  o.stdout.write(`summary: ${join(o.runDir, SUMMARY_FILE)}\njunit: ${junitPath}\n`);
  return { results, junitPath };
}
