/**
 * Files tally writes on this host: every whole file (results.json, summary.md, plan.json,
 * ledger.bin, reconcile reports, the lab's state) goes through {@link writeFileAtomic}, so
 * a reader never sees half a file and a failed write (a full disk) leaves nothing behind.
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { errnoCodeOf, errnoDetails, IoError } from '../core/errors.ts';

/**
 * The error of a failed write to `path`, naming it (not its temporary file): an
 * {@link IoError} with the errno, the syscall and `path` in its details.
 */
export function writeFailure(path: string, cause: unknown): IoError {
  const errno = errnoCodeOf(cause);
  const why = errno === 'ENOSPC' ? 'no space left on the device' : errno === 'EROFS' ? 'read-only filesystem' : (errno ?? (cause as Error)?.message ?? String(cause));
  return new IoError(`cannot write ${path}: ${why}`, { details: { ...errnoDetails(cause), path }, cause });
}

/**
 * Write `data` to `path` atomically: into a temporary file beside it, then renamed over it.
 * On failure (ENOSPC, EACCES, …) the temporary file is removed; `path` keeps its previous
 * content.
 * @param mode file mode for a new file (default 0o644 less the umask).
 * @throws IoError `TALLY_IO_FAILED` naming `path`, with the fs error (`code` ENOSPC, EACCES, …) as its cause.
 * @see https://man7.org/linux/man-pages/man2/rename.2.html (atomic replacement)
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode?: number): Promise<void> {
  const temp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(temp, data, mode === undefined ? undefined : { mode });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => {});
    throw writeFailure(path, error);
  }
}

/** {@link writeFileAtomic} of a value as indented JSON with a final newline. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * {@link writeFileAtomic}, synchronously: for the last words of a process that is about to
 * exit (a second Ctrl-C), when nothing asynchronous will run again.
 * @throws IoError `TALLY_IO_FAILED` naming `path`.
 */
export function writeFileAtomicSync(path: string, data: string | Uint8Array): void {
  const temp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(temp, data);
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw writeFailure(path, error);
  }
}
