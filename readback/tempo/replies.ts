/**
 * Decoders for the small Tempo replies: tag values (v1, v2) and TraceQL metrics range
 * queries.
 *
 * Tag values, recorded from 2.0.1: v1 `{"tagValues":["a","b"]}` (sorted as strings);
 * v2 `{"tagValues":[{"type":"string","value":"a"}]}` (unsorted), or `{}` before the
 * ingester cuts its head block. Metrics, from the docs only (absent in 2.0.1):
 * `{"series":[{"labels":[KeyValue…],"samples":[{"timestampMs":"…","value":n}]}]}`.
 */
import { attributesFrom, bad } from './trace-normalize.ts';
import { parseJsonObject } from './trace-body.ts';
import type { HttpReply } from './http.ts';
import type { MetricsSeries, TagValue } from './types.ts';

/**
 * Decode a 200 tag-values body.
 * @returns values in body order; v1 values have `type: null`.
 * @throws CollectorError `TALLY_COLLECTOR_BAD_REPLY` when `tagValues` is not the expected array.
 * @see https://grafana.com/docs/tempo/latest/api_docs/#search-tag-values
 */
export function decodeTagValuesReply(reply: HttpReply, api: 'v1' | 'v2'): TagValue[] {
  const expected = api === 'v1' ? '{"tagValues":["…"]}' : '{"tagValues":[{"type":…,"value":…}]}';
  const json = parseJsonObject(reply.body, reply.endpoint, expected);
  const raw = json.tagValues ?? [];
  if (!Array.isArray(raw)) throw bad(reply.endpoint, '"tagValues" is not an array', expected);
  return raw.map((item, i): TagValue => {
    if (api === 'v1' && typeof item === 'string') return { type: null, value: item };
    if (api === 'v2' && typeof item === 'object' && item !== null) {
      const { type, value } = item as Record<string, unknown>;
      if (typeof value === 'string') return { type: typeof type === 'string' ? type : null, value };
    }
    throw bad(reply.endpoint, `tagValues[${i}] is ${JSON.stringify(item)}`, expected);
  });
}

/**
 * Decode a 200 `/api/metrics/query_range` body.
 * @returns the series and `total`, the sum of every finite sample value.
 * @throws CollectorError `TALLY_COLLECTOR_BAD_REPLY` when `series` or a sample is malformed.
 * @see https://grafana.com/docs/tempo/latest/api_docs/#traceql-metrics
 */
export function decodeMetricsReply(reply: HttpReply): { series: MetricsSeries[]; total: number } {
  const expected = '{"series":[{"labels":[…],"samples":[{"timestampMs":"…","value":…}]}]}';
  const json = parseJsonObject(reply.body, reply.endpoint, expected);
  const rawSeries = json.series ?? [];
  if (!Array.isArray(rawSeries)) throw bad(reply.endpoint, '"series" is not an array', expected);
  let total = 0;
  const series = rawSeries.map((raw, i): MetricsSeries => {
    const entry = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    const samplesRaw = entry.samples ?? [];
    if (!Array.isArray(samplesRaw)) throw bad(reply.endpoint, `series[${i}].samples is not an array`, expected);
    const samples = samplesRaw.map((s, k) => {
      const sample = (typeof s === 'object' && s !== null ? s : {}) as Record<string, unknown>;
      const timestampMs = Number(sample.timestampMs ?? 0);
      // jsonpb omits a zero value; NaN is spelled "NaN".
      const value = sample.value === undefined ? 0 : Number(sample.value);
      if (!Number.isFinite(timestampMs)) throw bad(reply.endpoint, `series[${i}].samples[${k}].timestampMs is not a number`, expected);
      if (Number.isFinite(value)) total += value;
      return { timestampMs, value };
    });
    return { labels: attributesFrom(entry.labels, `series[${i}].labels`, reply.endpoint), samples };
  });
  return { series, total };
}
