/**
 * The read-back sequence `tally run` and `tally reconcile` share: read every expected
 * (series, tick) of a run from Prometheus into two stores at once (the ledger's
 * ObservationStore and the read-back's per-series view), summarise what was seen, and
 * reconcile it with the ledger.
 */
import type { MetricsLedger } from '../../ledger/ledger.ts';
import type { ObservationStore } from '../../reconcile/observations.ts';
import { reconcile, type Reconciliation } from '../../reconcile/points.ts';
import type { PrometheusApi } from './api.ts';
import { readSamplesInto } from './read-samples.ts';
import type { ReadbackSpace } from './space.ts';
import { ReadbackStore, summariseReadback, type ReadbackReport, type ReadbackSink } from './store.ts';

/** Parallel chunk queries of a read-back. */
const READBACK_CONCURRENCY = 2;

/** A ReadbackSink feeding two stores (the ledger's ObservationStore and the read-back's per-series view). */
export function teeSink(a: ObservationStore, b: ReadbackStore): ReadbackSink {
  return {
    add(m: number, s: number, k: number, expected: number, actual: number): void {
      a.add(m, s, k, expected, actual);
      b.add(m, s, k, expected, actual);
    },
    record(m: number, s: number, k: number, mismatch: Parameters<ObservationStore['record']>[3]): void {
      a.record(m, s, k, mismatch);
      b.record(m, s, k, mismatch);
    },
    addUnexpected(p: Parameters<ObservationStore['addUnexpected']>[0]): void {
      a.addUnexpected(p);
      b.addUnexpected(p);
    },
    seriesSeen(m: number, s: number): void {
      b.seriesSeen(m, s);
    },
  };
}

/** What one read-back saw, and its reconciliation with the ledger. */
export interface ReadAndReconcile {
  /** Per (series, tick): arrivals, for listing what is missing. */
  view: ReadbackStore;
  report: ReadbackReport;
  reconciliation: Reconciliation;
  /** Labels the storing path added beside the expected ones (e.g. `tally_shard`, `otel_scope_name`), sorted. */
  pathLabels: string[];
  /**
   * Samples Prometheus holds for the points read back beyond one per point: a classic
   * histogram point is `_count`, `_sum` and one `_bucket` per bound and `+Inf`. Prometheus's
   * ingest counters count samples, so the waterfall takes these away to count points.
   */
  extraPartSamples: number;
}

/**
 * Read a run's space back into `store` and a fresh view, and reconcile with the ledger.
 * @throws CollectorError when Prometheus cannot be read.
 */
export async function readAndReconcile(api: PrometheusApi, space: ReadbackSpace, ledger: MetricsLedger, store: ObservationStore): Promise<ReadAndReconcile> {
  const view = new ReadbackStore(space.metrics.map((m) => m.seriesCount), space.ticks);
  const requestsBefore = api.requests;
  const read = await readSamplesInto(api, space, teeSink(store, view), { concurrency: READBACK_CONCURRENCY });
  const report = summariseReadback(space, view, { queries: api.requests - requestsBefore });
  const pathLabels = [...new Set(read.pathLabels.flatMap((s) => [...s]))].sort();
  let extraPartSamples = 0;
  space.metrics.forEach((metric, m) => {
    if (metric.histogram?.kind === 'classic') extraPartSamples += view.presentPoints(m) * (metric.histogram.bounds.length + 2);
  });
  return { view, report, reconciliation: reconcile(ledger, store), pathLabels, extraPartSamples };
}
