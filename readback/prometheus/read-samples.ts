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
import type { MatrixSeries } from './api-replies.ts';
import { compareClassic, compareNative, parseNativeHistogram, type ClassicHistogramReadback, type ClassicHistogramSeen, type NativeHistogramReadback } from './histograms.ts';
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
  /** Per metric: the optional (path) labels the returned series carried, e.g. `tally_shard` (see space.ts). */
  pathLabels: Set<string>[];
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
  const result: ReadSamplesResult = { queries: 0, seriesReturned: space.metrics.map(() => 0), samplesReturned: 0, pathLabels: space.metrics.map(() => new Set<string>()) };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const { m, selector } = jobs[next++];
      const chunk: Chunk = { api, space, sink, m, selector, fromTick, toTick, result, signal: options.signal };
      const histogram = space.metrics[m].histogram;
      if (histogram?.kind === 'classic') await readClassicChunk(chunk, histogram);
      else if (histogram?.kind === 'native') await readNativeChunk(chunk, histogram);
      else await readSampleChunk(chunk);
    }
  };
  const concurrency = Math.max(1, Math.min(options.concurrency ?? 2, jobs.length));
  await Promise.all(Array.from({ length: concurrency }, worker));
  return result;
}

/** One chunk query's context. */
interface Chunk {
  api: PrometheusApi;
  space: ReadbackSpace;
  sink: ReadbackSink;
  m: number;
  selector: string;
  fromTick: number;
  toTick: number;
  result: ReadSamplesResult;
  signal?: AbortSignal;
}

/** Run one range-vector query of the chunk (for `name`, the metric's or one of its parts) and return its series. */
async function queryChunk(c: Chunk, name: string): Promise<MatrixSeries[]> {
  const { expr, timeMs } = chunkQuery(c.space, name, c.selector, c.fromTick, c.toTick);
  c.result.queries++;
  const reply = await c.api.query(expr, timeMs, { signal: c.signal });
  if (reply.data.resultType !== 'matrix') throw new InternalError(`range-vector query returned ${reply.data.resultType}`);
  return reply.data.result;
}

/** The series index of a returned series, counting it; -1 (and an unexpected point) when it is not of the run. */
function placeSeries(c: Chunk, labels: Readonly<Record<string, string>>, count: boolean): number {
  const metric = c.space.metrics[c.m];
  const index = metric.seriesIndexOf(labels);
  if (!count) return index;
  c.result.seriesReturned[c.m]++;
  if (index < 0) {
    c.sink.addUnexpected({ metric: metric.name, reason: 'foreign_attributes', detail: JSON.stringify(labels).slice(0, 300) });
    return index;
  }
  c.sink.seriesSeen?.(c.m, index);
  for (const label of metric.optionalLabelsOf(labels)) c.result.pathLabels[c.m].add(label);
  return index;
}

/** The tick of a sample timestamp (s), or undefined after reporting it unexpected (off tick, out of range). */
function tickOf(c: Chunk, seconds: number, index: number): number | undefined {
  const tsMs = Math.round(seconds * 1000);
  const tick = (tsMs - c.space.startMs) / c.space.intervalMs;
  const name = c.space.metrics[c.m].name;
  if (!Number.isInteger(tick)) {
    c.sink.addUnexpected({ metric: name, reason: 'off_tick', detail: `series ${index} sample at ${tsMs} ms is not on a tick` });
    return undefined;
  }
  if (tick < 1 || tick > c.space.ticks) {
    c.sink.addUnexpected({ metric: name, reason: 'tick_out_of_range', detail: `series ${index} sample at tick ${tick}` });
    return undefined;
  }
  return tick;
}

/** A counter, up-down counter or gauge: one float sample per point. */
async function readSampleChunk(c: Chunk): Promise<void> {
  const metric = c.space.metrics[c.m];
  for (const series of await queryChunk(c, metric.name)) {
    const index = placeSeries(c, series.metric, true);
    if (index < 0) continue;
    c.result.samplesReturned += series.values.length;
    for (const [seconds, text] of series.values) {
      const tick = tickOf(c, seconds, index);
      if (tick !== undefined) c.sink.add(c.m, index, tick, metric.expectedValue(index, tick), parseSampleValue(text));
    }
  }
}

/** A classic histogram: `_count`, `_sum` and `_bucket{le}` read per chunk, each point checked whole. */
async function readClassicChunk(c: Chunk, h: ClassicHistogramReadback): Promise<void> {
  const metric = c.space.metrics[c.m];
  const seen = new Map<number, ClassicHistogramSeen>();
  const at = (index: number, tick: number): ClassicHistogramSeen => {
    const key = index * (c.space.ticks + 1) + tick;
    let point = seen.get(key);
    if (point === undefined) seen.set(key, (point = { buckets: new Map() }));
    return point;
  };
  for (const part of ['_count', '_sum', '_bucket'] as const) {
    for (const series of await queryChunk(c, `${metric.name}${part}`)) {
      const { le, ...labels } = series.metric;
      const index = placeSeries(c, part === '_bucket' ? labels : series.metric, part === '_count');
      if (index < 0) continue;
      c.result.samplesReturned += series.values.length;
      const bound = le === undefined ? NaN : le === '+Inf' ? Infinity : Number(le);
      for (const [seconds, text] of series.values) {
        const tick = tickOf(c, seconds, index);
        if (tick === undefined) continue;
        const point = at(index, tick);
        const value = parseSampleValue(text);
        if (part === '_count') point.count = value;
        else if (part === '_sum') point.sum = value;
        else point.buckets.set(bound, value);
      }
    }
  }
  for (const [key, point] of seen) {
    const index = Math.floor(key / (c.space.ticks + 1));
    const tick = key % (c.space.ticks + 1);
    c.sink.record(c.m, index, tick, compareClassic(h.expected(index, tick), h.bounds, point));
  }
}

/** A native histogram: one histogram sample per point, checked whole. */
async function readNativeChunk(c: Chunk, h: NativeHistogramReadback): Promise<void> {
  const metric = c.space.metrics[c.m];
  for (const series of await queryChunk(c, metric.name)) {
    const index = placeSeries(c, series.metric, true);
    if (index < 0) continue;
    if (series.values.length > 0) c.sink.addUnexpected({ metric: metric.name, reason: 'wrong_instrument', detail: `series ${index} holds ${series.values.length} float samples where native histograms are expected` });
    const histograms = series.histograms ?? [];
    c.result.samplesReturned += histograms.length;
    histograms.forEach(([seconds, value], j) => {
      const tick = tickOf(c, seconds, index);
      if (tick !== undefined) c.sink.record(c.m, index, tick, compareNative(h.expected(index, tick), parseNativeHistogram(value, `/data/result/histograms/${j}/1`)));
    });
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

/**
 * Count the samples of the run's `target_info` series (Prometheus's OTLP receiver and the
 * collector's prometheusremotewrite exporter write one per resource per request or batch)
 * between `fromMs` and `atMs`: samples Prometheus appended that are no data point.
 * @param runMatchers label matchers naming the run, e.g. `tally_run_id="…"`.
 * @throws CollectorError from {@link PrometheusApi.query}.
 * @see https://prometheus.io/docs/guides/opentelemetry/#including-resource-attributes-at-query-time
 */
export async function countTargetInfoSamples(api: PrometheusApi, runMatchers: string, fromMs: number, atMs: number, signal?: AbortSignal): Promise<number> {
  const rangeMs = Math.max(1, Math.ceil(atMs - fromMs));
  const reply = await api.query(`sum(count_over_time(target_info{${runMatchers}}[${rangeMs}ms]))`, atMs, { signal });
  if (reply.data.resultType !== 'vector') throw new InternalError(`sum() returned ${reply.data.resultType}`);
  const value = reply.data.result[0]?.value?.[1];
  return value === undefined ? 0 : Number(value);
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
