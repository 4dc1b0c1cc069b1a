/**
 * The main thread's view of a running load: per-shard interval reports merged into one
 * line per interval, and into run totals. Histograms arrive encoded and are merged
 * (bucket counts add) before any percentile is taken; percentiles are never averaged.
 *
 * No I/O: the caller writes the lines it returns.
 */
import { emptyLoadCounts, ERROR_CLASSES, LOAD_HISTOGRAMS, STATUS_CLASSES, type ExportOutcome, type IntervalMessage, type LoadHistogramName, type LoadIntervalCounts, type TraceExportSettlement } from '../core/messages.ts';
import { finalStateOf } from '../ledger/ledger.ts';
import { spanFinalStateOf } from '../ledger/span-ledger.ts';
import { ExporterAggregator, type ExporterIntervalLine, type ExporterSignal } from './exporter-aggregate.ts';
import { createHistogramUs, encodeHistogram, mergeEncoded, mergeEncodedBytes, percentilesUs, recordUs, valueAtPercentileUs, type Histogram, type PercentilesUs } from '../core/histogram.ts';

/** One line of intervals.ndjson. */
export interface IntervalLine {
  interval: number;
  /** End of the interval, ms since the run start. */
  endMs: number;
  /** Shards that reported this interval. */
  shards: number;
  load?: {
    /** Open model: arrivals the schedule had due in the interval (the target rate, per interval); absent for a closed model. */
    plannedArrivals?: number;
    started: number;
    /** Iterations whose requests all settled. */
    iterationsCompleted: number;
    completed: number;
    newConnections: number;
    /** New connections per second over the interval. */
    connectionsPerSecond: number;
    vusActive: number;
    stageStarted: Record<number, number>;
    backends: Record<string, number>;
    ok: number;
    errors: number;
    errorsByClass: Partial<Record<string, number>>;
    /** Responses by HTTP status class (classes with none left out). */
    statusClasses: Partial<Record<string, number>>;
    lateStarts: number;
    droppedIterations: number;
    maxInFlight: number;
    achievedRatePerSecond: number;
    latencyUs: { p50: number; p99: number; max: number };
    connectUs: { p50: number; p99: number; max: number };
    /** The connect calls of the interval (µs): mean and largest; absent when none. The TIME_WAIT cliff shows here. */
    connectCallUs?: { mean: number; max: number };
    /** Service time and TTFB of the interval's requests (µs): per-interval samples for `tally compare`. */
    serviceUs: { p50: number; p99: number; max: number };
    ttfbUs: { p50: number; p99: number; max: number };
  };
  /** Metric export requests settled in the interval, and their points by final state. */
  metrics?: { exports: number; pointsSent: number; pointsAcknowledged: number; pointsRejected: number; pointsFailed: number; pointsDropped: number; pointsUnsettled: number };
  /** Trace export requests settled in the interval, and their spans by final state. */
  traces?: { exports: number; spansSent: number; spansAcknowledged: number; spansRejected: number; spansFailed: number; spansDropped: number; spansUnsettled: number };
  /** The OTLP exporters: queue depth, drops, blocked time, retries, attempts, latency (µs), per signal. */
  exporter?: Partial<Record<ExporterSignal, ExporterIntervalLine>>;
  eventLoopDelayP99MaxUs: number;
  /** CPU of the busiest worker thread over the interval, as a share of one core. */
  workerCpuMaxRatio: number;
  /** Datapath counter deltas over the interval (set by the run, not the aggregator). */
  datapath?: Record<string, number>;
  /**
   * A sharded run's shard: the interval's load histograms (µs), encoded, so `tally merge`
   * takes each second's percentiles of the whole run from merged histograms.
   */
  histograms?: Partial<Record<'latencyUs' | 'connectUs' | 'serviceUs' | 'ttfbUs', string>>;
}

/** Run totals of the load. */
export interface LoadTotals extends LoadIntervalCounts {
  histograms: Record<LoadHistogramName, PercentilesUs>;
}


function addCounts(into: LoadIntervalCounts, c: LoadIntervalCounts): void {
  into.started += c.started;
  into.iterationsCompleted += c.iterationsCompleted;
  into.completed += c.completed;
  into.ok += c.ok;
  into.newConnections += c.newConnections;
  into.vusActiveMax += c.vusActiveMax;
  for (const [k, n] of Object.entries(c.stageStarted)) into.stageStarted[Number(k)] = (into.stageStarted[Number(k)] ?? 0) + n;
  into.overrunStarted += c.overrunStarted;
  into.overrunResponses += c.overrunResponses;
  if (c.lastOverrunStartMs > into.lastOverrunStartMs) into.lastOverrunStartMs = c.lastOverrunStartMs;
  for (const [k, n] of Object.entries(c.backends)) into.backends[k] = (into.backends[k] ?? 0) + n;
  for (const b of c.bursts) into.bursts.push({ ...b });
  for (const us of c.slowConnectsUs) into.slowConnectsUs.push(us);
  into.slowConnectsOverflow += c.slowConnectsOverflow;
  into.connectCalls += c.connectCalls;
  into.connectCallUsTotal += c.connectCallUsTotal;
  if (c.connectCallUsMax > into.connectCallUsMax) into.connectCallUsMax = c.connectCallUsMax;
  into.lateStarts += c.lateStarts;
  into.droppedIterations += c.droppedIterations;
  for (const k of ERROR_CLASSES) into.errors[k] += c.errors[k];
  for (const k of STATUS_CLASSES) into.statusClasses[k] += c.statusClasses[k];
}

function errorTotal(c: LoadIntervalCounts): number {
  let n = 0;
  for (const k of ERROR_CLASSES) n += c.errors[k];
  return n;
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;
const short = (p: PercentilesUs): { p50: number; p99: number; max: number } => ({ p50: p.p50, p99: p.p99, max: p.max });

interface Pending {
  messages: IntervalMessage[];
}

/**
 * Called as each interval line is made, with the run totals' histograms just after it was
 * merged in (only read them, synchronously: they keep changing).
 */
export type LineObserver = (line: IntervalLine, totals: Readonly<Record<LoadHistogramName, Histogram>>) => void;

/** Merges shard reports; call {@link RunAggregator.destroy} to free histograms. */
export class RunAggregator {
  readonly #reportIntervalMs: number;
  readonly #pending = new Map<number, Pending>();
  readonly #live = new Set<number>();
  readonly #total: Record<LoadHistogramName, Histogram>;
  readonly #exportLatency: Histogram;
  /** The shards' exporters, merged. */
  readonly exporters = new ExporterAggregator();
  readonly counts: LoadIntervalCounts = emptyLoadCounts();
  /** Largest in-flight sum seen in one interval. */
  maxInFlight = 0;
  eventLoopDelayP99MaxUs = 0;
  /** CPU time per worker thread so far (µs), by shard. */
  readonly workerCpuUs: number[] = [];
  /** Worst interval's event-loop delay p99 per worker thread so far (µs), by shard. */
  readonly workerEventLoopDelayP99MaxUs: number[] = [];
  #hasLoad = false;
  #written = -1;
  /** Sees each line and the totals as of it (the measurement output). */
  lineObserver: LineObserver | undefined;

  readonly #encodeIntervals: boolean;

  /** Arrivals due per interval (open model), by interval index. */
  readonly #plannedArrivals: readonly number[] | undefined;

  /**
   * @param shards worker threads reporting.
   * @param options.encodeIntervalHistograms put each interval's histograms, encoded, on its line (a sharded run's shard).
   * @param options.plannedArrivals open model: arrivals due in each interval (scenarios/planned-arrivals.ts; a sharded run's shard: its share), written on each line as `load.plannedArrivals`.
   */
  constructor(shards: number, reportIntervalMs: number, options: { encodeIntervalHistograms?: boolean; plannedArrivals?: readonly number[] } = {}) {
    this.#reportIntervalMs = reportIntervalMs;
    this.#encodeIntervals = options.encodeIntervalHistograms ?? false;
    this.#plannedArrivals = options.plannedArrivals;
    for (let s = 0; s < shards; s++) this.#live.add(s);
    this.#total = Object.fromEntries(LOAD_HISTOGRAMS.map((n) => [n, createHistogramUs()])) as Record<LoadHistogramName, Histogram>;
    this.#exportLatency = createHistogramUs();
  }

  /**
   * Take one shard report. Returns the interval lines that became complete (every live
   * shard reported), oldest first. Export outcomes are returned through `onExport` and
   * `onTraceExport`.
   */
  add(msg: IntervalMessage, onExport: (o: ExportOutcome) => void, onTraceExport?: (o: TraceExportSettlement) => void): IntervalLine[] {
    for (const o of msg.exports) {
      if (o.durationUs > 0) recordUs(this.#exportLatency, o.durationUs);
      this.exporters.observeSettlement('metrics', o.attempts, o.durationUs);
      onExport(o);
    }
    for (const o of msg.traceExports ?? []) {
      this.exporters.observeSettlement('traces', o.attempts, o.durationUs);
      onTraceExport?.(o);
    }
    let p = this.#pending.get(msg.interval);
    if (p === undefined) {
      p = { messages: [] };
      this.#pending.set(msg.interval, p);
    }
    p.messages.push(msg);
    return this.#drain(false);
  }

  /** A shard finished: it reports no more intervals. */
  shardDone(shard: number): IntervalLine[] {
    this.#live.delete(shard);
    return this.#drain(false);
  }

  /** Flush every pending interval (end of run, or stop). */
  flush(): IntervalLine[] {
    return this.#drain(true);
  }

  #drain(all: boolean): IntervalLine[] {
    const lines: IntervalLine[] = [];
    const keys = [...this.#pending.keys()].sort((a, b) => a - b);
    for (const k of keys) {
      const p = this.#pending.get(k)!;
      const reported = new Set(p.messages.map((m) => m.shard));
      const complete = [...this.#live].every((s) => reported.has(s));
      if (!complete && !all) break;
      this.#pending.delete(k);
      lines.push(this.#line(k, p.messages));
    }
    return lines;
  }

  #line(interval: number, messages: IntervalMessage[]): IntervalLine {
    this.#written = Math.max(this.#written, interval);
    const line: IntervalLine = { interval, endMs: (interval + 1) * this.#reportIntervalMs, shards: messages.length, eventLoopDelayP99MaxUs: 0, workerCpuMaxRatio: 0 };
    const counts = emptyLoadCounts();
    const latency = createHistogramUs();
    const connect = createHistogramUs();
    const service = createHistogramUs();
    const ttfb = createHistogramUs();
    let loadSeen = false;
    let inFlight = 0;
    const metrics = { exports: 0, pointsSent: 0, pointsAcknowledged: 0, pointsRejected: 0, pointsFailed: 0, pointsDropped: 0, pointsUnsettled: 0 };
    const traces = { exports: 0, spansSent: 0, spansAcknowledged: 0, spansRejected: 0, spansFailed: 0, spansDropped: 0, spansUnsettled: 0 };
    try {
      for (const m of messages) {
        line.eventLoopDelayP99MaxUs = Math.max(line.eventLoopDelayP99MaxUs, m.eventLoopDelayP99Us);
        const cpuRatio = m.cpuUs / (this.#reportIntervalMs * 1000);
        line.workerCpuMaxRatio = Math.max(line.workerCpuMaxRatio, round3(cpuRatio));
        this.workerEventLoopDelayP99MaxUs[m.shard] = Math.max(this.workerEventLoopDelayP99MaxUs[m.shard] ?? 0, m.eventLoopDelayP99Us);
        const w = (this.workerCpuUs[m.shard] ??= 0);
        this.workerCpuUs[m.shard] = w + m.cpuUs;
        for (const o of m.exports) {
          metrics.exports++;
          metrics.pointsSent += o.dataPoints;
          const state = finalStateOf(o);
          if (state === 'failed') metrics.pointsFailed += o.dataPoints;
          else if (state === 'dropped') metrics.pointsDropped += o.dataPoints;
          else if (state === 'unsettled') metrics.pointsUnsettled += o.dataPoints;
          else {
            metrics.pointsRejected += o.rejectedDataPoints;
            metrics.pointsAcknowledged += o.dataPoints - o.rejectedDataPoints;
          }
        }
        for (const o of m.traceExports ?? []) {
          traces.exports++;
          traces.spansSent += o.spans;
          const state = spanFinalStateOf(o);
          if (state === 'failed') traces.spansFailed += o.spans;
          else if (state === 'dropped') traces.spansDropped += o.spans;
          else if (state === 'unsettled') traces.spansUnsettled += o.spans;
          else {
            const rejected = Math.min(o.rejectedSpans, o.spans);
            traces.spansRejected += rejected;
            traces.spansAcknowledged += o.spans - rejected;
          }
        }
        if (m.load === undefined) continue;
        loadSeen = true;
        addCounts(counts, m.load.counts);
        inFlight += m.load.counts.maxInFlight;
        for (const name of LOAD_HISTOGRAMS) mergeEncodedBytes(this.#total[name], m.load.histograms[name]);
        mergeEncodedBytes(latency, m.load.histograms.latencyUs);
        mergeEncodedBytes(connect, m.load.histograms.connectUs);
        mergeEncodedBytes(service, m.load.histograms.serviceUs);
        mergeEncodedBytes(ttfb, m.load.histograms.ttfbUs);
      }
      this.eventLoopDelayP99MaxUs = Math.max(this.eventLoopDelayP99MaxUs, line.eventLoopDelayP99MaxUs);
      if (loadSeen) {
        this.#hasLoad = true;
        const vusMax = Math.max(this.counts.vusActiveMax, counts.vusActiveMax);
        addCounts(this.counts, counts);
        this.counts.vusActiveMax = vusMax; // a run's VU peak is the largest interval's, not a sum
        this.maxInFlight = Math.max(this.maxInFlight, inFlight);
        const errors = errorTotal(counts);
        line.load = {
          ...(this.#plannedArrivals !== undefined ? { plannedArrivals: this.#plannedArrivals[interval] ?? 0 } : {}),
          started: counts.started,
          iterationsCompleted: counts.iterationsCompleted,
          completed: counts.completed,
          newConnections: counts.newConnections,
          connectionsPerSecond: (counts.newConnections * 1000) / this.#reportIntervalMs,
          vusActive: counts.vusActiveMax,
          stageStarted: counts.stageStarted,
          backends: counts.backends,
          ok: counts.ok,
          errors,
          errorsByClass: Object.fromEntries(ERROR_CLASSES.filter((c) => counts.errors[c] > 0).map((c) => [c, counts.errors[c]])),
          statusClasses: Object.fromEntries(STATUS_CLASSES.filter((c) => counts.statusClasses[c] > 0).map((c) => [c, counts.statusClasses[c]])),
          lateStarts: counts.lateStarts,
          droppedIterations: counts.droppedIterations,
          maxInFlight: inFlight,
          achievedRatePerSecond: ((counts.completed - errors) * 1000) / this.#reportIntervalMs,
          latencyUs: short(percentilesUs(latency)),
          connectUs: short(percentilesUs(connect)),
          serviceUs: short(percentilesUs(service)),
          ttfbUs: short(percentilesUs(ttfb)),
        };
        if (this.#encodeIntervals) {
          line.histograms = { latencyUs: encodeHistogram(latency), connectUs: encodeHistogram(connect), serviceUs: encodeHistogram(service), ttfbUs: encodeHistogram(ttfb) };
        }
        if (counts.connectCalls > 0) line.load.connectCallUs = { mean: Math.round(counts.connectCallUsTotal / counts.connectCalls), max: Math.round(counts.connectCallUsMax) };
      }
      if (metrics.exports > 0) line.metrics = metrics;
      if (traces.exports > 0) line.traces = traces;
      const exporter = this.exporters.line(messages, this.#encodeIntervals);
      if (exporter !== undefined) line.exporter = exporter;
      this.lineObserver?.(line, this.#total);
    } finally {
      latency.destroy();
      connect.destroy();
      service.destroy();
      ttfb.destroy();
    }
    return line;
  }

  /** True once any load report arrived. */
  get hasLoad(): boolean {
    return this.#hasLoad;
  }

  /** Run totals so far (merged histograms, exact counts). */
  loadTotals(): LoadTotals {
    const histograms = Object.fromEntries(LOAD_HISTOGRAMS.map((n) => [n, percentilesUs(this.#total[n])])) as Record<LoadHistogramName, PercentilesUs>;
    return { ...structuredClone(this.counts), maxInFlight: this.maxInFlight, histograms };
  }

  /** The run's merged load histograms so far, encoded (for results.json `histograms`), by name. */
  encodedTotals(): Record<LoadHistogramName, string> {
    return Object.fromEntries(LOAD_HISTOGRAMS.map((n) => [n, encodeHistogram(this.#total[n])])) as Record<LoadHistogramName, string>;
  }

  /**
   * A percentile (0..100) of one of the run's merged load histograms so far (µs), or
   * undefined for a name that is not a load histogram or has no samples.
   */
  percentileUs(name: string, percentile: number): number | undefined {
    const h = (this.#total as Record<string, Histogram | undefined>)[name];
    return h === undefined || h.totalCount === 0 ? undefined : valueAtPercentileUs(h, percentile);
  }

  /** The export latency histogram so far, encoded (a sharded run's shard.json). */
  encodedExportLatency(): string {
    return encodeHistogram(this.#exportLatency);
  }

  /** Export latency percentiles (µs) so far. */
  exportLatency(): PercentilesUs {
    return percentilesUs(this.#exportLatency);
  }

  /** Errors so far. */
  errorTotal(): number {
    return errorTotal(this.counts);
  }

  destroy(): void {
    for (const n of LOAD_HISTOGRAMS) this.#total[n].destroy();
    this.#exportLatency.destroy();
    this.exporters.destroy();
  }
}
