/**
 * The receiver's seeded fault plan (pure), and its OTLP/gRPC and /v1/traces answers to
 * hostile input over real loopback sockets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { request } from 'undici';
import { FaultPlan, spanKey, type ReceiverFaults } from '../../embedded/receiver-faults.ts';
import { startOtlpReceiver } from '../../embedded/otlp-receiver.ts';
import { OTLP_GRPC_METRICS_EXPORT_PATH, otlpTypes } from '../../wire/otlp/codec.ts';
import { seriesLayout } from '../../core/series.ts';
import { ObservationStore } from '../../reconcile/observations.ts';

const base: ReceiverFaults = { rejectDataPointRatio: 0, failRequestRatio: 0, retryAfterMs: 2000 };

test('fault decisions are a function of (seed, request identity): same plan, same answers, whatever the order', () => {
  const faults = { ...base, failRequestRatio: 0.2, throttleRequestRatio: 0.2, dropRequestRatio: 0.2 };
  const keys = Array.from({ length: 500 }, (_, i) => [0, i, 1 + (i % 7)] as const);
  const a = new FaultPlan(42, faults);
  const b = new FaultPlan(42, faults);
  const forward = keys.map((k) => a.requestFault(k));
  const backward = [...keys].reverse().map((k) => b.requestFault(k)).reverse();
  assert.deepEqual(forward, backward);
  const count = (f: string | undefined): number => forward.filter((x) => x === f).length;
  // Ratios compose in precedence order: 0.2, then 0.2 of the rest, then 0.2 of what remains.
  assert.ok(Math.abs(count('unavailable') / 500 - 0.2) < 0.06, `unavailable ${count('unavailable')}`);
  assert.ok(Math.abs(count('throttled') / 500 - 0.16) < 0.06, `throttled ${count('throttled')}`);
  assert.ok(Math.abs(count('drop') / 500 - 0.128) < 0.06, `drop ${count('drop')}`);
  assert.notDeepEqual(forward, keys.map((k) => new FaultPlan(43, faults).requestFault(k)));
});

test('faultAttempts lets a faulted request through after its first n arrivals', () => {
  const plan = new FaultPlan(1, { ...base, failRequestRatio: 1, faultAttempts: 2 });
  assert.deepEqual([1, 2, 3, 4].map(() => plan.requestFault([0, 5, 1])), ['unavailable', 'unavailable', undefined, undefined]);
  assert.equal(new FaultPlan(1, { ...base, failRequestRatio: 1 }).requestFault([0, 5, 1]), 'unavailable');
});

test('latency: fixed, uniform within bounds, exponential capped; deterministic per request', () => {
  const keys = Array.from({ length: 200 }, (_, i) => [0, i, 1] as const);
  assert.ok(keys.every((k) => new FaultPlan(3, { ...base, latency: { distribution: 'fixed', ms: 25 } }).latencyMs(k) === 25));
  const uniform = new FaultPlan(3, { ...base, latency: { distribution: 'uniform', minMs: 10, maxMs: 30 } });
  const u = keys.map((k) => uniform.latencyMs(k));
  assert.ok(u.every((x) => x >= 10 && x <= 30));
  assert.deepEqual(u, keys.map((k) => uniform.latencyMs(k)));
  const exp = new FaultPlan(3, { ...base, latency: { distribution: 'exponential', meanMs: 20, maxMs: 100 } });
  const e = keys.map((k) => exp.latencyMs(k));
  assert.ok(e.every((x) => x >= 0 && x <= 100));
  const mean = e.reduce((s, x) => s + x, 0) / e.length;
  assert.ok(mean > 12 && mean < 28, `mean ${mean}`);
  assert.equal(new FaultPlan(3, { ...base, latency: { distribution: 'fixed', ms: 25 }, latencyRequestRatio: 0 }).latencyMs([0, 1, 1]), 0);
});

test('Retry-After: delay-seconds rounded up, or an HTTP-date never earlier than that; off when hints are off', () => {
  const now = Date.parse('2026-01-01T00:00:00.400Z');
  assert.equal(new FaultPlan(1, { ...base, retryAfterMs: 1500 }).retryAfterHeader(now), '2');
  const date = new FaultPlan(1, { ...base, retryAfterFormat: 'http-date' }).retryAfterHeader(now)!;
  assert.ok(Date.parse(date) - now >= 2000, date);
  assert.equal(new FaultPlan(1, { ...base, retryHint: false }).retryAfterHeader(now), undefined);
  assert.equal(new FaultPlan(1, { ...base, retryHint: false }).retryInfoMs(), undefined);
  assert.deepEqual(spanKey('0102030405060708090a0b0c0d0e0f10', 'a1a2a3a4b1b2b3b4'), [0x01020304, 0xa1a2a3a4, 0xb1b2b3b4]);
});

test('over gRPC, an undecodable message is INVALID_ARGUMENT; over HTTP, a bad trace body is 400 with a Status', async () => {
  const layout = seriesLayout({ a: 2 });
  const store = new ObservationStore([2], 1);
  const r = await startOtlpReceiver({
    space: { runId: 'r', seed: 1, startUnixNano: 0n, exportIntervalNs: 1n, ticks: 1, metrics: [{ metricIndex: 0, name: 'm', layout }] },
    store,
    faults: base,
    grpc: true,
  });
  const client = new grpc.Client(new URL(r.grpcUrl!).host, grpc.credentials.createInsecure());
  try {
    const err = await new Promise<grpc.ServiceError | null>((resolve) =>
      client.makeUnaryRequest(OTLP_GRPC_METRICS_EXPORT_PATH, (b: Buffer) => b, (b: Buffer) => b, Buffer.from([0x0a, 0xff, 0x01]), (e) => resolve(e)),
    );
    assert.equal(err?.code, grpc.status.INVALID_ARGUMENT);
    const res = await request(`${r.url}/v1/traces`, { method: 'POST', body: Buffer.from([0x0a, 0x05, 0x01]), headers: { 'content-type': 'application/x-protobuf' } });
    assert.equal(res.statusCode, 400);
    const status = otlpTypes.Status.decode(new Uint8Array(await res.body.arrayBuffer())) as unknown as { code: number };
    assert.equal(status.code, 3);
    assert.deepEqual({ refused: r.stats().requestsRefused, grpc: r.stats().grpcRequests, traces: r.stats().traceRequests }, { refused: 2, grpc: 1, traces: 1 });
  } finally {
    client.close();
    await r.close();
  }
});
