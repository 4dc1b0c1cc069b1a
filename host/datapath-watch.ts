/**
 * Datapath counters around and during a run: a sampler for this network namespace, or
 * for another one (the lab's node namespace, where nftables DNATs and conntrack tracks
 * the Service traffic), and the per-interval subset that goes into intervals.ndjson.
 *
 * Another namespace is read by a small child process started with `ip netns exec`: the
 * conntrack sysctls (`/proc/sys/net/netfilter/…`) always show the reader's own namespace,
 * so reading `/proc/<pid>/net` from here would not be enough.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { CollectorError } from '../core/errors.ts';
import { sampleDatapathCounters, type DatapathSample } from './datapath-sample.ts';
import { deltaCounters, type DatapathDelta } from './datapath-delta.ts';

/** Counters (deltas per interval) and gauges (values at the interval's end) written to each interval line. */
export const INTERVAL_COUNTER_KEYS = [
  'conntrack.insert_failed',
  'conntrack.drop',
  'conntrack.early_drop',
  'conntrack.search_restart',
  'conntrack.invalid',
  'snmp.Tcp.ActiveOpens',
  'snmp.Tcp.AttemptFails',
  'snmp.Tcp.EstabResets',
  'snmp.Tcp.RetransSegs',
  'netstat.TcpExt.ListenOverflows',
  'netstat.TcpExt.ListenDrops',
  'netstat.TcpExt.TCPSynRetrans',
  'netstat.TcpExt.TW',
] as const;
export const INTERVAL_GAUGE_KEYS = ['conntrack.count', 'conntrack.max', 'sockstat.TCP.tw', 'sockstat.TCP.inuse'] as const;

/** A source of datapath samples. */
export interface DatapathSampler {
  /** Where the samples come from: `self` or `netns:<name>`. */
  readonly source: string;
  sample(): Promise<DatapathSample>;
  close(): Promise<void>;
}

/**
 * The per-interval subset of a delta: counter deltas and end-of-interval gauge values.
 * @returns `{ key: number }`; keys the kernel does not have are absent.
 */
export function intervalDatapath(delta: DatapathDelta): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of INTERVAL_COUNTER_KEYS) {
    const c = delta.counters[k];
    if (c !== undefined && c.delta !== null) out[k] = c.delta;
  }
  for (const k of INTERVAL_GAUGE_KEYS) {
    const g = delta.gauges[k];
    if (g !== undefined) out[k] = g.after;
  }
  return out;
}

/** Sampler of this process's own network namespace. */
export function selfSampler(root = '/proc'): DatapathSampler {
  return { source: 'self', sample: () => sampleDatapathCounters(root), close: async () => {} };
}

/** Child program: print one JSON sample per line read on stdin. */
const CHILD = `
import { sampleDatapathCounters } from ${JSON.stringify(new URL('./datapath-sample.ts', import.meta.url).href)};
import { createInterface } from 'node:readline';
for await (const _ of createInterface({ input: process.stdin })) {
  try { process.stdout.write(JSON.stringify(await sampleDatapathCounters('/proc')) + '\\n'); }
  catch (err) { process.stdout.write(JSON.stringify({ error: String(err && err.message || err) }) + '\\n'); }
}
`;

/**
 * Sampler of another network namespace, through a child process inside it.
 * @param namespace a named network namespace (`ip netns list`).
 * @param nodePath the Node binary (this one by default).
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` when the child cannot start or answer.
 */
export async function netnsSampler(namespace: string, nodePath = process.execPath): Promise<DatapathSampler> {
  const child: ChildProcessWithoutNullStreams = spawn('ip', ['netns', 'exec', namespace, nodePath, '--input-type=module', '-e', CHILD], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const lines = createInterface({ input: child.stdout });
  const waiting: ((line: string | Error) => void)[] = [];
  lines.on('line', (line) => waiting.shift()?.(line));
  child.once('exit', (code) => {
    for (const w of waiting.splice(0)) w(new CollectorError(`datapath sampler in ${namespace} exited (${code}): ${stderr.trim()}`));
  });
  child.once('error', (err) => {
    for (const w of waiting.splice(0)) w(new CollectorError(`cannot start the datapath sampler in ${namespace}: ${err.message}`, { cause: err }));
  });
  const sampler: DatapathSampler = {
    source: `netns:${namespace}`,
    sample: () =>
      new Promise<DatapathSample>((resolve, reject) => {
        if (child.exitCode !== null) {
          reject(new CollectorError(`datapath sampler in ${namespace} has exited: ${stderr.trim()}`));
          return;
        }
        const timer = setTimeout(() => reject(new CollectorError(`datapath sampler in ${namespace} did not answer within 5 s`)), 5000);
        waiting.push((line) => {
          clearTimeout(timer);
          if (line instanceof Error) return reject(line);
          const parsed = JSON.parse(line) as DatapathSample | { error: string };
          if ('error' in parsed) reject(new CollectorError(`datapath sampler in ${namespace}: ${parsed.error}`));
          else resolve(parsed);
        });
        child.stdin.write('\n');
      }),
    close: async () => {
      child.stdin.end();
      if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
    },
  };
  await sampler.sample(); // fail now, before any traffic, if the namespace is wrong
  return sampler;
}

/** Before/after samples and the running per-interval deltas of one sampler. */
export class DatapathWatch {
  readonly sampler: DatapathSampler;
  before: DatapathSample | undefined;
  #last: DatapathSample | undefined;
  after: DatapathSample | undefined;

  constructor(sampler: DatapathSampler) {
    this.sampler = sampler;
  }

  /** Take the before-run sample. */
  async start(): Promise<void> {
    this.before = await this.sampler.sample();
    this.#last = this.before;
  }

  /** Sample now and return the interval subset since the previous sample. */
  async interval(): Promise<Record<string, number>> {
    const s = await this.sampler.sample();
    const d = deltaCounters(this.#last!, s);
    this.#last = s;
    return intervalDatapath(d);
  }

  /**
   * The delta from the before-run sample to the latest interval sample, without sampling
   * again: what live threshold checks judge by while the run goes. Undefined before the
   * first sample.
   */
  sinceStart(): DatapathDelta | undefined {
    return this.before === undefined || this.#last === undefined ? undefined : deltaCounters(this.before, this.#last);
  }

  /** Take the after-run sample and return the whole run's delta. */
  async finish(): Promise<DatapathDelta> {
    this.after = await this.sampler.sample();
    return deltaCounters(this.before!, this.after);
  }
}
