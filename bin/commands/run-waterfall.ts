/**
 * The loss waterfall of a run's metric data points: the collector's self-metrics
 * (`backends.collector.metricsUrl`) and Prometheus's own ingest counters (its `/metrics`,
 * when `backends.prometheus` is set) read before the first export and after read-back,
 * their deltas, the ledger's totals and the points read-back found.
 *
 * A reading that fails is a problem reported in results.json (`readbackProblems`), not
 * an error: the waterfall is then built without that stage.
 */
import { TallyError } from '../../core/errors.ts';
import type { LedgerTotals } from '../../ledger/ledger.ts';
import { buildWaterfall, type Waterfall } from '../../ledger/waterfall.ts';
import { collectorStageTotals, otelcolDelta, scrapeOtelcol, type OtelcolSnapshot } from '../../collectors/otelcol/self-metrics.ts';
import { prometheusBackendStage, prometheusIngestDelta, scrapeBackendCounters, type BackendCounterSnapshot, type PrometheusIngestDelta } from '../../collectors/prometheus/self-metrics.ts';
import type { CollectorBackendSpec } from '../../scenarios/types.ts';

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

  /** The first reading, before any export. */
  async before(): Promise<void> {
    [this.#collectorBefore, this.#prometheusBefore] = await Promise.all([this.#scrapeCollector(), this.#scrapePrometheus()]);
  }

  /**
   * The second reading and the waterfall.
   * @param ledger the run's ledger totals.
   * @param queryable distinct points read back (sent − missing), when read-back ran.
   */
  async after(ledger: LedgerTotals, queryable: number | undefined): Promise<WaterfallReading> {
    const [collectorAfter, prometheusAfter] = await Promise.all([
      this.#collectorBefore === undefined ? undefined : this.#scrapeCollector(),
      this.#prometheusBefore === undefined ? undefined : this.#scrapePrometheus(),
    ]);
    const collector = this.#collectorBefore && collectorAfter
      ? collectorStageTotals(otelcolDelta(this.#collectorBefore, collectorAfter), 'metric_points', { receivers: this.#o.collector?.receivers, exporters: this.#o.collector?.exporters })
      : undefined;
    const ingest = this.#prometheusBefore && prometheusAfter ? prometheusIngestDelta(this.#prometheusBefore, prometheusAfter) : undefined;
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
    const reading: WaterfallReading = { waterfalls: [waterfall] };
    if (ingest) {
      const { flags: _flags, ...rest } = ingest;
      reading.prometheusIngest = rest;
    }
    return reading;
  }
}
