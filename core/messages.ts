/**
 * Message types between the main thread and worker threads. The worker side imports
 * nothing from the pool side; the two meet only here. Everything is structured-clone
 * safe (no classes, no functions).
 */
import type { ExecutorSpec } from './schedule.ts';
import type { TraceExportOutcome } from './trace-model.ts';
import type { ExporterConfig } from './exporter-config.ts';
import type { TraceModel } from './trace-model.ts';
import type { SingleSampleInstrument } from './sample-value.ts';
import type { MetricModel } from './instruments.ts';
import type { MessagePort } from 'node:worker_threads';
import type { SerializedTallyError } from './errors.ts';

/**
 * Error classes of a churn request. errno classes follow Node's `err.code`; the target's
 * answer can also be a `protocol_error` (an HTTP/1.1 response whose framing is broken: an
 * unreadable or conflicting Content-Length, a head over 64 KiB or cut short), an
 * `invalid_response` (bytes that are not an HTTP response at all) or `response_too_large`
 * (a body over the client's cap, not read further). `generator_stall` is the generator's
 * own: the connect had completed when its deadline was handled, but the request was never
 * written, because the generator's event loop was stalled past the deadline.
 */
export const ERROR_CLASSES = [
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EADDRNOTAVAIL',
  'EADDRINUSE',
  'EMFILE',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'protocol_error',
  'invalid_response',
  'response_too_large',
  'generator_stall',
  'other',
] as const;
export type ErrorClass = (typeof ERROR_CLASSES)[number];

/** HTTP status classes counted per response. */
export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
export type StatusClass = (typeof STATUS_CLASSES)[number];

/** Histograms a load shard keeps, all in microseconds. */
export const LOAD_HISTOGRAMS = ['latencyUs', 'serviceUs', 'connectUs', 'ttfbUs', 'dnsUs', 'schedulerLagUs'] as const;
export type LoadHistogramName = (typeof LOAD_HISTOGRAMS)[number];

/** What one shard runs. All times are epoch milliseconds (fractional) unless named otherwise. */
export interface ShardTask {
  shard: number;
  shardCount: number;
  runId: string;
  seed: number;
  /** Epoch ms at which the run's first intended start falls. */
  startEpochMs: number;
  /** The same instant as Unix nanoseconds (decimal string), the base of every OTLP timestamp. */
  startUnixNano: string;
  durationMs: number;
  /** Port on which the main thread listens for progress; transferred with the task. */
  port: MessagePort;
  /** Interval at which the shard reports (ms). */
  reportIntervalMs: number;
  load?: ShardLoadTask;
  telemetry?: ShardTelemetryTask;
  traces?: ShardTraceTask;
  /** Metrics sent by Prometheus remote write instead of OTLP (`telemetry.protocol: prometheus/remote-write`). */
  remoteWrite?: ShardRemoteWriteTask;
}

/**
 * The load part of a shard. Open model: shard s of n takes global arrivals j ≡ s (mod n)
 * of the executor's schedule. Closed model: shard s runs VUs v ≡ s (mod n).
 */
export interface ShardLoadTask {
  executor: ExecutorSpec;
  /** Open model: most iterations in flight in this shard. */
  maxInFlight: number;
  lateStartThresholdMs: number;
  client: ShardClientTask;
  /**
   * A sharded run (`tally run --shard i/N`): this thread takes arrivals (and VUs)
   * `first`, `first + stride`, … instead of `shard`, `shard + shardCount`, …
   */
  lane?: { first: number; stride: number };
}

/** How each iteration talks to the target; serialisable (crosses the worker boundary). */
export interface ShardClientTask {
  protocol: 'http1' | 'tcp-crr';
  host: string;
  port: number;
  /** Raw HTTP/1.1 request (latin1) for raw-socket modes. */
  requestText: string;
  method: 'GET' | 'HEAD';
  path: string;
  reuse: 'never' | 'per-iteration' | 'keep-alive' | { requestsPerConnection: number };
  close: 'fin' | 'rst';
  requestsPerIteration: number;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  tcpCrr: { requestBytes: number; responseBytes: number };
  dns: { mode: 'per-connection' | 'cached'; ttlMs: number };
  localAddresses?: string[];
  maxConnections: number;
}

/** One metric's slice for a shard. */
export interface ShardMetricTask {
  metricIndex: number;
  name: string;
  unit: string;
  keys: string[];
  counts: number[];
  /** The metric's model over its full cardinality (churn depends on it), from the planner. */
  model: MetricModel;
  /** Half-open range of series indices this shard exports. */
  seriesStart: number;
  seriesEnd: number;
}

/** The telemetry part of a shard. */
export interface ShardTelemetryTask {
  /** Where and how to export (protocol, endpoint, compression, TLS, retry, queue). */
  exporter: ExporterConfig;
  /** After the last tick, how long the exporter may drain before what is left settles `unsettled` (ms). */
  drainMs: number;
  exportIntervalMs: number;
  /** Number of ticks (1..ticks) to export. */
  ticks: number;
  /** Most data points in one request; a request packs the metrics' slices in order. */
  maxBatchDataPoints: number;
  /** Scenario resource attributes (tally adds `tally.run.id` and `tally.shard`). */
  resource: Record<string, string | number | boolean>;
  /** The `tally.shard` resource attribute when it is not the thread's index: a sharded run's process shard. */
  resourceShard?: number;
  metrics: ShardMetricTask[];
}

/** Counters of one load interval of one shard. Iteration counts and request counts differ when `requestsPerIteration` > 1. */
export interface LoadIntervalCounts {
  /** Iterations started in the interval. */
  started: number;
  /** Iterations finished (all their requests settled). */
  iterationsCompleted: number;
  /** Requests settled (response or error). */
  completed: number;
  /** Requests answered 2xx/3xx (tcp-crr: exchanged in full). */
  ok: number;
  /** Requests that opened a new connection. */
  newConnections: number;
  lateStarts: number;
  droppedIterations: number;
  errors: Record<ErrorClass, number>;
  statusClasses: Record<StatusClass, number>;
  /** Largest in-flight iteration count seen. */
  maxInFlight: number;
  /** Closed model: most VUs active in the interval. */
  vusActiveMax: number;
  /** Iterations started per executor stage (or burst), by the stage their actual start fell in; starts after the planned end are not in any stage. */
  stageStarted: Record<number, number>;
  /** Open model: iterations planned inside the run that started after its planned end (the generator fell behind). */
  overrunStarted: number;
  /** Requests of those iterations that got a response (they are not part of the achieved rate). */
  overrunResponses: number;
  /** Epoch ms of the latest such start; 0 when none. */
  lastOverrunStartMs: number;
  /** Requests per serving backend (the target's `x-tally-backend` header), when the target says. */
  backends: Record<string, number>;
  /** Burst executor: actual release times of each burst seen in the interval. */
  bursts: BurstRelease[];
  /** Connect times at or above {@link SLOW_CONNECT_US} (µs), for the SYN-retransmit signature; at most {@link SLOW_CONNECTS_KEPT} per interval. */
  slowConnectsUs: number[];
  /** Slow connects beyond the cap (counted, times not kept). */
  slowConnectsOverflow: number;
  /** Connect calls timed (the kernel's port search in connect(2)), their total and largest time (µs): the TIME_WAIT cliff shows here. */
  connectCalls: number;
  connectCallUsTotal: number;
  connectCallUsMax: number;
}

/** A connect this slow is kept for the SYN-retransmit finding (the first retransmit is at ≥ 1 s). */
export const SLOW_CONNECT_US = 500_000;
/** Slow connect times kept per shard and interval. */
export const SLOW_CONNECTS_KEPT = 10_000;

/** When one burst's iterations actually started (epoch ms), in one shard. */
export interface BurstRelease {
  burst: number;
  firstStartMs: number;
  lastStartMs: number;
  started: number;
}

/** Zeroed counters of one load interval. */
export function emptyLoadCounts(): LoadIntervalCounts {
  return {
    started: 0,
    iterationsCompleted: 0,
    completed: 0,
    ok: 0,
    newConnections: 0,
    lateStarts: 0,
    droppedIterations: 0,
    errors: Object.fromEntries(ERROR_CLASSES.map((c) => [c, 0])) as LoadIntervalCounts['errors'],
    statusClasses: Object.fromEntries(STATUS_CLASSES.map((c) => [c, 0])) as LoadIntervalCounts['statusClasses'],
    maxInFlight: 0,
    vusActiveMax: 0,
    stageStarted: {},
    overrunStarted: 0,
    overrunResponses: 0,
    lastOverrunStartMs: 0,
    backends: {},
    bursts: [],
    slowConnectsUs: [],
    slowConnectsOverflow: 0,
    connectCalls: 0,
    connectCallUsTotal: 0,
    connectCallUsMax: 0,
  };
}

/**
 * Final state of one export batch, exactly one per batch:
 * - `acknowledged`: a 2xx / gRPC OK (its partial_success rejected count beside it);
 * - `failed`: a non-retryable answer, or retries exhausted (the last reason beside it);
 * - `dropped`: refused by the exporter's full queue (never on the wire);
 * - `unsettled`: the run stopped while the batch was queued, waiting to retry or in
 *   flight (the receiver may or may not have stored it).
 */
export const EXPORT_FINAL_STATES = ['acknowledged', 'failed', 'dropped', 'unsettled'] as const;
export type ExportFinalState = (typeof EXPORT_FINAL_STATES)[number];

/**
 * Outcome of one OTLP metrics export batch, as sent to the ledger: one message per batch
 * when it settles (never one per attempt, so nothing is counted twice across retries).
 *
 * The single-attempt exporter (workers/otlp-metrics.ts) leaves `finalState` out; the
 * ledger then derives it from `status`/`errorCode` (2xx without errorCode =
 * acknowledged, anything else = failed).
 */
export interface ExportOutcome {
  /** The request's first slice (all of it when `slices` is absent). */
  metricIndex: number;
  seriesStart: number;
  seriesEnd: number;
  tick: number;
  /**
   * Every slice of the request, in order, when it held more than one (the exporter packs
   * several metrics into one request, as SDKs do); `dataPoints` is their total.
   */
  slices?: MetricSlice[];
  /** Data points in the request. */
  dataPoints: number;
  /** HTTP status of the last attempt, 0 when no HTTP response arrived (gRPC, transport error, dropped). */
  status: number;
  /** partial_success.rejected_data_points (0 when absent). */
  rejectedDataPoints: number;
  /** partial_success.error_message, or the error / body text of the last failure. */
  message?: string;
  /**
   * The receiver's own words when the last attempt got an error answer (HTTP ≥ 400 or a gRPC
   * status): the `google.rpc.Status` message of its body, without tally's context.
   */
  answerMessage?: string;
  /** errno-style or undici/grpc code of a transport failure (`ETIMEDOUT`, `UND_ERR_HEADERS_TIMEOUT`, `DEADLINE_EXCEEDED` …). */
  errorCode?: string;
  /** Server's retry hint (Retry-After / google.rpc.RetryInfo) of the last attempt (ms). */
  retryAfterMs?: number;
  /** Time from the first attempt's start to settlement (µs); 0 when never sent. */
  durationUs: number;
  /** Request body size as sent on the wire (after compression). */
  sizeBytes: number;
  /** Final state; absent: derived from `status`/`errorCode` as described above. */
  finalState?: ExportFinalState;
  /** Attempts made (retries = attempts - 1); 0 when dropped or never dequeued. */
  attempts?: number;
  /** gRPC status code of the last attempt (OTLP/gRPC only; 0 = OK). */
  grpcCode?: number;
  /** Wall clock when the request was first sent (epoch ms): the visibility poller's reference time. */
  sentAtMs?: number;
  /** Remote write: the receiver's refusal of a non-2xx answer, classified from its text (`out_of_order`, `duplicate`, …). */
  rejection?: string;
}

/** A contiguous run of one metric's series in an export request. */
export interface MetricSlice {
  metricIndex: number;
  seriesStart: number;
  seriesEnd: number;
}

/**
 * Outcome of one trace export request as the span ledger takes it: the batch's span
 * range and answer, with the exporter's final state (absent: derived from `status` and
 * `errorCode`; `TALLY_QUEUE_FULL` = dropped).
 */
export interface TraceExportSettlement extends TraceExportOutcome {
  finalState?: ExportFinalState;
  attempts?: number;
  grpcCode?: number;
}

/** Outcome classes of one export attempt (OTLP spec failure tables). */
export const EXPORT_ATTEMPT_CLASSES = [
  'success',
  'partial_success',
  'throttled',
  'retryable_status',
  'non_retryable_status',
  'timeout',
  'transport_error',
  'bad_response',
] as const;
export type ExportAttemptClass = (typeof EXPORT_ATTEMPT_CLASSES)[number];

/** An exporter's counters over one interval (worker → main, beside its outcomes). */
export interface ExporterIntervalCounts {
  /** Batches accepted into the queue. */
  enqueued: number;
  /** Batches / items refused by the full queue (`drop` policy). */
  droppedBatches: number;
  droppedItems: number;
  /** Time producers spent waiting for queue space (`block` policy), µs. */
  blockedUs: number;
  /** Queue depth (batches waiting, not in flight) now and its maximum over the interval. */
  queueDepth: number;
  queueDepthMax: number;
  /** Attempts beyond the first of a batch. */
  retries: number;
  /** Attempts by outcome class. */
  attempts: Record<ExportAttemptClass, number>;
  /** Batches and items settled, by final state. */
  settledBatches: Record<ExportFinalState, number>;
  settledItems: Record<ExportFinalState, number>;
  /** Items rejected through partial_success. */
  rejectedItems: number;
}

/** Zeroed exporter counters. */
export function emptyExporterCounts(): ExporterIntervalCounts {
  const byState = (): Record<ExportFinalState, number> => ({ acknowledged: 0, failed: 0, dropped: 0, unsettled: 0 });
  return {
    enqueued: 0,
    droppedBatches: 0,
    droppedItems: 0,
    blockedUs: 0,
    queueDepth: 0,
    queueDepthMax: 0,
    retries: 0,
    attempts: Object.fromEntries(EXPORT_ATTEMPT_CLASSES.map((c) => [c, 0])) as Record<ExportAttemptClass, number>,
    settledBatches: byState(),
    settledItems: byState(),
    rejectedItems: 0,
  };
}

/** Worker → main: one interval report. */
export interface IntervalMessage {
  type: 'interval';
  shard: number;
  /** Interval index counted from the run start, 0-based. */
  interval: number;
  /** Counts, and histograms in the plain V2 encoding (core/histogram.ts encodeHistogramBytes). */
  load?: { counts: LoadIntervalCounts; histograms: Record<LoadHistogramName, Uint8Array> };
  exports: ExportOutcome[];
  /** Outcomes of the trace export requests that settled in the interval. */
  traceExports: TraceExportSettlement[];
  /** The exporters' own interval measurements (queue depth, drops, retries, latency HDR), per signal. */
  exporters?: { metrics?: ExporterInterval; traces?: ExporterInterval };
  /** Event-loop delay p99 of the worker over the interval (µs). */
  eventLoopDelayP99Us: number;
  /** CPU time this worker thread used over the interval (user + system, µs). */
  cpuUs: number;
}

/** Worker → main: the shard has finished (its final interval was already sent). */
export interface DoneMessage {
  type: 'done';
  shard: number;
}

/** Worker → main: the shard failed. */
export interface FailedMessage {
  type: 'failed';
  shard: number;
  error: SerializedTallyError;
}

export type WorkerMessage = IntervalMessage | DoneMessage | FailedMessage;

/** Main → worker: stop early (SIGTERM, SIGINT). */
export interface StopMessage {
  type: 'stop';
}

/** The trace part of a shard task (`ShardTask.traces`), run by workers/otlp-traces.ts. */
export interface ShardTraceTask {
  /** Full URL of the OTLP/HTTP traces endpoint (`…/v1/traces`), for the plain HTTP sender (no `exporter`). */
  tracesUrl: string;
  protocol: 'grpc' | 'http/protobuf' | 'http/json';
  /**
   * Ship through an OtlpExporter (workers/otlp-exporter.ts) with this configuration (OTLP/gRPC or HTTP, gzip,
   * TLS, queue, retries) instead of the plain HTTP sender to `tracesUrl`.
   */
  exporter?: ExporterConfig;
  /** With `exporter`: how long it may drain at the end before what is left settles `unsettled` (ms). Default 10 s. */
  drainMs?: number;
  timeoutMs: number;
  headers: Record<string, string>;
  model: TraceModel;
  /** Sequences [0, traceCount) are sent across all shards. */
  traceCount: number;
  /**
   * A sharded run: the shard in this thread's trace ids (`seq mod model.shardCount`, the
   * process shard), and the sequences it sends: `firstSeq`, `firstSeq + seqStride`, …
   * (default the thread's index, stepping by `model.shardCount`).
   */
  idShard?: number;
  firstSeq?: number;
  seqStride?: number;
  maxBatchSpans: number;
  /** Longest a span waits in an unfilled batch, ms. */
  batchDelayMs: number;
  /** Default 4; with `exporter`, its queueSize + numConsumers (the exporter's queue governs). */
  maxInFlightRequests?: number;
  /** Batches waiting beyond `maxInFlightRequests` before one is dropped; default 64. Plain sender only: an exporter applies its own `whenFull`. */
  maxQueuedBatches?: number;
}

/** One metric's slice, with its Prometheus naming. */
export interface RemoteWriteMetricTask {
  metricIndex: number;
  /** `__name__`, e.g. `tally_requests_total`. */
  name: string;
  instrument: SingleSampleInstrument;
  /** Attribute keys in declared order, their value counts, and the label name of each. */
  keys: string[];
  counts: number[];
  labelNames: string[];
  /** Labels every series carries besides its attributes (`job`, the run label). */
  commonLabels: Record<string, string>;
  /** Half-open range of series indices this shard sends. */
  seriesStart: number;
  seriesEnd: number;
}

/** Seeded request faults, ratios 0..1. */
export interface RemoteWriteFaults {
  outOfOrderRequestRatio: number;
  duplicateRequestRatio: number;
}

/** The remote-write part of a shard (structured-clone safe). */
export interface ShardRemoteWriteTask {
  /** Receiver URL, e.g. `http://127.0.0.1:9090/api/v1/write`. */
  url: string;
  /** Extra headers on every request (values never logged). */
  headers: Record<string, string>;
  timeoutMs: number;
  seed: number;
  /** Tick k is stamped `startEpochMs + k · exportIntervalMs` (whole ms). */
  exportIntervalMs: number;
  ticks: number;
  /** Most series (one sample each) per request. */
  maxBatchDataPoints: number;
  faults: RemoteWriteFaults;
  metrics: RemoteWriteMetricTask[];
}

/** One interval of exporter measurements, structured-clone safe. */
export interface ExporterInterval {
  counts: ExporterIntervalCounts;
  /** Encoded HDR histograms (µs): `attemptUs` per attempt, `exportUs` per sent batch. */
  histograms: { attemptUs: string; exportUs: string };
}
