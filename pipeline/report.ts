/**
 * `tally report <run-dir>`: render a finished (or stopped) run again from its saved
 * results.json, without running anything: the terminal summary, summary.md and the JUnit
 * XML (default `<run-dir>/junit.xml`), and with `--html` report.html (with the directory's
 * intervals.ndjson). Also the JUnit writer behind `tally run --junit`.
 */
import { join } from 'node:path';
import type { TextOut } from '../core/text-out.ts';
import { writeFileAtomic } from '../host/files.ts';
import { runJUnit } from '../reports/junit.ts';
import { renderMarkdown, renderTerminal } from '../reports/render.ts';
import type { Results } from '../reports/results.ts';
import { readRunResults } from './compare.ts';
import { writeRunHtmlReport } from './html-report.ts';
import { SUMMARY_FILE } from './results-files.ts';

/** The JUnit file `tally report` writes into a run directory by default. */
export const JUNIT_FILE = 'junit.xml';

/** Write a run's JUnit XML. @throws the fs error when it cannot be written. */
export async function writeRunJUnit(path: string, results: Results): Promise<void> {
  await writeFileAtomic(path, runJUnit(results));
}

/**
 * Re-render a run directory.
 * @param o.html also write report.html.
 * @returns the results it rendered, where the JUnit XML went, and report.html's path when written.
 * @throws ConfigError (exit 2) for a directory without a valid results.json.
 */
export async function reportRun(o: { runDir: string; junitPath?: string; html?: boolean; stdout: TextOut }): Promise<{ results: Results; junitPath: string; htmlPath?: string }> {
  const results = await readRunResults(o.runDir);
  const junitPath = o.junitPath ?? join(o.runDir, JUNIT_FILE);
  await writeFileAtomic(join(o.runDir, SUMMARY_FILE), renderMarkdown(results));
  await writeRunJUnit(junitPath, results);
  const htmlPath = o.html ? await writeRunHtmlReport(o.runDir, results) : undefined;
  o.stdout.write(renderTerminal(results));
  o.stdout.write(`summary: ${join(o.runDir, SUMMARY_FILE)}\njunit: ${junitPath}\n${htmlPath ? `report: ${htmlPath}\n` : ''}`);
  return { results, junitPath, ...(htmlPath ? { htmlPath } : {}) };
}
