/**
 * The validated, normalised scenario: every default applied and every duration parsed
 * to milliseconds. `scenario.schema.json` is the source of truth for what a scenario
 * file may say; the document as written has the types generated from it
 * (scenario-document.ts, kept in step by test/scenarios/scenario-document.test.ts), and the
 * normalisers map those to these, so the type checker ties both to the schema.
 */

import type { ExecutorSpec } from '../core/schedule.ts';
import type { ExporterTls, OtlpProtocol, QueuePolicy, RetryPolicy } from '../core/exporter-config.ts';
import type { TraceSpec } from '../core/trace-model.ts';
import type { ExemplarOptions, Instrument, Temporality } from '../core/instruments.ts';
import type { ChurnOptions } from '../core/instruments-churn.ts';
import type { MeasurementOutputConfig } from '../core/measurement-output.ts';
import type { ThresholdSpec } from '../core/thresholds.ts';

/** A normalised scenario. */
export interface Scenario {
  name: string;
  seed: number;
  durationMs: number;
  load?: LoadSpec;
  telemetry?: TelemetrySpec;
  embedded: EmbeddedSpec;
  reconcile: ReconcileSpec;
  /** Backends read back during and after the run (scenarios/backends-spec.ts). */
  backends?: BackendsSpec;
  /** Where tally pushes its own measurements while the run goes (scenarios/outputs-spec.ts). */
  outputs?: MeasurementOutputConfig[];
  /** Pass/fail criteria in k6's syntax (scenarios/thresholds-spec.ts); empty when none. */
  thresholds: ThresholdSpec[];
  /** The cardinality budget (scenarios/budget.ts), when set. */
  budget?: BudgetSpec;
}

/** `budget`: limits on the metrics' cardinality, checked before anything is sent. */
export interface BudgetSpec {
  maxSeries?: number;
  maxDataPointsPerSecond?: number;
  maxBytesPerSecond?: number;
  maxStorageBytes?: number;
  /** Refuse (exit 2) instead of warning. */
  enforce: boolean;
}

/** Connection-churn load. */
export interface LoadSpec {
  /** Target URL (`http://…` or `tcp://…`); undefined → embedded target. */
  target?: string;
  /** When iterations start; rates normalised to per second, times to ms. */
  executor: ExecutorSpec;
  /** Open model: most iterations in flight across all workers. */
  maxInFlight: number;
  /** Worker threads; undefined → one per core. */
  workers?: number;
  lateStartThresholdMs: number;
  requestsPerIteration: number;
  protocol: 'http1' | 'tcp-crr';
  tcpCrr: { requestBytes: number; responseBytes: number };
  dns: { resolve: 'per-connection' | 'cached'; ttlMs: number };
  /** Source addresses rotated across new connections; undefined → the kernel chooses. */
  localAddresses?: string[];
  connection: {
    reuse: ReuseMode;
    close: 'fin' | 'rst';
    connectTimeoutMs: number;
    requestTimeoutMs: number;
    /** Per worker, for `keep-alive` and `requestsPerConnection`. */
    maxConnections: number;
  };
  request: { method: 'GET' | 'HEAD'; path?: string };
}

/** Connection reuse. */
export type ReuseMode = 'never' | 'per-iteration' | 'keep-alive' | { requestsPerConnection: number };

/** OTLP telemetry generation. */
export interface TelemetrySpec {
  /** OTLP base URL (HTTP: `/v1/metrics`, `/v1/traces` appended; gRPC: host:port); undefined → embedded receiver. */
  endpoint?: string;
  protocol: OtlpProtocol;
  compression: 'none' | 'gzip';
  /** TLS client settings (used when the endpoint, or the embedded receiver, is https). */
  tls?: ExporterTls;
  exportIntervalMs: number;
  /** Timeout of one export attempt. */
  timeoutMs: number;
  /** Most data points (or spans) in one request: `batch.maxDataPoints`, else the `maxBatchDataPoints` alias. */
  maxBatchDataPoints: number;
  headers: Record<string, string>;
  retry: RetryPolicy;
  queue: QueuePolicy;
  /** Extra OTLP resource attributes (`service.name` defaults to `tally`). */
  resource: Record<string, string | number | boolean>;
  /** Empty when the scenario sends only traces. */
  metrics: MetricSpec[];
  traces?: TracesSpec;
  /**
   * Set when the file says `protocol: prometheus/remote-write`: metrics go by Prometheus
   * remote write to `endpoint` (the receiver URL) and `protocol` is then unused.
   */
  remoteWrite?: RemoteWriteSpec;
}

/** Synthetic traces: the model's spec plus how spans are batched. */
export interface TracesSpec extends TraceSpec {
  maxBatchSpans: number;
  batchDelayMs: number;
}

/** One metric instrument. */
export interface MetricSpec {
  name: string;
  instrument: Instrument;
  /** Undefined for a gauge (it has none); every other instrument defaults to cumulative. */
  temporality?: Temporality;
  unit: string;
  /** Attribute key → number of distinct values; series = product of the counts. */
  attributes: Record<string, number>;
  /** Explicit bucket bounds (histogram only). */
  buckets?: number[];
  /** Exponential histogram scale and populated buckets (exponential-histogram only). */
  scale?: number;
  maxSize?: number;
  exemplars?: ExemplarOptions;
  churn?: ChurnOptions;
}

/** Options of the embedded target and receiver. */
export interface EmbeddedSpec {
  /** The embedded HTTP target; `latency` delays each answer (a stand-in for a slower system under test). */
  target: { responseBytes: number; latency?: LatencyFault; capacity?: TargetCapacity };
  receiver: { faults: FaultSpec; tls?: ReceiverTlsSpec; limits?: ReceiverLimits };
}

/** The embedded receiver's throughput limit (embedded/receiver-limit.ts): a token bucket of data points. */
export interface ReceiverLimits {
  /** Refill rate (data points per second). */
  dataPointsPerSecond: number;
  /** Most data points the bucket holds; undefined → one export interval's worth. */
  burstDataPoints?: number;
}

/**
 * The embedded target's capacity model (embedded/target-capacity.ts): `servers` servers of a
 * fixed service time behind one FCFS queue of at most `queueLimit` waiting requests.
 */
export interface TargetCapacity {
  /** Time one server spends on one request (ms, > 0). */
  serviceTimeMs: number;
  /** Servers working in parallel (≥ 1). */
  servers: number;
  /** Most requests waiting for a server; one more is answered 503 at once. */
  queueLimit: number;
}

/** TLS of the embedded receiver: PEM file paths. */
export interface ReceiverTlsSpec {
  certFile: string;
  keyFile: string;
  caFile?: string;
  requireClientCert: boolean;
}

/** Added latency of the embedded receiver (ms). */
export type LatencyFault =
  | { distribution: 'fixed'; ms: number }
  | { distribution: 'uniform'; minMs: number; maxMs: number }
  | { distribution: 'exponential'; meanMs: number; maxMs: number };

/**
 * Seeded fault injection in the embedded receiver (normalised: ratios 0..1, durations ms).
 * The optional fields are absent when the scenario leaves them out (their defaults: 0, true, `seconds`, none, false).
 */
export interface FaultSpec {
  rejectDataPointRatio: number;
  rejectSpanRatio?: number;
  failRequestRatio: number;
  retryAfterMs: number;
  /** Fraction of requests answered 429 (HTTP) / RESOURCE_EXHAUSTED (gRPC). */
  throttleRequestRatio?: number;
  /** Send Retry-After / RetryInfo with 503, 429, UNAVAILABLE and RESOURCE_EXHAUSTED. Default true. */
  retryHint?: boolean;
  /** Retry-After as delay-seconds (default) or an HTTP-date. */
  retryAfterFormat?: 'seconds' | 'http-date';
  /** A faulted request fails its first n arrivals, then passes; 0 (default) = every arrival. */
  faultAttempts?: number;
  /** Fraction of requests acknowledged (200 / OK) and then discarded. */
  dropRequestRatio?: number;
  /** Fraction of data points acknowledged and then discarded. */
  dropDataPointRatio?: number;
  /** Fraction of requests delayed by `latency` (default 1 when latency is set). */
  latencyRequestRatio?: number;
  latency?: LatencyFault;
  /** Refuse a whole request that holds any delta-temporality metric (HTTP 400 / INVALID_ARGUMENT). */
  rejectDeltaTemporality?: boolean;
}

/** Read-back and reconciliation options. */
export interface ReconcileSpec {
  settleMs: number;
  /** Hard visibility deadline (ms); set by the loader (default 30 s), at least `settleMs`. */
  maxWaitMs?: number;
}

// ---- Read-back backends and the remote-write transport (scenarios/backends-spec.ts) ----

/** `telemetry.remoteWrite`, normalised. */
export interface RemoteWriteSpec {
  faults: { outOfOrderRequestRatio: number; duplicateRequestRatio: number };
}

/** `backends`, normalised. */
export interface BackendsSpec {
  prometheus?: PrometheusBackendSpec;
  collector?: CollectorBackendSpec;
  tempo?: TempoBackendSpec;
  jaeger?: JaegerBackendSpec;
}

/** `backends.prometheus`. */
export interface PrometheusBackendSpec {
  url: string;
  auth?: {
    bearerTokenFile?: string;
    basic?: { username: string; passwordFile?: string; passwordEnv?: string };
    headers?: Record<string, string>;
  };
  maxSamplesPerQuery: number;
  pollIntervalMs: number;
  /** Most series per metric the visibility polls track (a sample of whole chunks beyond it). */
  visibilitySeries: number;
  /** Longest wait for one answer of the API, per attempt (ms). */
  timeoutMs: number;
  datapathMetrics: boolean;
  /** Prometheus's `otlp.translation_strategy` (how OTLP names become Prometheus names). */
  translationStrategy: 'UnderscoreEscapingWithSuffixes' | 'UnderscoreEscapingWithoutSuffixes' | 'NoUTF8EscapingWithSuffixes' | 'NoTranslation';
  /** Explicit-bucket histograms stored as native histograms with custom buckets (Prometheus `otlp.convert_histograms_to_nhcb`). */
  convertHistogramsToNhcb: boolean;
  /** Delta points converted to cumulative on the way, or stored as sent (Prometheus `otlp-native-delta-ingestion`). */
  deltaIngestion: 'converted' | 'native';
}

/** `backends.collector`. */
export interface CollectorBackendSpec {
  metricsUrl: string;
  receivers?: string[];
  exporters?: string[];
}

/** `backends.tempo`. */
export interface TempoBackendSpec {
  url: string;
  sampleSize: number;
}

/** `backends.jaeger`: the query service's HTTP base, the sample size, and Jaeger's own metrics endpoint. */
export interface JaegerBackendSpec {
  url: string;
  sampleSize: number;
  /** Jaeger's `/metrics` (the spans waterfall's backend stage), when given. */
  metricsUrl?: string;
}
