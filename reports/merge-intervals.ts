/**
 * intervals.ndjson of a sharded run, merged (`tally merge`): the shards share one start
 * instant, so interval k covers the same second in every shard, and lines are aligned by
 * their index. Counts add up, peaks of a sum add up (in-flight, VUs, queue depth: each a
 * sum over threads already), maxima stay maxima, and each second's percentiles come from
 * the shards' histograms of that second (encoded on their lines), merged bucket by
 * bucket. The merged lines carry no histograms (a merged run is not merged again). Pure.
 */
import { sumCounts } from '../core/counts.ts';
import { createHistogramUs, mergeEncoded, percentilesUs } from '../core/histogram.ts';
import { counterKind } from '../host/datapath-delta.ts';
import type { IntervalLine } from './aggregate.ts';
import type { ExporterIntervalLine } from './exporter-aggregate.ts';

type Short = { p50: number; p99: number; max: number };

/** Percentiles (p50, p99, max) of the merged histograms; without histograms, the largest max and p99 of the parts (and their p50s' largest). */
function shortOf(encoded: readonly (string | undefined)[], fallback: readonly Short[]): Short {
  if (encoded.length > 0 && encoded.every((e) => e !== undefined)) {
    const h = createHistogramUs();
    try {
      for (const e of encoded) mergeEncoded(h, e!);
      const p = percentilesUs(h);
      return { p50: p.p50, p99: p.p99, max: p.max };
    } finally {
      h.destroy();
    }
  }
  return { p50: Math.max(0, ...fallback.map((s) => s.p50)), p99: Math.max(0, ...fallback.map((s) => s.p99)), max: Math.max(0, ...fallback.map((s) => s.max)) };
}

function mergeLoad(lines: readonly IntervalLine[]): IntervalLine['load'] {
  const parts = lines.filter((l) => l.load !== undefined);
  if (parts.length === 0) return undefined;
  const loads = parts.map((l) => l.load!);
  const { latencyUs: _a, connectUs: _b, serviceUs: _c, ttfbUs: _d, ...counts } = sumCounts(loads);
  const pick = (name: 'latencyUs' | 'connectUs' | 'serviceUs' | 'ttfbUs'): Short => shortOf(parts.map((l) => l.histograms?.[name]), loads.map((l) => l[name]));
  return { ...(counts as Omit<NonNullable<IntervalLine['load']>, 'latencyUs' | 'connectUs' | 'serviceUs' | 'ttfbUs'>), latencyUs: pick('latencyUs'), connectUs: pick('connectUs'), serviceUs: pick('serviceUs'), ttfbUs: pick('ttfbUs') };
}

function mergeExporter(parts: readonly ExporterIntervalLine[]): ExporterIntervalLine {
  const { attemptUs: _a, exportUs: _b, ...counts } = sumCounts(parts.map(({ histograms: _x, ...rest }) => rest));
  return {
    ...(counts as Omit<ExporterIntervalLine, 'attemptUs' | 'exportUs'>),
    attemptUs: shortOf(parts.map((p) => p.histograms?.attemptUs), parts.map((p) => p.attemptUs)),
    exportUs: shortOf(parts.map((p) => p.histograms?.exportUs), parts.map((p) => p.exportUs)),
  };
}

function mergeDatapath(parts: readonly Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of parts) {
    for (const [key, value] of Object.entries(p)) {
      // Counters' deltas add up; a gauge (a level at the interval's end) keeps the largest shard's.
      out[key] = out[key] === undefined ? value : counterKind(key) === 'gauge' ? Math.max(out[key], value) : out[key] + value;
    }
  }
  return out;
}

/** One interval's lines (one per shard that reported it), as one. */
export function mergeIntervalLine(lines: readonly IntervalLine[]): IntervalLine {
  const [first] = lines;
  const line: IntervalLine = {
    interval: first.interval,
    endMs: first.endMs,
    shards: lines.reduce((a, l) => a + l.shards, 0),
    eventLoopDelayP99MaxUs: Math.max(...lines.map((l) => l.eventLoopDelayP99MaxUs)),
    workerCpuMaxRatio: Math.max(...lines.map((l) => l.workerCpuMaxRatio)),
  };
  const load = mergeLoad(lines);
  if (load !== undefined) line.load = load;
  const metrics = lines.flatMap((l) => (l.metrics === undefined ? [] : [l.metrics]));
  if (metrics.length > 0) line.metrics = sumCounts(metrics);
  const traces = lines.flatMap((l) => (l.traces === undefined ? [] : [l.traces]));
  if (traces.length > 0) line.traces = sumCounts(traces);
  for (const signal of ['metrics', 'traces'] as const) {
    const parts = lines.flatMap((l) => (l.exporter?.[signal] === undefined ? [] : [l.exporter[signal]!]));
    if (parts.length > 0) (line.exporter ??= {})[signal] = mergeExporter(parts);
  }
  const datapath = lines.flatMap((l) => (l.datapath === undefined ? [] : [l.datapath]));
  if (datapath.length > 0) line.datapath = mergeDatapath(datapath);
  return line;
}

/**
 * Every shard's lines, merged interval by interval.
 * @param shards each shard's lines (intervals.ndjson, parsed).
 * @returns the merged lines in interval order, and the peaks of the sums (the run's
 * `maxInFlight` and `vusActiveMax`).
 */
export function mergeIntervalLines(shards: readonly (readonly IntervalLine[])[]): { lines: IntervalLine[]; peaks: { maxInFlight: number; vusActiveMax: number } } {
  const byInterval = new Map<number, IntervalLine[]>();
  for (const lines of shards) for (const l of lines) byInterval.set(l.interval, [...(byInterval.get(l.interval) ?? []), l]);
  const lines = [...byInterval.keys()].sort((a, b) => a - b).map((k) => mergeIntervalLine(byInterval.get(k)!));
  return {
    lines,
    peaks: {
      maxInFlight: Math.max(0, ...lines.map((l) => l.load?.maxInFlight ?? 0)),
      vusActiveMax: Math.max(0, ...lines.map((l) => l.load?.vusActive ?? 0)),
    },
  };
}
