/**
 * Messages of the byte counter (workers/export-bytes.ts): what `tally plan` and a budget
 * check ask (the shard tasks a run would get, with no endpoint), and the exact bytes one
 * export (one tick) takes on the wire, per metric and in total, as the encoders that send
 * them write it: OTLP (the fast protobuf path, or the official JSON serializer) and
 * Prometheus remote write (the per-batch templates, snappy-compressed). Protobuf bytes are the
 * same every tick (fixed-width values and times); OTLP/JSON digits and compressed sizes are
 * tick 1's and vary a little with the values (within 1 % in the tests). Structured-clone safe.
 */
import type { OtlpProtocol } from './exporter-config.ts';
import type { ShardRemoteWriteTask, ShardTelemetryTask } from './messages.ts';

/** What to count. */
export interface ExportBytesTask {
  runId: string;
  seed: number;
  /** Run start, Unix ns, as a decimal string. */
  startUnixNano: string;
  startEpochMs: number;
  /** The OTLP part of each shard a run would have (index = shard), when the plan has metrics. */
  otlp?: { protocol: OtlpProtocol; compression: 'none' | 'gzip'; shards: (ShardTelemetryTask | undefined)[] };
  /** The remote-write part of each shard, for the metrics remote write can carry. */
  remoteWrite?: (ShardRemoteWriteTask | undefined)[];
}

/** Bytes of one metric in one export. */
export interface MetricExportBytes {
  metricIndex: number;
  /** OTLP request bytes of its slices, as encoded (before compression). */
  otlpBytes: number;
  /** Remote write: protobuf bytes and the snappy-compressed body bytes; absent when remote write cannot carry it (histograms). */
  remoteWriteProtobufBytes?: number;
  remoteWriteBytes?: number;
}

/** The bytes one export (one tick) takes. */
export interface ExportBytesResult {
  metrics: MetricExportBytes[];
  otlp?: {
    protocol: OtlpProtocol;
    compression: 'none' | 'gzip';
    requests: number;
    /** Request bodies as encoded. */
    bytes: number;
    /** As sent: gzip when compressed, plus gRPC's 5-byte message prefix per request. */
    wireBytes: number;
  };
  remoteWrite?: { requests: number; protobufBytes: number; bytes: number };
  /** How long the count took (ms). */
  elapsedMs: number;
}
