/**
 * The metrics part of a shard: every export interval (tick), one data point per series
 * of its slice, for every instrument and temporality of core/instruments.ts, shipped
 * through the {@link OtlpExporter} (sending queue, retries, OTLP/gRPC or OTLP/HTTP,
 * gzip, TLS, timeouts). Every request settles exactly once and its outcome goes to the
 * ledger.
 *
 * Requests pack the metrics' slices in order up to `maxBatchDataPoints` points, as an SDK
 * puts every metric of a collection in one export: one request may hold the tail of one
 * metric and the head of the next (and so a delta metric beside a cumulative one, which a
 * backend without delta support refuses whole).
 *
 * Encoding: OTLP/protobuf (grpc, http/protobuf) uses the fast path (otlp-fast.ts: one
 * template per slice, fixed-width fields patched per tick; proven equivalent to the
 * official serializer), each slice an `ExportMetricsServiceRequest` whose bytes are
 * concatenated (protobuf appends repeated `resource_metrics`). OTLP/JSON uses the official
 * serializer (otlp-build.ts). Bodies are copied before they are queued: the fast path
 * reuses its buffer at the next tick, while retries may span ticks.
 *
 * Ticks count from 1; tick k is stamped `start + k · exportInterval`.
 *
 * @see https://opentelemetry.io/docs/specs/otlp/
 * @see https://opentelemetry.io/docs/specs/otel/metrics/data-model/#temporality
 */
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { metricModel } from '../core/instruments.ts';
import type { ExportOutcome, MetricSlice, ShardMetricTask, ShardTelemetryTask } from '../core/messages.ts';
import { epochNowMs } from './load-shard.ts';
import { buildOfficialBatch, encodeOfficial, type BatchIdentity, type BatchMetric } from './otlp-build.ts';
import { metricsOutcome, OtlpExporter, type ExportSettlement, type ExportTransport } from './otlp-exporter.ts';
import type { ExporterInterval } from './otlp-exporter-metrics.ts';
import { FastMetricBatch } from './otlp-fast.ts';

/** Identity the receiver and reconciler use to recognise this run's data. */
export interface TelemetryIdentity {
  runId: string;
  shard: number;
  seed: number;
  /** Run start as Unix nanoseconds (decimal string: it does not fit a double). */
  startUnixNano: string;
}

/** Ledger key of one request: its tick and its slices, in order. */
export interface MetricsRequestKey {
  tick: number;
  slices: MetricSlice[];
}

/** How long the exporter may drain after a stop (SIGTERM) before what is left settles `unsettled` (ms). */
export const STOP_GRACE_MS = 1000;

/**
 * Pack the slices of `metrics` into requests of at most `maxPoints` data points, in
 * metric order, splitting a slice where a request fills. Pure.
 * @returns each request's slices (never empty; every series in exactly one request).
 */
export function packRequests(metrics: readonly Pick<ShardMetricTask, 'metricIndex' | 'seriesStart' | 'seriesEnd'>[], maxPoints: number): MetricSlice[][] {
  const requests: MetricSlice[][] = [];
  let current: MetricSlice[] = [];
  let room = maxPoints;
  for (const m of metrics) {
    for (let s = m.seriesStart; s < m.seriesEnd; ) {
      const end = Math.min(m.seriesEnd, s + room);
      current.push({ metricIndex: m.metricIndex, seriesStart: s, seriesEnd: end });
      room -= end - s;
      s = end;
      if (room === 0) {
        requests.push(current);
        current = [];
        room = maxPoints;
      }
    }
  }
  if (current.length > 0) requests.push(current);
  return requests;
}

/** One slice of a request, ready to encode. */
interface Segment {
  metric: BatchMetric;
  seriesStart: number;
  seriesEnd: number;
  fast: FastMetricBatch | undefined;
}

interface PlannedRequest {
  slices: MetricSlice[];
  segments: Segment[];
  points: number;
  /** Bodies of this request kept for reuse once their send settled (at most {@link BODIES_KEPT}). */
  spare: Buffer[];
}

/**
 * Bodies kept per planned request for reuse. A body is lent to the exporter until its
 * request settles, so a request still queued or retrying from an earlier tick gets a new
 * one; two cover a tick in flight while the next is encoded. Reusing them spares a
 * million-series shard about 100 MB of fresh buffers per tick, and the garbage collections
 * they cause.
 */
const BODIES_KEPT = 2;

/** Map a settled request to the ledger's outcome: its first slice, plus every slice when there are several. */
export function requestOutcome(s: ExportSettlement<MetricsRequestKey>): ExportOutcome {
  const first = s.key.slices[0];
  const o = metricsOutcome({ ...s, key: { metricIndex: first.metricIndex, seriesStart: first.seriesStart, seriesEnd: first.seriesEnd, tick: s.key.tick } });
  if (s.key.slices.length > 1) o.slices = s.key.slices;
  return o;
}

/** A running telemetry shard. */
export class TelemetryShard {
  readonly #task: ShardTelemetryTask;
  readonly #startEpochMs: number;
  readonly #identity: BatchIdentity;
  readonly #exporter: OtlpExporter<MetricsRequestKey>;
  readonly #requests: PlannedRequest[];
  readonly #json: boolean;
  #shutdown: Promise<void> | undefined;
  /** Bodies lent to the exporter, by the key of the request that carries them (released when it settles). */
  readonly #lent = new Map<MetricsRequestKey, { request: PlannedRequest; body: Buffer }>();
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;

  /**
   * @param transport injected for tests; default from `task.exporter.protocol`.
   * @throws ConfigError for a bad endpoint or unreadable TLS files (from the exporter's transport).
   */
  constructor(task: ShardTelemetryTask, identity: TelemetryIdentity, startEpochMs: number, transport?: ExportTransport) {
    this.#task = task;
    this.#startEpochMs = startEpochMs;
    this.#identity = {
      runId: identity.runId,
      shard: identity.shard,
      startUnixNano: BigInt(identity.startUnixNano),
      intervalNs: BigInt(Math.round(task.exportIntervalMs * 1e6)),
      resource: task.resource,
    };
    this.#json = task.exporter.protocol === 'http/json';
    this.#exporter = new OtlpExporter<MetricsRequestKey>(task.exporter, transport);
    const batchMetrics = new Map(task.metrics.map((m): [number, BatchMetric] => [m.metricIndex, { name: m.name, unit: m.unit, layout: { keys: m.keys, counts: m.counts, seriesCount: m.model.seriesCount }, model: m.model }]));
    this.#requests = packRequests(task.metrics, task.maxBatchDataPoints).map((slices) => ({
      slices,
      spare: [],
      points: slices.reduce((a, s) => a + s.seriesEnd - s.seriesStart, 0),
      segments: slices.map((s) => {
        const metric = batchMetrics.get(s.metricIndex)!;
        return { metric, seriesStart: s.seriesStart, seriesEnd: s.seriesEnd, fast: this.#json ? undefined : new FastMetricBatch(this.#identity, metric, s.seriesStart, s.seriesEnd) };
      }),
    }));
    // Build every fast template now, before the clock starts: built lazily at the first tick,
    // it stalled this thread (and the load it shares it with) for a few hundred ms.
    for (const r of this.#requests) for (const seg of r.segments) seg.fast?.encode(1);
  }

  /** Requests per tick. */
  get requestsPerTick(): number {
    return this.#requests.length;
  }

  /**
   * Export ticks 1..ticks on schedule, then let the exporter drain (`drainMs`, or
   * {@link STOP_GRACE_MS} after a stop). Resolves when every request has settled.
   */
  async run(): Promise<void> {
    try {
      for (let tick = 1; tick <= this.#task.ticks && !this.#stopped; tick++) {
        await this.#sleepUntil(this.#startEpochMs + tick * this.#task.exportIntervalMs);
        for (const r of this.#requests) {
          if (this.#stopped) break;
          // With `block`, this waits for queue space: the generator is held back, and the wait is measured.
          const key: MetricsRequestKey = { tick, slices: r.slices };
          await this.#exporter.submit({ signal: 'metrics', body: this.#encode(r, tick, key), items: r.points, key });
        }
      }
    } finally {
      this.#shutdown ??= this.#exporter.shutdown(this.#task.drainMs);
      await this.#shutdown;
    }
  }

  /** Stop before the next request; the exporter gets {@link STOP_GRACE_MS} to settle what is queued. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#wake?.();
    // During the end-of-run drain too: a shorter grace brings the drain's end forward.
    this.#shutdown = this.#exporter.shutdown(STOP_GRACE_MS);
  }

  /** The outcomes of the requests settled since the last call. */
  takeOutcomes(): ExportOutcome[] {
    const settled = this.#exporter.takeSettlements();
    for (const s of settled) {
      const lent = this.#lent.get(s.key);
      if (lent === undefined) continue;
      this.#lent.delete(s.key);
      if (lent.request.spare.length < BODIES_KEPT) lent.request.spare.push(lent.body);
    }
    return settled.map(requestOutcome);
  }

  /** The exporter's interval measurements (queue depth, drops, retries, latency HDR). */
  takeInterval(): ExporterInterval {
    return this.#exporter.takeInterval();
  }

  /** Free the exporter's histograms (after the last {@link takeInterval}). */
  destroy(): void {
    this.#exporter.destroy();
  }

  #encode(r: PlannedRequest, tick: number, key: MetricsRequestKey): Uint8Array {
    if (!this.#json) {
      // Copies: the fast path reuses its buffer at the next encode, and retries may span ticks. The copy goes
      // into a body of this request whose earlier send settled, when there is one of the right size.
      const parts = r.segments.map((s) => s.fast!.encode(tick));
      const size = parts.reduce((a, p) => a + p.length, 0);
      let body = r.spare.pop();
      if (body === undefined || body.length !== size) body = Buffer.allocUnsafeSlow(size);
      let at = 0;
      for (const p of parts) at += p.copy(body, at);
      this.#lent.set(key, { request: r, body });
      return body;
    }
    const bodies = r.segments.map((s) => encodeOfficial(buildOfficialBatch(this.#identity, s.metric, s.seriesStart, s.seriesEnd, tick), 'json'));
    if (bodies.length === 1) return bodies[0];
    const resourceMetrics = bodies.flatMap((b) => (JSON.parse(Buffer.from(b).toString('utf8')) as { resourceMetrics: unknown[] }).resourceMetrics);
    return Buffer.from(JSON.stringify({ resourceMetrics }), 'utf8');
  }

  #sleepUntil(epochMs: number): Promise<void> {
    const waitMs = epochMs - epochNowMs();
    if (waitMs <= 0 || this.#stopped) return Promise.resolve();
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#timer = setTimeout(resolve, waitMs);
    });
  }
}

/**
 * A cumulative counter batch (the first instrument tally had) as the SDK's
 * ResourceMetrics: series [seriesStart, seriesEnd) at `tick`. For tests of the exporter
 * and receiver that need a plain, official body.
 */
export function buildBatch(
  identity: TelemetryIdentity,
  metric: Pick<ShardMetricTask, 'metricIndex' | 'name' | 'unit' | 'keys' | 'counts'>,
  seriesStart: number,
  seriesEnd: number,
  tick: number,
  exportIntervalMs: number,
): ResourceMetrics {
  const seriesCount = metric.counts.reduce((a, n) => a * n, 1);
  const model = metricModel(identity.seed, metric.metricIndex, seriesCount, { instrument: 'counter', temporality: 'cumulative' });
  const batchIdentity: BatchIdentity = { runId: identity.runId, shard: identity.shard, startUnixNano: BigInt(identity.startUnixNano), intervalNs: BigInt(Math.round(exportIntervalMs * 1e6)) };
  return buildOfficialBatch(batchIdentity, { name: metric.name, unit: metric.unit, layout: { keys: metric.keys, counts: metric.counts, seriesCount }, model }, seriesStart, seriesEnd, tick).resourceMetrics;
}
