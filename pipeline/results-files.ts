/**
 * The files a run ends with: results.json (validated, written atomically), summary.md, and
 * the same summary on the terminal.
 */
import { join } from 'node:path';
import type { TextOut } from '../core/text-out.ts';
import { writeFileAtomic, writeJsonAtomic } from '../host/files.ts';
import { renderMarkdown, renderTerminal } from '../reports/render.ts';
import type { Results } from '../reports/results.ts';

/** results.json's name in a run directory. */
export const RESULTS_FILE = 'results.json';
/** summary.md's name in a run directory. */
export const SUMMARY_FILE = 'summary.md';

/** Rewrite results.json (a checkpoint or the final one). */
export async function writeResultsJson(outDir: string, results: Results): Promise<void> {
  await writeJsonAtomic(join(outDir, RESULTS_FILE), results);
}

/**
 * Write the final results.json and summary.md, and print the summary and where it went.
 * @throws the fs error when a file cannot be written.
 */
export async function writeFinalResults(outDir: string, results: Results, out: TextOut): Promise<void> {
  await writeResultsJson(outDir, results);
  await writeFileAtomic(join(outDir, SUMMARY_FILE), renderMarkdown(results));
  out.write(renderTerminal(results));
  out.write(`results: ${join(outDir, RESULTS_FILE)}\n`);
}
