/**
 * Test access to a real Prometheus: the server lifecycle lives in
 * `collectors/prometheus/local-server.ts` (shared with `bench/`); this module re-exports
 * it and adds the admin-API calls tests use to damage the TSDB on purpose.
 */
import { CollectorError } from '../../core/errors.ts';

export { startPrometheus, type PrometheusServer, type StartPrometheusOptions } from '../../collectors/prometheus/local-server.ts';

async function admin(url: string, path: string, params: URLSearchParams): Promise<void> {
  const response = await fetch(`${url}${path}?${params}`, { method: 'POST', signal: AbortSignal.timeout(30_000) });
  const text = await response.text();
  if (response.status !== 204 && response.status !== 200) {
    throw new CollectorError(`Prometheus admin ${path} answered ${response.status}: ${text.slice(0, 200)}`);
  }
}

/**
 * Delete the series matching each selector, optionally only in [startMs, endMs], through
 * the admin API (needs `--web.enable-admin-api`); then clean the tombstones so the
 * deletion is physical, not only masked at query time.
 * @see https://prometheus.io/docs/prometheus/latest/querying/api/#delete-series
 * @see https://prometheus.io/docs/prometheus/latest/querying/api/#clean-tombstones
 */
export async function deleteSeries(url: string, selectors: readonly string[], startMs?: number, endMs?: number): Promise<void> {
  const params = new URLSearchParams();
  for (const s of selectors) params.append('match[]', s);
  if (startMs !== undefined) params.set('start', String(startMs / 1000));
  if (endMs !== undefined) params.set('end', String(endMs / 1000));
  await admin(url, '/api/v1/admin/tsdb/delete_series', params);
  await admin(url, '/api/v1/admin/tsdb/clean_tombstones', new URLSearchParams());
}
