/**
 * The load's embedded stand-in for the system under test, when the scenario names no
 * `load.target`: the HTTP target, or the echo target for tcp-crr. With a target, only its
 * address is worked out. (The embedded OTLP receiver is started by pipeline/telemetry.ts.)
 */
import { startEmbeddedEcho } from '../embedded/echo.ts';
import { startEmbeddedTarget } from '../embedded/target.ts';
import { targetDelays } from '../embedded/target-latency.ts';
import type { Endpoints } from '../scenarios/plan.ts';
import type { Scenario } from '../scenarios/types.ts';

/** The load's destination, and what the stand-in served. */
export interface LoadStandIn {
  target?: Endpoints['target'];
  /** What the embedded stand-in served, for results.json `target`; undefined for an external target. */
  served?: () => object;
  close(): Promise<void>;
}

/**
 * Start the embedded target the scenario needs, if any.
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` when it cannot listen.
 */
export async function startLoadStandIn(scenario: Scenario): Promise<LoadStandIn> {
  const l = scenario.load;
  if (l === undefined) return { close: async () => {} };
  if (l.target === undefined && l.protocol === 'tcp-crr') {
    const echo = await startEmbeddedEcho({ requestBytes: l.tcpCrr.requestBytes, responseBytes: l.tcpCrr.responseBytes });
    return {
      target: { host: echo.host, port: echo.port, path: '/' },
      served: () => ({ embedded: true, protocol: 'tcp-crr', requestsServed: echo.requestsServed(), connectionsAccepted: echo.connectionsAccepted() }),
      close: () => echo.close(),
    };
  }
  if (l.target === undefined) {
    const { responseBytes, latency } = scenario.embedded.target;
    const target = await startEmbeddedTarget({ responseBytes, ...(latency ? { delayMs: targetDelays(scenario.seed, latency) } : {}) });
    return {
      target: { host: target.host, port: target.port, path: '/' },
      served: () => ({ embedded: true, requestsServed: target.requestsServed() }),
      close: () => target.close(),
    };
  }
  const u = new URL(l.target);
  const path = l.protocol === 'tcp-crr' ? '/' : u.pathname + u.search;
  return { target: { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 80), path }, close: async () => {} };
}
