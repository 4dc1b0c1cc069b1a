/**
 * Shapes of the OTLP exporter: its configuration (core/exporter-config.ts, re-exported
 * here), the batches it takes, the result of one attempt and the settlement of one
 * batch. The vocabulary follows the OpenTelemetry Collector's
 * exporterhelper (`timeout`, `retry_on_failure`, `sending_queue`) and the OTLP exporter
 * configuration (`protocol`, `compression`, `headers`, `insecure_skip_verify`).
 *
 * @see https://github.com/open-telemetry/opentelemetry-collector/blob/main/exporter/exporterhelper/README.md
 * @see https://opentelemetry.io/docs/specs/otel/protocol/exporter/
 */
import type { ExportAttemptClass, ExportFinalState } from '../core/messages.ts';
import type { OtlpSignal } from '../core/exporter-config.ts';

export {
  DEFAULT_QUEUE, DEFAULT_RETRY, type ExporterConfig, type ExporterTls, type OtlpProtocol, type OtlpSignal, type QueuePolicy, type RetryPolicy,
} from '../core/exporter-config.ts';

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
