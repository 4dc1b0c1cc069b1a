/**
 * The scenario's read-back parts: `backends` (Prometheus, collector, Tempo, Jaeger),
 * `reconcile.maxWait`, and the remote-write transport (`telemetry.protocol:
 * prometheus/remote-write`, `telemetry.remoteWrite`): the cross-field rules the schema
 * cannot say, and normalisation. Pure; called from scenarios/load.ts.
 */
import type { InputProblem } from '../core/errors.ts';
import { parseDurationMs } from '../core/units.ts';
import type { TallyScenario } from './scenario-document.ts';
import type { BackendsSpec, Scenario } from './types.ts';

/** The `telemetry.protocol` value that selects remote write. */
export const REMOTE_WRITE_PROTOCOL = 'prometheus/remote-write';
/** Default hard visibility deadline. */
export const DEFAULT_MAX_WAIT = '30s';
/** Default wait for one answer of the Prometheus API (`backends.prometheus.timeout`). */
export const DEFAULT_PROMETHEUS_TIMEOUT = '30s';

/** Instruments remote write carries: one Prometheus sample per data point. */
const REMOTE_WRITE_INSTRUMENTS = new Set(['counter', 'up-down-counter', 'gauge']);
/** Export options that only OTLP exporters use. */
const OTLP_ONLY = ['compression', 'tls', 'retry', 'queue'];

/**
 * Cross-field rules of the read-back parts.
 * @param doc a schema-valid scenario document.
 * @returns errors and warnings, each with its JSON pointer.
 */
export function backendsProblems(doc: TallyScenario): { errors: InputProblem[]; warnings: InputProblem[] } {
  const errors: InputProblem[] = [];
  const warnings: InputProblem[] = [];
  const t = doc.telemetry;
  const remoteWrite = t?.protocol === REMOTE_WRITE_PROTOCOL;
  if (remoteWrite) {
    if (t.endpoint === undefined) errors.push({ pointer: '/telemetry/endpoint', message: 'remote write needs the receiver URL, e.g. http://127.0.0.1:9090/api/v1/write' });
    if (t.traces !== undefined) errors.push({ pointer: '/telemetry/traces', message: 'traces need an OTLP protocol; remote write carries metrics only' });
    (t.metrics ?? []).forEach((m, i) => {
      if (!REMOTE_WRITE_INSTRUMENTS.has(m.instrument)) {
        errors.push({ pointer: `/telemetry/metrics/${i}/instrument`, message: `remote write sends counter, up-down-counter and gauge metrics; a ${m.instrument} is not supported` });
      }
      if (m.temporality === 'delta') errors.push({ pointer: `/telemetry/metrics/${i}/temporality`, message: 'remote write sends cumulative series; delta is not supported' });
      if (m.churn !== undefined) errors.push({ pointer: `/telemetry/metrics/${i}/churn`, message: 'series churn is not supported with remote write' });
    });
    for (const key of OTLP_ONLY) if ((t as Readonly<Record<string, unknown>>)[key] !== undefined) warnings.push({ pointer: `/telemetry/${key}`, message: 'ignored by prometheus/remote-write (OTLP exporters only)' });
  } else if (t?.remoteWrite !== undefined) {
    warnings.push({ pointer: '/telemetry/remoteWrite', message: 'ignored: telemetry.protocol is not prometheus/remote-write' });
  }
  const prometheus = doc.backends?.prometheus;
  if (t !== undefined && (remoteWrite || prometheus !== undefined)) {
    const intervalMs = parseDurationMs(t.exportInterval ?? '5s', '/telemetry/exportInterval');
    if (!Number.isInteger(intervalMs)) errors.push({ pointer: '/telemetry/exportInterval', message: 'must be a whole number of milliseconds: Prometheus timestamps are in ms' });
  }
  if (prometheus !== undefined) {
    if (t?.metrics !== undefined && t.endpoint === undefined) {
      errors.push({ pointer: '/backends/prometheus', message: 'needs telemetry.endpoint: the embedded receiver stores nothing in Prometheus' });
    }
    const auth = prometheus.auth;
    if (auth?.bearerTokenFile !== undefined && auth?.basic !== undefined) errors.push({ pointer: '/backends/prometheus/auth', message: 'set one of bearerTokenFile and basic, not both' });
    if (auth?.basic !== undefined && (auth.basic.passwordFile === undefined) === (auth.basic.passwordEnv === undefined)) {
      errors.push({ pointer: '/backends/prometheus/auth/basic', message: 'exactly one of passwordFile and passwordEnv is expected' });
    }
  }
  if (doc.backends?.tempo !== undefined && t?.traces === undefined) warnings.push({ pointer: '/backends/tempo', message: 'no telemetry.traces: there is nothing to verify in Tempo' });
  if (doc.backends?.jaeger !== undefined && t?.traces === undefined) warnings.push({ pointer: '/backends/jaeger', message: 'no telemetry.traces: there is nothing to verify in Jaeger' });
  if (doc.reconcile?.maxWait !== undefined) {
    const settleMs = parseDurationMs(doc.reconcile.settle ?? '500ms', '/reconcile/settle');
    if (parseDurationMs(doc.reconcile.maxWait, '/reconcile/maxWait') < settleMs) errors.push({ pointer: '/reconcile/maxWait', message: 'must be at least reconcile.settle' });
  }
  return { errors, warnings };
}

/**
 * Apply the read-back parts to a normalised scenario (in place): `backends`,
 * `reconcile.maxWaitMs`, and the remote-write transport.
 * @param doc the schema-valid document the scenario was normalised from.
 */
export function normaliseBackends(doc: TallyScenario, scenario: Scenario): void {
  scenario.reconcile.maxWaitMs = parseDurationMs(doc.reconcile?.maxWait ?? DEFAULT_MAX_WAIT, '/reconcile/maxWait');
  const t = doc.telemetry;
  if (t?.protocol === REMOTE_WRITE_PROTOCOL && scenario.telemetry) {
    const f = t.remoteWrite?.faults ?? {};
    scenario.telemetry.remoteWrite = { faults: { outOfOrderRequestRatio: f.outOfOrderRequestRatio ?? 0, duplicateRequestRatio: f.duplicateRequestRatio ?? 0 } };
    // `protocol` names OTLP encodings; the transport is said by `remoteWrite`.
    scenario.telemetry.protocol = 'http/protobuf';
  }
  const b = doc.backends;
  if (b === undefined) return;
  const backends: BackendsSpec = {};
  if (b.prometheus !== undefined) {
    const p = b.prometheus;
    backends.prometheus = {
      url: p.url,
      maxSamplesPerQuery: p.maxSamplesPerQuery ?? 200_000,
      pollIntervalMs: parseDurationMs(p.pollInterval ?? '1s', '/backends/prometheus/pollInterval'),
      visibilitySeries: p.visibilitySeries ?? 10_000,
      timeoutMs: parseDurationMs(p.timeout ?? DEFAULT_PROMETHEUS_TIMEOUT, '/backends/prometheus/timeout'),
      datapathMetrics: p.datapathMetrics ?? false,
      translationStrategy: p.translationStrategy ?? 'UnderscoreEscapingWithSuffixes',
      convertHistogramsToNhcb: p.convertHistogramsToNhcb ?? false,
      deltaIngestion: p.deltaIngestion ?? 'converted',
    };
    if (p.auth !== undefined) backends.prometheus.auth = structuredClone(p.auth);
  }
  if (b.collector !== undefined) {
    backends.collector = { metricsUrl: b.collector.metricsUrl };
    if (b.collector.receivers !== undefined) backends.collector.receivers = [...b.collector.receivers];
    if (b.collector.exporters !== undefined) backends.collector.exporters = [...b.collector.exporters];
  }
  if (b.tempo !== undefined) backends.tempo = { url: b.tempo.url, sampleSize: b.tempo.sample ?? 100 };
  if (b.jaeger !== undefined) backends.jaeger = { url: b.jaeger.url, sampleSize: b.jaeger.sample ?? 100, ...(b.jaeger.metricsUrl !== undefined ? { metricsUrl: b.jaeger.metricsUrl } : {}) };
  scenario.backends = backends;
}
