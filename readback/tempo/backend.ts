/**
 * Tempo as a {@link TraceBackend}: trace by id through the Tempo client (v2 where detected,
 * else v1), and the run's trace count from TraceQL metrics (`count_over_time` where the
 * server has it), else a search (tag or TraceQL) whose hits are filtered to the run.
 *
 * @see https://grafana.com/docs/tempo/latest/api_docs/
 */
import type { TraceBackend, TraceCountReading } from '../traces/backend.ts';
import type { TempoClient, TraceByIdOptions } from './client.ts';

/** How Tempo counts the run's traces. */
export interface TempoCountOptions {
  /** Keep only hits that belong to the run (e.g. by trace id prefix). Default: all hits count. */
  isRunTrace?: (traceIdHex: string) => boolean;
  /** TraceQL spanset matching exactly one span per run trace (e.g. the root), for `count_over_time`. */
  count?: { traceql: string; startUnixS: number; endUnixS: number; stepMs: number };
  /** A search matching the run's traces; one of `tags` or `traceql`. `limit` should exceed the traces expected. */
  search?: { tags?: Record<string, string>; traceql?: string; startUnixS: number; endUnixS: number; limit: number };
}

/** Options for {@link tempoTraceBackend}. */
export interface TempoBackendOptions {
  traceById?: TraceByIdOptions;
  /** Without it the backend has no count (the cross-check reports method `none`). */
  count?: TempoCountOptions;
}

/**
 * Wrap a Tempo client (ideally after `detect()`, so v2 and metrics are used where present).
 * The client stays the caller's to close.
 */
export function tempoTraceBackend(client: TempoClient, options: TempoBackendOptions = {}): TraceBackend {
  const count = options.count;
  return {
    name: 'tempo',
    traceById: (traceIdHex) => client.traceById(traceIdHex, options.traceById),
    ...(count === undefined ? {} : { countRunTraces: () => countRunTraces(client, count) }),
  };
}

async function countRunTraces(client: TempoClient, options: TempoCountOptions): Promise<TraceCountReading> {
  let last: TraceCountReading = { ok: false, failure: { reason: 'unsupported', status: null, bodyText: 'no count or search configured' }, endpoint: null };
  // countOverTime answers `unsupported` without a request when metrics were probed absent; that reason is kept.
  if (options.count !== undefined) {
    const { traceql, startUnixS, endUnixS, stepMs } = options.count;
    const result = await client.countOverTime(traceql, startUnixS, endUnixS, stepMs);
    if (result.ok) return { ok: true, method: 'count_over_time', observedTraces: Math.round(result.value.total), lowerBound: false, endpoint: result.endpoint };
    last = { ok: false, failure: { reason: result.reason, status: result.status, bodyText: result.bodyText }, endpoint: result.endpoint };
  }
  const search = options.search;
  if (search !== undefined) {
    const window = { startUnixS: search.startUnixS, endUnixS: search.endUnixS, limit: search.limit };
    const result = search.traceql !== undefined
      ? await client.searchTraceQL(search.traceql, window)
      : await client.search({ tags: search.tags ?? {}, ...window });
    if (result.ok) {
      const keep = options.isRunTrace ?? (() => true);
      const ids = new Set(result.value.traces.map((hit) => hit.traceId).filter(keep));
      return { ok: true, method: 'search', observedTraces: ids.size, lowerBound: result.value.limitReached, endpoint: result.endpoint };
    }
    last = { ok: false, failure: { reason: result.reason, status: result.status, bodyText: result.bodyText }, endpoint: result.endpoint };
  }
  return last;
}
