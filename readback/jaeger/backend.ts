/**
 * Jaeger as a {@link TraceBackend}: trace by id from the v3 API, and the run's trace count
 * from a search on the run's service and `tally.run.id` tag over the run's window, its hits
 * filtered to the run's trace ids.
 */
import type { TraceBackend, TraceCountReading } from '../traces/backend.ts';
import type { JaegerClient, JaegerSearchRequest } from './client.ts';

/** How Jaeger counts the run's traces. */
export interface JaegerCountOptions {
  search: JaegerSearchRequest;
  /** Keep only hits that belong to the run (by trace id prefix). Default: all hits count. */
  isRunTrace?: (traceIdHex: string) => boolean;
}

/**
 * Wrap a Jaeger client. The client stays the caller's to close.
 * @param count without it the backend has no count (the cross-check reports method `none`).
 */
export function jaegerTraceBackend(client: JaegerClient, count?: JaegerCountOptions): TraceBackend {
  return {
    name: 'jaeger',
    traceById: (traceIdHex) => client.traceById(traceIdHex),
    ...(count === undefined ? {} : { countRunTraces: () => countRunTraces(client, count) }),
  };
}

async function countRunTraces(client: JaegerClient, options: JaegerCountOptions): Promise<TraceCountReading> {
  const result = await client.search(options.search);
  if (!result.ok) return { ok: false, failure: { reason: result.reason, status: result.status, bodyText: result.bodyText }, endpoint: result.endpoint };
  const keep = options.isRunTrace ?? (() => true);
  const ids = new Set(result.value.traceIds.filter(keep));
  return { ok: true, method: 'search', observedTraces: ids.size, lowerBound: result.value.limitReached, endpoint: result.endpoint };
}
