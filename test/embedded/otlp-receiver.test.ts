import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { request } from 'undici';
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { seriesLayout } from '../../core/series.ts';
import { startOtlpReceiver } from '../../embedded/otlp-receiver.ts';
import { otlpTypes } from '../../wire/otlp/codec.ts';
import { ObservationStore } from '../../reconcile/observations.ts';
import { buildBatch } from '../../workers/otlp-metrics.ts';

const START_NS = 1_795_280_351_000_000_000n;
const layout = seriesLayout({ a: 4, b: 5 });
const space = { runId: 'run-1', seed: 7, startUnixNano: START_NS, exportIntervalNs: 1_000_000_000n, ticks: 3, metrics: [{ metricIndex: 0, name: 'm', layout }] };
const noFaults = { rejectDataPointRatio: 0, failRequestRatio: 0, retryAfterMs: 1000 };
const metricTask = { metricIndex: 0, name: 'm', unit: '1', temporality: 'cumulative' as const, keys: layout.keys, counts: layout.counts, seriesStart: 0, seriesEnd: 20 };

function body(runId = 'run-1', tick = 1, seed = 7): Uint8Array {
  return ProtobufMetricsSerializer.serializeRequest(buildBatch({ runId, shard: 0, seed, startUnixNano: String(START_NS) }, metricTask, 0, 20, tick, 1000))!;
}

async function withReceiver(fn: (url: string, store: ObservationStore) => Promise<void>): Promise<void> {
  const store = new ObservationStore([20], 3);
  const r = await startOtlpReceiver({ space, store, faults: noFaults, maxBodyBytes: 64 * 1024 });
  try {
    await fn(`${r.url}/v1/metrics`, store);
  } finally {
    await r.close();
  }
}

const post = (url: string, payload: Uint8Array | string, headers: Record<string, string>) =>
  request(url, { method: 'POST', body: payload, headers });

test('a valid export is placed by series and tick, checked, and answered 200 with an empty response', async () => {
  await withReceiver(async (url, store) => {
    const res = await post(url, body(), { 'content-type': 'application/x-protobuf' });
    assert.equal(res.statusCode, 200);
    assert.equal((await res.body.arrayBuffer()).byteLength, 0);
    assert.equal(store.pointsReceived, 20);
    assert.equal(store.count(0, 19, 1), 1);
    assert.equal(store.valueMismatchCount, 0);
    // gzip is accepted as the OTLP/HTTP spec allows.
    const gz = await post(url, gzipSync(body('run-1', 2)), { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' });
    assert.equal(gz.statusCode, 200);
    await gz.body.dump();
    assert.equal(store.count(0, 0, 2), 1);
  });
});

test('wrong values and foreign runs are findings, not errors', async () => {
  await withReceiver(async (url, store) => {
    const wrongSeed = await post(url, body('run-1', 3, 8), { 'content-type': 'application/x-protobuf' });
    await wrongSeed.body.dump();
    assert.equal(wrongSeed.statusCode, 200);
    assert.ok(store.valueMismatchCount > 0);
    const foreign = await post(url, body('other-run'), { 'content-type': 'application/x-protobuf' });
    await foreign.body.dump();
    assert.equal(store.foreignRunPoints, 20);
  });
});

test('hostile bodies get 400 with a google.rpc.Status naming the field; unknown types 415; oversized 413', async () => {
  await withReceiver(async (url, store) => {
    const truncated = body().subarray(0, 40);
    const bad = await post(url, truncated, { 'content-type': 'application/x-protobuf' });
    assert.equal(bad.statusCode, 400);
    const status = otlpTypes.Status.decode(new Uint8Array(await bad.body.arrayBuffer())) as unknown as { code: number; message: string };
    assert.equal(status.code, 3);
    assert.ok(status.message.length > 0);
    const json = await post(url, '{"resourceMetrics": 5}', { 'content-type': 'application/json' });
    assert.equal(json.statusCode, 400);
    assert.match(await json.body.text(), /resourceMetrics/);
    const type = await post(url, 'x', { 'content-type': 'text/plain' });
    assert.equal(type.statusCode, 415);
    await type.body.dump();
    const huge = await post(url, new Uint8Array(100 * 1024), { 'content-type': 'application/x-protobuf' });
    assert.equal(huge.statusCode, 413);
    await huge.body.dump();
    const bomb = await post(url, gzipSync(new Uint8Array(1024 * 1024)), { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' });
    assert.equal(bomb.statusCode, 400, 'a gzip body that inflates past the limit is refused');
    await bomb.body.dump();
    assert.equal(store.pointsReceived, 0);
  });
});
