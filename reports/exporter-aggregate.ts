/**
 * The main thread's view of the shards' OTLP exporters: per-interval counters and HDR
 * histograms (µs) from every shard merged into one interval-log entry per signal, and
 * into run totals for results.json (queue depth, drops, blocked time, retries, attempts
 * by class, attempt and export latency). Histograms arrive encoded and are merged before
 * any percentile is taken.
 *
 * Also the measured delay of retried batches: first attempt → settlement of every batch
 * that took more than one attempt, which a server's Retry-After / RetryInfo bounds from
 * below. No I/O.
 */
import { EXPORT_ATTEMPT_CLASSES, emptyExporterCounts, type ExporterIntervalCounts, type IntervalMessage } from '../core/messages.ts';
import { createHistogramUs, mergeEncoded, percentilesUs, type Histogram, type PercentilesUs } from '../core/histogram.ts';

/** OTLP signals with an exporter. */
export const EXPORTER_SIGNALS = ['metrics', 'traces'] as const;
export type ExporterSignal = (typeof EXPORTER_SIGNALS)[number];

/** One signal's exporter over one interval, summed over shards (intervals.ndjson). */
export interface ExporterIntervalLine {
  /** Batches waiting at the interval's end, summed over shards. */
  queueDepth: number;
  /** Σ over shards of each shard's deepest queue in the interval. */
  queueDepthMax: number;
  enqueued: number;
  retries: number;
  droppedBatches: number;
  droppedItems: number;
  blockedUs: number;
  /** Attempts by outcome class (non-zero classes only). */
  attempts: Partial<Record<string, number>>;
  attemptUs: { p50: number; p99: number; max: number };
  exportUs: { p50: number; p99: number; max: number };
}

/** One signal's exporter over the run (results.json). */
export interface ExporterTotals {
  /** Deepest queue of any interval (Σ over shards). */
  queueDepthMax: number;
  enqueued: number;
  retries: number;
  droppedBatches: number;
  droppedItems: number;
  blockedUs: number;
  attempts: Partial<Record<string, number>>;
  settledBatches: Record<string, number>;
  settledItems: Record<string, number>;
  rejectedItems: number;
  /** Round trip of one attempt. */
  attemptLatencyUs: PercentilesUs;
  /** First attempt → settlement of each sent batch, retries and waits included. */
  exportLatencyUs: PercentilesUs;
  /** Batches settled after more than one attempt, and their first attempt → settlement time (exact min and max, µs). */
  retriedBatches: number;
  retriedExportMinUs?: number;
  retriedExportMaxUs?: number;
}

interface SignalState {
  counts: ExporterIntervalCounts;
  attemptUs: Histogram;
  exportUs: Histogram;
  seen: boolean;
  retriedBatches: number;
  retriedMinUs: number;
  retriedMaxUs: number;
}

const short = (p: PercentilesUs): { p50: number; p99: number; max: number } => ({ p50: p.p50, p99: p.p99, max: p.max });
const nonZero = (counts: Record<string, number>): Record<string, number> => Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));

function add(into: ExporterIntervalCounts, c: ExporterIntervalCounts): void {
  into.enqueued += c.enqueued;
  into.droppedBatches += c.droppedBatches;
  into.droppedItems += c.droppedItems;
  into.blockedUs += c.blockedUs;
  into.retries += c.retries;
  into.rejectedItems += c.rejectedItems;
  for (const k of EXPORT_ATTEMPT_CLASSES) into.attempts[k] += c.attempts[k];
  for (const k of Object.keys(c.settledBatches) as (keyof typeof c.settledBatches)[]) {
    into.settledBatches[k] += c.settledBatches[k];
    into.settledItems[k] += c.settledItems[k];
  }
}

/** Merges the exporters' reports; call {@link ExporterAggregator.destroy} to free histograms. */
export class ExporterAggregator {
  readonly #signals: Record<ExporterSignal, SignalState>;

  constructor() {
    const state = (): SignalState => ({ counts: emptyExporterCounts(), attemptUs: createHistogramUs(), exportUs: createHistogramUs(), seen: false, retriedBatches: 0, retriedMinUs: Infinity, retriedMaxUs: 0 });
    this.#signals = { metrics: state(), traces: state() };
  }

  /** A settled batch (from the ledger's outcomes): kept when it took more than one attempt. */
  observeSettlement(signal: ExporterSignal, attempts: number | undefined, durationUs: number): void {
    if (attempts === undefined || attempts < 2) return;
    const s = this.#signals[signal];
    s.retriedBatches++;
    s.retriedMinUs = Math.min(s.retriedMinUs, durationUs);
    s.retriedMaxUs = Math.max(s.retriedMaxUs, durationUs);
  }

  /** Merge one interval's messages (every shard's) into a line per signal, and into the totals. */
  line(messages: readonly IntervalMessage[]): Partial<Record<ExporterSignal, ExporterIntervalLine>> | undefined {
    let out: Partial<Record<ExporterSignal, ExporterIntervalLine>> | undefined;
    for (const signal of EXPORTER_SIGNALS) {
      const reports = messages.map((m) => m.exporters?.[signal]).filter((r) => r !== undefined);
      if (reports.length === 0) continue;
      const total = this.#signals[signal];
      total.seen = true;
      const counts = emptyExporterCounts();
      const attemptUs = createHistogramUs();
      const exportUs = createHistogramUs();
      try {
        for (const r of reports) {
          add(counts, r.counts);
          counts.queueDepth += r.counts.queueDepth;
          counts.queueDepthMax += r.counts.queueDepthMax;
          mergeEncoded(attemptUs, r.histograms.attemptUs);
          mergeEncoded(exportUs, r.histograms.exportUs);
        }
        total.attemptUs.add(attemptUs);
        total.exportUs.add(exportUs);
        add(total.counts, counts);
        total.counts.queueDepthMax = Math.max(total.counts.queueDepthMax, counts.queueDepthMax);
        out ??= {};
        out[signal] = {
          queueDepth: counts.queueDepth,
          queueDepthMax: counts.queueDepthMax,
          enqueued: counts.enqueued,
          retries: counts.retries,
          droppedBatches: counts.droppedBatches,
          droppedItems: counts.droppedItems,
          blockedUs: counts.blockedUs,
          attempts: nonZero(counts.attempts),
          attemptUs: short(percentilesUs(attemptUs)),
          exportUs: short(percentilesUs(exportUs)),
        };
      } finally {
        attemptUs.destroy();
        exportUs.destroy();
      }
    }
    return out;
  }

  /** Run totals of a signal's exporter; undefined when no shard reported one. */
  totals(signal: ExporterSignal): ExporterTotals | undefined {
    const s = this.#signals[signal];
    if (!s.seen) return undefined;
    const c = s.counts;
    const t: ExporterTotals = {
      queueDepthMax: c.queueDepthMax,
      enqueued: c.enqueued,
      retries: c.retries,
      droppedBatches: c.droppedBatches,
      droppedItems: c.droppedItems,
      blockedUs: c.blockedUs,
      attempts: nonZero(c.attempts),
      settledBatches: { ...c.settledBatches },
      settledItems: { ...c.settledItems },
      rejectedItems: c.rejectedItems,
      attemptLatencyUs: percentilesUs(s.attemptUs),
      exportLatencyUs: percentilesUs(s.exportUs),
      retriedBatches: s.retriedBatches,
    };
    if (s.retriedBatches > 0) {
      t.retriedExportMinUs = s.retriedMinUs;
      t.retriedExportMaxUs = s.retriedMaxUs;
    }
    return t;
  }

  destroy(): void {
    for (const signal of EXPORTER_SIGNALS) {
      this.#signals[signal].attemptUs.destroy();
      this.#signals[signal].exportUs.destroy();
    }
  }
}
