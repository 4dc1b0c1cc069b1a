/**
 * The lab's edge: runs `ip` and `nft` (via `ip netns exec`) with argv arrays through
 * `execFile`, never a shell, and turns failures into CollectorErrors that carry the
 * command and its stderr. Every command has a time limit.
 */
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { constants } from 'node:os';
import { CollectorError } from '../core/errors.ts';
import type { LabStep } from './steps.ts';

/** What a finished command printed. */
export interface CommandOutput {
  stdout: string;
  stderr: string;
}

/** Options of {@link runTool}. */
export interface RunToolOptions {
  /** Written to stdin, then stdin is closed. */
  input?: string;
  /** Kill the command (SIGKILL) after this many ms. Default 10,000. */
  timeoutMs?: number;
  /** What the command does, for the error message. */
  what?: string;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Run one command and collect its output.
 * @param argv program and arguments, e.g. `['ip', 'netns', 'add', 'tally-lab-node']`.
 * @param options stdin text, time limit (ms), description.
 * @returns stdout and stderr as UTF-8 text.
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` when it cannot start, exits non-zero or
 *   times out; `details` = `{ command, exitCode, signal, stderr }`, plus `hint` naming the
 *   Debian package when `ip` or `nft` is missing.
 * @see ip-netns(8), nft(8)
 */
export function runTool(argv: readonly string[], options: RunToolOptions = {}): Promise<CommandOutput> {
  const [file, ...args] = argv;
  const what = options.what ?? argv.join(' ');
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { encoding: 'utf8', timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error === null) return resolve({ stdout, stderr });
        const exitCode = typeof error.code === 'number' ? error.code : null;
        const hint = missingPackageHint(argv, error.code, stderr);
        const reason = firstLine(stderr) || error.message;
        reject(
          new CollectorError(`${what}: \`${argv.join(' ')}\` failed: ${reason}${hint === null ? '' : ` (${hint})`}`, {
            details: { command: [...argv], exitCode, signal: error.signal ?? null, stderr, ...(hint === null ? {} : { hint }) },
            cause: error,
          }),
        );
      },
    );
    // A command that exits before reading its stdin makes the write fail with EPIPE; its exit status tells the story.
    child.stdin?.on('error', () => {});
    child.stdin?.end(options.input ?? '');
  });
}

/**
 * Run steps in order, stopping at the first failure.
 * @param steps from planUpSteps / planDownSteps.
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` from {@link runTool}, naming the step.
 * @see ip(8), nft(8)
 */
export async function runSteps(steps: readonly LabStep[]): Promise<void> {
  for (const step of steps) await runTool(step.argv, { input: step.input, what: step.what });
}

/**
 * Names of every named network namespace (`ip -j netns list`).
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` when `ip` fails or prints something else than JSON.
 * @see ip-netns(8)
 */
export async function listNamespaces(): Promise<string[]> {
  const { stdout } = await runTool(['ip', '-j', 'netns', 'list'], { what: 'list network namespaces' });
  if (stdout.trim() === '') return [];
  try {
    const rows = JSON.parse(stdout) as { name: string }[];
    return rows.map((row) => row.name);
  } catch (cause) {
    throw new CollectorError('`ip -j netns list` printed something other than JSON', { code: 'TALLY_COLLECTOR_BAD_REPLY', details: { stdout }, cause });
  }
}

/**
 * Pids of the processes in a namespace (`ip netns pids`); empty when the namespace is gone.
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` for other failures.
 * @see ip-netns(8) `ip netns pids`
 */
export async function namespacePids(namespace: string): Promise<number[]> {
  try {
    const { stdout } = await runTool(['ip', 'netns', 'pids', namespace], { what: `list processes in ${namespace}` });
    return stdout.split(/\s+/).filter((t) => /^\d+$/.test(t)).map(Number);
  } catch (error) {
    if (isNoSuchNamespace(error)) return [];
    throw error;
  }
}

/**
 * Delete namespaces, tolerating ones already gone (so `down` is idempotent and races are harmless).
 * @param steps from planDownSteps.
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` when a deletion fails for another reason.
 * @see ip-netns(8) `ip netns del`
 */
export async function deleteNamespaces(steps: readonly LabStep[]): Promise<void> {
  for (const step of steps) {
    try {
      await runTool(step.argv, { what: step.what });
    } catch (error) {
      if (!isNoSuchNamespace(error)) throw error;
    }
  }
}

/**
 * Stop processes: SIGTERM, wait up to `graceMs` (polled every 50 ms), then SIGKILL the
 * rest and wait up to 2 s more.
 * @param pids process ids (the caller found them inside the lab's namespaces).
 * @param graceMs ms to wait after SIGTERM.
 * @returns pids still alive after SIGKILL (normally none).
 * @see kill(2); a zombie counts as stopped (see proc(5) `/proc/<pid>/stat` state `Z`).
 */
export async function stopProcesses(pids: readonly number[], graceMs = 3000): Promise<number[]> {
  for (const pid of pids) signal(pid, 'SIGTERM');
  let alive = await waitGone(pids, graceMs);
  for (const pid of alive) signal(pid, 'SIGKILL');
  alive = await waitGone(alive, 2000);
  return alive;
}

/**
 * Start a long-lived process inside a namespace, detached from this one (own session,
 * stdio to a log file, not waited for). `ip netns exec` execs the command in place, so
 * the pid returned is the command's own.
 * @param namespace target namespace.
 * @param argv absolute program path and arguments.
 * @param logFile appended with its stdout and stderr.
 * @returns the pid.
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` when the log cannot be opened or `ip` cannot be spawned.
 * @see ip-netns(8) `ip netns exec`
 */
export async function spawnDetachedInNamespace(namespace: string, argv: readonly string[], logFile: string): Promise<number> {
  const log = await open(logFile, 'a', 0o644).catch((cause: Error) => {
    throw new CollectorError(`cannot open log ${logFile}: ${cause.message}`, { details: { file: logFile }, cause });
  });
  try {
    const command = ['ip', 'netns', 'exec', namespace, ...argv];
    const child = spawn(command[0], command.slice(1), { detached: true, stdio: ['ignore', log.fd, log.fd] });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('spawn', () => resolve(child.pid as number));
      child.once('error', (cause) =>
        reject(new CollectorError(`cannot start \`${command.join(' ')}\`: ${cause.message}`, { details: { command, stderr: '' }, cause })),
      );
    });
    child.unref();
    return pid;
  } finally {
    await log.close();
  }
}

/**
 * Run a command inside a namespace with this process's stdio, and wait for it. While it
 * runs, this process outlives it: SIGINT is ignored here (the terminal already sends it to
 * the whole foreground group, so the command gets it once), SIGTERM and SIGHUP are
 * forwarded, so e.g. a `tally run` inside can write its results before we exit.
 * @param namespace target namespace.
 * @param argv program (looked up on PATH inside the namespace) and arguments.
 * @param env extra environment variables.
 * @returns its exit code, or 128 + signal number when a signal ended it.
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` when `ip` cannot be spawned.
 * @see ip-netns(8) `ip netns exec`
 */
export function execInNamespace(namespace: string, argv: readonly string[], env: Record<string, string>): Promise<number> {
  const command = ['ip', 'netns', 'exec', namespace, ...argv];
  return new Promise((resolve, reject) => {
    const child = spawn(command[0], command.slice(1), { stdio: 'inherit', env: { ...process.env, ...env } });
    const ignore = (): void => {};
    const forward = (name: NodeJS.Signals): void => {
      child.kill(name);
    };
    process.on('SIGINT', ignore);
    process.on('SIGTERM', forward);
    process.on('SIGHUP', forward);
    const done = (): void => {
      process.off('SIGINT', ignore);
      process.off('SIGTERM', forward);
      process.off('SIGHUP', forward);
    };
    child.once('error', (cause) => {
      done();
      reject(new CollectorError(`cannot start \`${command.join(' ')}\`: ${cause.message}`, { details: { command, stderr: '' }, cause }));
    });
    child.once('exit', (code, signalName) => {
      done();
      resolve(code ?? 128 + signalNumber(signalName));
    });
  });
}

function signalNumber(name: NodeJS.Signals | null): number {
  return name === null ? 0 : (constants.signals[name] ?? 0);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // ESRCH: already gone.
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie still answers signal 0; it has exited, and how fast init reaps it varies (seconds, in some VMs).
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function waitGone(pids: readonly number[], limitMs: number): Promise<number[]> {
  let alive = pids.filter(isAlive);
  for (let waitedMs = 0; alive.length > 0 && waitedMs < limitMs; waitedMs += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    alive = alive.filter(isAlive);
  }
  return alive;
}

function isNoSuchNamespace(error: unknown): boolean {
  const stderr = ((error as CollectorError).details as { stderr?: string } | undefined)?.stderr ?? '';
  return /No such file or directory|does not exist/i.test(stderr);
}

function missingPackageHint(argv: readonly string[], code: unknown, stderr: string): string | null {
  if (code === 'ENOENT' && argv[0] === 'ip') return 'install the Debian package iproute2';
  if (/exec of "nft" failed/.test(stderr)) return 'install the Debian package nftables';
  return null;
}

function firstLine(text: string): string {
  return text.split('\n').find((line) => line.trim() !== '')?.trim() ?? '';
}
