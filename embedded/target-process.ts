/**
 * `tally target --host H --port P --name NAME [--response-bytes N] [--protocol http1|tcp-crr]
 * [--request-bytes N]`: run a tagged target until SIGTERM or SIGINT. `tally lab up` starts
 * one per backend namespace.
 *
 * - `--protocol http1` (default): the HTTP target of embedded/tagged-target.ts, which names itself
 *   in an `x-tally-backend` response header.
 * - `--protocol tcp-crr`: the echo target of embedded/echo.ts: for every
 *   `--request-bytes` received (default 1) it writes `--response-bytes` back, beginning
 *   with `NAME\n` when that fits, so tcp-crr clients record the backend too.
 *
 * This file is also a process entry point (`node embedded/target-process.ts --host …`): the
 * lab starts backends that way, so a backend loads only the target, not the whole CLI
 * (scenario loader, worker pool, OTLP stack), and starts in a fraction of the time.
 */
import { parseArgs } from 'node:util';
import { ConfigError, exitCodeFor } from '../core/errors.ts';
import type { TextOut } from '../core/text-out.ts';
import { startTaggedTarget } from './tagged-target.ts';
import { startEmbeddedEcho } from './echo.ts';


const USAGE = 'usage: tally target --host ADDRESS --port PORT --name NAME [--response-bytes BYTES] [--protocol http1|tcp-crr] [--request-bytes BYTES]';
// Up to 63: a Kubernetes pod name (k8s/pod.ts names each target pod after itself).
const NAME = /^[A-Za-z0-9._-]{1,63}$/;

/**
 * Parse flags, start the target, print one JSON line `{"event":"listening",host,port,name,pid}`,
 * and serve until `stop` aborts (default: SIGTERM or SIGINT); then close and print
 * `{"event":"closed",requestsServed}`.
 * @param argv arguments after `target`.
 * @param out where the JSON lines go.
 * @param stop aborts to stop serving; when omitted, SIGTERM/SIGINT handlers are installed.
 * @returns exit code 0.
 * @throws ConfigError `TALLY_USAGE` for missing or bad flags; CollectorError
 *   `TALLY_COLLECTOR_FAILED` when it cannot listen.
 * @see embedded/tagged-target.ts startTaggedTarget
 */
export async function targetCommand(argv: string[], out: TextOut, stop?: AbortSignal): Promise<number> {
  const flags = parseTargetFlags(argv);
  const target =
    flags.protocol === 'tcp-crr'
      ? { name: flags.name, ...(await startEmbeddedEcho(flags)) }
      : await startTaggedTarget(flags);
  out.write(`${JSON.stringify({ event: 'listening', host: target.host, port: target.port, name: target.name, protocol: flags.protocol, pid: process.pid })}\n`);
  await new Promise<void>((resolve) => {
    if (stop !== undefined) {
      if (stop.aborted) resolve();
      else stop.addEventListener('abort', () => resolve(), { once: true });
      return;
    }
    const done = (): void => {
      process.off('SIGTERM', done);
      process.off('SIGINT', done);
      resolve();
    };
    process.on('SIGTERM', done);
    process.on('SIGINT', done);
  });
  await target.close();
  out.write(`${JSON.stringify({ event: 'closed', name: target.name, requestsServed: target.requestsServed() })}\n`);
  return 0;
}

/** Parsed target flags. */
interface TargetFlags {
  host: string;
  port: number;
  name: string;
  responseBytes: number;
  protocol: 'http1' | 'tcp-crr';
  requestBytes: number;
}

function parseTargetFlags(argv: string[]): TargetFlags {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        name: { type: 'string' },
        'response-bytes': { type: 'string' },
        protocol: { type: 'string' },
        'request-bytes': { type: 'string' },
      },
    }));
  } catch (cause) {
    throw new ConfigError(`${(cause as Error).message}\n${USAGE}`, [], { code: 'TALLY_USAGE', cause });
  }
  const problems: { pointer: string; message: string }[] = [];
  const port = Number(values.port);
  const responseBytes = values['response-bytes'] === undefined ? 2 : Number(values['response-bytes']);
  if (values.host === undefined || values.host === '') problems.push({ pointer: '/host', message: 'is required' });
  if (!/^\d+$/.test(values.port ?? '') || port > 65535) problems.push({ pointer: '/port', message: 'must be a TCP port, 0…65535' });
  if (!NAME.test(values.name ?? '')) problems.push({ pointer: '/name', message: 'is required, [A-Za-z0-9._-]{1,63}' });
  if (!Number.isInteger(responseBytes) || responseBytes < 0 || responseBytes > 16 * 1024 * 1024) {
    problems.push({ pointer: '/response-bytes', message: 'must be an integer in 0…16777216 (bytes)' });
  }
  const protocol = values.protocol ?? 'http1';
  if (protocol !== 'http1' && protocol !== 'tcp-crr') problems.push({ pointer: '/protocol', message: 'must be http1 or tcp-crr' });
  const requestBytes = values['request-bytes'] === undefined ? 1 : Number(values['request-bytes']);
  if (!Number.isInteger(requestBytes) || requestBytes < 1 || requestBytes > 16 * 1024 * 1024) {
    problems.push({ pointer: '/request-bytes', message: 'must be an integer in 1…16777216 (bytes)' });
  }
  if (problems.length > 0) {
    throw new ConfigError(`bad target flags: ${problems.map((p) => `--${p.pointer.slice(1)} ${p.message}`).join('; ')}\n${USAGE}`, problems, {
      code: 'TALLY_USAGE',
    });
  }
  return { host: values.host as string, port, name: values.name as string, responseBytes, protocol: protocol as TargetFlags['protocol'], requestBytes };
}

if (import.meta.main) {
  targetCommand(process.argv.slice(2), process.stdout).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = exitCodeFor(error);
    },
  );
}
