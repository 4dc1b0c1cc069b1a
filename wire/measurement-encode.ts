/**
 * Snapshots of tally's own measurements (core/measurement-output.ts) in their two wire
 * forms, which land on the same Prometheus series:
 *
 * - Prometheus remote write 1.0: one series per (metric, labels) with a sample per snapshot,
 *   histograms as native histogram samples (schema 3), labels `job="tally-self"`, `run_id`,
 *   `scenario`, `shard` and the metric's own;
 * - OTLP/HTTP protobuf through the official serializer (`@opentelemetry/otlp-transformer`):
 *   resource `service.name = tally-self`, cumulative monotonic sums, gauges, and exponential
 *   histograms (scale 3), the labels as data point attributes; the start time of every
 *   cumulative point is the run's start.
 *
 * Pure: snapshots in, series or bytes out.
 *
 * @see https://prometheus.io/docs/specs/prw/remote_write_spec/
 * @see https://opentelemetry.io/docs/specs/otlp/#otlphttp
 */
import { ValueType } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { InternalError } from '../core/errors.ts';
import { JOB_LABEL, MEASUREMENT_SERVICE_NAME, measurementMetric, type MeasurementMetric } from '../core/measurement-metrics.ts';
import type { MeasurementIdentity, MeasurementSnapshot } from '../core/measurement-output.ts';
import { exponentialBuckets, nativeFromHdr, nativeSpans, type NativeHistogram } from '../core/native-histogram.ts';
import { TALLY_VERSION } from '../core/version.ts';
import type { RemoteWriteSeries, RemoteWriteSample, RemoteWriteHistogram } from './remote-write.ts';

/** Instrumentation scope of the OTLP form. */
export const MEASUREMENT_SCOPE = { name: 'tally.self', version: TALLY_VERSION } as const;

/** The labels every series of a run carries, in the remote-write form. */
export function commonLabels(identity: MeasurementIdentity): Record<string, string> {
  return { [JOB_LABEL]: MEASUREMENT_SERVICE_NAME, run_id: identity.runId, scenario: identity.scenario, shard: identity.shard };
}

function seriesKey(metric: string, labels: Readonly<Record<string, string>> | undefined): string {
  if (labels === undefined) return metric;
  return `${metric}\u0000${Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join('\u0000')}`;
}

/** Snapshots → one remote-write series per (metric, labels), samples in snapshot order. */
export function remoteWriteSeriesOf(snapshots: readonly MeasurementSnapshot[], identity: MeasurementIdentity): RemoteWriteSeries[] {
  const common = commonLabels(identity);
  const series = new Map<string, { name: string; labels: Record<string, string>; samples: RemoteWriteSample[]; histograms: RemoteWriteHistogram[] }>();
  const at = (metric: MeasurementMetric, labels: Record<string, string> | undefined) => {
    const key = seriesKey(metric.key, labels);
    let s = series.get(key);
    if (s === undefined) {
      s = { name: metric.prometheusName, labels: { ...common, ...labels }, samples: [], histograms: [] };
      series.set(key, s);
    }
    return s;
  };
  for (const snap of snapshots) {
    for (const v of snap.values) at(measurementMetric(v.metric), v.labels).samples.push({ value: v.value, timestampMs: snap.timestampMs });
    for (const h of snap.histograms) {
      const n = nativeFromHdr(h.hdr, h.unitScale);
      const { spans, deltas } = nativeSpans(n);
      at(measurementMetric(h.metric), undefined).histograms.push({
        count: n.count, sum: n.sum, schema: n.schema, zeroThreshold: n.zeroThreshold, zeroCount: n.zeroCount,
        positiveSpans: spans, positiveDeltas: deltas, timestampMs: snap.timestampMs,
      });
    }
  }
  return [...series.values()].map((s) => (s.histograms.length > 0 ? { name: s.name, labels: s.labels, samples: [], histograms: s.histograms } : { name: s.name, labels: s.labels, samples: s.samples }));
}

type HrTime = [number, number];
const hrTime = (ms: number): HrTime => [Math.floor(ms / 1000), Math.round((ms % 1000) * 1e6)];

function exponentialValue(n: NativeHistogram): unknown {
  return { count: n.count, sum: n.sum, scale: n.schema, zeroCount: n.zeroCount, positive: exponentialBuckets(n), negative: { offset: 0, bucketCounts: [] } };
}

/** Snapshots → the SDK model the official serializer takes: one metric per catalogue entry, a data point per series and snapshot. */
export function otlpResourceMetricsOf(snapshots: readonly MeasurementSnapshot[], identity: MeasurementIdentity): ResourceMetrics {
  const common = { run_id: identity.runId, scenario: identity.scenario, shard: identity.shard };
  const startTime = hrTime(identity.startEpochMs);
  const points = new Map<string, { endTime: HrTime; startTime: HrTime; attributes: Record<string, string>; value: unknown }[]>();
  const push = (key: string, point: { endTime: HrTime; startTime: HrTime; attributes: Record<string, string>; value: unknown }) => {
    let list = points.get(key);
    if (list === undefined) points.set(key, (list = []));
    list.push(point);
  };
  for (const snap of snapshots) {
    const endTime = hrTime(snap.timestampMs);
    for (const v of snap.values) push(v.metric, { startTime, endTime, attributes: { ...common, ...v.labels }, value: v.value });
    for (const h of snap.histograms) push(h.metric, { startTime, endTime, attributes: { ...common }, value: exponentialValue(nativeFromHdr(h.hdr, h.unitScale)) });
  }
  const metrics: MetricData[] = [];
  for (const [key, dataPoints] of points) {
    const m = measurementMetric(key);
    const descriptor = { name: m.otlpName, description: m.description, unit: m.unit, valueType: ValueType.DOUBLE };
    const aggregationTemporality = AggregationTemporality.CUMULATIVE;
    switch (m.kind) {
      case 'counter':
        metrics.push({ descriptor, aggregationTemporality, dataPointType: DataPointType.SUM, isMonotonic: true, dataPoints } as MetricData);
        break;
      case 'gauge':
        metrics.push({ descriptor, aggregationTemporality, dataPointType: DataPointType.GAUGE, dataPoints } as MetricData);
        break;
      case 'histogram':
        metrics.push({ descriptor, aggregationTemporality, dataPointType: DataPointType.EXPONENTIAL_HISTOGRAM, dataPoints } as unknown as MetricData);
        break;
    }
  }
  return { resource: resourceFromAttributes({ 'service.name': MEASUREMENT_SERVICE_NAME }), scopeMetrics: [{ scope: { ...MEASUREMENT_SCOPE }, metrics }] };
}

/**
 * Snapshots → an OTLP `ExportMetricsServiceRequest`, protobuf.
 * @throws InternalError `TALLY_INTERNAL` when the serializer gives nothing.
 */
export function encodeOtlpMeasurements(snapshots: readonly MeasurementSnapshot[], identity: MeasurementIdentity): Uint8Array {
  const body = ProtobufMetricsSerializer.serializeRequest(otlpResourceMetricsOf(snapshots, identity));
  if (body === undefined) throw new InternalError('the OTLP serializer returned nothing for the measurement snapshots');
  return body;
}
