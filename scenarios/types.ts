/**
 * The validated, normalised scenario: every default applied and every duration parsed
 * to milliseconds. `scenario.schema.json` is the source of truth for what a scenario
 * file may say; `test/scenarios/types.test.ts` proves these types and the schema agree.
 */

import type { ExecutorSpec } from '../core/schedule.ts';
import type { TraceSpec } from '../core/trace-model.ts';

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
  /** OTLP/HTTP base URL; undefined → embedded receiver. */
  endpoint?: string;
  protocol: 'http/protobuf' | 'http/json';
  exportIntervalMs: number;
  timeoutMs: number;
  maxBatchDataPoints: number;
  headers: Record<string, string>;
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
  instrument: 'counter';
  temporality: 'cumulative';
  unit: string;
  /** Attribute key → number of distinct values; series = product of the counts. */
  attributes: Record<string, number>;
}

/** Options of the embedded target and receiver. */
export interface EmbeddedSpec {
  target: { responseBytes: number };
  receiver: { faults: FaultSpec };
}

/** Seeded fault injection in the embedded receiver. */
export interface FaultSpec {
  rejectDataPointRatio: number;
  rejectSpanRatio?: number;
  failRequestRatio: number;
  retryAfterMs: number;
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
  datapathMetrics: boolean;
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
