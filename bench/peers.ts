/**
 * The churn benchmark's peers, each run as a child process against the same nginx for the
 * same duration: wrk, autocannon, and tally through its real CLI. Each returns its own
 * figure of completed connections per second; the caller adds nginx's server-side count.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CollectorError } from '../core/errors.ts';
import { findExecutable } from '../test/peers/process.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));

/** What one peer reported about itself. */
export interface PeerResult {
  /** Completed (new-connection) requests per second, by the peer's own count. */
  connPerSecond: number;
  /** Extra figures the peer reports (errors, totals). */
  detail: Record<string, unknown>;
}

/** Where a peer runs: here, or inside a named network namespace (`ip netns exec`, which execs in place: the pid and its CPU are the peer's). */
export interface PeerPlace {
  netns?: string;
}

/** Run a command; resolve stdout; reject with a CollectorError carrying stderr. Bounded by `timeoutMs`. */
function run(program: string, programArgs: string[], timeoutMs: number, place: PeerPlace = {}): Promise<string> {
  const [file, args] = place.netns === undefined ? [program, programArgs] : ['ip', ['netns', 'exec', place.netns, program, ...programArgs]];
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd: REPO, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      if (err !== null) reject(new CollectorError(`${file} ${args.join(' ')} failed: ${err.message}\n${stderr}`.trim(), { cause: err }));
      else resolve(stdout);
    });
  });
}

/**
 * Parse wrk's text summary.
 * @returns Requests/sec, total requests, socket errors and non-2xx responses.
 * @throws CollectorError `TALLY_COLLECTOR_BAD_REPLY` when there is no `Requests/sec:` line.
 */
export function parseWrk(text: string): { requestsPerSecond: number; requests: number; socketErrors: number; non2xx: number } {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text);
  if (rps === null) throw new CollectorError('wrk printed no Requests/sec line', { code: 'TALLY_COLLECTOR_BAD_REPLY', details: { text } });
  const total = /(\d+) requests in/.exec(text);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  return {
    requestsPerSecond: Number(rps[1]),
    requests: total === null ? 0 : Number(total[1]),
    socketErrors: sock === null ? 0 : sock.slice(1).reduce((a, b) => a + Number(b), 0),
    non2xx: non2xx === null ? 0 : Number(non2xx[1]),
  };
}

/**
 * wrk on PATH.
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` when it is not installed.
 */
export async function wrkPath(): Promise<string> {
  const path = await findExecutable('wrk');
  if (path === undefined) throw new CollectorError('wrk not found on PATH: apt-get install wrk');
  return path;
}

/** `wrk -t<threads> -c<connections> -d<N>s -H 'Connection: close'`. */
export async function runWrk(url: string, threads: number, connections: number, durationS: number, place: PeerPlace = {}): Promise<PeerResult> {
  const out = await run(await wrkPath(), [`-t${threads}`, `-c${connections}`, `-d${durationS}s`, '-H', 'Connection: close', url], (durationS + 30) * 1000, place);
  const w = parseWrk(out);
  return { connPerSecond: w.requestsPerSecond, detail: { requests: w.requests, socketErrors: w.socketErrors, non2xx: w.non2xx } };
}

/**
 * autocannon (the devDependency, run with this Node) with `-c <connections> -w <workers>
 * -H 'Connection: close' --json`. autocannon keeps connections alive by default; with
 * `Connection: close` (and nginx's `keepalive_timeout 0`) the server closes after each
 * response and autocannon reconnects, so every request is a new connection — the caller
 * checks that with nginx's accepts counter. (`--reconnectRate 1` would also reconnect, but
 * autocannon 9 then stops counting responses.)
 */
export async function runAutocannon(url: string, workers: number, connections: number, durationS: number, place: PeerPlace = {}): Promise<PeerResult> {
  const cli = join(REPO, 'node_modules', 'autocannon', 'autocannon.js');
  if (!existsSync(cli)) throw new CollectorError(`${cli} not found: autocannon is a devDependency (npm install)`);
  const args = [cli, '-c', String(connections), '-d', String(durationS), '-H', 'Connection: close', '--json'];
  if (workers > 1) args.push('-w', String(workers));
  const out = await run(process.execPath, [...args, url], (durationS + 30) * 1000, place);
  const j = JSON.parse(out) as { requests: { average: number; total: number }; errors: number; timeouts: number; non2xx: number };
  return { connPerSecond: j.requests.average, detail: { requests: j.requests.total, errors: j.errors, timeouts: j.timeouts, non2xx: j.non2xx } };
}

/**
 * tally's load for the bench: the closed model with `vus` VUs, as wrk's `-c` connections
 * and autocannon's `-c` are (each keeps one request in flight, back to back), and a new
 * connection per request (`reuse: never`, client closes with FIN as nginx's peers do).
 */
export function tallyLoad(url: string, vus: number, workers: number): Record<string, unknown> {
  return { executor: 'constant-vus', vus, target: url, workers, connection: { reuse: 'never', close: 'fin' } };
}

/** Render the bench scenario as YAML (JSON is valid YAML). */
export function tallyScenario(load: Record<string, unknown>, durationS: number): string {
  return `# generated by bench/churn.ts\n${JSON.stringify({ name: 'bench-churn', seed: 1, duration: `${durationS}s`, load }, null, 2)}\n`;
}

/** Run `node bin/tally.ts run <scenario> --out <dir>` and read results.json. */
export async function runTally(dir: string, load: Record<string, unknown>, durationS: number, place: PeerPlace = {}): Promise<PeerResult> {
  const scenario = join(dir, 'bench-churn.yaml');
  const outDir = join(dir, 'tally-run');
  await writeFile(scenario, tallyScenario(load, durationS));
  await run(process.execPath, [join(REPO, 'bin', 'tally.ts'), 'run', scenario, '--out', outDir, '--overwrite'], (durationS + 60) * 1000, place);
  const results = JSON.parse(await readFile(join(outDir, 'results.json'), 'utf8')) as {
    summary: { load?: { achievedRatePerSecond: number; connectionsPerSecond: number; completed: number; ok: number; droppedIterations: number; newConnections: number; errors: { total: number }; connectUs?: unknown } };
    generator?: { cpuRatio?: number };
    run?: { elapsedMs?: number };
  };
  const l = results.summary.load;
  if (l === undefined) throw new CollectorError('tally results.json has no summary.load', { code: 'TALLY_COLLECTOR_BAD_REPLY' });
  // tally's own CPU over the load (generator.cpuRatio is a share of all cores over the run), per new connection.
  const g = results.generator;
  const elapsedMs = results.run?.elapsedMs;
  const cpuUsPerConnectionDuringLoad = g?.cpuRatio !== undefined && elapsedMs !== undefined && l.newConnections > 0
    ? Math.round(((g.cpuRatio * elapsedMs * 1000 * availableParallelism()) / l.newConnections) * 10) / 10
    : undefined;
  return {
    connPerSecond: l.connectionsPerSecond,
    detail: { responsesPerSecond: l.achievedRatePerSecond, completed: l.completed, ok: l.ok, errors: l.errors.total, droppedIterations: l.droppedIterations, cpuUsPerConnectionDuringLoad, generator: results.generator },
  };
}
