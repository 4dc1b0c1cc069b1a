/**
 * The port budget of one shard pod, forecast at render time: the shard's share of the
 * load (arrivals j ≡ i mod N, maxInFlight split over the shards) against the pod's own
 * network namespace, whose `ip_local_port_range` is the one the render sets. The other
 * settings are those of a new network namespace on a typical node (stated in
 * {@link POD_NAMESPACE_ASSUMED}); a shard re-reads them in its pod before it sends
 * anything (host/preflight.ts), so a node that differs is reported by the run. Pure.
 */
import { newConnectionRatePerSecond } from '../host/preflight.ts';
import { planPortBudget, TCP_TIMEWAIT_LEN_MS, type PortBudget, type PortBudgetHost } from '../scenarios/port-budget.ts';
import { planRun } from '../scenarios/plan.ts';
import type { Scenario } from '../scenarios/types.ts';

/**
 * A pod's network namespace as assumed by the forecast (besides its port range):
 * no reserved ports; `tcp_tw_reuse` 2 (the kernel default: loopback only, so never for a
 * Service VIP); timestamps on; TIME_WAIT 60 s; `tcp_max_tw_buckets` 65,536 (a new
 * namespace gets half the node's established-hash size, which is larger on most nodes);
 * the descriptor limit 524,288 (Node raises its soft limit to the container runtime's hard one).
 */
export const POD_NAMESPACE_ASSUMED: Omit<PortBudgetHost, 'localPortRange'> = {
  reservedPortCount: 0,
  tcpTwReuse: 2,
  tcpTimestamps: true,
  twReuseDelayMs: 1000,
  timeWaitMs: TCP_TIMEWAIT_LEN_MS,
  maxTimeWaitBuckets: 65_536,
  fdSoftLimit: 524_288,
  fdHardLimit: 524_288,
  fdsInUse: 64,
};

/** The forecast: computed (with the budget) or why not, and one line for the Job's annotation. */
export type PodPortBudget = ({ computed: true; newConnectionsPerSecond: number } & PortBudget | { computed: false; reason: string }) & { summary: string };

/** Any whole epoch ms: the forecast does not depend on the start instant. */
const ANY_START_MS = 0;

/**
 * Forecast one shard pod's port and descriptor budget.
 * @param shards N: each shard takes 1/N of the arrivals and of maxInFlight.
 * @param portRange the pod's `ip_local_port_range`.
 */
export function forecastPodPortBudget(scenario: Scenario, shards: number, portRange: { low: number; high: number }): PodPortBudget {
  const load = scenario.load;
  if (load === undefined) return { computed: false, reason: 'the scenario has no load', summary: 'no load' };
  const plan = planRun(scenario, ANY_START_MS, 1, { index: 0, count: shards }).load!;
  const rate = newConnectionRatePerSecond(load, plan);
  if (rate === undefined || rate === 0) {
    const reason = rate === 0 ? 'keep-alive opens connections only up to the pool size' : 'closed-model executors have no planned arrival rate';
    return { computed: false, reason, summary: `not forecast: ${reason}` };
  }
  const maxInFlight = Math.max(1, Math.floor(load.maxInFlight / shards));
  const budget = planPortBudget({ ...POD_NAMESPACE_ASSUMED, localPortRange: portRange }, {
    ratePerSecond: Number.isFinite(rate) ? rate : maxInFlight * 1000,
    durationMs: plan.loadDurationMs,
    maxInFlight,
    closeMode: load.connection.close,
    pairCount: Math.max(1, load.localAddresses?.length ?? 1),
    destinationLoopback: false,
    fdsPerConnection: 1,
  });
  const n = budget.numbers;
  const verdict = budget.ok ? 'ok' : budget.warnings.find((w) => w.code === 'PORT_BUDGET_EXHAUSTED' || w.code === 'PORT_BUDGET_CONNECT_CLIFF' || w.code === 'FD_BUDGET_EXCEEDED')!.code;
  const summary = `${verdict}: per shard pod ${Math.round(rate)} new connections/s, peak ${Math.round(n.portsNeededPeakPerPair)} of ${n.portsPerPair} ports per pair (ip_local_port_range ${portRange.low}-${portRange.high})`;
  return { ...budget, computed: true, newConnectionsPerSecond: rate, summary };
}
