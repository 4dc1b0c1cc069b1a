/**
 * The loss waterfalls of a run's metric data points and spans: the collector's self-metrics
 * (`backends.collector.metricsUrl`), Prometheus's own ingest counters (its `/metrics`, when
 * `backends.prometheus` is set), Tempo's (`tempo_distributor_spans_received_total`,
 * `tempo_discarded_spans_total`, when `backends.tempo` is set) and Jaeger's (its collector
 * self-metrics, when `backends.jaeger.metricsUrl` is set), read before the first export, every
 * second while the run goes and after read-back, their deltas chained across resets as
 * `increase()` does (counter-chain.ts), the ledgers' totals and the points read-back found.
 *
 * A reading that fails is a problem reported in results.json (`readbackProblems`), not
 * an error: a failed first reading leaves that stage out of the waterfall, a failed reading
 * later is skipped in the chain.
 */
import { TallyError } from '../core/errors.ts';
import type { LedgerTotals } from '../ledger/ledger.ts';
import { buildWaterfall, type Waterfall } from '../reconcile/waterfall.ts';
import { collectorStageTotals, otelcolDelta, scrapeOtelcol, sumOtelcolDeltas, type OtelcolDelta, type OtelcolSnapshot } from '../readback/otelcol/self-metrics.ts';
import {
  prometheusBackendStage, prometheusIngestDelta, scrapeBackendCounters, tempoBackendStage, tempoIngestDelta,
  type BackendCounterSnapshot, type PrometheusIngestDelta, type TempoIngestDelta,
} from '../readback/backend-self-metrics.ts';
import { sumPrometheusIngestDeltas, sumTempoIngestDeltas } from '../readback/backend-deltas.ts';
import { jaegerBackendStage } from '../readback/jaeger/ingest.ts';
import type { CollectorBackendSpec } from '../scenarios/types.ts';
import { CounterChain, type CounterReadings, type CounterSource } from './counter-chain.ts';

/** Time between counter readings while the run goes, ms. */
export const COUNTER_READ_INTERVAL_MS = 1000;

/** A reading that failed, as results.json reports it (messages carry no credentials). */
export interface ReadbackProblem {
  source: string;
  code: string;
  message: string;
}

/** Options of {@link WaterfallProbe}. */
export interface WaterfallProbeOptions {
  collector?: CollectorBackendSpec;
  /** Prometheus base URL, and a function giving its auth headers per request. */
  prometheus?: { url: string; headers(): Promise<Record<string, string>>; redact(text: string): string };
  /** Tempo base URL (its `/metrics`: distributor intake and `tempo_discarded_spans_total`). */
  tempo?: { url: string };
  /** Jaeger's own metrics endpoint (its collector self-metrics: receiver and storage exporter). */
  jaeger?: { metricsUrl: string };
  /** Time between readings while the run goes, ms (default {@link COUNTER_READ_INTERVAL_MS}). */
  intervalMs?: number;
}

/** Span ledger totals the spans waterfall starts from. */
export interface SpanTotals {
  spansSent: number;
  spansAcknowledged: number;
  spansRejected: number;
  spansFailed: number;
  spansDropped: number;
}

/** What the probe measured. */
export interface WaterfallReading {
  waterfalls: Waterfall[];
  prometheusIngest?: Omit<PrometheusIngestDelta, 'flags'>;
}

function problemOf(source: string, error: unknown, redact: (t: string) => string = (t) => t): ReadbackProblem {
  const code = error instanceof TallyError ? error.code : 'UNKNOWN';
  return { source, code, message: redact(error instanceof Error ? error.message : String(error)) };
}

/** Reads the stage counters around and during a run. */
export class WaterfallProbe {
  readonly #o: WaterfallProbeOptions;
  readonly problems: ReadbackProblem[] = [];
  readonly #collector: CounterChain<OtelcolSnapshot, OtelcolDelta> | undefined;
  readonly #prometheus: CounterChain<BackendCounterSnapshot, PrometheusIngestDelta> | undefined;
  readonly #tempo: CounterChain<BackendCounterSnapshot, TempoIngestDelta> | undefined;
  readonly #jaeger: CounterChain<OtelcolSnapshot, OtelcolDelta> | undefined;

  constructor(options: WaterfallProbeOptions) {
    this.#o = options;
    const intervalMs = options.intervalMs ?? COUNTER_READ_INTERVAL_MS;
    const chain = <S, D>(source: CounterSource<S, D>, problem: string, redact?: (t: string) => string): CounterChain<S, D> =>
      new CounterChain(source, intervalMs, (error) => this.problems.push(problemOf(problem, error, redact)));
    const collector = options.collector;
    if (collector !== undefined) this.#collector = chain(otelcolSource('collector', collector.metricsUrl), 'collector self-metrics');
    const p = options.prometheus;
    if (p !== undefined) {
      this.#prometheus = chain({
        name: 'prometheus',
        read: async () => scrapeBackendCounters('prometheus', p.url, { headers: await p.headers() }),
        delta: prometheusIngestDelta,
        sum: sumPrometheusIngestDeltas,
        flags: (d) => d.flags,
        ...backendRestarts('prometheus'),
      }, 'prometheus /metrics', p.redact);
    }
    const tempo = options.tempo;
    if (tempo !== undefined) {
      this.#tempo = chain({ name: 'tempo', read: () => scrapeBackendCounters('tempo', tempo.url), delta: (a, b) => tempoIngestDelta(a, b), sum: sumTempoIngestDeltas, flags: (d) => d.flags, ...backendRestarts('tempo') }, 'tempo /metrics');
    }
    if (options.jaeger !== undefined) this.#jaeger = chain(otelcolSource('jaeger', options.jaeger.metricsUrl), 'jaeger /metrics');
  }

  /** The first reading, before any export. */
  async before(): Promise<void> {
    await Promise.all(this.#chains().map((c) => c.read()));
  }

  /** Read every interval while the run goes (each source whose first reading succeeded). */
  startPolling(): void {
    for (const c of this.#chains()) c.startPolling();
  }

  /** Stop the periodic readings (idempotent). */
  close(): void {
    for (const c of this.#chains()) c.stop();
  }

  /**
   * The last reading and the waterfalls.
   * @param ledger the run's ledger totals.
   * @param queryable distinct points read back (sent − missing), when read-back ran.
   */
  async after(ledger: LedgerTotals | undefined, queryable: number | undefined, spans?: SpanTotals, nonData: { targetInfoSamples?: number; histogramPartSamples?: number } = {}): Promise<WaterfallReading> {
    const [collector, prometheus, tempo, jaeger] = await Promise.all([this.#collector?.finish(), this.#prometheus?.finish(), this.#tempo?.finish(), this.#jaeger?.finish()]);
    const scope = { receivers: this.#o.collector?.receivers, exporters: this.#o.collector?.exporters };
    const reading: WaterfallReading = { waterfalls: [] };
    const backend = tempo !== undefined ? { stage: tempoBackendStage(tempo.delta), readings: tempo.readings } : jaeger !== undefined ? { stage: jaegerBackendStage(jaeger.delta), readings: jaeger.readings } : undefined;
    if (spans && spans.spansSent > 0 && (collector || backend)) {
      // sent → acknowledged → accepted by the collector → exported → received and stored by the backend.
      reading.waterfalls.push({
        ...buildWaterfall({
          signal: 'spans',
          ledger: { sent: spans.spansSent, acknowledged: spans.spansAcknowledged, rejected: spans.spansRejected, failed: spans.spansFailed, ...(spans.spansDropped > 0 ? { droppedByQueue: spans.spansDropped } : {}) },
          ...(collector ? { collector: collectorStageTotals(collector.delta, 'spans', scope) } : {}),
          ...(backend ? { backend: backend.stage } : {}),
        }),
        counters: readingsOf(collector, backend),
      });
    }
    if (ledger === undefined) return reading;
    // Prometheus counts samples; the run's target_info series and the parts of classic histograms beside `_count` are no data point.
    const ingest = prometheus && {
      ...prometheus.delta,
      ...(nonData.targetInfoSamples === undefined ? {} : { targetInfoSamples: nonData.targetInfoSamples }),
      ...(nonData.histogramPartSamples === undefined ? {} : { histogramPartSamples: nonData.histogramPartSamples }),
    };
    const waterfall = buildWaterfall({
      signal: 'metric_points',
      ledger: {
        sent: ledger.pointsSent,
        acknowledged: ledger.pointsAcknowledged,
        rejected: ledger.pointsRejected,
        failed: ledger.pointsFailed,
        ...(ledger.pointsDropped > 0 ? { droppedByQueue: ledger.pointsDropped } : {}),
      },
      ...(collector ? { collector: collectorStageTotals(collector.delta, 'metric_points', scope) } : {}),
      ...(ingest ? { backend: prometheusBackendStage(ingest) } : {}),
      ...(queryable === undefined ? {} : { queryable }),
    });
    reading.waterfalls.unshift({ ...waterfall, counters: readingsOf(collector, prometheus) });
    if (ingest) {
      const { flags: _flags, ...rest } = ingest;
      reading.prometheusIngest = rest;
    }
    return reading;
  }

  #chains(): CounterChain<never, never>[] {
    return [this.#collector, this.#prometheus, this.#tempo, this.#jaeger].filter((c) => c !== undefined) as unknown as CounterChain<never, never>[];
  }
}

/** Restart detection of a backend by its `process_start_time_seconds`. */
function backendRestarts(backend: 'prometheus' | 'tempo'): Pick<CounterSource<BackendCounterSnapshot, never>, 'restarted' | 'empty'> {
  return {
    restarted: (a, b) => a.processStartTimeS !== undefined && b.processStartTimeS !== undefined && a.processStartTimeS !== b.processStartTimeS,
    empty: () => ({ backend, samples: [] }),
  };
}

/** A collector's self-metrics endpoint (an OpenTelemetry Collector, or Jaeger v2 built on it) as a counter source. */
function otelcolSource(name: string, metricsUrl: string): CounterSource<OtelcolSnapshot, OtelcolDelta> {
  return { name, read: () => scrapeOtelcol(metricsUrl), delta: otelcolDelta, sum: sumOtelcolDeltas, flags: (d) => d.flags };
}

function readingsOf(...chains: ({ readings: CounterReadings } | undefined)[]): CounterReadings[] {
  return chains.filter((c) => c !== undefined).map((c) => c.readings);
}
