/**
 * The load's embedded stand-in for the system under test, when the scenario names no
 * `load.target`: the HTTP target, or the echo target for tcp-crr, each on a thread of its
 * own (pipeline/stand-in-threads.ts), so that neither the receiver's work nor tally's
 * bookkeeping on the main thread can delay it. With a target, only its address is worked
 * out. (The embedded OTLP receiver is started by pipeline/telemetry.ts.)
 */
import type { TallyError } from '../core/errors.ts';
import type { Endpoints } from '../scenarios/plan.ts';
import type { Scenario } from '../scenarios/types.ts';
import type { StandInRequest } from '../embedded/stand-in-messages.ts';
import { StandInThread } from './stand-in-threads.ts';

/** The load's destination, and what the stand-in served. */
export interface LoadStandIn {
  target?: Endpoints['target'];
  /** What the embedded stand-in served, for results.json `target`; undefined for an external target. */
  served?: () => object;
  /** Bring `served` up to date (after the load, before the final results). */
  refresh(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Start the embedded target the scenario needs, if any, on its own thread.
 * @param onFailure told when the stand-in's thread fails after it started.
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` when it cannot listen.
 */
export async function startLoadStandIn(scenario: Scenario, onFailure?: (error: TallyError) => void): Promise<LoadStandIn> {
  const l = scenario.load;
  const none = async (): Promise<void> => {};
  if (l === undefined) return { refresh: none, close: none };
  if (l.target === undefined) {
    const echo = l.protocol === 'tcp-crr';
    const thread = await StandInThread.start(
      echo ? { kind: 'echo', requestBytes: l.tcpCrr.requestBytes, responseBytes: l.tcpCrr.responseBytes } : targetRequest(scenario),
      onFailure,
    );
    const counts = () => thread.latest?.served ?? { requestsServed: 0, connectionsAccepted: 0 };
    return {
      target: { host: thread.ready.host, port: thread.ready.port, path: '/' },
      served: () => (echo
        ? { embedded: true, protocol: 'tcp-crr', requestsServed: counts().requestsServed, connectionsAccepted: counts().connectionsAccepted }
        : { embedded: true, requestsServed: counts().requestsServed }),
      refresh: () => thread.refresh(),
      close: async () => {
        await thread.finish();
      },
    };
  }
  const u = new URL(l.target);
  const path = l.protocol === 'tcp-crr' ? '/' : u.pathname + u.search;
  return { target: { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 80), path }, refresh: none, close: none };
}

/** The embedded HTTP target's request: its body size, its seeded added latency and its capacity model when the scenario sets them. */
function targetRequest(scenario: Scenario): StandInRequest {
  const { responseBytes, latency, capacity } = scenario.embedded.target;
  return {
    kind: 'target',
    responseBytes,
    ...(latency === undefined ? {} : { latency, seed: scenario.seed }),
    ...(capacity === undefined ? {} : { capacity }),
  };
}
