/**
 * The peer cache: where `test/peers/build.sh` puts the peers it builds from their Go modules
 * (an OpenTelemetry Collector, Prometheus 3, Jaeger v2), one folder per peer and version:
 * `${TALLY_PEERS_DIR:-~/.cache/tally-peers}/<name>-<version>/<name>`. The versions come from
 * `versions.json` beside this file, which build.sh reads too.
 *
 * A missing binary is a failure, never a skip: an end-to-end suite that silently skips
 * proves nothing.
 */
import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CollectorError } from '../../core/errors.ts';
import versions from './versions.json' with { type: 'json' };

/** A peer that build.sh builds. */
export type PeerName = 'otelcol' | 'prometheus3' | 'jaeger';

/** The pinned version of each peer, from `test/peers/versions.json` (e.g. `otelcol: '0.165.0'`). */
export const PEER_VERSIONS: Readonly<Record<PeerName, string>> = versions;

/** The peer cache folder: `$TALLY_PEERS_DIR`, else `~/.cache/tally-peers`. */
export function peersDir(): string {
  const fromEnv = process.env.TALLY_PEERS_DIR;
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : join(homedir(), '.cache', 'tally-peers');
}

/**
 * The cached binary of peer `name` at `version` (default: its pinned version).
 * @returns its path, e.g. `~/.cache/tally-peers/otelcol-0.165.0/otelcol`.
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` when it is not there (or not executable):
 * the message says to run `bash test/peers/build.sh`.
 */
export async function peerBinary(name: PeerName, version: string = PEER_VERSIONS[name]): Promise<string> {
  const path = join(peersDir(), `${name}-${version}`, name);
  try {
    await access(path, constants.X_OK);
    return path;
  } catch (cause) {
    throw new CollectorError(`${name} ${version} is not built (no executable ${path}): run "bash test/peers/build.sh ${name}" (TALLY_PEERS_DIR picks the cache folder)`, {
      details: { peer: name, version, binary: path },
      cause,
    });
  }
}

/**
 * Run `binary args…` to completion and return its stdout, for version queries.
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` when it fails or takes over `timeoutMs`.
 */
export async function runPeerCommand(binary: string, args: readonly string[], timeoutMs = 10_000): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(binary, args, { timeout: timeoutMs, encoding: 'utf8' });
    return stdout;
  } catch (cause) {
    throw new CollectorError(`${binary} ${args.join(' ')} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { details: { binary }, cause });
  }
}
