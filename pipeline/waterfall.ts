/**
 * The loss waterfalls of a run's metric data points and spans: the collector's self-metrics
 * (`backends.collector.metricsUrl`) and Prometheus's own ingest counters (its `/metrics`,
 * when `backends.prometheus` is set) and Tempo's (`tempo_distributor_spans_received_total`,
 * `tempo_discarded_spans_total`, when `backends.tempo` is set) read before the first export
 * and after read-back, their deltas, the ledgers' totals and the points read-back found.
 *
 * A reading that fails is a problem reported in results.json (`readbackProblems`), not
 * an error: the waterfall is then built without that stage.
 */
import { TallyError } from '../core/errors.ts';
import type { LedgerTotals } from '../ledger/ledger.ts';
import { buildWaterfall, type Waterfall } from '../reconcile/waterfall.ts';
import { collectorStageTotals, otelcolDelta, scrapeOtelcol, type OtelcolSnapshot } from '../readback/otelcol/self-metrics.ts';
import { prometheusBackendStage, prometheusIngestDelta, scrapeBackendCounters, tempoBackendStage, tempoIngestDelta, type BackendCounterSnapshot, type PrometheusIngestDelta } from '../readback/backend-self-metrics.ts';
import type { CollectorBackendSpec } from '../scenarios/types.ts';

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

/** Reads the stage counters around a run. */
export class WaterfallProbe {
  readonly #o: WaterfallProbeOptions;
  readonly problems: ReadbackProblem[] = [];
  #collectorBefore: OtelcolSnapshot | undefined;
  #prometheusBefore: BackendCounterSnapshot | undefined;
  #tempoBefore: BackendCounterSnapshot | undefined;

  constructor(options: WaterfallProbeOptions) {
    this.#o = options;
  }

  async #scrapeCollector(): Promise<OtelcolSnapshot | undefined> {
    if (this.#o.collector === undefined) return undefined;
    try {
      return await scrapeOtelcol(this.#o.collector.metricsUrl);
    } catch (error) {
      this.problems.push(problemOf('collector self-metrics', error));
      return undefined;
    }
  }

  async #scrapePrometheus(): Promise<BackendCounterSnapshot | undefined> {
    const p = this.#o.prometheus;
    if (p === undefined) return undefined;
    try {
      return await scrapeBackendCounters('prometheus', p.url, { headers: await p.headers() });
    } catch (error) {
      this.problems.push(problemOf('prometheus /metrics', error, p.redact));
      return undefined;
    }
  }

  async #scrapeTempo(): Promise<BackendCounterSnapshot | undefined> {
    if (this.#o.tempo === undefined) return undefined;
    try {
      return await scrapeBackendCounters('tempo', this.#o.tempo.url);
    } catch (error) {
      this.problems.push(problemOf('tempo /metrics', error));
      return undefined;
    }
  }

  /** The first reading, before any export. */
  async before(): Promise<void> {
    [this.#collectorBefore, this.#prometheusBefore, this.#tempoBefore] = await Promise.all([this.#scrapeCollector(), this.#scrapePrometheus(), this.#scrapeTempo()]);
  }

  /**
   * The second reading and the waterfall.
   * @param ledger the run's ledger totals.
   * @param queryable distinct points read back (sent − missing), when read-back ran.
   */
  async after(ledger: LedgerTotals | undefined, queryable: number | undefined, spans?: SpanTotals, nonData: { targetInfoSamples?: number; histogramPartSamples?: number } = {}): Promise<WaterfallReading> {
    const [collectorAfter, prometheusAfter, tempoAfter] = await Promise.all([
      this.#collectorBefore === undefined ? undefined : this.#scrapeCollector(),
      this.#prometheusBefore === undefined ? undefined : this.#scrapePrometheus(),
      this.#tempoBefore === undefined ? undefined : this.#scrapeTempo(),
    ]);
    const collectorDelta = this.#collectorBefore && collectorAfter ? otelcolDelta(this.#collectorBefore, collectorAfter) : undefined;
    const scope = { receivers: this.#o.collector?.receivers, exporters: this.#o.collector?.exporters };
    const reading: WaterfallReading = { waterfalls: [] };
    if (spans && spans.spansSent > 0 && (collectorDelta || tempoAfter)) {
      // sent → acknowledged → accepted by the collector → exported → stored (Tempo's intake less its discards).
      const tempo = this.#tempoBefore && tempoAfter ? tempoIngestDelta(this.#tempoBefore, tempoAfter) : undefined;
      reading.waterfalls.push(
        buildWaterfall({
          signal: 'spans',
          ledger: { sent: spans.spansSent, acknowledged: spans.spansAcknowledged, rejected: spans.spansRejected, failed: spans.spansFailed, ...(spans.spansDropped > 0 ? { droppedByQueue: spans.spansDropped } : {}) },
          ...(collectorDelta ? { collector: collectorStageTotals(collectorDelta, 'spans', scope) } : {}),
          ...(tempo ? { backend: tempoBackendStage(tempo) } : {}),
        }),
      );
    }
    if (ledger === undefined) return reading;
    const collector = collectorDelta ? collectorStageTotals(collectorDelta, 'metric_points', scope) : undefined;
    const counted = this.#prometheusBefore && prometheusAfter ? prometheusIngestDelta(this.#prometheusBefore, prometheusAfter) : undefined;
    const ingest = counted && {
      ...counted,
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
      ...(collector ? { collector } : {}),
      ...(ingest ? { backend: prometheusBackendStage(ingest) } : {}),
      ...(queryable === undefined ? {} : { queryable }),
    });
    reading.waterfalls.unshift(waterfall);
    if (ingest) {
      const { flags: _flags, ...rest } = ingest;
      reading.prometheusIngest = rest;
    }
    return reading;
  }
}
