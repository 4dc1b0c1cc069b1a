/**
 * The OTLP exporter's configuration, normalised (every default applied, every duration
 * in ms): what the planner (scenarios/plan.ts) hands a shard and the exporter
 * (workers/otlp-exporter.ts) runs with. The vocabulary follows the OpenTelemetry
 * Collector's exporterhelper (`timeout`, `retry_on_failure`, `sending_queue`) and the
 * OTLP exporter configuration (`protocol`, `compression`, `headers`, `insecure_skip_verify`).
 * Plain data, structured-clone safe.
 *
 * @see https://github.com/open-telemetry/opentelemetry-collector/blob/main/exporter/exporterhelper/README.md
 * @see https://opentelemetry.io/docs/specs/otel/protocol/exporter/
 */

/** OTLP signal of a batch. */
export type OtlpSignal = 'metrics' | 'traces';
/** OTLP transport and encoding. */
export type OtlpProtocol = 'grpc' | 'http/protobuf' | 'http/json';

/** TLS client settings; PEM file paths, read once when the exporter is built. */
export interface ExporterTls {
  /** CA bundle that verifies the server; omitted → Node's default roots. */
  caFile?: string;
  /** Client certificate and key for mutual TLS (both or neither). */
  certFile?: string;
  keyFile?: string;
  /** Skip server certificate verification (never the default). */
  insecureSkipVerify: boolean;
  /** Name to verify the server certificate against (SNI); default: the endpoint's host. */
  serverName?: string;
}

/** Exponential backoff as exporterhelper's `retry_on_failure` (cenkalti/backoff semantics). */
export interface RetryPolicy {
  enabled: boolean;
  initialIntervalMs: number;
  maxIntervalMs: number;
  multiplier: number;
  /** Each delay is drawn uniformly in [d·(1-f), d·(1+f)], seeded. */
  randomizationFactor: number;
  /** Give up when the next attempt would start later than this after the first; 0 = never. */
  maxElapsedTimeMs: number;
}

/** exporterhelper's `sending_queue`, sized in requests (batches). */
export interface QueuePolicy {
  /** Batches waiting (not counting those being sent). */
  queueSize: number;
  /** Concurrent senders; each holds its batch through its retries. */
  numConsumers: number;
  /** Full queue: `drop` refuses the batch (counted), `block` makes the producer wait. */
  whenFull: 'drop' | 'block';
}

/** Normalised exporter configuration. */
export interface ExporterConfig {
  protocol: OtlpProtocol;
  /**
   * Base URL. OTLP/HTTP appends `/v1/metrics` or `/v1/traces`; OTLP/gRPC uses its
   * host:port (`https:` → TLS, `http:` → plaintext, as the OTLP exporter spec says).
   */
  endpoint: string;
  compression: 'none' | 'gzip';
  /** Extra HTTP headers / gRPC metadata on every attempt (lowercase keys for gRPC). */
  headers: Record<string, string>;
  tls?: ExporterTls;
  /** Per-attempt timeout (ms). */
  timeoutMs: number;
  retry: RetryPolicy;
  queue: QueuePolicy;
  /** Seed of the retry jitter, so a run's delays are reproducible. */
  seed: number;
}

/** Collector defaults (exporterhelper README, retry_on_failure and sending_queue). */
export const DEFAULT_RETRY: RetryPolicy = {
  enabled: true,
  initialIntervalMs: 5_000,
  maxIntervalMs: 30_000,
  multiplier: 1.5,
  randomizationFactor: 0.5,
  maxElapsedTimeMs: 300_000,
};
export const DEFAULT_QUEUE: QueuePolicy = { queueSize: 1000, numConsumers: 10, whenFull: 'block' };
