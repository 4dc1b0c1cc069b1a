/**
 * Jaeger's own counters as the spans waterfall's backend stage, from its recorded `/metrics`
 * (test/fixtures/jaeger-1.75): the collector self-metrics it serves, `_total` names with
 * `otel_scope_*` labels, and an empty `# HELP` line that must not lose the body.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { otelcolDelta, otelcolSnapshotFromText } from '../../../readback/otelcol/self-metrics.ts';
import { parseExposition } from '../../../readback/otelcol/exposition.ts';
import { jaegerBackendStage, JAEGER_STORAGE_EXPORTER } from '../../../readback/jaeger/ingest.ts';

const AFTER = readFileSync(fileURLToPath(new URL('../../fixtures/jaeger-1.75/metrics-after.txt', import.meta.url)), 'utf8');

test('an empty help text (as Jaeger 1.75 writes it) does not lose the body', () => {
  assert.match(AFTER, /^# HELP jaeger_storage_latency_seconds $/m);
  const parsed = parseExposition(AFTER);
  assert.ok(parsed.samples.some((s) => s.name === 'otelcol_receiver_accepted_spans_total' && s.value === 5));
});

test('the recorded counters: 5 spans accepted by the otlp receiver and written by the storage exporter; series that appear count from zero', () => {
  const before = otelcolSnapshotFromText('');
  const after = otelcolSnapshotFromText(AFTER);
  const delta = otelcolDelta(before, after);
  assert.deepEqual(jaegerBackendStage(delta), { name: 'jaeger', received: 5, stored: 5, discarded: {}, refused: {} });
  assert.ok(delta.components.some((c) => c.kind === 'exporter' && c.id === JAEGER_STORAGE_EXPORTER));
});

test('storage write failures are discards; refusals are the sender\'s failures, not received', () => {
  const failing = AFTER
    .replace(/(otelcol_exporter_send_failed_spans_total\{[^}]*\}) 0/, '$1 2')
    .replace(/(otelcol_receiver_refused_spans_total\{[^}]*\}) 0/, '$1 3');
  const stage = jaegerBackendStage(otelcolDelta(otelcolSnapshotFromText(''), otelcolSnapshotFromText(failing)));
  assert.deepEqual(stage, { name: 'jaeger', received: 5, stored: 5, discarded: { storage_write_failed: 2 }, refused: { receiver_refused: 3 } });
});
