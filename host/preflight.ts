/**
 * Before any traffic: the port and descriptor budget of a scenario on this host, and
 * the client kernel's SYN retransmit schedule. Shared by `tally plan` and `tally run`.
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { CollectorError } from '../core/errors.ts';
import { CLASSIC_SYN_SCHEDULE, type SynSchedule } from '../core/syn-schedule.ts';
import { planPortBudget, readPortBudgetHost, type PortBudget, type PortBudgetHost } from '../scenarios/port-budget.ts';
import type { LoadPlan } from '../scenarios/plan.ts';
import type { LoadSpec } from '../scenarios/types.ts';

/** The budget, or why none was computed. */
export type PortBudgetReport = (PortBudget & { computed: true; newConnectionsPerSecond: number }) | { computed: false; reason: string };

/** New connections per second at the schedule's peak, from the reuse mode; undefined when it cannot be forecast. */
export function newConnectionRatePerSecond(load: LoadSpec, plan: LoadPlan): number | undefined {
  if (plan.model !== 'open' || plan.peakRatePerSecond === undefined) return undefined;
  // Ports are held for the TIME_WAIT length (60 s), far longer than a burst: what fills them is
  // the bursts' average rate; a burst's own peak is bounded by maxInFlight, which the budget adds.
  const rate = plan.executor === 'burst' ? (plan.ratePerSecond ?? 0) : plan.peakRatePerSecond;
  const perIteration = load.requestsPerIteration;
  const reuse = load.connection.reuse;
  if (reuse === 'never') return rate * perIteration;
  if (reuse === 'per-iteration') return rate;
  if (reuse === 'keep-alive') return 0;
  return (rate * perIteration) / reuse.requestsPerConnection;
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/**
 * The port budget of a load on a host.
 * @param load the scenario's load.
 * @param plan the planned load.
 * @param targetHost the destination host; embedded targets count two descriptors per connection.
 * @param host host settings; read from /proc when omitted.
 * @throws CollectorError when the host's /proc settings cannot be read.
 * @see scenarios/port-budget.ts for the model and its sources.
 */
export async function portBudgetFor(load: LoadSpec, plan: LoadPlan, targetHost: string, embedded: boolean, host?: PortBudgetHost): Promise<PortBudgetReport> {
  const rate = newConnectionRatePerSecond(load, plan);
  if (rate === undefined) return { computed: false, reason: 'closed-model executors have no planned arrival rate; the budget is not forecast' };
  if (rate === 0) return { computed: false, reason: 'keep-alive opens connections only up to the pool size' };
  const settings = host ?? (await readPortBudgetHost());
  const maxInFlight = plan.model === 'open' ? load.maxInFlight : (plan.maxVUs ?? load.maxInFlight);
  const budget = planPortBudget(settings, {
    ratePerSecond: Number.isFinite(rate) ? rate : maxInFlight * 1000,
    durationMs: plan.loadDurationMs,
    maxInFlight,
    closeMode: load.connection.close,
    pairCount: Math.max(1, load.localAddresses?.length ?? 1),
    destinationLoopback: isLoopback(targetHost),
    fdsPerConnection: embedded ? 2 : 1,
  });
  return { ...budget, computed: true, newConnectionsPerSecond: rate };
}

/**
 * The client kernel's SYN retransmit schedule, from `tcp_syn_retries` and (Linux ≥ 6.5)
 * `tcp_syn_linear_timeouts`.
 * @param root the /proc mount.
 * @returns the schedule; the classic one where the sysctls are missing.
 * @throws CollectorError when a sysctl exists but is not an integer.
 * @see Documentation/networking/ip-sysctl.rst tcp_syn_retries, tcp_syn_linear_timeouts
 */
export async function readSynSchedule(root = '/proc'): Promise<SynSchedule> {
  const read = async (name: string): Promise<number | undefined> => {
    const file = `${root}/sys/net/ipv4/${name}`;
    let text: string;
    try {
      text = (await readFile(file, 'utf8')).trim();
    } catch {
      return undefined;
    }
    if (!/^\d+$/.test(text)) throw new CollectorError(`${file}: expected one integer, got ${JSON.stringify(text.slice(0, 40))}`);
    return Number(text);
  };
  const [retries, linear] = await Promise.all([read('tcp_syn_retries'), read('tcp_syn_linear_timeouts')]);
  return { ...CLASSIC_SYN_SCHEDULE, linearTimeouts: linear ?? 0, ...(retries !== undefined ? { synRetries: retries } : {}) };
}
