/**
 * The telemetry part of a scenario: cross-field rules the schema cannot say, and
 * normalisation (defaults applied, durations parsed to ms) of `telemetry` and
 * `embedded.receiver`. Pure: schema-valid document parts in, values out.
 *
 * @see scenarios/scenario.schema.json `$defs.telemetry`, `$defs.metric`, `$defs.faults`
 */
import { ConfigError, type InputProblem } from '../core/errors.ts';
import { metricModel, type InstrumentOptions } from '../core/instruments.ts';
import { parseDurationMs } from '../core/units.ts';
import type { Embedded, Faults, Metric, Telemetry, TallyScenario } from './scenario-document.ts';
import type { EmbeddedSpec, FaultSpec, LatencyFault, MetricSpec, TelemetrySpec } from './types.ts';

/** Number of series of a metric: the product of its attribute value counts. */
export function seriesCountOf(attributes: Record<string, number>): number {
  let n = 1;
  for (const count of Object.values(attributes)) n *= count;
  return n;
}

/** The instrument options of a normalised metric entry (what {@link metricModel} takes). */
export function instrumentOptions(m: MetricSpec): InstrumentOptions {
  const o: InstrumentOptions = { instrument: m.instrument };
  if (m.temporality !== undefined) o.temporality = m.temporality;
  if (m.buckets !== undefined) o.buckets = m.buckets;
  if (m.scale !== undefined) o.scale = m.scale;
  if (m.maxSize !== undefined) o.maxSize = m.maxSize;
  if (m.exemplars !== undefined) o.exemplars = m.exemplars;
  if (m.churn !== undefined) o.churn = m.churn;
  return o;
}

const d = (text: string | undefined, fallback: string, pointer: string): number => parseDurationMs(text ?? fallback, pointer);

/** Normalise one metric entry: unit `1`, temporality cumulative unless a gauge. */
export function normaliseMetric(m: Metric): MetricSpec {
  const spec: MetricSpec = { name: m.name, instrument: m.instrument, unit: m.unit ?? '1', attributes: { ...m.attributes } };
  if (m.instrument !== 'gauge') spec.temporality = m.temporality ?? 'cumulative';
  if (m.buckets !== undefined) spec.buckets = [...m.buckets];
  if (m.scale !== undefined) spec.scale = m.scale;
  if (m.maxSize !== undefined) spec.maxSize = m.maxSize;
  if (m.exemplars !== undefined) spec.exemplars = { ratio: m.exemplars.ratio };
  if (m.churn !== undefined) spec.churn = { ratio: m.churn.ratio, everyTicks: m.churn.everyTicks };
  return spec;
}

/**
 * Cross-field rules of `telemetry` and `embedded.receiver` (the document is schema-valid).
 * Each metric entry is checked by {@link metricModel}; its pointers are prefixed with
 * `/telemetry/metrics/<i>`.
 */
export function telemetryProblems(doc: TallyScenario): { errors: InputProblem[]; warnings: InputProblem[] } {
  const errors: InputProblem[] = [];
  const warnings: InputProblem[] = [];
  const t = doc.telemetry;
  const receiver = doc.embedded?.receiver;
  if (t !== undefined) {
    (t.metrics ?? []).forEach((raw, i) => {
      const m = normaliseMetric(raw);
      try {
        metricModel(doc.seed ?? 1, i, seriesCountOf(m.attributes), instrumentOptions(m));
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        for (const p of err.problems) errors.push({ pointer: `/telemetry/metrics/${i}${p.pointer}`, message: p.message });
      }
    });
    const batch = t.batch?.maxDataPoints;
    if (batch !== undefined && t.maxBatchDataPoints !== undefined && batch !== t.maxBatchDataPoints) {
      errors.push({ pointer: '/telemetry/maxBatchDataPoints', message: `differs from /telemetry/batch/maxDataPoints (${batch}); give one of them` });
    }
    const r = t.retry ?? {};
    const initialMs = d(r.initialInterval, '5s', '/telemetry/retry/initialInterval');
    const maxMs = d(r.maxInterval, '30s', '/telemetry/retry/maxInterval');
    if (initialMs > maxMs) errors.push({ pointer: '/telemetry/retry/initialInterval', message: `must not exceed /telemetry/retry/maxInterval (${r.maxInterval ?? '30s'})` });
    if (d(t.timeout, '10s', '/telemetry/timeout') <= 0) errors.push({ pointer: '/telemetry/timeout', message: 'must be above 0' });
    const https = t.endpoint === undefined ? receiver?.tls !== undefined : String(t.endpoint).startsWith('https:');
    if (t.tls !== undefined && !https) {
      warnings.push({ pointer: '/telemetry/tls', message: 'is ignored: the endpoint is not https (for the embedded receiver, set /embedded/receiver/tls)' });
    }
    if (t.endpoint !== undefined && receiver?.limits !== undefined) {
      warnings.push({ pointer: '/embedded/receiver/limits', message: 'is ignored: /telemetry/endpoint names an external endpoint' });
    }
    if (t.endpoint !== undefined && receiver?.tls !== undefined) {
      warnings.push({ pointer: '/embedded/receiver/tls', message: 'is ignored: /telemetry/endpoint names an external endpoint' });
    }
  }
  const latency = receiver?.faults?.latency;
  if (latency?.distribution === 'uniform' && d(latency.min, '0s', '/embedded/receiver/faults/latency/min') > d(latency.max, '0s', '/embedded/receiver/faults/latency/max')) {
    errors.push({ pointer: '/embedded/receiver/faults/latency/min', message: 'must not exceed latency.max' });
  }
  if (receiver?.tls?.requireClientCert && receiver.tls.caFile === undefined) {
    errors.push({ pointer: '/embedded/receiver/tls/caFile', message: 'is required with requireClientCert: it verifies the client certificates' });
  }
  return { errors, warnings };
}

/** Normalise `telemetry` (schema-valid). */
export function normaliseTelemetry(t: Telemetry): TelemetrySpec {
  const r = t.retry ?? {};
  const q = t.queue ?? {};
  const spec: TelemetrySpec = {
    // Remote write is a transport, not an OTLP encoding: scenarios/backends-spec.ts sets `remoteWrite`.
    protocol: t.protocol === undefined || t.protocol === 'prometheus/remote-write' ? 'http/protobuf' : t.protocol,
    compression: t.compression ?? 'none',
    exportIntervalMs: d(t.exportInterval, '5s', '/telemetry/exportInterval'),
    timeoutMs: d(t.timeout, '10s', '/telemetry/timeout'),
    maxBatchDataPoints: t.batch?.maxDataPoints ?? t.maxBatchDataPoints ?? 2000,
    headers: { ...(t.headers ?? {}) },
    retry: {
      enabled: r.enabled ?? true,
      initialIntervalMs: d(r.initialInterval, '5s', '/telemetry/retry/initialInterval'),
      maxIntervalMs: d(r.maxInterval, '30s', '/telemetry/retry/maxInterval'),
      multiplier: r.multiplier ?? 1.5,
      randomizationFactor: r.randomizationFactor ?? 0.5,
      maxElapsedTimeMs: d(r.maxElapsedTime, '300s', '/telemetry/retry/maxElapsedTime'),
    },
    queue: { queueSize: q.queueSize ?? 1000, numConsumers: q.numConsumers ?? 10, whenFull: q.whenFull ?? 'block' },
    resource: { ...(t.resource ?? {}) },
    metrics: (t.metrics ?? []).map(normaliseMetric),
  };
  if (t.endpoint !== undefined) spec.endpoint = t.endpoint;
  if (t.tls !== undefined) {
    spec.tls = { insecureSkipVerify: t.tls.insecureSkipVerify ?? false };
    for (const k of ['caFile', 'certFile', 'keyFile', 'serverName'] as const) if (t.tls[k] !== undefined) spec.tls[k] = t.tls[k];
  }
  if (t.traces !== undefined) {
    const tr = t.traces;
    spec.traces = {
      ratePerSecond: tr.ratePerSecond,
      spansPerTrace: tr.spansPerTrace ?? 4,
      shape: tr.shape ?? 'chain',
      attributes: { ...(tr.attributes ?? {}) },
      kinds: { ...(tr.kinds ?? { server: 1, client: 1, internal: 2 }) },
      statusErrorRatio: tr.statusErrorRatio ?? 0,
      spanDurationMs: d(tr.spanDuration, '50ms', '/telemetry/traces/spanDuration'),
      maxBatchSpans: tr.maxBatchSpans ?? 512,
      batchDelayMs: d(tr.batchDelay, '1s', '/telemetry/traces/batchDelay'),
    };
  }
  return spec;
}

/** Normalise an added-latency distribution (the receiver's `faults.latency`, the target's `latency`) to ms. */
export function normaliseLatency(l: NonNullable<Faults['latency']>, p = '/embedded/receiver/faults/latency'): LatencyFault {
  if (l.distribution === 'fixed') return { distribution: 'fixed', ms: d(l.value, '0s', `${p}/value`) };
  if (l.distribution === 'uniform') return { distribution: 'uniform', minMs: d(l.min, '0s', `${p}/min`), maxMs: d(l.max, '0s', `${p}/max`) };
  return { distribution: 'exponential', meanMs: d(l.mean, '0s', `${p}/mean`), maxMs: d(l.max, '0s', `${p}/max`) };
}

/** Normalise `embedded.receiver` (schema-valid; undefined → no faults, no TLS). */
export function normaliseReceiver(receiver: Embedded['receiver']): EmbeddedSpec['receiver'] {
  const f: Faults = receiver?.faults ?? {};
  const faults: FaultSpec = {
    rejectDataPointRatio: f.rejectDataPointRatio ?? 0,
    rejectSpanRatio: f.rejectSpanRatio ?? 0,
    failRequestRatio: f.failRequestRatio ?? 0,
    retryAfterMs: d(f.retryAfter, '1s', '/embedded/receiver/faults/retryAfter'),
  };
  for (const k of ['throttleRequestRatio', 'retryHint', 'retryAfterFormat', 'faultAttempts', 'dropRequestRatio', 'dropDataPointRatio', 'latencyRequestRatio', 'rejectDeltaTemporality'] as const) {
    if (f[k] !== undefined) (faults as unknown as Record<string, unknown>)[k] = f[k];
  }
  if (f.latency !== undefined) faults.latency = normaliseLatency(f.latency);
  const out: EmbeddedSpec['receiver'] = { faults };
  const limits = receiver?.limits;
  if (limits !== undefined) out.limits = { dataPointsPerSecond: limits.dataPointsPerSecond, ...(limits.burstDataPoints === undefined ? {} : { burstDataPoints: limits.burstDataPoints }) };
  const tls = receiver?.tls;
  if (tls !== undefined) {
    out.tls = { certFile: tls.certFile, keyFile: tls.keyFile, requireClientCert: tls.requireClientCert ?? false };
    if (tls.caFile !== undefined) out.tls.caFile = tls.caFile;
  }
  return out;
}
