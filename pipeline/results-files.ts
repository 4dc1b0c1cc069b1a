/**
 * The files a run ends with: results.json (validated, written atomically), summary.md, and
 * the same summary on the terminal (printed first: on a full disk it is what is left).
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { IoError } from '../core/errors.ts';
import type { TextOut } from '../core/text-out.ts';
import { writeFileAtomic, writeFileAtomicSync, writeJsonAtomic } from '../host/files.ts';
import { renderMarkdown, renderTerminal } from '../reports/render.ts';
import type { Results } from '../reports/results.ts';
import { writeRunHtmlReport } from './html-report.ts';

/** results.json's name in a run directory. */
export const RESULTS_FILE = 'results.json';
/** summary.md's name in a run directory. */
export const SUMMARY_FILE = 'summary.md';

/** Rewrite results.json (a checkpoint or the final one). */
export async function writeResultsJson(outDir: string, results: Results): Promise<void> {
  await writeJsonAtomic(join(outDir, RESULTS_FILE), results);
}

/** Rewrite results.json synchronously (the last words before a forced exit). */
export function writeResultsJsonSync(outDir: string, results: Results): void {
  writeFileAtomicSync(join(outDir, RESULTS_FILE), `${JSON.stringify(results, null, 2)}\n`);
}

/**
 * Rewrite results.json when its earlier version (a checkpoint) is in the way on a full
 * disk: an atomic rewrite needs room for both copies at once, so after ENOSPC the old one
 * is removed (it would say the run is still `running`) and the results are written once
 * more, unindented (smaller).
 * @throws IoError naming the file when it still cannot be written (then it is absent, not stale).
 */
async function rewriteOnFullDisk(path: string, results: Results): Promise<void> {
  try {
    await writeJsonAtomic(path, results);
  } catch (error) {
    if (((error as IoError).details as { errno?: string } | undefined)?.errno !== 'ENOSPC') throw error;
    await rm(path, { force: true });
    await writeFileAtomic(path, `${JSON.stringify(results)}\n`);
  }
}

/**
 * Print the summary, then write the final results.json, summary.md and report.html. The
 * figures go to the terminal first, so a full disk cannot lose them.
 * @throws IoError `TALLY_IO_FAILED` naming the file that cannot be written.
 */
export async function writeFinalResults(outDir: string, results: Results, out: TextOut): Promise<void> {
  out.write(renderTerminal(results));
  const path = join(outDir, RESULTS_FILE);
  await rewriteOnFullDisk(path, results);
  await writeFileAtomic(join(outDir, SUMMARY_FILE), renderMarkdown(results));
  out.write(`results: ${path}\n`);
  out.write(`report: ${await writeRunHtmlReport(outDir, results)}\n`);
}
