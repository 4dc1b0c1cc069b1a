/**
 * Sums of consecutive deltas of a backend's own counters (Prometheus's ingest, Tempo's
 * intake), for counters read periodically and chained as `increase()` does: a reset
 * between two readings then loses at most one interval's counts, not the run's. Pure.
 */
import type { PrometheusIngestDelta, TempoIngestDelta } from './backend-self-metrics.ts';

function addRecord(into: Record<string, number>, from: Readonly<Record<string, number>>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

/** Sum Prometheus ingest deltas taken over consecutive intervals; flags concatenated. */
export function sumPrometheusIngestDeltas(deltas: readonly PrometheusIngestDelta[]): PrometheusIngestDelta {
  const out: PrometheusIngestDelta = {
    samplesAppended: 0, outOfOrderAppended: 0, discarded: { out_of_order: 0, out_of_bounds: 0, too_old: 0 }, writeRequestsByCode: {},
    samplesIn: 0, scrape: { duplicateTimestamp: 0, outOfOrder: 0, outOfBounds: 0 }, flags: [],
  };
  for (const d of deltas) {
    out.samplesAppended += d.samplesAppended;
    out.outOfOrderAppended += d.outOfOrderAppended;
    out.discarded.out_of_order += d.discarded.out_of_order;
    out.discarded.out_of_bounds += d.discarded.out_of_bounds;
    out.discarded.too_old += d.discarded.too_old;
    addRecord(out.writeRequestsByCode, d.writeRequestsByCode);
    out.samplesIn += d.samplesIn;
    out.scrape.duplicateTimestamp += d.scrape.duplicateTimestamp;
    out.scrape.outOfOrder += d.scrape.outOfOrder;
    out.scrape.outOfBounds += d.scrape.outOfBounds;
    out.flags.push(...d.flags);
  }
  return out;
}

/** Sum Tempo intake deltas taken over consecutive intervals; `spansReceived` null only when every interval's was. */
export function sumTempoIngestDeltas(deltas: readonly TempoIngestDelta[]): TempoIngestDelta {
  const out: TempoIngestDelta = { spansReceived: null, discardedByReason: {}, flags: [] };
  for (const d of deltas) {
    if (d.spansReceived !== null) out.spansReceived = (out.spansReceived ?? 0) + d.spansReceived;
    addRecord(out.discardedByReason, d.discardedByReason);
    out.flags.push(...d.flags);
  }
  return out;
}
