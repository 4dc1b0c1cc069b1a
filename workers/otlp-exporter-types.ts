/**
 * Shapes of the OTLP exporter: its configuration (normalised: every default applied,
 * every duration in ms), the batches it takes, the result of one attempt and the
 * settlement of one batch. The vocabulary follows the OpenTelemetry Collector's
 * exporterhelper (`timeout`, `retry_on_failure`, `sending_queue`) and the OTLP exporter
 * configuration (`protocol`, `compression`, `headers`, `insecure_skip_verify`).
 *
 * @see https://github.com/open-telemetry/opentelemetry-collector/blob/main/exporter/exporterhelper/README.md
 * @see https://opentelemetry.io/docs/specs/otel/protocol/exporter/
 */
import type { ExportAttemptClass, ExportFinalState } from '../core/messages.ts';

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

/** One already-encoded export request. `key` is opaque to the exporter and comes back in its settlement. */
export interface ExportBatch<K> {
  signal: OtlpSignal;
  /** ExportMetricsServiceRequest / ExportTraceServiceRequest, protobuf (grpc, http/protobuf) or JSON (http/json). */
  body: Uint8Array;
  /** Data points (metrics) or spans (traces) in the body. */
  items: number;
  key: K;
}

/** What one attempt came to. */
export interface AttemptResult {
  class: ExportAttemptClass;
  /** True when the OTLP spec allows a retry. */
  retryable: boolean;
  /** HTTP status, 0 when none (gRPC or no response). */
  httpStatus: number;
  /** gRPC status code, when gRPC. */
  grpcCode?: number;
  /** partial_success rejected count (success classes only). */
  rejectedItems: number;
  message?: string;
  errorCode?: string;
  /** Server hint: Retry-After / RetryInfo (ms). */
  retryAfterMs?: number;
  /** Round trip of the attempt (µs). */
  durationUs: number;
}

/** The settlement of one batch: exactly one per batch. */
export interface ExportSettlement<K> {
  key: K;
  signal: OtlpSignal;
  items: number;
  finalState: ExportFinalState;
  /** partial_success rejections (acknowledged batches only). */
  rejectedItems: number;
  attempts: number;
  /** The last attempt; undefined when no attempt was made (dropped, or stopped while queued). */
  last?: AttemptResult;
  /** Why a batch failed or did not settle (`retries exhausted: …`, `stopped while queued` …). */
  reason?: string;
  /** First attempt's start → settlement (µs); 0 when never sent. */
  durationUs: number;
  /** Wire size of the body (after compression). */
  sizeBytes: number;
}

/** A transport sends one prepared body once. Implementations: OTLP/HTTP (undici) and OTLP/gRPC (grpc-js). */
export interface ExportTransport {
  /** Encode for the wire once per batch (gzip for HTTP; gRPC compresses per message itself). */
  prepare(body: Uint8Array): Uint8Array;
  /** One attempt; never throws (failures are {@link AttemptResult}s). `abort` cancels it (run stop). */
  send(signal: OtlpSignal, payload: Uint8Array, abort: AbortSignal): Promise<AttemptResult>;
  close(): Promise<void>;
}
