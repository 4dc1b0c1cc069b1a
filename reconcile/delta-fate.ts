/**
 * What happened to every delta-temporality data point on its way into a backend that
 * read-back checks: refused or lost before the backend (the ledger says so), stored with
 * the value the model gives, stored carrying a lasting offset from an earlier lost delta
 * point of its series, stored wrong for another reason, or acknowledged and never stored
 * (dropped downstream: e.g. an exporter or backend that cannot carry delta and discards it
 * without an error). Pure.
 *
 * A delta point converted to cumulative on the way holds its series' running sum, so a
 * delta point lost before the converter leaves every later stored value short by its
 * increment: the offset is expected from the ledger (what reached the converter) and
 * matched against what read-back found. Stored as sent (Prometheus's native delta
 * ingestion), each point carries only its own delta and a loss is only a gap.
 *
 * @see https://opentelemetry.io/docs/specs/otel/metrics/data-model/#sums-delta-to-cumulative
 * @see https://prometheus.io/docs/prometheus/latest/feature_flags/#otlp-delta-conversion
 */
import type { MetricModel } from '../core/instruments.ts';
import { POINT_ACKNOWLEDGED, POINT_UNSENT, type MetricsLedger } from '../ledger/ledger.ts';

/** What read-back saw, per point (readback/prometheus/store.ts ReadbackStore fits). */
export interface PointsSeen {
  count(metricIndex: number, series: number, tick: number): number;
  mismatched(metricIndex: number, series: number, tick: number): boolean;
}

/** The fate of the delta points of one metric, or of all of them. */
export interface DeltaFateCounts {
  /** Delta points handed to the exporter. */
  sent: number;
  /** Not acknowledged by the first hop: refused, failed, dropped by the queue or unsettled (the ledger's states). */
  notAcknowledged: number;
  /** Stored with the model's value: the running sum (converted) or the point's own delta (stored as sent). */
  storedExact: number;
  /** Stored short of the running sum by an earlier delta point of its series that the first hop never took. */
  storedWithOffset: number;
  /** Stored with another wrong value. */
  storedWrong: number;
  /** Acknowledged by the first hop, never stored: dropped downstream without an error the sender saw. */
  droppedAfterAck: number;
}

/** Delta fate of a run's read-back. */
export interface DeltaFate extends DeltaFateCounts {
  /** How the backend holds delta points (scenario `backends.prometheus.deltaIngestion`). */
  ingestion: 'converted' | 'native';
  /** Series whose stored running sum carries a lasting offset (converted ingestion only). */
  seriesWithOffset: number;
  byMetric: (DeltaFateCounts & { metricIndex: number; verdict: DeltaVerdict })[];
}

/**
 * One word per metric: `stored` (every acknowledged point stored exactly), `refused`
 * (none acknowledged), `dropped` (acknowledged, none stored), `offset` (stored, some with a
 * lasting offset), `mixed` otherwise.
 */
export type DeltaVerdict = 'stored' | 'refused' | 'dropped' | 'offset' | 'mixed';

function empty(): DeltaFateCounts {
  return { sent: 0, notAcknowledged: 0, storedExact: 0, storedWithOffset: 0, storedWrong: 0, droppedAfterAck: 0 };
}

function verdictOf(c: DeltaFateCounts): DeltaVerdict {
  const stored = c.storedExact + c.storedWithOffset + c.storedWrong;
  if (c.sent > 0 && c.notAcknowledged === c.sent) return 'refused';
  if (stored === 0 && c.droppedAfterAck > 0) return 'dropped';
  if (c.storedWithOffset > 0 && c.storedWrong === 0 && c.droppedAfterAck === 0) return 'offset';
  if (c.storedExact === stored && c.droppedAfterAck === 0 && c.notAcknowledged === 0) return 'stored';
  return 'mixed';
}

/**
 * Classify every sent delta point of the run's delta metrics.
 * @param models the run's metric models by metric index (non-delta metrics are skipped).
 * @param ledger what was sent and how the first hop answered.
 * @param seen what read-back found (presence and value check per point).
 * @returns exact counts, per metric and in total; undefined when the run has no delta metric.
 */
export function deltaFate(models: readonly MetricModel[], ledger: MetricsLedger, seen: PointsSeen, ingestion: 'converted' | 'native'): DeltaFate | undefined {
  const deltas = models.filter((m) => m.temporality === 'delta');
  if (deltas.length === 0) return undefined;
  const out: DeltaFate = { ingestion, ...empty(), seriesWithOffset: 0, byMetric: [] };
  for (const model of deltas) {
    const m = model.metricIndex;
    const c = empty();
    for (let s = 0; s < model.seriesCount; s++) {
      let lostBefore = false;
      let offsetSeen = false;
      for (let k = 1; k <= ledger.ticks; k++) {
        const state = ledger.state(m, s, k);
        if (state === POINT_UNSENT) continue;
        c.sent++;
        const acknowledged = state === POINT_ACKNOWLEDGED;
        if (!acknowledged) c.notAcknowledged++;
        if (seen.count(m, s, k) === 0) {
          if (acknowledged) c.droppedAfterAck++;
        } else if (!seen.mismatched(m, s, k)) c.storedExact++;
        else if (ingestion === 'converted' && lostBefore) {
          c.storedWithOffset++;
          offsetSeen = true;
        } else c.storedWrong++;
        // A point the first hop never took never reached a converter behind it: every later running sum lacks it.
        if (!acknowledged) lostBefore = true;
      }
      if (offsetSeen) out.seriesWithOffset++;
    }
    for (const key of Object.keys(c) as (keyof DeltaFateCounts)[]) out[key] += c[key];
    out.byMetric.push({ metricIndex: m, ...c, verdict: verdictOf(c) });
  }
  return out;
}
