/**
 * Worker-thread entry of the byte counter: encodes one export (tick 1) of every shard of a
 * planned run with the encoders that send it, and replies with the bytes (see
 * core/export-bytes-messages.ts). OTLP: the requests a shard packs (packRequests), each
 * segment by the fast path (FastMetricBatch) or, for http/json, the official JSON
 * serializer; gzip as the HTTP exporter does. Remote write: each shard's batches, encoded by
 * their templates and snappy-compressed as the remote-write shard does. Nothing is sent.
 *
 * Started with `workerData: ExportBytesTask`; posts one ExportBytesResult, or
 * `{ error }` (a serialized TallyError).
 *
 * Segments and batches are encoded one at a time and dropped, so a million series are
 * counted with a few megabytes.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { gzipSync } from 'node:zlib';
import { asTallyError } from '../core/errors.ts';
import type { ExportBytesResult, ExportBytesTask, MetricExportBytes } from '../core/export-bytes-messages.ts';
import type { ShardRemoteWriteTask, ShardTelemetryTask } from '../core/messages.ts';
import { buildOfficialBatch, encodeOfficial, type BatchIdentity, type BatchMetric } from './otlp-build.ts';
import { FastMetricBatch } from './otlp-fast.ts';
import { packRequests } from './otlp-metrics.ts';
import { batchBody, batchSeries } from './remote-write-shard.ts';
import { RemoteWriteTemplate } from '../wire/remote-write-template.ts';

/** gRPC's length prefix of each message: a compressed flag and a 4-byte length. */
const GRPC_MESSAGE_PREFIX_BYTES = 5;

function metricBytes(out: Map<number, MetricExportBytes>, metricIndex: number): MetricExportBytes {
  let m = out.get(metricIndex);
  if (m === undefined) {
    m = { metricIndex, otlpBytes: 0 };
    out.set(metricIndex, m);
  }
  return m;
}

/** One shard's OTLP export: its requests, as the telemetry shard packs and encodes them. */
function countOtlpShard(task: ExportBytesTask, shard: number, t: ShardTelemetryTask, out: Map<number, MetricExportBytes>, totals: NonNullable<ExportBytesResult['otlp']>): void {
  const identity: BatchIdentity = { runId: task.runId, shard, startUnixNano: BigInt(task.startUnixNano), intervalNs: BigInt(Math.round(t.exportIntervalMs * 1e6)), resource: t.resource };
  const metrics = new Map(t.metrics.map((m): [number, BatchMetric] => [m.metricIndex, { name: m.name, unit: m.unit, layout: { keys: m.keys, counts: m.counts, seriesCount: m.model.seriesCount }, model: m.model }]));
  const json = task.otlp!.protocol === 'http/json';
  for (const slices of packRequests(t.metrics, t.maxBatchDataPoints)) {
    const bodies = slices.map((s) => {
      const metric = metrics.get(s.metricIndex)!;
      const body = json ? encodeOfficial(buildOfficialBatch(identity, metric, s.seriesStart, s.seriesEnd, 1), 'json') : new FastMetricBatch(identity, metric, s.seriesStart, s.seriesEnd).encode(1);
      metricBytes(out, s.metricIndex).otlpBytes += body.length;
      return body;
    });
    // As the telemetry shard builds a request: protobuf bodies concatenate; JSON ones merge their resourceMetrics.
    const body = !json ? Buffer.concat(bodies) : bodies.length === 1 ? bodies[0] : Buffer.from(JSON.stringify({ resourceMetrics: bodies.flatMap((b) => (JSON.parse(Buffer.from(b).toString('utf8')) as { resourceMetrics: unknown[] }).resourceMetrics) }), 'utf8');
    totals.requests++;
    totals.bytes += body.length;
    const sent = task.otlp!.compression === 'gzip' ? gzipSync(body).length : body.length;
    totals.wireBytes += sent + (task.otlp!.protocol === 'grpc' ? GRPC_MESSAGE_PREFIX_BYTES : 0);
  }
}

/** One shard's remote-write export: its batches, as the remote-write shard encodes them (no faults). */
function countRemoteWriteShard(task: ExportBytesTask, rw: ShardRemoteWriteTask, out: Map<number, MetricExportBytes>, totals: NonNullable<ExportBytesResult['remoteWrite']>): void {
  const timestampMs = task.startEpochMs + rw.exportIntervalMs;
  for (const metric of rw.metrics) {
    for (let s = metric.seriesStart; s < metric.seriesEnd; s += rw.maxBatchDataPoints) {
      const end = Math.min(metric.seriesEnd, s + rw.maxBatchDataPoints);
      const batch = { metric, seriesStart: s, seriesEnd: end, template: new RemoteWriteTemplate(batchSeries(metric, s, end), timestampMs, { keepSeries: false }) };
      const body = batchBody(rw, batch, 1, timestampMs);
      const m = metricBytes(out, metric.metricIndex);
      m.remoteWriteProtobufBytes = (m.remoteWriteProtobufBytes ?? 0) + batch.template.protobufBytes;
      m.remoteWriteBytes = (m.remoteWriteBytes ?? 0) + body.length;
      totals.requests++;
      totals.protobufBytes += batch.template.protobufBytes;
      totals.bytes += body.length;
    }
  }
}

/** Count the bytes of one export of the planned run. */
export function countExportBytes(task: ExportBytesTask): ExportBytesResult {
  const started = performance.now();
  const out = new Map<number, MetricExportBytes>();
  const result: ExportBytesResult = { metrics: [], elapsedMs: 0 };
  if (task.otlp !== undefined) {
    const totals = { protocol: task.otlp.protocol, compression: task.otlp.compression, requests: 0, bytes: 0, wireBytes: 0 };
    task.otlp.shards.forEach((t, shard) => t !== undefined && countOtlpShard(task, shard, t, out, totals));
    result.otlp = totals;
  }
  if (task.remoteWrite !== undefined && task.remoteWrite.some((rw) => rw !== undefined)) {
    const totals = { requests: 0, protobufBytes: 0, bytes: 0 };
    for (const rw of task.remoteWrite) if (rw !== undefined) countRemoteWriteShard(task, rw, out, totals);
    result.remoteWrite = totals;
  }
  result.metrics = [...out.values()].sort((a, b) => a.metricIndex - b.metricIndex);
  result.elapsedMs = performance.now() - started;
  return result;
}

if (parentPort !== null && workerData !== null && workerData !== undefined) {
  const port = parentPort;
  try {
    port.postMessage(countExportBytes(workerData as ExportBytesTask));
  } catch (error) {
    port.postMessage({ error: asTallyError(error, 'byte counter').toJSON() });
  }
}
