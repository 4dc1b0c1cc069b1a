/**
 * The reconciliations of a sharded run's shards, combined (`tally merge`). Each shard
 * reconciled its own series and traces against what its own receiver saw (a shard's
 * ledger holds no state for another shard's points, so nothing of theirs counts as
 * missing), so the whole run's counts are the sums: points and spans sent, received,
 * missing by stage, duplicates, mismatches; the ratios are taken again from the sums,
 * never averaged; samples are concatenated in shard order up to the usual limit. Pure.
 */
import { sumCounts } from '../core/counts.ts';
import type { DeltaOffsets } from './delta-offsets.ts';
import { SAMPLE_LIMIT } from './observations.ts';
import type { Reconciliation } from './points.ts';
import type { TraceReconciliation } from './spans.ts';

/** Concatenate sample lists, keeping at most {@link SAMPLE_LIMIT}. */
function samplesOf<T>(lists: readonly (readonly T[])[]): T[] {
  const out: T[] = [];
  for (const list of lists) for (const item of list) if (out.length < SAMPLE_LIMIT) out.push(item);
  return out;
}

/** The numeric fields of records summed; the rest taken from the first. */
function summed<T extends object>(records: readonly T[]): T {
  const numeric = records.map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => typeof v === 'number' || (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'number')))));
  return { ...records[0], ...sumCounts(numeric) } as T;
}

/** Points reconciled shard by shard, as one reconciliation. @returns undefined for none. */
export function mergeReconciliations(parts: readonly Reconciliation[]): Reconciliation | undefined {
  if (parts.length === 0) return undefined;
  const r = summed(parts);
  const byMetric = new Map<number, Reconciliation['metrics'][number]>();
  for (const m of parts.flatMap((p) => p.metrics)) {
    const into = byMetric.get(m.metricIndex);
    byMetric.set(m.metricIndex, into === undefined ? { ...m } : summed([into, m]));
  }
  return {
    ...r,
    lossRatio: r.pointsSent === 0 ? 0 : r.pointsMissing / r.pointsSent,
    metrics: [...byMetric.values()].sort((a, b) => a.metricIndex - b.metricIndex),
    samples: {
      missing: samplesOf(parts.map((p) => p.samples.missing)),
      valueMismatches: samplesOf(parts.map((p) => p.samples.valueMismatches)),
      unexpected: samplesOf(parts.map((p) => p.samples.unexpected)),
    },
  };
}

/** Traces reconciled shard by shard, as one reconciliation. @returns undefined for none. */
export function mergeTraceReconciliations(parts: readonly TraceReconciliation[]): TraceReconciliation | undefined {
  if (parts.length === 0) return undefined;
  const r = summed(parts);
  const s = (pick: (p: TraceReconciliation['samples']) => readonly unknown[]) => samplesOf(parts.map((p) => pick(p.samples)));
  return {
    ...r,
    traceLossRatio: r.tracesSent === 0 ? 0 : r.tracesMissing / r.tracesSent,
    spanLossRatio: r.spansSent === 0 ? 0 : r.spansMissing / r.spansSent,
    samples: {
      missingTraces: s((p) => p.missingTraces),
      missingSpans: s((p) => p.missingSpans),
      wrongContent: s((p) => p.wrongContent),
      duplicates: s((p) => p.duplicates),
      unexpected: s((p) => p.unexpected),
    } as TraceReconciliation['samples'],
  };
}

/** Delta-accumulation checks of disjoint series, as one. @returns undefined for none. */
export function mergeDeltaOffsets(parts: readonly DeltaOffsets[]): DeltaOffsets | undefined {
  if (parts.length === 0) return undefined;
  const byMetric = new Map<number, DeltaOffsets['byMetric'][number]>();
  for (const m of parts.flatMap((p) => p.byMetric)) {
    const into = byMetric.get(m.metricIndex);
    byMetric.set(m.metricIndex, into === undefined ? { ...m } : summed([into, m]));
  }
  return {
    identities: parts.reduce((a, p) => a + p.identities, 0),
    identitiesWithOffset: parts.reduce((a, p) => a + p.identitiesWithOffset, 0),
    offsetTotal: parts.reduce((a, p) => a + p.offsetTotal, 0),
    byMetric: [...byMetric.values()].sort((a, b) => a.metricIndex - b.metricIndex),
    samples: samplesOf(parts.map((p) => p.samples)),
  };
}
