/**
 * Prometheus read-back at load scale: read every expected (series, tick) of a run back
 * as raw samples and place them in a per-point byte store.
 *
 * Raw samples, not `query_range`: a range-vector selector `m{…}[<range>]` in an instant
 * query returns the stored samples with their own timestamps, so a missing tick is a
 * gap, never papered over by the 5-minute lookback that `query_range` applies at each
 * step, and a sample at the wrong timestamp shows as off-tick. The range is
 * `(ticks) · interval`, evaluated half an interval after the last tick, so it holds
 * exactly the requested ticks (both ends fall between ticks, which keeps the result the
 * same whether the range is closed (Prometheus 2) or left-open (Prometheus 3)).
 *
 * One query per chunk selector of each metric (see `layoutMetric`), a few in flight at
 * once; each reply is parsed, placed and dropped before the next, so memory is the
 * store plus `concurrency` replies.
 *
 * @see https://prometheus.io/docs/prometheus/latest/querying/basics/#range-vector-selectors
 * @see https://prometheus.io/docs/prometheus/latest/querying/api/#range-vectors
 */
import { InternalError } from '../../core/errors.ts';
import { parseSampleValue, type PrometheusApi } from './api.ts';
import { promqlString, tickMs, type ReadbackSpace } from './space.ts';
import { ReadbackStore, summariseReadback, type ReadbackReport, type ReadbackSink } from './store.ts';

/** Options for {@link readSamplesInto}. */
export interface ReadSamplesOptions {
  /** First tick to read (default 1). */
  fromTick?: number;
  /** Last tick to read (default `space.ticks`). */
  toTick?: number;
  /** Queries in flight at once (default 2). */
  concurrency?: number;
  signal?: AbortSignal;
}

/** What {@link readSamplesInto} did. */
export interface ReadSamplesResult {
  /** Queries issued (one per chunk selector), not counting retries. */
  queries: number;
  /** Per metric: Prometheus series returned by the chunk selectors (placed or not). */
  seriesReturned: number[];
  samplesReturned: number;
}

/** The range-vector query for one chunk, and its evaluation time. */
export function chunkQuery(space: ReadbackSpace, metricName: string, selector: string, fromTick: number, toTick: number): { expr: string; timeMs: number } {
  const half = Math.floor(space.intervalMs / 2);
  const rangeMs = (toTick - fromTick + 1) * space.intervalMs;
  return { expr: `${metricName}{${selector}}[${rangeMs}ms]`, timeMs: tickMs(space, toTick) + half };
}

/**
 * Read ticks [fromTick, toTick] of every metric into `sink`, chunk by chunk.
 * Samples are placed by timestamp: `(t - startMs) / intervalMs` must be a whole tick in
 * [1, ticks], else the sample is unexpected (`off_tick`, `tick_out_of_range`); a series whose labels
 * map to no index is unexpected (`foreign_attributes`).
 * @throws CollectorError from {@link PrometheusApi.query}; InternalError for a tick window outside 1..ticks.
 */
export async function readSamplesInto(api: PrometheusApi, space: ReadbackSpace, sink: ReadbackSink, options: ReadSamplesOptions = {}): Promise<ReadSamplesResult> {
  const fromTick = options.fromTick ?? 1;
  const toTick = options.toTick ?? space.ticks;
  if (!(fromTick >= 1 && toTick <= space.ticks && fromTick <= toTick)) throw new InternalError(`tick window ${fromTick}..${toTick} outside 1..${space.ticks}`);
  const jobs: { m: number; selector: string }[] = [];
  space.metrics.forEach((metric, m) => {
    for (const selector of metric.selectors) jobs.push({ m, selector });
  });
  const result: ReadSamplesResult = { queries: 0, seriesReturned: space.metrics.map(() => 0), samplesReturned: 0 };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const { m, selector } = jobs[next++];
      const metric = space.metrics[m];
      const { expr, timeMs } = chunkQuery(space, metric.name, selector, fromTick, toTick);
      result.queries++;
      const reply = await api.query(expr, timeMs, { signal: options.signal });
      if (reply.data.resultType !== 'matrix') throw new InternalError(`range-vector query returned ${reply.data.resultType}`);
      for (const series of reply.data.result) {
        result.seriesReturned[m]++;
        const index = metric.seriesIndexOf(series.metric);
        if (index < 0) {
          sink.addUnexpected({ metric: metric.name, reason: 'foreign_attributes', detail: JSON.stringify(series.metric).slice(0, 300) });
          continue;
        }
        sink.seriesSeen?.(m, index);
        placeSamples(space, sink, m, index, series.values);
        result.samplesReturned += series.values.length;
      }
    }
  };
  const concurrency = Math.max(1, Math.min(options.concurrency ?? 2, jobs.length));
  await Promise.all(Array.from({ length: concurrency }, worker));
  return result;
}

function placeSamples(space: ReadbackSpace, sink: ReadbackSink, m: number, index: number, values: readonly [number, string][]): void {
  const metric = space.metrics[m];
  for (let j = 0; j < values.length; j++) {
    const tsMs = Math.round(values[j][0] * 1000);
    const offsetMs = tsMs - space.startMs;
    const tick = offsetMs / space.intervalMs;
    if (!Number.isInteger(tick)) {
      sink.addUnexpected({ metric: metric.name, reason: 'off_tick', detail: `series ${index} sample at ${tsMs} ms is not on a tick` });
    } else if (tick < 1 || tick > space.ticks) {
      sink.addUnexpected({ metric: metric.name, reason: 'tick_out_of_range', detail: `series ${index} sample at tick ${tick}` });
    } else {
      sink.add(m, index, tick, metric.expectedValue(index, tick), parseSampleValue(values[j][1]));
    }
  }
}

/**
 * Count, per metric, the run's series that hold samples in the window: with the chunk
 * results, it finds series no chunk selector matched. One instant query per metric.
 * @throws CollectorError from {@link PrometheusApi.query}.
 */
export async function countRunSeries(api: PrometheusApi, space: ReadbackSpace, signal?: AbortSignal): Promise<number[]> {
  const out: number[] = [];
  for (const metric of space.metrics) {
    const matchers = [`__name__=${promqlString(metric.name)}`, metric.runMatchers].filter((p) => p !== '').join(',');
    const { expr, timeMs } = chunkQuery(space, '', matchers, 1, space.ticks);
    const reply = await api.query(`count(count_over_time(${expr}))`, timeMs, { signal });
    if (reply.data.resultType !== 'vector') throw new InternalError(`count() returned ${reply.data.resultType}`);
    const value = reply.data.result[0]?.value?.[1];
    out.push(value === undefined ? 0 : Number(value));
  }
  return out;
}

/** Options for {@link readBack}. */
export interface ReadBackOptions {
  concurrency?: number;
  /** Also count series outside the chunk selectors (one query per metric; default true). */
  countStraySeries?: boolean;
  signal?: AbortSignal;
}

/**
 * Read a whole run back and summarise it: which series and ticks are missing, value
 * mismatches, duplicates, unexpected samples and series, and the queries it took.
 * @returns the report and the store (for exact enumeration with `missingPoints`).
 * @throws CollectorError from the API client.
 */
export async function readBack(api: PrometheusApi, space: ReadbackSpace, options: ReadBackOptions = {}): Promise<{ report: ReadbackReport; store: ReadbackStore }> {
  const store = new ReadbackStore(space.metrics.map((m) => m.seriesCount), space.ticks);
  const requestsBefore = api.requests;
  const read = await readSamplesInto(api, space, store, { concurrency: options.concurrency, signal: options.signal });
  let seriesOutsideSelectors = 0;
  if (options.countStraySeries !== false) {
    const counted = await countRunSeries(api, space, options.signal);
    counted.forEach((n, m) => {
      seriesOutsideSelectors += Math.max(0, n - read.seriesReturned[m]);
    });
  }
  const report = summariseReadback(space, store, { queries: api.requests - requestsBefore, seriesOutsideSelectors });
  return { report, store };
}
