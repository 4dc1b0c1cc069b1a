/**
 * `npm run bench -- churn [--duration S] [--settle S] [--connections N] [--threads N]
 * [--nginx-workers N]`: new connections per second at saturation, tally against wrk and
 * autocannon in one run, all against the same nginx (bench/nginx.ts: `keepalive_timeout 0`,
 * so every request is a new TCP connection for every peer).
 *
 * Order: wrk, autocannon, tally. tally runs the closed model (`constant-vus`) with
 * `--connections` VUs, each a request in flight back to back, as wrk's and autocannon's
 * connections are: all three are saturated by construction. Between peers the bench waits until the TIME_WAIT
 * sockets of the previous peer have drained (at most `--settle` seconds, default 65: Linux
 * holds TIME_WAIT 60 s), because a crowded TIME_WAIT table makes connect()'s port search
 * slower and would penalise whoever runs later.
 *
 * Prints one JSON object. Figures on a shared or busy machine are noisy; compare ratios
 * from the same run, and re-measure on a quiet machine.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../core/errors.ts';
import { parseSockstat } from '../host/sockstat.ts';
import { NGINX_PATH, startNginx, type BenchNginx } from './nginx.ts';
import { requireTools, runAutocannon, runTally, runWrk, tallyLoad, type PeerResult } from './peers.ts';

/** Flags of the churn bench. */
export interface ChurnBenchOptions {
  durationS: number;
  /** Most seconds to wait for TIME_WAIT to drain between peers. */
  settleS: number;
  /** Connections in flight for every peer. */
  connections: number;
  /** wrk threads, autocannon workers and tally workers. */
  threads: number;
  nginxWorkers: number;
}

const USAGE = 'usage: npm run bench -- churn [--duration S] [--settle S] [--connections N] [--threads N] [--nginx-workers N]';

/** Parse the bench flags. @throws ConfigError `TALLY_USAGE`. */
export function parseChurnFlags(argv: string[]): ChurnBenchOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        duration: { type: 'string', default: '10' },
        settle: { type: 'string', default: '65' },
        connections: { type: 'string', default: '64' },
        threads: { type: 'string', default: '2' },
        'nginx-workers': { type: 'string', default: '1' },
      },
    }));
  } catch (cause) {
    throw new ConfigError(`${(cause as Error).message}\n${USAGE}`, [], { code: 'TALLY_USAGE', cause });
  }
  const int = (name: string, text: string, min: number, max: number): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`--${name} must be an integer in ${min}…${max}\n${USAGE}`, [{ pointer: `/${name}`, message: `must be an integer in ${min}…${max}` }], { code: 'TALLY_USAGE' });
    return n;
  };
  return {
    durationS: int('duration', values.duration, 1, 3600),
    settleS: int('settle', values.settle, 0, 600),
    connections: int('connections', values.connections, 1, 10_000),
    threads: int('threads', values.threads, 1, 64),
    nginxWorkers: int('nginx-workers', values['nginx-workers'], 1, 64),
  };
}

function timeWait(): number {
  return parseSockstat(readFileSync('/proc/net/sockstat', 'utf8')).TCP?.tw ?? 0;
}

/** Wait until TIME_WAIT is back near `baseline` or `maxS` passed; returns the count left. */
async function settle(baseline: number, maxS: number): Promise<number> {
  const until = Date.now() + maxS * 1000;
  await new Promise((r) => setTimeout(r, Math.min(2000, maxS * 1000)));
  while (Date.now() < until && timeWait() > baseline + 1000) await new Promise((r) => setTimeout(r, 1000));
  return timeWait();
}

interface Measured extends PeerResult {
  /** Connections nginx accepted per second during the peer's run (server-side check). */
  serverAcceptsPerSecond: number;
  /** Requests nginx answered per accepted connection (1 means a new connection per request). */
  requestsPerConnection: number;
  timeWaitAtStart: number;
}

/** Run one peer; nginx's counts are rated over `durationS`, the load time every peer is given (tally's start-up and wind-down make no connections). */
async function measure(nginx: BenchNginx, durationS: number, peer: () => Promise<PeerResult>): Promise<Measured> {
  const timeWaitAtStart = timeWait();
  const before = await nginx.counters();
  const result = await peer();
  const seconds = durationS;
  const after = await nginx.counters();
  const accepts = after.accepts - before.accepts - 1; // less our own stub_status request
  const requests = after.requests - before.requests - 1;
  return {
    ...result,
    serverAcceptsPerSecond: Math.round(accepts / seconds),
    requestsPerConnection: accepts > 0 ? Math.round((requests / accepts) * 1000) / 1000 : 0,
    timeWaitAtStart,
  };
}

const ratio = (a: number, b: number): number => (b > 0 ? Math.round((a / b) * 1000) / 1000 : 0);

/**
 * Run the churn bench and return the JSON object it prints.
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` when nginx or wrk is missing or a peer fails.
 */
export async function churnBench(argv: string[]): Promise<Record<string, unknown>> {
  const o = parseChurnFlags(argv);
  requireTools(NGINX_PATH);
  const dir = await mkdtemp(join(tmpdir(), 'tally-bench-churn-'));
  const nginx = await startNginx(o.nginxWorkers);
  try {
    const url = `http://127.0.0.1:${nginx.port}/`;
    const baseline = timeWait();
    const wrk = await measure(nginx, o.durationS, () => runWrk(url, o.threads, o.connections, o.durationS));
    await settle(baseline, o.settleS);
    const autocannon = await measure(nginx, o.durationS, () => runAutocannon(url, o.threads, o.connections, o.durationS));
    await settle(baseline, o.settleS);
    const tally = await measure(nginx, o.durationS, () => runTally(dir, tallyLoad(url, o.connections, o.threads), o.durationS));
    const version = execFileSync(NGINX_PATH, ['-v'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim() || 'unknown';
    return {
      tally: { ...tally, executor: 'constant-vus', vus: o.connections },
      wrk,
      autocannon,
      ratioToWrk: ratio(tally.connPerSecond, wrk.connPerSecond),
      ratioToAutocannon: ratio(tally.connPerSecond, autocannon.connPerSecond),
      durationS: o.durationS,
      connections: o.connections,
      threads: o.threads,
      cpuCount: availableParallelism(),
      nginx: { path: NGINX_PATH, workerProcesses: o.nginxWorkers, keepaliveTimeout: 0, body: 'ok\n' },
      notes: [
        'connPerSecond is each peer\'s own count (wrk Requests/sec, autocannon requests.average, tally summary.load.connectionsPerSecond); serverAcceptsPerSecond is nginx\'s stub_status accepts during the peer\'s run divided by the load duration, and requestsPerConnection ≈ 1 shows every request had its own connection.',
        `tally runs constant-vus with ${o.connections} VUs (closed model, like wrk -c${o.connections} and autocannon -c${o.connections}), a new connection per request.`,
        'nginx, the peers and the bench share the machine\'s cores; figures are noisy on a busy machine: re-measure on a quiet one.',
      ],
    };
  } finally {
    await nginx.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
