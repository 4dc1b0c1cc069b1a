/**
 * `npm run bench -- churn [--duration S] [--settle S] [--connections N] [--threads N]
 * [--nginx-workers N] [--rounds N] [--drained-below N]`: new connections per second at
 * saturation, tally against wrk and autocannon in one run, all against the same nginx
 * (bench/nginx.ts: `keepalive_timeout 0`, so every request is a new TCP connection for
 * every peer).
 *
 * Fair by construction:
 * - Every measurement starts with no TIME_WAIT to search past, because a crowded table
 *   makes connect()'s port search slower and would penalise whoever runs later. As root
 *   (`--netns auto`, the default) each measurement runs in a network namespace of its own,
 *   made for it with its own nginx and removed after it: it starts with none, whatever
 *   else the machine runs (other processes' churn crowds the root namespace's table: on
 *   a shared machine 35,000 TIME_WAIT sockets did not drain in 75 s). Otherwise (`--netns
 *   off`) the bench waits (at most `--settle` seconds; Linux holds TIME_WAIT 60 s) until
 *   fewer than `--drained-below` sockets are in TIME_WAIT; a measurement that cannot start
 *   drained is refused: it gives no figure, and says why.
 * - The order alternates: even rounds run wrk, autocannon, tally; odd rounds the reverse.
 *   Each peer's figure is the median over its rounds (at least 2).
 * - Each peer's CPU is measured beside its rate: user + system seconds from /proc (the
 *   peer is a child process; its reaped CPU shows in this process's `cutime` + `cstime`),
 *   per connection nginx accepted.
 * - Each measurement says how quiet the machine was (bench/host-noise.ts): the CPU other
 *   processes used meanwhile, and the load average. A figure taken while others used more
 *   than 0.15 of a core is flagged `noisy`, and the medians say how many noisy rounds they
 *   include: on two shared cores, another process's CPU is taken from the peers.
 *
 * tally runs the closed model (`constant-vus`) with `--connections` VUs, each a request
 * in flight back to back, as wrk's and autocannon's connections are: all three are
 * saturated by construction. Prints one JSON object; compare ratios from the same run.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../core/errors.ts';
import { parseSockstat } from '../host/sockstat.ts';
import { noiseMark, noiseSince, type HostNoise } from './host-noise.ts';
import { nginxPath, startNginx, type BenchNginx } from './nginx.ts';
import { runAutocannon, runTally, runWrk, tallyLoad, wrkPath, type PeerPlace, type PeerResult } from './peers.ts';
import { runTool } from '../lab/netns.ts';

/** Flags of the churn bench. */
export interface ChurnBenchOptions {
  durationS: number;
  /** Most seconds to wait for TIME_WAIT to drain before each measurement. */
  settleS: number;
  /** Connections in flight for every peer. */
  connections: number;
  /** wrk threads, autocannon workers and tally workers. */
  threads: number;
  nginxWorkers: number;
  /** Rounds; the order alternates between rounds. */
  rounds: number;
  /** A measurement starts only with fewer TIME_WAIT sockets than this. */
  drainedBelow: number;
  /** `auto`: a fresh network namespace per measurement when root; `off`: the shared one, drained. */
  netns: 'auto' | 'off';
}

const USAGE = 'usage: npm run bench -- churn [--duration S] [--settle S] [--connections N] [--threads N] [--nginx-workers N] [--rounds N] [--drained-below N] [--netns auto|off]';

/** Parse the bench flags. @throws ConfigError `TALLY_USAGE`. */
export function parseChurnFlags(argv: string[]): ChurnBenchOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        duration: { type: 'string', default: '10' },
        settle: { type: 'string', default: '75' },
        connections: { type: 'string', default: '64' },
        threads: { type: 'string', default: '2' },
        'nginx-workers': { type: 'string', default: '1' },
        rounds: { type: 'string', default: '2' },
        'drained-below': { type: 'string', default: '200' },
        netns: { type: 'string', default: 'auto' },
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
    rounds: int('rounds', values.rounds, 2, 20),
    drainedBelow: int('drained-below', values['drained-below'], 1, 1_000_000),
    netns: values.netns === 'off' ? 'off' : values.netns === 'auto' ? 'auto' : (() => {
      throw new ConfigError(`--netns must be auto or off\n${USAGE}`, [{ pointer: '/netns', message: 'must be auto or off' }], { code: 'TALLY_USAGE' });
    })(),
  };
}

/** The peers, in round 0's order. */
export const PEERS = ['wrk', 'autocannon', 'tally'] as const;
/** A peer's name. */
export type PeerName = (typeof PEERS)[number];

/** The order of round `round`: as listed on even rounds, reversed on odd ones. */
export function roundOrder(round: number): PeerName[] {
  return round % 2 === 0 ? [...PEERS] : [...PEERS].reverse();
}

/** The median of some numbers (the mean of the middle two for an even count); undefined for none. */
export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function timeWait(): number {
  return parseSockstat(readFileSync('/proc/net/sockstat', 'utf8')).TCP?.tw ?? 0;
}

/** Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`). */
function clockTicksPerSecond(): number {
  const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
}

/**
 * CPU seconds (user + system) of this process's reaped children, from /proc/self/stat
 * fields 16 and 17 (`cutime`, `cstime`).
 * @see https://man7.org/linux/man-pages/man5/proc_pid_stat.5.html
 */
export function childCpuSeconds(statText: string, ticksPerSecond: number): number {
  // The command name (field 2) may hold spaces; the fields after it start past its ')'.
  const fields = statText.slice(statText.lastIndexOf(')') + 2).trim().split(/\s+/);
  return (Number(fields[13]) + Number(fields[14])) / ticksPerSecond;
}

/** Wait until fewer than `below` sockets are in TIME_WAIT, or `maxS` passed. */
async function drainTimeWait(below: number, maxS: number): Promise<{ drained: boolean; timeWait: number; waitedS: number }> {
  const startMs = Date.now();
  while (timeWait() >= below && Date.now() - startMs < maxS * 1000) await new Promise((r) => setTimeout(r, 1000));
  const left = timeWait();
  return { drained: left < below, timeWait: left, waitedS: Math.round((Date.now() - startMs) / 100) / 10 };
}

/** One peer's measurement in one round. */
interface Measured {
  round: number;
  /** The peer's own count of completed requests per second, each on a new connection; undefined when refused. */
  connPerSecond?: number;
  /** Connections nginx accepted per second during the peer's run (the server-side check). */
  serverAcceptsPerSecond?: number;
  /** Requests nginx answered per accepted connection (1 means a new connection per request). */
  requestsPerConnection?: number;
  /** The peer's CPU (user + system) per connection nginx accepted, in µs. */
  cpuUsPerConnection?: number;
  cpuSeconds?: number;
  timeWaitAtStart: number;
  drainWaitS: number;
  /** Why no figure was taken. */
  refused?: string;
  /** How quiet the machine was while the peer ran. */
  hostNoise?: HostNoise;
  detail?: Record<string, unknown>;
}

/** A peer, given its target URL and where to run. */
type Peer = (url: string, place: PeerPlace) => Promise<PeerResult>;

/** Run one peer from a drained TIME_WAIT table, against the shared nginx. */
async function measureShared(nginx: BenchNginx, o: ChurnBenchOptions, round: number, ticks: number, peer: Peer): Promise<Measured> {
  const drain = await drainTimeWait(o.drainedBelow, o.settleS);
  if (!drain.drained) {
    return { round, timeWaitAtStart: drain.timeWait, drainWaitS: drain.waitedS, refused: `TIME_WAIT did not drain below ${o.drainedBelow} within ${o.settleS} s (${drain.timeWait} left): the figure would be unfair` };
  }
  return measure(nginx, o, round, ticks, () => peer(`http://127.0.0.1:${nginx.port}/`, {}), { timeWait: drain.timeWait, waitedS: drain.waitedS });
}

/** Run one peer in a network namespace made for it, against an nginx of its own there; both are gone after. */
async function measureInFreshNamespace(o: ChurnBenchOptions, round: number, ticks: number, seq: number, peer: Peer): Promise<Measured> {
  const netns = `tally-churn-${process.pid % 100_000}-${seq}`;
  await runTool(['ip', 'netns', 'add', netns], { what: 'churn bench namespace' });
  try {
    await runTool(['ip', '-n', netns, 'link', 'set', 'lo', 'up']);
    const nginx = await startNginx(o.nginxWorkers, { netns, host: '127.0.0.1', port: 8080 });
    try {
      return await measure(nginx, o, round, ticks, () => peer('http://127.0.0.1:8080/', { netns }), { timeWait: 0, waitedS: 0 });
    } finally {
      await nginx.stop();
    }
  } finally {
    await runTool(['ip', 'netns', 'del', netns]).catch(() => {});
  }
}

/** Measure one peer against `nginx`; its counts are rated over `durationS`, the load time every peer is given. */
async function measure(nginx: BenchNginx, o: ChurnBenchOptions, round: number, ticks: number, peer: () => Promise<PeerResult>, drain: { timeWait: number; waitedS: number }): Promise<Measured> {
  const before = await nginx.counters();
  // The peer's CPU alone: read inside the counters' reads (in a namespace they run a child process of their own).
  const cpuBefore = childCpuSeconds(readFileSync('/proc/self/stat', 'utf8'), ticks);
  const mark = noiseMark();
  const result = await peer();
  const hostNoise = noiseSince(mark);
  const cpuSeconds = childCpuSeconds(readFileSync('/proc/self/stat', 'utf8'), ticks) - cpuBefore;
  const after = await nginx.counters();
  const accepts = after.accepts - before.accepts - 1; // less our own stub_status request
  const requests = after.requests - before.requests - 1;
  return {
    round,
    connPerSecond: result.connPerSecond,
    serverAcceptsPerSecond: Math.round(accepts / o.durationS),
    requestsPerConnection: accepts > 0 ? Math.round((requests / accepts) * 1000) / 1000 : 0,
    cpuSeconds: Math.round(cpuSeconds * 100) / 100,
    cpuUsPerConnection: accepts > 0 ? Math.round((cpuSeconds / accepts) * 1e7) / 10 : undefined,
    timeWaitAtStart: drain.timeWait,
    drainWaitS: drain.waitedS,
    hostNoise,
    detail: result.detail,
  };
}

const ratio = (a: number | undefined, b: number | undefined): number | null => (a !== undefined && b !== undefined && b > 0 ? Math.round((a / b) * 1000) / 1000 : null);

/** A peer's rounds and their medians. */
function summarise(rounds: Measured[]): Record<string, unknown> {
  const valid = rounds.filter((r) => r.refused === undefined);
  const pick = (f: (r: Measured) => number | undefined): number[] => valid.map(f).filter((v): v is number => v !== undefined);
  return {
    connPerSecond: median(pick((r) => r.connPerSecond)) ?? null,
    serverAcceptsPerSecond: median(pick((r) => r.serverAcceptsPerSecond)) ?? null,
    cpuUsPerConnection: median(pick((r) => r.cpuUsPerConnection)) ?? null,
    validRounds: valid.length,
    noisyRounds: valid.filter((r) => r.hostNoise?.noisy === true).length,
    rounds,
  };
}

/**
 * Run the churn bench and return the JSON object it prints.
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` when nginx or wrk is missing or a peer fails.
 */
export async function churnBench(argv: string[]): Promise<Record<string, unknown>> {
  const o = parseChurnFlags(argv);
  await Promise.all([nginxPath(), wrkPath()]);
  const ticks = clockTicksPerSecond();
  const dir = await mkdtemp(join(tmpdir(), 'tally-bench-churn-'));
  const fresh = o.netns === 'auto' && process.geteuid?.() === 0;
  const shared = fresh ? undefined : await startNginx(o.nginxWorkers);
  try {
    const run: Record<PeerName, Peer> = {
      wrk: (url, place) => runWrk(url, o.threads, o.connections, o.durationS, place),
      autocannon: (url, place) => runAutocannon(url, o.threads, o.connections, o.durationS, place),
      tally: (url, place) => runTally(dir, tallyLoad(url, o.connections, o.threads), o.durationS, place),
    };
    const measured: Record<PeerName, Measured[]> = { wrk: [], autocannon: [], tally: [] };
    const orders: PeerName[][] = [];
    let seq = 0;
    for (let round = 0; round < o.rounds; round++) {
      orders.push(roundOrder(round));
      for (const peer of roundOrder(round)) {
        measured[peer].push(shared === undefined ? await measureInFreshNamespace(o, round, ticks, seq++, run[peer]) : await measureShared(shared, o, round, ticks, run[peer]));
      }
    }
    const peers = Object.fromEntries(PEERS.map((p) => [p, summarise(measured[p])])) as Record<PeerName, { connPerSecond: number | null; cpuUsPerConnection: number | null }>;
    const version = execFileSync(await nginxPath(), ['-v'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim() || 'unknown';
    const refused = PEERS.flatMap((p) => measured[p].filter((m) => m.refused !== undefined).map((m) => `${p} round ${m.round}: ${m.refused}`));
    const noisy = PEERS.flatMap((p) => measured[p].filter((m) => m.hostNoise?.noisy === true).map((m) => `${p} round ${m.round}: other processes used ${m.hostNoise!.foreignCores} cores (load average ${m.hostNoise!.loadAverage[0]})`));
    const tallyDuringLoad = median(measured.tally.flatMap((m) => (typeof m.detail?.cpuUsPerConnectionDuringLoad === 'number' ? [m.detail.cpuUsPerConnectionDuringLoad] : [])));
    return {
      peers: { ...peers, tally: { ...peers.tally, executor: 'constant-vus', vus: o.connections, cpuUsPerConnectionDuringLoad: tallyDuringLoad ?? null } },
      ratioToWrk: ratio(peers.tally.connPerSecond ?? undefined, peers.wrk.connPerSecond ?? undefined),
      ratioToAutocannon: ratio(peers.tally.connPerSecond ?? undefined, peers.autocannon.connPerSecond ?? undefined),
      cpuPerConnectionRatioToWrk: ratio(peers.tally.cpuUsPerConnection ?? undefined, peers.wrk.cpuUsPerConnection ?? undefined),
      order: orders,
      refused,
      noisy,
      quiet: noisy.length === 0,
      durationS: o.durationS,
      connections: o.connections,
      threads: o.threads,
      cpuCount: availableParallelism(),
      nginx: { version, workerProcesses: o.nginxWorkers, keepaliveTimeout: 0, body: 'ok\n' },
      isolation: fresh ? 'a fresh network namespace per measurement (no TIME_WAIT at its start)' : `the shared namespace, TIME_WAIT drained below ${o.drainedBelow} first`,
      notes: [
        'connPerSecond is each peer\'s own count (wrk Requests/sec, autocannon requests.average, tally summary.load.connectionsPerSecond), the median over its rounds; serverAcceptsPerSecond is nginx\'s stub_status accepts during the peer\'s run divided by the load duration, and requestsPerConnection ≈ 1 shows every request had its own connection.',
        'cpuUsPerConnection is the peer process\'s user + system CPU (its threads included, nginx excluded) per connection nginx accepted; for tally it includes the process\'s start (module loading, thread warm-up): cpuUsPerConnectionDuringLoad is its own count over the load alone (results.json generator.cpuRatio).',
        'noisy lists the measurements during which other processes used more than 0.15 of a core: those figures are not the peers\' alone; re-measure on a quiet machine (quiet: true).',
        fresh
          ? 'every measurement ran in a network namespace of its own, with its own nginx, starting with no TIME_WAIT sockets; the order alternates between rounds.'
          : `every measurement started with fewer than ${o.drainedBelow} TIME_WAIT sockets, or was refused; the order alternates between rounds.`,
        `tally runs constant-vus with ${o.connections} VUs (closed model, like wrk -c${o.connections} and autocannon -c${o.connections}), a new connection per request.`,
        'nginx, the peers and the bench share the machine\'s cores; figures are noisy on a busy machine: re-measure on a quiet one.',
      ],
    };
  } finally {
    await shared?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
