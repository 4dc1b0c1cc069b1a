/**
 * Pieces of a sharded run's merge that are not counters: HDR histograms encoded in
 * several shards merged into one (bucket by bucket, never percentiles averaged), the
 * load's raw counters, the generator's health, and the datapath counters of the hosts the
 * shards ran on. Pure (histograms are decoded into WebAssembly memory and freed).
 */
import { sumCounts } from '../core/counts.ts';
import { createHistogramUs, encodeHistogram, mergeEncoded } from '../core/histogram.ts';
import { emptyLoadCounts, type LoadIntervalCounts } from '../core/messages.ts';
import type { DatapathDelta } from '../host/datapath-delta.ts';
import type { ResultsInput } from './results.ts';

/** Merge encoded histograms into one, encoded. */
export function mergeEncodedHistograms(encoded: readonly string[]): string {
  const h = createHistogramUs();
  try {
    for (const e of encoded) mergeEncoded(h, e);
    return encodeHistogram(h);
  } finally {
    h.destroy();
  }
}

/** Merge maps of encoded histograms name by name (a name missing from a part is empty there). */
export function mergeHistogramMaps(maps: readonly Record<string, string>[]): Record<string, string> {
  const names = [...new Set(maps.flatMap((m) => Object.keys(m)))];
  return Object.fromEntries(names.map((n) => [n, mergeEncodedHistograms(maps.flatMap((m) => (m[n] === undefined ? [] : [m[n]])))]));
}

/**
 * The load's raw counters of several shards added up: counts and maps of counts sum
 * (`lastOverrunStartMs` and `connectCallUsMax` take the largest), burst releases and slow
 * connects are kept (merged later, per burst). `maxInFlight` and
 * `vusActiveMax` are peaks of the sum over shards within one interval: the caller takes
 * them from the merged interval lines.
 */
export function sumLoadCounts(parts: readonly LoadIntervalCounts[]): LoadIntervalCounts {
  const out = { ...emptyLoadCounts(), ...sumCounts(parts.map(({ bursts: _b, slowConnectsUs: _s, ...counts }) => counts)) };
  // An epoch instant and a largest call time are the largest over shards, not their sum.
  out.lastOverrunStartMs = Math.max(0, ...parts.map((p) => p.lastOverrunStartMs));
  out.connectCallUsMax = Math.max(0, ...parts.map((p) => p.connectCallUsMax));
  out.bursts = parts.flatMap((p) => p.bursts.map((b) => ({ ...b })));
  out.slowConnectsUs = parts.flatMap((p) => p.slowConnectsUs);
  return out;
}

/** The generator health of the whole run: the busiest shard's, every thread of every shard. */
export function mergeGenerator(parts: readonly Pick<ResultsInput, 'cpuRatio' | 'eventLoopDelayP99MaxUs' | 'workerCpuRatios' | 'workerEventLoopDelayP99MaxUs' | 'mainThreadStalls'>[]): Pick<ResultsInput, 'cpuRatio' | 'eventLoopDelayP99MaxUs' | 'workerCpuRatios' | 'workerEventLoopDelayP99MaxUs' | 'mainThreadStalls'> {
  const stalls = parts.flatMap((p) => (p.mainThreadStalls === undefined ? [] : [p.mainThreadStalls]));
  return {
    cpuRatio: Math.max(0, ...parts.map((p) => p.cpuRatio)),
    eventLoopDelayP99MaxUs: Math.max(0, ...parts.map((p) => p.eventLoopDelayP99MaxUs)),
    workerCpuRatios: parts.flatMap((p) => p.workerCpuRatios ?? []),
    workerEventLoopDelayP99MaxUs: parts.flatMap((p) => p.workerEventLoopDelayP99MaxUs ?? []),
    ...(stalls.length === 0 ? {} : {
      mainThreadStalls: {
        count: stalls.reduce((a, s) => a + s.count, 0),
        maxMs: Math.max(...stalls.map((s) => s.maxMs)),
        totalMs: stalls.reduce((a, s) => a + s.totalMs, 0),
        thresholdMs: stalls[0].thresholdMs,
      },
    }),
  };
}

type Datapath = NonNullable<ResultsInput['datapath']>;

/**
 * The datapath counters of the shards' hosts: each counter's deltas add up (null when any
 * shard's was reset), each gauge keeps the largest reading; flags of every shard are kept.
 * Shards on one node each read that node's counters: their sum then counts them once per shard.
 */
export function mergeDatapath(parts: readonly Datapath[]): Datapath | undefined {
  if (parts.length === 0) return undefined;
  const counters: Record<string, { before: number; after: number; delta: number | null; reset: boolean }> = {};
  const gauges: Record<string, { before: number; after: number }> = {};
  for (const p of parts) {
    for (const [key, c] of Object.entries(p.delta.counters)) {
      const into = counters[key];
      if (into === undefined) counters[key] = { ...c };
      else {
        into.before += c.before;
        into.after += c.after;
        into.delta = into.delta === null || c.delta === null ? null : into.delta + c.delta;
        into.reset ||= c.reset;
      }
    }
    for (const [key, g] of Object.entries(p.delta.gauges)) {
      const into = gauges[key];
      gauges[key] = into === undefined ? { ...g } : { before: Math.max(into.before, g.before), after: Math.max(into.after, g.after) };
    }
  }
  const sources = [...new Set(parts.map((p) => p.source))];
  const delta: DatapathDelta = {
    root: parts[0].delta.root,
    intervalMs: Math.max(...parts.map((p) => p.delta.intervalMs)),
    counters,
    gauges,
    flags: parts.flatMap((p) => p.delta.flags),
  };
  return { source: `${parts.length} shards: ${sources.join(', ')}`, delta };
}
