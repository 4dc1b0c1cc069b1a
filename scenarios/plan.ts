/**
 * The planner: a validated scenario plus the run's start instant → a plan (shards,
 * schedule, series space). Pure: the start instant and the worker count are inputs.
 */
import { buildRequestText } from '../core/http-request.ts';
import { hash32 } from '../core/rng.ts';
import { seriesLayout, type SeriesLayout } from '../core/series.ts';
import type { ShardLoadTask, ShardRemoteWriteTask, ShardTask, ShardTelemetryTask } from '../core/messages.ts';
import type { MetricNaming } from './prometheus-naming.ts';
import { isSingleSampleInstrument, type SingleSampleInstrument } from '../core/sample-value.ts';
import type { Scenario, TelemetrySpec } from './types.ts';
import { linkExemplarTraces, metricModel, type Instrument, type MetricModel, type Temporality } from '../core/instruments.ts';
import type { ExporterConfig } from '../core/exporter-config.ts';
import { instrumentOptions } from './telemetry-spec.ts';
import { resolveTraceModel, traceCountFor, type TraceModel } from '../core/trace-model.ts';
import { isOpenModel, maxVUs, openSchedule, stagesDurationMs, type ExecutorSpec } from '../core/schedule.ts';
import { residuesBelow, seriesSlice, shareOfStages, threadLane, threadSeriesSlice, type ShardSpec } from './shard-plan.ts';

export { seriesSlice } from './shard-plan.ts';

/** One metric's place in the run's series space. */
export interface PlannedMetric {
  metricIndex: number;
  name: string;
  unit: string;
  /** Undefined for a gauge. */
  temporality: Temporality | undefined;
  instrument: Instrument;
  layout: SeriesLayout;
  /** Every value, start time, exemplar and churn of the metric (core/instruments.ts), over its full cardinality. */
  model: MetricModel;
}

/** The series space every telemetry component agrees on. */
export interface TelemetryPlan {
  ticks: number;
  exportIntervalMs: number;
  metrics: PlannedMetric[];
  /** Data points the run (a sharded run's shard: its own series) will send: Σ series × ticks. */
  pointsPlanned: number;
}

/** The planned load. */
export interface LoadPlan {
  executor: ExecutorSpec['executor'];
  model: 'open' | 'closed';
  /** Open model: the average planned arrival rate over the load's length (iterations/s); closed: undefined. */
  ratePerSecond?: number;
  /** Open model: the highest arrival rate anywhere in the schedule (iterations/s). */
  peakRatePerSecond?: number;
  /** Open model: iterations the schedule releases (a sharded run's shard: those it takes). */
  iterationsPlanned?: number;
  /** Open model: iterations planned per stage (ramping) or per burst. */
  plannedPerStage?: number[];
  /** Closed model: the most VUs. */
  maxVUs?: number;
  /** How long the executor runs (ms): its stages' total, or the run's duration. */
  loadDurationMs: number;
  maxInFlightPerShard: number;
}

/** A run plan. */
export interface Plan {
  runId: string;
  seed: number;
  startEpochMs: number;
  /** Run start in Unix nanoseconds, as a decimal string. */
  startUnixNano: string;
  durationMs: number;
  workers: number;
  load?: LoadPlan;
  telemetry?: TelemetryPlan;
  /**
   * `traceCount`: sequences of the whole run (every shard's ledger spans them all);
   * `tracesPlanned`: those this plan sends (a shard's share, or all of them).
   */
  traces?: { model: TraceModel; traceCount: number; tracesPlanned: number; spansPlannedMax: number };
  /**
   * A run split across processes (scenarios/shard-plan.ts): `index` is this process's
   * shard; without it the plan is the whole sharded run (what `tally merge` and
   * `tally reconcile` of a merged run re-derive).
   */
  shard?: { index?: number; count: number };
}

function compactUtc(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/**
 * Plan a run.
 * @param scenario a validated scenario.
 * @param startEpochMs when the first arrival is due (epoch ms, whole).
 * @param workers worker threads (the scenario's `load.workers` wins when set).
 * @param shard a run split across processes: this process's shard (`{ index, count }`),
 * or the whole sharded run (`{ count }`); the run id, the seed and the trace ids are the
 * same in every shard.
 */
export function planRun(scenario: Scenario, startEpochMs: number, workers: number, shard?: { index?: number; count: number }): Plan {
  const shardCount = scenario.load?.workers ?? workers;
  const own: ShardSpec | undefined = shard?.index === undefined ? undefined : { index: shard.index, count: shard.count };
  const runId = `${scenario.name}-${compactUtc(startEpochMs)}-${hash32(scenario.seed, startEpochMs % 0x1_0000_0000).toString(16).padStart(8, '0').slice(0, 6)}`;
  const plan: Plan = {
    runId,
    seed: scenario.seed,
    startEpochMs,
    startUnixNano: (BigInt(Math.round(startEpochMs)) * 1_000_000n).toString(),
    durationMs: scenario.durationMs,
    workers: shardCount,
  };
  if (shard !== undefined) plan.shard = shard.index === undefined ? { count: shard.count } : { index: shard.index, count: shard.count };
  if (scenario.load) plan.load = planLoad(scenario.load.executor, scenario.durationMs, scenario.load.maxInFlight, shardCount, own);
  if (scenario.telemetry?.traces) {
    // Trace ids carry the process shard in a sharded run, so they do not depend on thread counts.
    const model = resolveTraceModel(scenario.telemetry.traces, { runId, seed: scenario.seed, shardCount: shard?.count ?? shardCount, startUnixNano: plan.startUnixNano });
    const traceCount = traceCountFor(model, scenario.durationMs);
    const tracesPlanned = own === undefined ? traceCount : residuesBelow(traceCount, own.index, own.count);
    plan.traces = { model, traceCount, tracesPlanned, spansPlannedMax: tracesPlanned * model.spansMax };
  }
  if (scenario.telemetry) {
    const t = scenario.telemetry;
    const ticks = Math.floor(scenario.durationMs / t.exportIntervalMs);
    // Exemplars name generated traces when the run has any (core/instruments.ts ExemplarTraceLink).
    const link = plan.traces && plan.traces.traceCount > 0
      ? { traceCount: plan.traces.traceCount, shardCount: plan.traces.model.shardCount, tracesPerTick: (plan.traces.model.ratePerSecond * t.exportIntervalMs) / 1000 }
      : undefined;
    const metrics = t.metrics.map((m, metricIndex): PlannedMetric => {
      const layout = seriesLayout(m.attributes);
      const model = metricModel(scenario.seed, metricIndex, layout.seriesCount, instrumentOptions(m));
      return {
        metricIndex,
        name: m.name,
        unit: m.unit,
        temporality: m.temporality,
        instrument: m.instrument,
        layout,
        model: link !== undefined && model.exemplarRatio > 0 ? linkExemplarTraces(model, link) : model,
      };
    });
    plan.telemetry = {
      ticks,
      exportIntervalMs: t.exportIntervalMs,
      metrics,
      pointsPlanned: metrics.reduce((a, m) => a + ownSeries(m.layout.seriesCount, own) * ticks, 0),
    };
  }
  return plan;
}

/** Series of `count` that a process shard exports (all of them when unsharded). */
function ownSeries(count: number, shard: ShardSpec | undefined): number {
  if (shard === undefined) return count;
  const s = seriesSlice(count, shard.index, shard.count);
  return s.seriesEnd - s.seriesStart;
}

/**
 * Plan a load: planned arrivals for the open model, VUs for the closed one. Pure.
 * @param shardCount worker threads of this process.
 * @param shard a sharded run's process shard: the plan is its share (arrivals j ≡ index
 * mod count, VUs likewise; maxInFlight split over every thread of every shard).
 */
export function planLoad(executor: ExecutorSpec, durationMs: number, maxInFlight: number, shardCount: number, shard?: ShardSpec): LoadPlan {
  const loadDurationMs = stagesDurationMs(executor) ?? durationMs;
  const maxInFlightPerShard = Math.max(1, Math.floor(maxInFlight / (shardCount * (shard?.count ?? 1))));
  if (!isOpenModel(executor)) {
    const vus = maxVUs(executor);
    return { executor: executor.executor, model: 'closed', maxVUs: shard === undefined ? vus : residuesBelow(vus, shard.index, shard.count), loadDurationMs, maxInFlightPerShard };
  }
  const schedule = openSchedule(executor, durationMs);
  const arrivals = shard === undefined ? schedule.arrivals : residuesBelow(schedule.arrivals, shard.index, shard.count);
  return {
    executor: executor.executor,
    model: 'open',
    ratePerSecond: (arrivals * 1000) / loadDurationMs,
    peakRatePerSecond: schedule.peakRatePerSecond / (shard?.count ?? 1),
    iterationsPlanned: arrivals,
    plannedPerStage: shard === undefined ? [...schedule.plannedPerStage] : shareOfStages(schedule.plannedPerStage, shard),
    loadDurationMs,
    maxInFlightPerShard,
  };
}

/** Where the run's traffic goes, once embedded servers (if any) are listening. */
export interface Endpoints {
  target?: { host: string; port: number; path: string };
  /**
   * OTLP base URL the exporters use: OTLP/HTTP appends `/v1/metrics` and `/v1/traces`;
   * OTLP/gRPC dials its host:port (TLS when `https:`).
   */
  otlpEndpoint?: string;
}

/** Most time a shard waits, at the end of a run, for its export queue to settle (ms). */
export const MAX_DRAIN_MS = 60_000;

/**
 * The exporter configuration of a scenario's telemetry, to `endpoint`.
 * @param seed jitter seed (the shard's, so shards draw different delays).
 */
export function exporterConfig(t: TelemetrySpec, endpoint: string, seed: number): ExporterConfig {
  const config: ExporterConfig = {
    protocol: t.protocol,
    endpoint,
    compression: t.compression,
    headers: { ...t.headers },
    timeoutMs: t.timeoutMs,
    retry: { ...t.retry },
    queue: { ...t.queue },
    seed,
  };
  if (t.tls !== undefined) config.tls = { ...t.tls };
  return config;
}

/**
 * How long a shard lets its exporter drain after its last tick before the batches still
 * queued or retrying settle `unsettled`: one attempt's timeout plus the retry budget,
 * at most {@link MAX_DRAIN_MS}.
 */
export function drainMsOf(t: TelemetrySpec): number {
  const retryMs = t.retry.enabled ? (t.retry.maxElapsedTimeMs === 0 ? MAX_DRAIN_MS : t.retry.maxElapsedTimeMs) : 0;
  return Math.min(MAX_DRAIN_MS, t.timeoutMs + retryMs);
}



/**
 * The shard tasks (without their MessagePort), one per worker thread. Telemetry series
 * are split into contiguous slices, one per thread; load arrivals, VUs and trace
 * sequences interleave across threads (and, in a sharded run, across process shards
 * first: scenarios/shard-plan.ts).
 */
export function shardTasks(scenario: Scenario, plan: Plan, endpoints: Endpoints, reportIntervalMs: number): Omit<ShardTask, 'port'>[] {
  const tasks: Omit<ShardTask, 'port'>[] = [];
  const own: ShardSpec | undefined = plan.shard?.index === undefined ? undefined : { index: plan.shard.index, count: plan.shard.count };
  for (let shard = 0; shard < plan.workers; shard++) {
    const lane = threadLane(own, shard, plan.workers);
    const task: Omit<ShardTask, 'port'> = {
      shard,
      shardCount: plan.workers,
      runId: plan.runId,
      seed: plan.seed,
      startEpochMs: plan.startEpochMs,
      startUnixNano: plan.startUnixNano,
      durationMs: plan.durationMs,
      reportIntervalMs,
    };
    if (scenario.load && plan.load && endpoints.target) {
      const l = scenario.load;
      const { host, port, path } = endpoints.target;
      const load: ShardLoadTask = {
        executor: l.executor,
        maxInFlight: plan.load.maxInFlightPerShard,
        lateStartThresholdMs: l.lateStartThresholdMs,
        client: {
          protocol: l.protocol,
          host,
          port,
          requestText: buildRequestText({ method: l.request.method, host, port, path: l.request.path ?? path }),
          method: l.request.method,
          path: l.request.path ?? path,
          reuse: l.connection.reuse,
          close: l.connection.close,
          requestsPerIteration: l.requestsPerIteration,
          connectTimeoutMs: l.connection.connectTimeoutMs,
          requestTimeoutMs: l.connection.requestTimeoutMs,
          tcpCrr: l.tcpCrr,
          dns: { mode: l.dns.resolve, ttlMs: l.dns.ttlMs },
          maxConnections: l.connection.maxConnections,
        },
      };
      if (l.localAddresses !== undefined) load.client.localAddresses = l.localAddresses;
      if (own !== undefined) load.lane = lane;
      task.load = load;
    }
    if (scenario.telemetry && plan.telemetry && endpoints.otlpEndpoint && plan.telemetry.metrics.length > 0) {
      const t = scenario.telemetry;
      const telemetry: ShardTelemetryTask = {
        exporter: exporterConfig(t, endpoints.otlpEndpoint, hash32(plan.seed, 0xe4, shard)),
        drainMs: drainMsOf(t),
        exportIntervalMs: t.exportIntervalMs,
        ticks: plan.telemetry.ticks,
        maxBatchDataPoints: t.maxBatchDataPoints,
        resource: { ...t.resource },
        metrics: plan.telemetry.metrics
          .map((m) => ({
            metricIndex: m.metricIndex,
            name: m.name,
            unit: m.unit,
            keys: m.layout.keys,
            counts: m.layout.counts,
            model: m.model,
            ...threadSeriesSlice(m.layout.seriesCount, own, shard, plan.workers),
          }))
          .filter((m) => m.seriesEnd > m.seriesStart),
      };
      if (own !== undefined) telemetry.resourceShard = own.index;
      if (telemetry.metrics.length > 0) task.telemetry = telemetry;
    }
    if (scenario.telemetry?.traces && plan.traces && endpoints.otlpEndpoint) {
      const t = scenario.telemetry;
      const exporter = exporterConfig(t, endpoints.otlpEndpoint, hash32(plan.seed, 0x7e, shard));
      task.traces = {
        tracesUrl: `${endpoints.otlpEndpoint.replace(/\/+$/, '')}/v1/traces`,
        protocol: t.protocol,
        timeoutMs: t.timeoutMs,
        headers: t.headers,
        model: plan.traces.model,
        traceCount: plan.traces.traceCount,
        maxBatchSpans: t.traces!.maxBatchSpans,
        batchDelayMs: t.traces!.batchDelayMs,
        exporter,
        drainMs: drainMsOf(t),
      };
      if (own !== undefined) Object.assign(task.traces, { idShard: own.index, firstSeq: lane.first, seqStride: lane.stride });
    }
    tasks.push(task);
  }
  return tasks;
}

/**
 * The remote-write part of each shard: contiguous series slices, as the OTLP shards get.
 * @param url the receiver URL (`telemetry.endpoint`).
 * @returns one task per shard, `undefined` for a shard with no series.
 */
export function remoteWriteShardTasks(scenario: Scenario, plan: Plan, naming: readonly MetricNaming[], url: string): (ShardRemoteWriteTask | undefined)[] {
  const t = scenario.telemetry;
  if (t === undefined || plan.telemetry === undefined) return [];
  const faults = t.remoteWrite?.faults ?? { outOfOrderRequestRatio: 0, duplicateRequestRatio: 0 };
  // The scenario rules allow only these with remote write (scenarios/backends-spec.ts).
  const sendable = naming.filter((n): n is MetricNaming & { instrument: SingleSampleInstrument } => isSingleSampleInstrument(n.instrument));
  const own: ShardSpec | undefined = plan.shard?.index === undefined ? undefined : { index: plan.shard.index, count: plan.shard.count };
  return Array.from({ length: plan.workers }, (_, shard) => {
    const metrics = sendable
      .map((n) => ({
        metricIndex: n.metricIndex,
        name: n.name,
        instrument: n.instrument,
        keys: n.layout.keys,
        counts: n.layout.counts,
        labelNames: n.labelNames,
        commonLabels: n.commonLabels,
        ...threadSeriesSlice(n.layout.seriesCount, own, shard, plan.workers),
      }))
      .filter((m) => m.seriesEnd > m.seriesStart);
    if (metrics.length === 0) return undefined;
    return {
      url,
      headers: { ...t.headers },
      timeoutMs: t.timeoutMs,
      seed: plan.seed,
      exportIntervalMs: t.exportIntervalMs,
      ticks: plan.telemetry!.ticks,
      maxBatchDataPoints: t.maxBatchDataPoints,
      faults: { ...faults },
      metrics,
    };
  });
}
