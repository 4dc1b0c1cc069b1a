/**
 * Backends' own ingest and discard counters, read from their `/metrics` at the start and
 * the end of a run: Prometheus (remote-write receiver and TSDB head) and Tempo
 * (distributor intake, discarded spans by reason). Their deltas become the waterfall's
 * backend stage.
 *
 * Prometheus 2.42, checked against the real binary (test/readback/otelcol/backend-discards.test.ts):
 * - a remote-write request with one out-of-order, out-of-bounds or duplicate-timestamp
 *   sample is refused whole (HTTP 400) and rolled back: the TSDB counters count the one
 *   offending sample, not the request's other samples, which are lost too;
 * - `prometheus_tsdb_out_of_order_samples_total`, `prometheus_tsdb_out_of_bound_samples_total`
 *   and `prometheus_tsdb_too_old_samples_total` carry a `type` label (`float`, `histogram`)
 *   and appear only after their first increment;
 * - a sample with the same timestamp and a different value in a later request is refused
 *   (400 `duplicate sample for timestamp`) with no TSDB counter: only
 *   `prometheus_http_requests_total{handler="/api/v1/write",code="400"}` moves;
 * - the same within one request is accepted (204) and the second value silently dropped:
 *   `prometheus_remote_storage_samples_in_total` counts it, `…head_samples_appended_total` does not;
 * - `prometheus_target_scrapes_sample_*` are scrape-only and never move for remote write.
 * Every appended sample counts, whoever sent it: on a shared Prometheus, `stored` includes
 * other traffic (the waterfall then reports an inconsistency).
 *
 * @see https://prometheus.io/docs/prometheus/2.42/storage/
 */
import type { BackendStageInput } from '../reconcile/waterfall.ts';
import { counterDeltas, type CounterFlag, type SeriesDelta } from './otelcol/counter-delta.ts';
import { parseExposition, type ExpositionSample } from './otelcol/exposition.ts';
import { scrapeText, type ScrapeOptions } from './otelcol/scrape.ts';

/** One reading of a backend's own counters. */
export interface BackendCounterSnapshot {
  readonly backend: 'prometheus' | 'tempo';
  readonly samples: readonly ExpositionSample[];
  /** `process_start_time_seconds` (unix epoch seconds), when exposed: a change between two readings is a restart. */
  readonly processStartTimeS?: number;
}

const PROCESS_START = 'process_start_time_seconds';

/** The samples without the process start time, and the start time. */
function withStartTime(samples: readonly ExpositionSample[]): { samples: ExpositionSample[]; processStartTimeS?: number } {
  const start = samples.find((s) => s.name === PROCESS_START)?.value;
  return { samples: samples.filter((s) => s.name !== PROCESS_START), ...(start === undefined ? {} : { processStartTimeS: start }) };
}

const PROMETHEUS_NAMES = new Set([
  'prometheus_tsdb_head_samples_appended_total',
  'prometheus_tsdb_head_out_of_order_samples_appended_total',
  'prometheus_tsdb_out_of_order_samples_total',
  'prometheus_tsdb_out_of_bound_samples_total',
  'prometheus_tsdb_too_old_samples_total',
  'prometheus_remote_storage_samples_in_total',
  'prometheus_http_requests_total',
  'prometheus_target_scrapes_sample_duplicate_timestamp_total',
  'prometheus_target_scrapes_sample_out_of_order_total',
  'prometheus_target_scrapes_sample_out_of_bounds_total',
]);
const TEMPO_NAMES = new Set(['tempo_distributor_spans_received_total', 'tempo_discarded_spans_total']);
const WRITE_HANDLERS = new Set(['/api/v1/write', '/api/v1/otlp/v1/metrics']);

/**
 * Keep Prometheus's ingest and discard counters from its `/metrics` body.
 * @throws CollectorError `TALLY_COLLECTOR_BAD_REPLY` for a body that does not parse.
 */
export function prometheusSnapshotFromText(text: string): BackendCounterSnapshot {
  const parsed = parseExposition(text, (name) => PROMETHEUS_NAMES.has(name) || name === PROCESS_START, 'prometheus /metrics');
  // Only the write handlers of the HTTP request counter matter.
  return { backend: 'prometheus', ...withStartTime(parsed.samples.filter((s) => s.name !== 'prometheus_http_requests_total' || WRITE_HANDLERS.has(s.labels.handler ?? ''))) };
}

/**
 * Keep Tempo's span intake and discard counters from its `/metrics` body.
 * @throws CollectorError `TALLY_COLLECTOR_BAD_REPLY` for a body that does not parse.
 */
export function tempoSnapshotFromText(text: string): BackendCounterSnapshot {
  return { backend: 'tempo', ...withStartTime(parseExposition(text, (name) => TEMPO_NAMES.has(name) || name === PROCESS_START, 'tempo /metrics').samples) };
}

/**
 * Scrape a backend's own `/metrics`.
 * @param baseUrl e.g. `http://127.0.0.1:9090` (Prometheus) or `http://127.0.0.1:3200` (Tempo).
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` / `TALLY_COLLECTOR_BAD_REPLY`; ConfigError for a non-http(s) URL.
 */
export async function scrapeBackendCounters(backend: 'prometheus' | 'tempo', baseUrl: string, options: ScrapeOptions = {}): Promise<BackendCounterSnapshot> {
  const text = await scrapeText(`${baseUrl.replace(/\/+$/, '')}/metrics`, { what: backend, ...options });
  return backend === 'prometheus' ? prometheusSnapshotFromText(text) : tempoSnapshotFromText(text);
}

/** Prometheus's ingest over the window, in samples unless named otherwise. */
export interface PrometheusIngestDelta {
  /** Appended to the head in order, all types (`prometheus_tsdb_head_samples_appended_total`). */
  samplesAppended: number;
  /** Appended out of order (only with an out-of-order window configured). */
  outOfOrderAppended: number;
  /** Offending samples of refused appends, by reason: `out_of_order`, `out_of_bounds`, `too_old`. */
  discarded: { out_of_order: number; out_of_bounds: number; too_old: number };
  /** Remote-write (and OTLP) receiver requests by HTTP status code. */
  writeRequestsByCode: Record<string, number>;
  /** Samples handed to storage, before head deduplication (includes silently dropped same-request duplicates). */
  samplesIn: number;
  /** Scrape-only rejections, never moved by remote write. */
  scrape: { duplicateTimestamp: number; outOfOrder: number; outOfBounds: number };
  /**
   * Of `samplesAppended`, the run's samples that are no data point: the `target_info`
   * series an OTLP receiver or the collector's prometheusremotewrite exporter writes for
   * each resource it sees. Set by the caller from a read-back query; 0 when not counted.
   */
  targetInfoSamples?: number;
  /**
   * Of `samplesAppended`, the samples beyond the first of each classic histogram point read
   * back (`_sum` and the `_bucket`s beside `_count`): the stored stage counts points.
   */
  histogramPartSamples?: number;
  flags: CounterFlag[];
}

/** Deltas of Prometheus's counters between two snapshots (resets handled as in counterDeltas). */
export function prometheusIngestDelta(before: BackendCounterSnapshot, after: BackendCounterSnapshot): PrometheusIngestDelta {
  const { deltas, flags } = counterDeltas(before.samples, after.samples);
  const sum = (name: string): number => total(deltas, (d) => d.name === name);
  const writeRequestsByCode: Record<string, number> = {};
  for (const d of deltas) {
    if (d.name !== 'prometheus_http_requests_total') continue;
    const code = d.labels.code ?? 'unknown';
    writeRequestsByCode[code] = (writeRequestsByCode[code] ?? 0) + d.delta;
  }
  return {
    samplesAppended: sum('prometheus_tsdb_head_samples_appended_total'),
    outOfOrderAppended: sum('prometheus_tsdb_head_out_of_order_samples_appended_total'),
    discarded: {
      out_of_order: sum('prometheus_tsdb_out_of_order_samples_total'),
      out_of_bounds: sum('prometheus_tsdb_out_of_bound_samples_total'),
      too_old: sum('prometheus_tsdb_too_old_samples_total'),
    },
    writeRequestsByCode,
    samplesIn: sum('prometheus_remote_storage_samples_in_total'),
    scrape: {
      duplicateTimestamp: sum('prometheus_target_scrapes_sample_duplicate_timestamp_total'),
      outOfOrder: sum('prometheus_target_scrapes_sample_out_of_order_total'),
      outOfBounds: sum('prometheus_target_scrapes_sample_out_of_bounds_total'),
    },
    flags,
  };
}

/**
 * The waterfall's backend stage from Prometheus's deltas: stored = appended (in order and
 * out of order). Every TSDB discard of a remote write refuses its request (400), so they
 * are `refused`, not losses after acknowledgement. Duplicates have no counter in 2.42; a
 * same-request duplicate dropped silently shows only as `unattributed`.
 */
export function prometheusBackendStage(delta: PrometheusIngestDelta): BackendStageInput {
  const stored = delta.samplesAppended + delta.outOfOrderAppended - (delta.targetInfoSamples ?? 0) - (delta.histogramPartSamples ?? 0);
  return { name: 'prometheus', stored, discarded: {}, refused: { ...delta.discarded } };
}

/** Tempo's span intake over the window. */
export interface TempoIngestDelta {
  /** `tempo_distributor_spans_received_total`; null when Tempo exposed none (no distributor in this process). */
  spansReceived: number | null;
  /** `tempo_discarded_spans_total` by `reason` (`rate_limited`, `live_traces_exceeded`, `trace_too_large`, …). */
  discardedByReason: Record<string, number>;
  flags: CounterFlag[];
}

/**
 * Deltas of Tempo's counters between two snapshots.
 * @param tenant keep one tenant (`tenant` label, `single-tenant` by default in Tempo); default all.
 * @see https://grafana.com/docs/tempo/latest/operations/monitor/
 */
export function tempoIngestDelta(before: BackendCounterSnapshot, after: BackendCounterSnapshot, tenant?: string): TempoIngestDelta {
  const { deltas, flags } = counterDeltas(before.samples, after.samples);
  const mine = tenant === undefined ? deltas : deltas.filter((d) => d.labels.tenant === tenant);
  const received = mine.filter((d) => d.name === 'tempo_distributor_spans_received_total');
  const discardedByReason: Record<string, number> = {};
  for (const d of mine) {
    if (d.name !== 'tempo_discarded_spans_total') continue;
    const reason = d.labels.reason ?? 'unknown';
    discardedByReason[reason] = (discardedByReason[reason] ?? 0) + d.delta;
  }
  return { spansReceived: received.length === 0 ? null : total(received, () => true), discardedByReason, flags };
}

/** Tempo discard reasons answered to the sender as an error (429), so already the sender's failures. */
const TEMPO_REFUSED_REASONS = new Set(['rate_limited']);

/**
 * The waterfall's backend stage from Tempo's deltas: received = distributor intake (every
 * push, refused and retried ones included); `rate_limited` as refused; other reasons
 * (`trace_too_large`, `live_traces_exceeded`, …) as discards the sender may have seen
 * acknowledged — whether it did depends on the Tempo version.
 */
export function tempoBackendStage(delta: TempoIngestDelta): BackendStageInput {
  const discarded: Record<string, number> = {};
  const refused: Record<string, number> = {};
  for (const [reason, count] of Object.entries(delta.discardedByReason)) (TEMPO_REFUSED_REASONS.has(reason) ? refused : discarded)[reason] = count;
  return { name: 'tempo', ...(delta.spansReceived === null ? {} : { received: delta.spansReceived }), discarded, refused };
}

function total(deltas: readonly SeriesDelta[], keep: (d: SeriesDelta) => boolean): number {
  let sum = 0;
  for (const d of deltas) if (keep(d)) sum += d.delta;
  return sum;
}
