/**
 * The telemetry part of a shard: every export interval (tick), one data point per series
 * of its slice, encoded by the official @opentelemetry/otlp-transformer serializer and
 * POSTed over OTLP/HTTP with undici. Every export's outcome (status, partial_success,
 * error) goes to the ledger.
 *
 * Ticks count from 1; tick k is stamped `start + k · exportInterval`. Cumulative points
 * share the run start as their start time (OTLP data model: a cumulative stream's
 * start_time_unix_nano stays fixed while it is unbroken).
 *
 * @see https://opentelemetry.io/docs/specs/otlp/#otlphttp
 * @see https://opentelemetry.io/docs/specs/otel/metrics/data-model/#temporality
 */
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { ValueType } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { JsonMetricsSerializer, ProtobufMetricsSerializer, type IExportMetricsServiceResponse } from '@opentelemetry/otlp-transformer';
import { cumulativeCounterValue, seriesAttributes, type SeriesLayout } from '../core/series.ts';
import type { ExportOutcome, ShardMetricTask, ShardTelemetryTask } from '../core/messages.ts';
import { epochNowMs } from './load-shard.ts';

const NS_PER_S = 1_000_000_000n;
type HrTime = [number, number];
function hrTime(unixNano: bigint): HrTime {
  return [Number(unixNano / NS_PER_S), Number(unixNano % NS_PER_S)];
}

/** One planned export request: a contiguous run of series of one metric at one tick. */
interface Batch {
  metric: ShardMetricTask;
  seriesStart: number;
  seriesEnd: number;
}

/** Identity the receiver and reconciler use to recognise this run's data. */
export interface TelemetryIdentity {
  runId: string;
  shard: number;
  seed: number;
  /** Run start as Unix nanoseconds (decimal string: it does not fit a double). */
  startUnixNano: string;
}

/** Split each metric's slice into batches of at most `maxBatchDataPoints` series. */
function planBatches(task: ShardTelemetryTask): Batch[] {
  const batches: Batch[] = [];
  for (const metric of task.metrics) {
    for (let s = metric.seriesStart; s < metric.seriesEnd; s += task.maxBatchDataPoints) {
      batches.push({ metric, seriesStart: s, seriesEnd: Math.min(metric.seriesEnd, s + task.maxBatchDataPoints) });
    }
  }
  return batches;
}

/** Build the ResourceMetrics of one batch at one tick. */
export function buildBatch(
  identity: TelemetryIdentity,
  metric: ShardMetricTask,
  seriesStart: number,
  seriesEnd: number,
  tick: number,
  exportIntervalMs: number,
): ResourceMetrics {
  const layout: SeriesLayout = { keys: metric.keys, counts: metric.counts, seriesCount: 0 };
  const startNs = BigInt(identity.startUnixNano);
  const startTime = hrTime(startNs);
  const endTime = hrTime(startNs + BigInt(tick) * BigInt(Math.round(exportIntervalMs * 1e6)));
  const dataPoints = [];
  for (let i = seriesStart; i < seriesEnd; i++) {
    dataPoints.push({
      startTime,
      endTime,
      attributes: seriesAttributes(layout, i),
      value: cumulativeCounterValue(identity.seed, metric.metricIndex, i, tick),
    });
  }
  const data: MetricData = {
    descriptor: { name: metric.name, description: '', unit: metric.unit, valueType: ValueType.INT },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.SUM,
    isMonotonic: true,
    dataPoints,
  };
  return {
    resource: resourceFromAttributes({
      'service.name': 'tally',
      'tally.run.id': identity.runId,
      'tally.shard': identity.shard,
    }),
    scopeMetrics: [{ scope: { name: 'tally', version: '0.1.0' }, metrics: [data] }],
  };
}

function parseRetryAfterMs(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return undefined;
  const seconds = Number(v);
  if (Number.isFinite(seconds)) return seconds * 1000;
  const date = Date.parse(v);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** A running telemetry shard. */
export class TelemetryShard {
  readonly #task: ShardTelemetryTask;
  readonly #identity: TelemetryIdentity;
  readonly #startEpochMs: number;
  readonly #pool: Pool;
  readonly #path: string;
  readonly #batches: Batch[];
  readonly #json: boolean;
  #outcomes: ExportOutcome[] = [];
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;

  constructor(task: ShardTelemetryTask, identity: TelemetryIdentity, startEpochMs: number) {
    this.#task = task;
    this.#identity = identity;
    this.#startEpochMs = startEpochMs;
    const url = new URL(task.metricsUrl);
    this.#path = url.pathname + url.search;
    this.#pool = new Pool(url.origin, { connections: 4, pipelining: 1 });
    this.#batches = planBatches(task);
    this.#json = task.protocol === 'http/json';
  }

  /** Export ticks 1..ticks on schedule; resolves when every export has an outcome. */
  async run(): Promise<void> {
    try {
      for (let tick = 1; tick <= this.#task.ticks && !this.#stopped; tick++) {
        await this.#sleepUntil(this.#startEpochMs + tick * this.#task.exportIntervalMs);
        if (this.#stopped) break;
        await Promise.all(this.#batches.map((b) => this.#export(b, tick)));
      }
    } finally {
      await this.#pool.close();
    }
  }

  /** Stop before the next tick; exports in flight still finish. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#wake?.();
  }

  /** Take the outcomes recorded since the last call. */
  takeOutcomes(): ExportOutcome[] {
    const out = this.#outcomes;
    this.#outcomes = [];
    return out;
  }

  #sleepUntil(epochMs: number): Promise<void> {
    const waitMs = epochMs - epochNowMs();
    if (waitMs <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#timer = setTimeout(resolve, waitMs);
    });
  }

  async #export(batch: Batch, tick: number): Promise<void> {
    const request = buildBatch(this.#identity, batch.metric, batch.seriesStart, batch.seriesEnd, tick, this.#task.exportIntervalMs);
    const body = (this.#json ? JsonMetricsSerializer : ProtobufMetricsSerializer).serializeRequest(request);
    const outcome: ExportOutcome = {
      metricIndex: batch.metric.metricIndex,
      seriesStart: batch.seriesStart,
      seriesEnd: batch.seriesEnd,
      tick,
      dataPoints: batch.seriesEnd - batch.seriesStart,
      status: 0,
      rejectedDataPoints: 0,
      durationUs: 0,
      sizeBytes: body?.byteLength ?? 0,
    };
    const t0 = performance.now();
    try {
      const res = await this.#pool.request({
        path: this.#path,
        method: 'POST',
        headers: { ...this.#task.headers, 'content-type': this.#json ? 'application/json' : 'application/x-protobuf' },
        body: body ?? new Uint8Array(),
        headersTimeout: this.#task.timeoutMs,
        bodyTimeout: this.#task.timeoutMs,
      });
      const replyBytes = new Uint8Array(await res.body.arrayBuffer());
      outcome.status = res.statusCode;
      if (res.statusCode >= 200 && res.statusCode < 300) {
        this.#readPartialSuccess(replyBytes, outcome);
      } else {
        outcome.message = Buffer.from(replyBytes.subarray(0, 512)).toString('utf8');
        const retryAfterMs = parseRetryAfterMs(res.headers['retry-after']);
        if (retryAfterMs !== undefined) outcome.retryAfterMs = retryAfterMs;
      }
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      outcome.errorCode = e.code ?? 'other';
      outcome.message = e.message;
    }
    outcome.durationUs = Math.round((performance.now() - t0) * 1000);
    this.#outcomes.push(outcome);
  }

  #readPartialSuccess(replyBytes: Uint8Array, outcome: ExportOutcome): void {
    if (replyBytes.byteLength === 0) return;
    let reply: IExportMetricsServiceResponse;
    try {
      reply = (this.#json ? JsonMetricsSerializer : ProtobufMetricsSerializer).deserializeResponse(replyBytes);
    } catch (err) {
      // A 2xx whose body cannot be read: the points' fate is unknown; say so.
      outcome.message = `undecodable export response: ${(err as Error).message}`;
      outcome.errorCode = 'BAD_RESPONSE';
      return;
    }
    const rejected = Number(reply.partialSuccess?.rejectedDataPoints ?? 0);
    if (rejected > 0) outcome.rejectedDataPoints = rejected;
    const message = reply.partialSuccess?.errorMessage;
    if (message) outcome.message = message;
  }
}
