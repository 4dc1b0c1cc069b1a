/**
 * The exporter's deadlines do not depend on its transport settling: a transport whose
 * attempts never end (as an undici request with a bad header did, whatever its abort
 * signal) still gets every batch settled, the end-of-run drain ends at its grace, and a
 * stop during a long drain brings its end forward. Each batch settles exactly once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OtlpExporter, type ExportSettlement, type ExportTransport } from '../../workers/otlp-exporter.ts';
import { ABORT_GRACE_MS, ATTEMPT_GRACE_MS, CLOSE_GRACE_MS } from '../../workers/otlp-exporter-deadline.ts';
import type { ExporterConfig } from '../../workers/otlp-exporter-types.ts';

/** A transport whose attempts (and close) never settle, abort signal or not. */
function neverSettles(): ExportTransport & { attempts: number } {
  const t = {
    attempts: 0,
    prepare: (body: Uint8Array) => body,
    send: () => {
      t.attempts++;
      return new Promise<never>(() => {});
    },
    close: () => new Promise<never>(() => {}),
  };
  return t;
}

function config(overrides: Partial<ExporterConfig> = {}): ExporterConfig {
  return {
    protocol: 'http/protobuf',
    endpoint: 'http://127.0.0.1:9',
    compression: 'none',
    headers: {},
    timeoutMs: 200,
    retry: { enabled: false, initialIntervalMs: 50, maxIntervalMs: 100, multiplier: 1.5, randomizationFactor: 0, maxElapsedTimeMs: 0 },
    queue: { queueSize: 10, numConsumers: 2, whenFull: 'block' },
    seed: 1,
    ...overrides,
  };
}

const batch = (key: number) => ({ signal: 'metrics' as const, body: new Uint8Array(10), items: 5, key });

test('an attempt that never settles times out at its timeout plus a grace: the batch fails, once', { timeout: 10_000 }, async () => {
  const transport = neverSettles();
  const exporter = new OtlpExporter<number>(config(), transport);
  const settled: ExportSettlement<number>[] = [];
  exporter.onSettle = (s) => settled.push(s);
  const started = performance.now();
  await exporter.submit(batch(1));
  for (let i = 0; settled.length === 0 && i < 500; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(settled.length, 1, 'the batch settled');
  const tookMs = performance.now() - started;
  assert.equal(settled[0].finalState, 'failed');
  assert.equal(settled[0].last?.class, 'timeout');
  assert.ok(tookMs >= 200 && tookMs < 200 + ATTEMPT_GRACE_MS + 500, `${Math.round(tookMs)} ms`);
  await exporter.shutdown(0);
  assert.equal(settled.length, 1);
  exporter.destroy();
});

test('a stop during a long drain to a transport that never settles ends the drain at the stop\'s grace: batches unsettled', { timeout: 10_000 }, async () => {
  const transport = neverSettles();
  const exporter = new OtlpExporter<number>(config({ timeoutMs: 30_000 }), transport);
  const settled: ExportSettlement<number>[] = [];
  exporter.onSettle = (s) => settled.push(s);
  for (let k = 0; k < 4; k++) await exporter.submit(batch(k));
  // The end-of-run drain: up to a minute for what is queued and in flight.
  const drained = exporter.shutdown(60_000);
  await new Promise((r) => setTimeout(r, 100));
  const stoppedAt = performance.now();
  // SIGTERM during the drain: one second more at most.
  const again = exporter.shutdown(300);
  assert.equal(again, drained, 'the same shutdown, brought forward');
  await drained;
  const tookMs = performance.now() - stoppedAt;
  assert.ok(tookMs < 300 + ABORT_GRACE_MS + CLOSE_GRACE_MS + 300, `${Math.round(tookMs)} ms after the stop`);
  assert.deepEqual(settled.map((s) => s.key).sort(), [0, 1, 2, 3], 'each batch settled exactly once');
  assert.ok(settled.every((s) => s.finalState === 'unsettled'));
  exporter.destroy();
});
