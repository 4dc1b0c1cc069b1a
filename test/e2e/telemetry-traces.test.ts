/**
 * Traces end to end through `tally run` against the embedded receiver on loopback, over
 * each transport: every trace is placed by its id and every span checked against the
 * model, so the run reconciles trace by trace and span by span; a receiver rejecting a
 * share of spans through partial_success puts exactly those in the `rejected` stage. The
 * metric's exemplars name generated traces, and the receiver joins the two.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { finding, runScenario } from './telemetry-helpers.ts';

const scenario = (protocol: string, faults = '{}'): string => `
name: e2e-traces
seed: 43
duration: 2s
telemetry:
  protocol: ${protocol}
  exportInterval: 500ms
  traces:
    ratePerSecond: 25
    spansPerTrace: { min: 2, max: 5 }
    shape: fan-out
    attributes: { route: 5, peer: 3 }
    kinds: { server: 1, client: 2, producer: 1 }
    statusErrorRatio: 0.2
    spanDuration: 20ms
    maxBatchSpans: 16
    batchDelay: 200ms
  metrics:
    - { name: t.requests, instrument: counter, temporality: cumulative, attributes: { route: 5 }, exemplars: { ratio: 1 } }
embedded: { receiver: { faults: ${faults} } }
`;

for (const protocol of ['grpc', 'http/protobuf', 'http/json'] as const) {
  test(`traces over ${protocol} reconcile by id, span by span, beside metrics`, async () => {
    const { results, lines } = await runScenario(scenario(protocol));
    const t = results.summary.traces;
    assert.equal(t.protocol, protocol);
    assert.equal(t.tracesPlanned, 50);
    assert.equal(t.tracesSent, 50);
    assert.equal(t.tracesComplete, 50);
    assert.equal(t.tracesMissing + t.tracesIncomplete, 0);
    assert.ok(t.spansSent >= 100 && t.spansSent <= 250, `${t.spansSent} spans`);
    assert.equal(t.spansAcknowledged, t.spansSent);
    assert.equal(t.spansReceived, t.spansSent);
    assert.equal(t.spansMissing, 0);
    assert.equal(t.wrongContentSpans, 0, JSON.stringify(results.reconciliation.traces.wrongContent.slice(0, 3)));
    assert.equal(t.unexpectedSpans, 0);
    assert.equal(t.duplicateSpans, 0);
    assert.equal(t.exporter.enqueued, t.requests);
    assert.equal(results.summary.metrics.pointsReceived, 5 * 4);
    assert.equal(results.summary.metrics.valueMismatches, 0, 'every exemplar names the trace the model says');
    // Every point carries an exemplar naming a generated trace, and every named trace arrived whole.
    const x = results.summary.metrics.exemplarTraces;
    assert.equal(x.exemplarsReceived, 5 * 4);
    assert.equal(x.exemplarsNamingOtherTraces, 0);
    assert.ok(x.tracesNamed >= 5 && x.tracesNamed <= 20, `${x.tracesNamed} traces named`);
    assert.equal(x.tracesNamedWithRootSpan, x.tracesNamed);
    assert.equal(x.tracesNamedComplete, x.tracesNamed);
    assert.equal(x.tracesNamedMissing, 0);
    assert.equal(results.findings.length, 0, JSON.stringify(results.findings));
    assert.equal(lines.reduce((a, l) => a + (l.traces?.spansAcknowledged ?? 0), 0), t.spansSent);
    if (protocol === 'grpc') assert.equal(results.receiver.grpcRequests, results.receiver.requests);
  });
}

test('rejectSpanRatio: the rejected spans are the missing ones, attributed to the rejected stage', async () => {
  const { results } = await runScenario(scenario('grpc', '{ rejectSpanRatio: 0.1 }'));
  const t = results.summary.traces;
  assert.ok(t.spansRejected > 0);
  assert.equal(t.spansRejected, results.receiver.spansRejected);
  assert.equal(t.spansMissing, t.spansRejected);
  assert.deepEqual(t.missingByStage, { rejected: t.spansRejected, failedExport: 0, droppedByQueue: 0, unsettled: 0, lostAfterAck: 0 });
  assert.ok(t.tracesIncomplete + t.tracesMissing > 0);
  assert.equal(finding(results, 'rejected_spans'), t.spansRejected);
});

test('503 on trace requests, retried after Retry-After: every span acknowledged once', async () => {
  const { results } = await runScenario(scenario('http/protobuf', '{ failRequestRatio: 0.3, faultAttempts: 1, retryAfter: 1s }').replace('exportInterval: 500ms', 'exportInterval: 500ms\n  retry: { initialInterval: 20ms, maxInterval: 50ms }'));
  const t = results.summary.traces;
  assert.ok(t.retries > 0);
  assert.equal(t.spansAcknowledged, t.spansSent);
  assert.equal(t.spansResent, 0);
  assert.equal(t.spansMissing, 0);
  assert.equal(t.duplicateSpans, 0);
  assert.ok(t.exporter.retriedExportMinUs >= 1_000_000, `retried after ${t.exporter.retriedExportMinUs} µs`);
});

const SLOW_TRACES = (whenFull: string): string => scenario('http/protobuf', '{ latency: { distribution: fixed, value: 100ms } }')
  .replace('ratePerSecond: 25', 'ratePerSecond: 300')
  .replace('exportInterval: 500ms', `exportInterval: 500ms\n  retry: { enabled: false }\n  queue: { queueSize: 1, numConsumers: 1, whenFull: ${whenFull} }`);

test('a full sending queue for traces: drop loses batches to the queue; block holds the generator back (measured) and drops nothing', async () => {
  const dropped = (await runScenario(SLOW_TRACES('drop'))).results.summary.traces;
  assert.ok(dropped.spansDropped > 0, `drop: ${dropped.spansDropped} spans dropped`);
  assert.equal(dropped.missingByStage.droppedByQueue, dropped.spansDropped);

  const { results } = await runScenario(SLOW_TRACES('block'));
  const t = results.summary.traces;
  assert.equal(t.spansDropped, 0);
  assert.ok(t.exporter.blockedUs > 0, `blocked ${t.exporter.blockedUs} µs`);
  assert.equal(t.spansAcknowledged + t.spansUnsettled, t.spansSent);
  assert.equal(t.spansMissing, t.spansUnsettled, 'only what the stop cut short is missing');
  assert.equal(t.wrongContentSpans, 0);
  assert.equal(t.duplicateSpans, 0);
});
