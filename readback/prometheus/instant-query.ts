/**
 * The {@link InstantQuery} the self-metrics and datapath readers take
 * (readback/otelcol/instant-query.ts), over the Prometheus API client: its auth, retries,
 * cache bypass and redaction come along.
 */
import { CollectorError } from '../../core/errors.ts';
import type { InstantQuery, InstantSample } from '../otelcol/instant-query.ts';
import { parseSampleValue, type PrometheusApi } from './api.ts';

/**
 * An instant-query function bound to a client.
 * @returns `(promql, timeSec) => samples`; a scalar is returned as one unlabelled sample.
 * @throws (from the call) CollectorError from {@link PrometheusApi.query}, or
 * `TALLY_COLLECTOR_BAD_REPLY` for a matrix or string result.
 * @see https://prometheus.io/docs/prometheus/latest/querying/api/#instant-queries
 */
export function prometheusInstantQuery(api: PrometheusApi): InstantQuery {
  return async (promql: string, timeSec: number): Promise<InstantSample[]> => {
    const reply = await api.query(promql, timeSec * 1000);
    const data = reply.data;
    if (data.resultType === 'vector') return data.result.map((e) => ({ labels: e.metric, value: parseSampleValue(e.value?.[1] ?? '') }));
    if (data.resultType === 'scalar') return [{ labels: {}, value: parseSampleValue(data.result[1]) }];
    throw new CollectorError(`instant query returned a ${data.resultType}, not a vector`, { code: 'TALLY_COLLECTOR_BAD_REPLY', details: { pointer: '/data/resultType', expected: 'vector' } });
  };
}
