/**
 * The measurement output's types, where the main thread and the output thread meet
 * (workers/measurement-output.ts): the configuration of each output, the snapshots of
 * tally's own figures pushed to them, the messages between the threads and what the output
 * reports at the end. Everything is structured-clone safe.
 *
 * A snapshot holds cumulative values (counters since the run started, gauges as of its
 * time, histograms over the whole run so far), so a snapshot lost to a full queue or a
 * failing endpoint costs resolution, never exactness: the next one carries the totals.
 */

/** Where an output pushes: Prometheus remote write 1.0, or OTLP/HTTP protobuf. */
export type MeasurementOutputKind = 'prometheus-remote-write' | 'otlp';

/** One output, normalised (scenarios/outputs-spec.ts). Durations in ms. */
export interface MeasurementOutputConfig {
  kind: MeasurementOutputKind;
  /** Remote write: the receiver URL (`…/api/v1/write`). OTLP: the base URL; `/v1/metrics` is appended. */
  url: string;
  /** Extra request headers (tenant, auth); never written to results or logs. */
  headers: Record<string, string>;
  /** One attempt, to the end of the response. */
  timeoutMs: number;
  /** Snapshots held while the endpoint is slow or down; beyond it the oldest is dropped. */
  queueSnapshots: number;
  /** Most snapshots in one request. */
  maxSnapshotsPerRequest: number;
  retry: { initialIntervalMs: number; maxIntervalMs: number; maxElapsedTimeMs: number };
  /** At the end of the run, how long the final snapshot (and what is queued before it) may take. */
  drainTimeoutMs: number;
}

/** A counter or gauge value of one series. */
export interface MeasurementValue {
  /** Catalogue key (core/measurement-metrics.ts). */
  metric: string;
  /** Labels besides the common ones (bounded: stage, class, side, state, status_class). */
  labels?: Record<string, string>;
  value: number;
}

/** A cumulative histogram of one series, as an HDR V2 encoding (core/native-histogram.ts reads it). */
export interface MeasurementHistogram {
  metric: string;
  /** `WasmHistogram.encode()` bytes. */
  hdr: Uint8Array;
  /** HDR units → the metric's unit (1e-6: µs → s). */
  unitScale: number;
}

/** tally's figures at one instant. */
export interface MeasurementSnapshot {
  /** Milliseconds since the Unix epoch, whole; strictly increasing from one snapshot to the next. */
  timestampMs: number;
  values: MeasurementValue[];
  histograms: MeasurementHistogram[];
  /** The snapshot built from the final results: never dropped by a full queue. */
  final: boolean;
}

/** What every series of a run carries, and the run's time base. */
export interface MeasurementIdentity {
  runId: string;
  scenario: string;
  /** This process's shard of the run (`0` while runs are not split across processes). */
  shard: string;
  /** Run start (epoch ms): the start time of every cumulative OTLP point. */
  startEpochMs: number;
}

/** The output thread's `workerData`. */
export interface MeasurementThreadData {
  outputs: MeasurementOutputConfig[];
  identity: MeasurementIdentity;
}

/** Main thread → output thread. */
export type MeasurementThreadCommand =
  | { type: 'snapshot'; snapshot: MeasurementSnapshot }
  | { type: 'finish'; timeoutMs: number };

/** Output thread → main thread. */
export type MeasurementThreadReport =
  | { type: 'finished'; stats: MeasurementOutputStats[] }
  | { type: 'failed'; error: { code: string; message: string } };

/** What one output did over the run. */
export interface MeasurementOutputStats {
  kind: MeasurementOutputKind;
  /** Scheme, host and path only: never credentials or query. */
  url: string;
  /** Snapshots handed to the output. */
  snapshots: number;
  /** Snapshots acknowledged by the endpoint (2xx). */
  snapshotsDelivered: number;
  /** Snapshots dropped by the full queue (the oldest first). */
  snapshotsDropped: number;
  /** Snapshots whose request was refused for good (4xx) or ran out of retries. */
  snapshotsFailed: number;
  /** Snapshots still queued or in flight when the drain timeout passed. */
  snapshotsUnsent: number;
  /** HTTP attempts, retries included. */
  requests: number;
  retries: number;
  /** Whether the final snapshot was acknowledged: the endpoint holds the run's exact totals. */
  finalDelivered: boolean;
  /** Attempts by HTTP status (`0`: no response). */
  statuses: Record<string, number>;
  /** The last failure: HTTP status (0: none), errno for no response, and the body's first 200 characters. */
  lastError?: { status: number; errno?: string; message: string };
}
