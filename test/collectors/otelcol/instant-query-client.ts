/**
 * A minimal instant-query client for tests: `GET /api/v1/query` against a real Prometheus
 * on loopback. A stand-in for collectors/prometheus/api.ts (written elsewhere), so the
 * readers' PromQL runs on a live engine here.
 */
import { CollectorError } from '../../../core/errors.ts';
import type { InstantQuery, InstantSample } from '../../../collectors/otelcol/instant-query.ts';

interface QueryReply {
  status: string;
  error?: string;
  data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

function parseValue(raw: string): number {
  if (raw === '+Inf') return Number.POSITIVE_INFINITY;
  if (raw === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number(raw);
}

/** An {@link InstantQuery} bound to a Prometheus base URL. */
export function instantQueryClient(baseUrl: string): InstantQuery {
  return async (promql: string, timeSec: number): Promise<InstantSample[]> => {
    const params = new URLSearchParams({ query: promql, time: String(timeSec) });
    const response = await fetch(`${baseUrl}/api/v1/query?${params}`, { signal: AbortSignal.timeout(10_000) });
    const body = (await response.json()) as QueryReply;
    if (body.status !== 'success' || body.data === undefined) {
      throw new CollectorError(`query failed: ${body.error ?? response.status}`, { code: 'TALLY_COLLECTOR_BAD_REPLY', details: { promql, status: response.status } });
    }
    if (body.data.resultType !== 'vector') {
      throw new CollectorError(`expected a vector, got ${body.data.resultType}`, { code: 'TALLY_COLLECTOR_BAD_REPLY', details: { promql } });
    }
    return body.data.result.map((r) => ({ labels: r.metric, value: parseValue(r.value[1]) }));
  };
}
