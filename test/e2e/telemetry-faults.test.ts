/**
 * Each receiver fault kind, end to end through `tally run` against the embedded receiver
 * on loopback, lands every data point in the ledger state (and reconciliation stage) it
 * should: partial_success → rejected; 503/429 honoured through Retry-After / RetryInfo and
 * retried → acknowledged once (the measured delay of every retried batch is at least the
 * hint); RESOURCE_EXHAUSTED without RetryInfo and retries off → failed; acknowledged then
 * discarded → lost after ack; an answer slower than the timeout → failed (timeout); a
 * full sending queue → dropped (`drop`) or a producer that waits (`block`).
 * Counts are compared with the receiver's own fault counters, never with fixed figures.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { finding, runScenario } from './telemetry-helpers.ts';

/** A 2 s run, 500 ms ticks (4 ticks), 200 series of one counter in requests of 20 points. */
function scenario(name: string, protocol: string, telemetryExtra: string, faults: string): string {
  return `
name: ${name}
seed: 23
duration: 2s
telemetry:
  protocol: ${protocol}
  exportInterval: 500ms
  batch: { maxDataPoints: 20 }
${telemetryExtra}
  metrics:
    - { name: f.requests, instrument: counter, attributes: { route: 20, code: 10 } }
embedded: { receiver: { faults: ${faults} } }
`;
}
const PLANNED = 200 * 4;
const FAST_RETRY = '  retry: { initialInterval: 20ms, maxInterval: 50ms, maxElapsedTime: 20s }';
const NO_RETRY = '  retry: { enabled: false }';

test('partial_success over gRPC: the rejected points are the missing ones, in the rejected stage', async () => {
  const { results } = await runScenario(scenario('f-reject', 'grpc', NO_RETRY, '{ rejectDataPointRatio: 0.1 }'));
  const m = results.summary.metrics;
  assert.equal(m.pointsSent, PLANNED);
  assert.ok(m.pointsRejected > 0 && m.requestsPartial > 0);
  assert.equal(m.pointsRejected, results.receiver.pointsRejectedByFault);
  assert.equal(m.pointsMissing, m.pointsRejected);
  assert.deepEqual(m.missingByExportStage, { rejected: m.pointsRejected, failedExport: 0, droppedByQueue: 0, unsettled: 0, lostAfterAck: 0 });
  assert.equal(m.pointsAcknowledged + m.pointsRejected, PLANNED);
  assert.equal(finding(results, 'rejected_points'), m.pointsRejected);
});

for (const [kind, protocol, fault] of [
  ['503 with Retry-After', 'http/protobuf', 'failRequestRatio'],
  ['429 with Retry-After', 'http/json', 'throttleRequestRatio'],
  ['UNAVAILABLE with RetryInfo', 'grpc', 'failRequestRatio'],
  ['RESOURCE_EXHAUSTED with RetryInfo', 'grpc', 'throttleRequestRatio'],
] as const) {
  test(`${kind}: retried after the server's hint (measured), acknowledged once, nothing counted twice`, async () => {
    // The first arrival of a faulted request fails, the retry passes; backoff alone would be ≤ 75 ms.
    const { results } = await runScenario(scenario('f-retry', protocol, FAST_RETRY, `{ ${fault}: 0.3, faultAttempts: 1, retryAfter: 1s }`));
    const m = results.summary.metrics;
    const faulted = fault === 'failRequestRatio' ? results.receiver.requestsFailedByFault : results.receiver.requestsThrottledByFault;
    assert.ok(faulted > 0, 'some requests were faulted');
    assert.equal(m.retries, faulted);
    assert.equal(m.exporter.retries, faulted);
    assert.equal(m.exporter.retriedBatches, faulted);
    assert.equal(m.exporter.attempts.throttled, faulted, JSON.stringify(m.exporter.attempts));
    // Measured: first attempt → settlement of each retried batch is at least the 1 s hint.
    assert.ok(m.exporter.retriedExportMinUs >= 1_000_000, `retried after ${m.exporter.retriedExportMinUs} µs`);
    assert.ok(m.exporter.retriedExportMaxUs < 3_000_000, `retried after ${m.exporter.retriedExportMaxUs} µs`);
    assert.equal(m.pointsSent, PLANNED);
    assert.equal(m.pointsAcknowledged, PLANNED);
    assert.equal(m.pointsResent, 0);
    assert.equal(m.pointsReceived, PLANNED);
    assert.equal(m.duplicatePoints, 0);
    assert.equal(m.pointsMissing, 0);
    assert.equal(m.requests, results.receiver.requests - faulted);
  });
}

test('RESOURCE_EXHAUSTED without RetryInfo is not retried: its points are failed exports', async () => {
  const { results } = await runScenario(scenario('f-nohint', 'grpc', FAST_RETRY, '{ throttleRequestRatio: 0.3, retryHint: false }'));
  const m = results.summary.metrics;
  assert.ok(m.requestsFailed > 0);
  assert.equal(m.requestsFailed, results.receiver.requestsThrottledByFault);
  assert.equal(m.grpcCodes['8'], m.requestsFailed);
  assert.equal(m.retries, 0);
  assert.equal(m.pointsFailed, m.pointsMissing);
  assert.deepEqual(m.missingByExportStage, { rejected: 0, failedExport: m.pointsFailed, droppedByQueue: 0, unsettled: 0, lostAfterAck: 0 });
  assert.equal(finding(results, 'failed_export_points'), m.pointsFailed);
});

test('acknowledged, then discarded (request and point drops): lost after acknowledgement', async () => {
  const { results } = await runScenario(scenario('f-drop', 'http/protobuf', NO_RETRY, '{ dropRequestRatio: 0.2, dropDataPointRatio: 0.05 }'));
  const m = results.summary.metrics;
  assert.equal(m.pointsAcknowledged, PLANNED);
  assert.ok(results.receiver.requestsDroppedByFault > 0);
  assert.equal(m.pointsMissing, results.receiver.pointsDroppedByFault);
  assert.deepEqual(m.missingByExportStage, { rejected: 0, failedExport: 0, droppedByQueue: 0, unsettled: 0, lostAfterAck: m.pointsMissing });
  assert.equal(finding(results, 'lost_after_ack_points'), m.pointsMissing);
});

test('an answer slower than the export timeout: every attempt times out and its batch fails', async () => {
  const { results } = await runScenario(scenario('f-timeout', 'http/protobuf', `${NO_RETRY}\n  timeout: 100ms`, '{ latency: { distribution: fixed, value: 300ms } }'));
  const m = results.summary.metrics;
  assert.equal(m.pointsFailed, PLANNED);
  assert.equal(m.errorCodes.ETIMEDOUT, m.requests);
  assert.equal(m.exporter.attempts.timeout, m.requests);
  // The receiver still stores what it answers too late: a timeout is not proof of loss.
  assert.equal(m.pointsMissing, 0);
});

test('added latency shows in the exporter attempt latency', async () => {
  const { results } = await runScenario(scenario('f-latency', 'grpc', NO_RETRY, '{ latency: { distribution: fixed, value: 150ms } }'));
  const m = results.summary.metrics;
  assert.equal(m.pointsReceived, PLANNED);
  assert.ok(m.exporter.attemptLatencyUs.min >= 150_000, `fastest attempt ${m.exporter.attemptLatencyUs.min} µs`);
});

const SLOW_QUEUE = (whenFull: string): string => `${NO_RETRY}\n  queue: { queueSize: 1, numConsumers: 1, whenFull: ${whenFull} }`;

test('a full sending queue with whenFull drop: dropped batches are dropped-by-queue points, never on the wire', async () => {
  const { results, lines } = await runScenario(scenario('f-qdrop', 'http/protobuf', SLOW_QUEUE('drop'), '{ latency: { distribution: fixed, value: 300ms } }'));
  const m = results.summary.metrics;
  assert.ok(m.pointsDropped > 0 && m.requestsDropped > 0);
  assert.equal(m.pointsSent, PLANNED);
  assert.equal(m.pointsAcknowledged + m.pointsDropped, PLANNED);
  assert.equal(m.exporter.droppedItems, m.pointsDropped);
  assert.equal(m.pointsReceived, m.pointsAcknowledged);
  assert.deepEqual(m.missingByExportStage, { rejected: 0, failedExport: 0, droppedByQueue: m.pointsDropped, unsettled: 0, lostAfterAck: 0 });
  assert.equal(finding(results, 'dropped_by_queue_points'), m.pointsDropped);
  assert.equal(lines.reduce((a, l) => a + (l.exporter?.metrics?.droppedItems ?? 0), 0), m.pointsDropped);
  assert.ok(m.exporter.queueDepthMax >= 1);
});

test('a full sending queue with whenFull block: the generator waits (measured), nothing is dropped', async () => {
  const { results } = await runScenario(scenario('f-qblock', 'http/protobuf', SLOW_QUEUE('block'), '{ latency: { distribution: fixed, value: 100ms } }'));
  const m = results.summary.metrics;
  assert.equal(m.pointsDropped, 0);
  assert.equal(m.pointsAcknowledged, PLANNED);
  assert.equal(m.pointsReceived, PLANNED);
  assert.ok(m.exporter.blockedUs > 0);
});
