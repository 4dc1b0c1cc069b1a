/**
 * What every peer launcher shares: a free loopback port, a binary found on PATH or in the
 * peer cache, a child process whose stderr tail is kept for errors, readiness polling,
 * and a stop that signals only the child it started (SIGTERM, then SIGKILL), by its pid.
 *
 * A missing binary is a failure, never a skip: an end-to-end suite that silently skips
 * proves nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { CollectorError } from '../../core/errors.ts';

/** Bytes of a peer's stderr kept for error messages. */
const STDERR_KEEP_BYTES = 8192;

/**
 * A free TCP port on 127.0.0.1 (bound, read, released). The port can be taken again before
 * the peer binds it: launchers retry on "address already in use".
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` when no port can be had.
 */
export async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new CollectorError('could not find a free loopback port');
  return address.port;
}

/**
 * The first executable named `name` among `candidates` (explicit paths, checked first) and
 * the directories of PATH.
 * @returns its path, or undefined.
 */
export async function findExecutable(name: string, candidates: readonly (string | undefined)[] = []): Promise<string | undefined> {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter((d) => d !== '');
  for (const path of [...candidates.filter((c): c is string => c !== undefined && c !== ''), ...dirs.map((d) => join(d, name))]) {
    try {
      await access(path, constants.X_OK);
      return path;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/** Wait for the child to exit, at most `timeoutMs`. @returns whether it exited. */
export async function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  const exited = new Promise<true>((resolve) => child.once('exit', () => resolve(true)));
  // Unreferenced: a pending deadline must not keep node alive after the child has exited.
  return Promise.race([exited, delay(timeoutMs, false as const, { ref: false })]);
}

/** A started peer process. */
export interface PeerProcess {
  child: ChildProcess;
  /** The last {@link STDERR_KEEP_BYTES} bytes of its stderr and stdout. */
  output(): string;
  /** SIGTERM, wait (SIGKILL after `timeoutMs`, default 10000). Only this child is signalled. */
  stop(timeoutMs?: number): Promise<void>;
}

/** Start `binary args…`, keeping the tail of its output. */
export function startPeerProcess(binary: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): PeerProcess {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: options.cwd, env: options.env ?? process.env });
  let output = '';
  const keep = (chunk: string): void => {
    output = (output + chunk).slice(-STDERR_KEEP_BYTES);
  };
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return {
    child,
    output: () => output,
    async stop(timeoutMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      if (!(await waitForExit(child, timeoutMs))) {
        child.kill('SIGKILL');
        await waitForExit(child, timeoutMs);
      }
    },
  };
}

/**
 * Poll `url` until it answers `status` (default 200), the child exits, or `timeoutMs` passes.
 * @returns how the wait ended.
 */
export async function waitReady(url: string, child: ChildProcess, timeoutMs: number, status = 200): Promise<'ready' | 'exited' | 'timeout'> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return 'exited';
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.status === status) return 'ready';
    } catch {
      // Not listening yet.
    }
    await delay(50);
  }
  return 'timeout';
}

/** The last `lines` lines of a peer's output, for an error message. */
export function tail(text: string, lines = 5): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}
