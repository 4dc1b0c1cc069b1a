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
import { createHistogramUs, decodeHistogram, encodeHistogram, mergeEncoded, percentilesUs, type Histogram, type PercentilesUs } from '../core/histogram.ts';

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
  /** A sharded run's shard: the interval's histograms (µs), encoded, for `tally merge`. */
  histograms?: { attemptUs: string; exportUs: string };
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

/**
 * One signal's exporter totals in a form that merges exactly (a sharded run's shard.json):
 * the summed counters, the HDR histograms encoded, and the retried batches' extremes.
 */
export interface EncodedExporterTotals {
  counts: ExporterIntervalCounts;
  attemptUs: string;
  exportUs: string;
  retriedBatches: number;
  /** Quickest and slowest retried batch (µs); absent when none was retried. */
  retriedMinUs?: number;
  retriedMaxUs?: number;
}

/** results.json's exporter totals from merged counters and histograms. Pure (reads the histograms). */
export function exporterTotalsOf(c: ExporterIntervalCounts, attemptUs: Histogram, exportUs: Histogram, retried: { batches: number; minUs?: number; maxUs?: number }): ExporterTotals {
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
    attemptLatencyUs: percentilesUs(attemptUs),
    exportLatencyUs: percentilesUs(exportUs),
    retriedBatches: retried.batches,
  };
  if (retried.batches > 0 && retried.minUs !== undefined && retried.maxUs !== undefined) {
    t.retriedExportMinUs = retried.minUs;
    t.retriedExportMaxUs = retried.maxUs;
  }
  return t;
}

/**
 * Add one run's encoded totals into another's (`into` undefined: a copy). Counters add,
 * histograms merge bucket by bucket; the deepest queue is the deepest of either run
 * (shards of a run each keep their own queues).
 */
export function addEncodedExporterTotals(into: EncodedExporterTotals | undefined, t: EncodedExporterTotals): EncodedExporterTotals {
  if (into === undefined) return structuredClone(t);
  const queueDepthMax = Math.max(into.counts.queueDepthMax, t.counts.queueDepthMax);
  add(into.counts, t.counts);
  into.counts.queueDepthMax = queueDepthMax;
  into.attemptUs = mergeEncodedPair(into.attemptUs, t.attemptUs);
  into.exportUs = mergeEncodedPair(into.exportUs, t.exportUs);
  into.retriedBatches += t.retriedBatches;
  if (t.retriedMinUs !== undefined) into.retriedMinUs = Math.min(into.retriedMinUs ?? Infinity, t.retriedMinUs);
  if (t.retriedMaxUs !== undefined) into.retriedMaxUs = Math.max(into.retriedMaxUs ?? 0, t.retriedMaxUs);
  return into;
}

/** results.json's exporter totals of encoded totals. */
export function exporterTotalsOfEncoded(t: EncodedExporterTotals): ExporterTotals {
  const attemptUs = decodeHistogram(t.attemptUs);
  const exportUs = decodeHistogram(t.exportUs);
  try {
    return exporterTotalsOf(t.counts, attemptUs, exportUs, { batches: t.retriedBatches, minUs: t.retriedMinUs, maxUs: t.retriedMaxUs });
  } finally {
    attemptUs.destroy();
    exportUs.destroy();
  }
}

function mergeEncodedPair(a: string, b: string): string {
  const h = decodeHistogram(a);
  try {
    mergeEncoded(h, b);
    return encodeHistogram(h);
  } finally {
    h.destroy();
  }
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
  line(messages: readonly IntervalMessage[], encode = false): Partial<Record<ExporterSignal, ExporterIntervalLine>> | undefined {
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
        if (encode) out[signal]!.histograms = { attemptUs: encodeHistogram(attemptUs), exportUs: encodeHistogram(exportUs) };
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
    return exporterTotalsOf(s.counts, s.attemptUs, s.exportUs, { batches: s.retriedBatches, minUs: s.retriedMinUs, maxUs: s.retriedMaxUs });
  }

  /** A signal's totals in their mergeable form (histograms encoded); undefined when no shard reported one. */
  encodedTotals(signal: ExporterSignal): EncodedExporterTotals | undefined {
    const s = this.#signals[signal];
    if (!s.seen) return undefined;
    const out: EncodedExporterTotals = { counts: structuredClone(s.counts), attemptUs: encodeHistogram(s.attemptUs), exportUs: encodeHistogram(s.exportUs), retriedBatches: s.retriedBatches };
    if (s.retriedBatches > 0) {
      out.retriedMinUs = s.retriedMinUs;
      out.retriedMaxUs = s.retriedMaxUs;
    }
    return out;
  }

  destroy(): void {
    for (const signal of EXPORTER_SIGNALS) {
      this.#signals[signal].attemptUs.destroy();
      this.#signals[signal].exportUs.destroy();
    }
  }
}
