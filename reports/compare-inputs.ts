/**
 * What `tally compare` reads from each run: its results.json and the interval lines of its
 * load (intervals.ndjson), and the merged HDR histograms of several runs (bucket counts
 * add; percentiles are taken only after the merge, never averaged). Pure apart from the
 * WebAssembly memory of decoded histograms, freed before returning.
 */
import { createHistogramUs, decodeHistogram, valueAtPercentileUs, type Histogram } from '../core/histogram.ts';
import type { IntervalLine } from './aggregate.ts';
import type { Results } from './results.ts';

/** One run as compare sees it. */
export interface CompareRun {
  /** Where it was read from (for people). */
  dir: string;
  results: Results;
  /** intervals.ndjson, parsed (empty when the file is missing). */
  intervals: IntervalLine[];
}

/**
 * The interval lines that measured a whole second of load: within the planned duration
 * (the tail after it only drains), and with requests settled.
 */
export function loadIntervals(run: CompareRun): NonNullable<IntervalLine['load']>[] {
  const plannedMs = run.results.run.plannedDurationMs as number;
  return run.intervals.filter((l) => l.endMs <= plannedMs && l.load !== undefined && l.load.completed > 0).map((l) => l.load!);
}

/** Per-interval values of one field of the load lines, every run's pooled. */
export function pooledSamples(runs: readonly CompareRun[], pick: (load: NonNullable<IntervalLine['load']>) => number | undefined): number[] {
  return runs.flatMap((r) => loadIntervals(r).map(pick)).filter((v): v is number => v !== undefined && Number.isFinite(v));
}

/** The median of values (undefined for none). */
export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Reads percentiles of histograms merged across runs. */
export interface MergedHistograms {
  /** Total samples in the merged histogram, or 0 when not every run carries it. */
  count(name: string): number;
  /** A percentile (0..100, µs) of the merged histogram, or undefined. */
  percentile(name: string, p: number): number | undefined;
}

/** The encoded histogram `name` of a run (results.json `histograms`, or the read-back's visibility lag). */
function encodedOf(r: Results, name: string): string | undefined {
  if (name === 'visibilityLagUs') return r.readback?.visibility?.lagHistogramUs;
  return r.histograms?.[name];
}

/**
 * Run `fn` with the histograms of `runs` merged by name (each merged once, on first use),
 * then free them. A histogram missing from any run is not merged (undefined percentiles).
 */
export function withMergedHistograms<T>(runs: readonly CompareRun[], fn: (merged: MergedHistograms) => T): T {
  const merged = new Map<string, Histogram | null>();
  const get = (name: string): Histogram | null => {
    let h = merged.get(name);
    if (h !== undefined) return h;
    const encoded = runs.map((r) => encodedOf(r.results, name));
    if (encoded.some((e) => e === undefined)) h = null;
    else {
      h = createHistogramUs();
      for (const e of encoded as string[]) {
        const one = decodeHistogram(e);
        try {
          h.add(one);
        } finally {
          one.destroy();
        }
      }
    }
    merged.set(name, h);
    return h;
  };
  try {
    return fn({
      count: (name) => get(name)?.totalCount ?? 0,
      percentile: (name, p) => {
        const h = get(name);
        return h === null || h.totalCount === 0 ? undefined : valueAtPercentileUs(h, p);
      },
    });
  } finally {
    for (const h of merged.values()) h?.destroy();
  }
}
