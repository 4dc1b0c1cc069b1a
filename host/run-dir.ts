/**
 * A run directory, claimed before anything is sent: tally refuses a path it could not use
 * whole, instead of failing (or spinning) mid-run.
 *
 * - a path that is a file, or inside a pseudo filesystem (proc, sysfs, cgroup, …), is
 *   refused (exit 2);
 * - a directory that already holds files is refused unless the caller passes `overwrite`
 *   (the CLI's `--overwrite`); then tally's own files of the earlier run are removed first,
 *   so nothing stale is taken for this run's (other files are left alone);
 * - the directory is locked: `.tally.lock` is created exclusively (O_EXCL) and holds the
 *   process id, so a second run (or `tally reconcile`) on the same directory is refused
 *   while the first lives. A lock whose process is gone (a SIGKILLed run) is stale and
 *   taken over;
 * - a directory that cannot be created or written (read-only filesystem, permissions) is
 *   a runtime failure naming the path (exit 1).
 *
 * @see https://man7.org/linux/man-pages/man2/statfs.2.html (f_type magic numbers)
 * @see https://man7.org/linux/man-pages/man2/open.2.html (O_EXCL)
 */
import { mkdir, readdir, readFile, rm, stat, statfs, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ConfigError, errnoCodeOf, errnoDetails, IoError } from '../core/errors.ts';

/** The lock file's name in a run directory. */
export const LOCK_FILE = '.tally.lock';

/** Files a run or `tally reconcile` writes (removed by `overwrite`). */
const RUN_FILE = /^(results\.json|summary\.md|report\.html|intervals\.ndjson|plan\.json|ledger\.bin|shard\.json|reconcile-.*\.json|.*\.tmp-\d+)$/;

/** statfs f_type of filesystems that hold no files of their own: never an output directory. */
const PSEUDO_FILESYSTEMS: ReadonlyMap<number, string> = new Map([
  [0x9fa0, 'proc'], [0x62656572, 'sysfs'], [0x1cd1, 'devpts'], [0x27e0eb, 'cgroup'], [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'], [0x74726163, 'tracefs'], [0x73636673, 'securityfs'], [0x6165676c, 'pstore'],
  [0xcafe4a11, 'bpf'], [0x62656570, 'configfs'], [0x65735543, 'fusectl'], [0xf97cff8c, 'selinuxfs'],
  [0xde5e81e4, 'efivarfs'], [0x42494e4d, 'binfmt_misc'], [0x6e736673, 'nsfs'], [0x19800202, 'mqueue'],
]);

/** A claimed run directory. */
export interface RunDirLock {
  /** The directory. */
  dir: string;
  /** Remove the lock (idempotent). */
  release(): Promise<void>;
}

/** Options of {@link claimRunDir}. */
export interface ClaimOptions {
  /** Accept a directory that holds files (tally's own are removed first). */
  overwrite: boolean;
  /** The flag that named the directory, for errors (default `--out`). */
  flag?: string;
  /** Accept a non-empty directory and keep its files (`tally reconcile` on a run directory). */
  existingRun?: boolean;
}

function usage(flag: string, message: string): ConfigError {
  return new ConfigError(`${flag}: ${message}`, [{ pointer: flag, message }], { code: 'TALLY_USAGE' });
}

function ioFailure(dir: string, what: string, cause: unknown): IoError {
  return new IoError(`cannot ${what} ${dir}: ${errnoCodeOf(cause) ?? (cause as Error).message}`, { details: { ...errnoDetails(cause), path: dir }, cause });
}

/** The nearest path at or above `path` that exists. */
async function nearestExisting(path: string): Promise<string> {
  for (let p = resolve(path); ; p = dirname(p)) {
    try {
      await stat(p);
      return p;
    } catch {
      if (dirname(p) === p) return p;
    }
  }
}

/** Whether process `pid` is alive (signal 0 reaches it, or it exists but is not ours). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoCodeOf(error) === 'EPERM';
  }
}

/** Create the lock exclusively; take over a stale one (its process is gone) once. */
async function lock(dir: string, flag: string): Promise<string> {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(path, `${process.pid}\n`, { flag: 'wx' });
      return path;
    } catch (error) {
      if (errnoCodeOf(error) !== 'EEXIST') throw ioFailure(dir, 'write to', error);
      const pid = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw usage(flag, `${dir} is in use by another tally process (pid ${pid}); give another directory`);
      }
      if (attempt > 0) throw usage(flag, `${dir} is locked (${LOCK_FILE}); give another directory`);
      await rm(path, { force: true });
    }
  }
}

/**
 * Claim `dir` for a run: check it, create it, refuse it when it holds files (unless
 * `overwrite`), and lock it.
 * @throws ConfigError `TALLY_USAGE` (exit 2) for a file, a pseudo filesystem, a non-empty
 * directory without `overwrite`, or a directory another live tally holds.
 * @throws IoError `TALLY_IO_FAILED` (exit 1) when it cannot be created or written.
 */
export async function claimRunDir(dir: string, options: ClaimOptions): Promise<RunDirLock> {
  const flag = options.flag ?? '--out';
  const existing = await nearestExisting(dir);
  const fsType = await statfs(existing).then((s) => PSEUDO_FILESYSTEMS.get(Number(s.type)), () => undefined);
  if (fsType !== undefined) throw usage(flag, `${dir} is on ${fsType}, a pseudo filesystem; give a directory on a real filesystem`);
  const info = await stat(dir).catch(() => undefined);
  if (info !== undefined && !info.isDirectory()) throw usage(flag, `${dir} exists and is not a directory`);
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    if (errnoCodeOf(error) === 'ENOTDIR' || errnoCodeOf(error) === 'EEXIST') throw usage(flag, `${dir} cannot be a directory: a part of its path is a file`);
    throw ioFailure(dir, 'create', error);
  }
  const lockPath = await lock(dir, flag);
  const releaseLock = (): Promise<void> => rm(lockPath, { force: true }).catch(() => {});
  try {
    const entries = (await readdir(dir).catch((error: unknown) => {
      throw ioFailure(dir, 'read', error);
    })).filter((e) => e !== LOCK_FILE);
    if (entries.length > 0 && !options.overwrite && !options.existingRun) {
      throw usage(flag, `${dir} is not empty (${entries.length} entries, e.g. ${entries[0]}); give an empty or new directory, or --overwrite to replace the run files in it`);
    }
    if (options.overwrite) for (const e of entries) if (RUN_FILE.test(e)) await rm(join(dir, e), { force: true });
  } catch (error) {
    await releaseLock();
    throw error;
  }
  let released = false;
  return {
    dir,
    release: async () => {
      if (released) return;
      released = true;
      await releaseLock();
    },
  };
}
