/**
 * Jaeger's own counters as the spans waterfall's backend stage. Jaeger v2 is built on the
 * OpenTelemetry Collector and serves the collector's self-metrics on its `/metrics`
 * (readback/otelcol/ reads them): its OTLP receiver's `otelcol_receiver_accepted_spans` /
 * `refused_spans` and its storage exporter's `otelcol_exporter_sent_spans` /
 * `send_failed_spans{exporter="jaeger_storage_exporter"}` (with `_total` and
 * `otel_scope_*` labels, as 1.75 serves them). Pure.
 *
 * @see https://www.jaegertracing.io/docs/latest/monitoring/
 */
import type { BackendStageInput } from '../../reconcile/waterfall.ts';
import type { OtelcolDelta } from '../otelcol/self-metrics.ts';

/** The exporter that writes Jaeger v2's spans to its storage. */
export const JAEGER_STORAGE_EXPORTER = 'jaeger_storage_exporter';

/**
 * The backend stage from Jaeger's self-metric deltas: received = what its receivers
 * accepted, stored = what its storage exporter wrote; spans the storage exporter failed to
 * write are discarded (`storage_write_failed`). Spans its receivers refused went back to the
 * sender as errors, so they are the sender's failures already (`receiver_refused`, a
 * `backend_refused` finding), not part of `received`.
 */
export function jaegerBackendStage(delta: OtelcolDelta): BackendStageInput {
  let accepted = 0;
  let refused = 0;
  let stored = 0;
  let failed = 0;
  for (const c of delta.components) {
    if (c.signal !== 'spans') continue;
    if (c.kind === 'receiver') {
      accepted += c.counters.accepted ?? 0;
      refused += (c.counters.refused ?? 0) + (c.counters.failed ?? 0);
    } else if (c.kind === 'exporter' && c.id === JAEGER_STORAGE_EXPORTER) {
      stored += c.counters.sent ?? 0;
      failed += c.counters.send_failed ?? 0;
    }
  }
  return { name: 'jaeger', received: accepted, stored, discarded: failed > 0 ? { storage_write_failed: failed } : {}, refused: refused > 0 ? { receiver_refused: refused } : {} };
}
