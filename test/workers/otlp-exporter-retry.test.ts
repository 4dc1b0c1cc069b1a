/**
 * Retry rules: the OTLP spec's retryable tables and the collector's backoff (pure), then
 * over real sockets: Retry-After and RetryInfo are honoured (the gap between attempts,
 * measured on the receiver, is at least the hint), RESOURCE_EXHAUSTED without RetryInfo
 * is not retried, and a batch that never succeeds settles once as failed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Arrival } from '../../embedded/otlp-receiver.ts';
import type { ReceiverFaults } from '../../embedded/receiver-faults.ts';
import { Backoff, classifyGrpcStatus, classifyHttpStatus, GRPC, parseRetryAfterMs, retryDelayMs } from '../../workers/otlp-exporter-retry.ts';
import { decodeRichStatus, encodeRichStatus } from '../../wire/grpc-status-details.ts';
import { OtlpExporter, type MetricsBatchKey, type OtlpProtocol, type RetryPolicy } from '../../workers/otlp-exporter.ts';
import { config, receiver, ship, SERIES, tickBatches } from './otlp-exporter-fixture.ts';

test('OTLP/HTTP: 429, 502, 503, 504 are retryable, other statuses are not; a hint makes 429/503 throttling', () => {
  for (const s of [429, 502, 503, 504]) assert.equal(classifyHttpStatus(s, undefined).retryable, true, String(s));
  for (const s of [400, 401, 403, 404, 413, 415, 500, 501]) assert.equal(classifyHttpStatus(s, 1000).retryable, false, String(s));
  assert.equal(classifyHttpStatus(429, 1000).class, 'throttled');
  assert.equal(classifyHttpStatus(502, 1000).class, 'retryable_status');
});

test('OTLP/gRPC: the retryable codes, and RESOURCE_EXHAUSTED only with RetryInfo', () => {
  for (const c of [GRPC.CANCELLED, GRPC.DEADLINE_EXCEEDED, GRPC.ABORTED, GRPC.OUT_OF_RANGE, GRPC.UNAVAILABLE, GRPC.DATA_LOSS]) assert.equal(classifyGrpcStatus(c, false).retryable, true, String(c));
  for (const c of [GRPC.UNKNOWN, GRPC.INVALID_ARGUMENT, 5, 6, 7, 9, 12, 13, 16]) assert.equal(classifyGrpcStatus(c, true).retryable, false, String(c));
  assert.deepEqual(classifyGrpcStatus(GRPC.RESOURCE_EXHAUSTED, false), { class: 'non_retryable_status', retryable: false });
  assert.deepEqual(classifyGrpcStatus(GRPC.RESOURCE_EXHAUSTED, true), { class: 'throttled', retryable: true });
});

test('Retry-After: delay-seconds and HTTP-date; garbage is ignored', () => {
  const now = Date.parse('Sun, 06 Nov 1994 08:49:37 GMT');
  assert.equal(parseRetryAfterMs('120', now), 120_000);
  assert.equal(parseRetryAfterMs('Sun, 06 Nov 1994 08:49:40 GMT', now), 3000);
  assert.equal(parseRetryAfterMs('Sun, 06 Nov 1994 08:49:00 GMT', now), 0);
  assert.equal(parseRetryAfterMs('-5', now), undefined);
  assert.equal(parseRetryAfterMs('soon', now), undefined);
  assert.equal(parseRetryAfterMs(undefined, now), undefined);
});

test('google.rpc.Status with RetryInfo round-trips; a foreign trailer is no RetryInfo', () => {
  assert.deepEqual(decodeRichStatus(encodeRichStatus({ code: 8, message: 'slow down', retryDelayMs: 1500 })), { code: 8, message: 'slow down', retryDelayMs: 1500 });
  assert.deepEqual(decodeRichStatus(encodeRichStatus({ code: 14, message: '' })), { code: 14, message: '' });
  assert.equal(decodeRichStatus(new Uint8Array([0xff, 0xff, 0xff]))?.retryDelayMs, undefined);
});

const policy: RetryPolicy = { enabled: true, initialIntervalMs: 100, maxIntervalMs: 1000, multiplier: 2, randomizationFactor: 0.5, maxElapsedTimeMs: 5000 };

test('backoff: seeded (same seed and batch → same delays), within ±factor of the capped exponential interval', () => {
  const delays = (seed: number, seq: number): number[] => {
    const b = new Backoff(policy, seed, seq);
    return Array.from({ length: 8 }, () => b.nextMs());
  };
  assert.deepEqual(delays(1, 7), delays(1, 7));
  assert.notDeepEqual(delays(1, 7), delays(1, 8));
  delays(3, 1).forEach((d, i) => {
    const interval = Math.min(policy.initialIntervalMs * policy.multiplier ** i, policy.maxIntervalMs);
    assert.ok(d >= interval * 0.5 && d <= interval * 1.5, `attempt ${i}: ${d} vs ${interval}`);
  });
});

test('retry delay is max(backoff, hint), and none once it would pass maxElapsedTime (the collector rule)', () => {
  assert.equal(retryDelayMs(policy, 0, 100, 2000), 2000);
  assert.equal(retryDelayMs(policy, 0, 300, 200), 300);
  assert.equal(retryDelayMs(policy, 4000, 300, 2000), undefined);
  assert.equal(retryDelayMs({ ...policy, maxElapsedTimeMs: 0 }, 1e9, 300, undefined), 300);
});

/** Ship one tick as one batch and record when each attempt reached the receiver. */
async function retried(protocol: OtlpProtocol, faults: Partial<ReceiverFaults>, retry: Partial<RetryPolicy> = {}) {
  const arrivals: Arrival[] = [];
  const { r } = await receiver(faults, { onArrival: (a) => arrivals.push(a) });
  try {
    const exporter = new OtlpExporter<MetricsBatchKey>(config(protocol, r, { retry: { ...policy, initialIntervalMs: 20, maxIntervalMs: 50, ...retry } }));
    const { ledger, settlements } = await ship(exporter, tickBatches(1, SERIES));
    exporter.destroy();
    const gapsMs = arrivals.slice(1).map((a, i) => a.atMs - arrivals[i].atMs);
    return { ledger, s: settlements[0], arrivals, gapsMs };
  } finally {
    await r.close();
  }
}

const ONCE = { faultAttempts: 1, retryAfterMs: 1000 };

test('HTTP 503 and 429 with Retry-After (seconds and HTTP-date): retried no sooner than the hint, then acknowledged once', async () => {
  for (const faults of [{ failRequestRatio: 1 }, { throttleRequestRatio: 1 }, { throttleRequestRatio: 1, retryAfterFormat: 'http-date' as const }]) {
    const { ledger, s, arrivals, gapsMs } = await retried('http/protobuf', { ...ONCE, ...faults });
    assert.deepEqual(arrivals.map((a) => a.verdict), [faults.failRequestRatio ? 'unavailable' : 'throttled', 'ok']);
    assert.equal(s.finalState, 'acknowledged');
    assert.equal(s.attempts, 2);
    // The hint (1 s) is far above the backoff (≤ 30 ms), so the hint sets the gap. HTTP-date has 1 s resolution.
    assert.ok(gapsMs[0] >= (faults.retryAfterFormat ? 999 : 1000) - 1, `gap ${gapsMs[0]} ms`);
    assert.equal(ledger.totals.pointsAcknowledged, SERIES);
    assert.equal(ledger.totals.pointsSent, SERIES);
    assert.equal(ledger.totals.retries, 1);
  }
});

test('gRPC RESOURCE_EXHAUSTED and UNAVAILABLE with RetryInfo: retried after the RetryInfo delay', async () => {
  for (const faults of [{ throttleRequestRatio: 1 }, { failRequestRatio: 1 }]) {
    const { s, gapsMs } = await retried('grpc', { ...ONCE, retryAfterMs: 600, ...faults });
    assert.equal(s.finalState, 'acknowledged');
    assert.equal(s.attempts, 2);
    assert.ok(gapsMs[0] >= 599, `gap ${gapsMs[0]} ms`);
  }
});

test('gRPC RESOURCE_EXHAUSTED without RetryInfo is not retried; UNAVAILABLE without it is, on the backoff', async () => {
  const exhausted = await retried('grpc', { ...ONCE, throttleRequestRatio: 1, retryHint: false });
  assert.equal(exhausted.s.finalState, 'failed');
  assert.equal(exhausted.s.attempts, 1);
  assert.equal(exhausted.s.last?.class, 'non_retryable_status');
  assert.equal(exhausted.ledger.totals.pointsFailed, SERIES);
  const unavailable = await retried('grpc', { ...ONCE, failRequestRatio: 1, retryHint: false });
  assert.equal(unavailable.s.finalState, 'acknowledged');
  assert.equal(unavailable.s.attempts, 2);
  assert.ok(unavailable.gapsMs[0] < 600, `gap ${unavailable.gapsMs[0]} ms follows the 20 ms backoff, not a hint`);
});

test('a batch that never succeeds is retried until maxElapsedTime, then settles once as failed', async () => {
  const { ledger, s, arrivals } = await retried('http/protobuf', { failRequestRatio: 1, retryHint: false }, { maxElapsedTimeMs: 300 });
  assert.equal(s.finalState, 'failed');
  assert.equal(s.attempts, arrivals.length);
  assert.ok(s.attempts >= 3, `${s.attempts} attempts`);
  assert.match(s.reason ?? '', /no more retries left/);
  assert.equal(ledger.totals.requests, 1);
  assert.equal(ledger.totals.pointsSent, SERIES);
  assert.equal(ledger.totals.pointsFailed, SERIES);
  assert.equal(ledger.totals.retries, s.attempts - 1);
});
