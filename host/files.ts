/**
 * Files tally writes on this host: every whole file (results.json, summary.md, plan.json,
 * ledger.bin, reconcile reports, the lab's state) goes through {@link writeFileAtomic}, so
 * a reader never sees half a file and a failed write leaves nothing behind.
 */
import { rename, rm, writeFile } from 'node:fs/promises';

/**
 * Write `data` to `path` atomically: into a temporary file beside it, then renamed over it.
 * On failure (ENOSPC, EACCES, …) the temporary file is removed and the error is rethrown
 * unchanged; `path` keeps its previous content.
 * @param mode file mode for a new file (default 0o644 less the umask).
 * @throws the underlying fs error (`code` ENOSPC, EACCES, …).
 * @see https://man7.org/linux/man-pages/man2/rename.2.html (atomic replacement)
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode?: number): Promise<void> {
  const temp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(temp, data, mode === undefined ? undefined : { mode });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => {});
    throw error;
  }
}

/** {@link writeFileAtomic} of a value as indented JSON with a final newline. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}
