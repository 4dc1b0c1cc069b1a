/**
 * The measurement sink against real HTTP servers on loopback: in-order delivery, retries,
 * a refusal for good, a full queue dropping its oldest snapshots (never the final one), and
 * a dead endpoint that the drain timeout bounds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { uncompressSync } from 'snappy';
import type { MeasurementOutputConfig, MeasurementSnapshot } from '../../core/measurement-output.ts';
import { MeasurementSink } from '../../workers/measurement-sink.ts';

const WriteRequest = protobuf.loadSync(fileURLToPath(new URL('../../wire/remote-write.proto', import.meta.url))).lookupType('prometheus.WriteRequest');
const IDENTITY = { runId: 'r1', scenario: 's', shard: '0', startEpochMs: 1_700_000_000_000 };

function config(url: string, over: Partial<MeasurementOutputConfig> = {}): MeasurementOutputConfig {
  return { kind: 'prometheus-remote-write', url, headers: { 'X-Scope-OrgID': 'team' }, timeoutMs: 1000, queueSnapshots: 100, maxSnapshotsPerRequest: 1, retry: { initialIntervalMs: 10, maxIntervalMs: 20, maxElapsedTimeMs: 500 }, drainTimeoutMs: 2000, ...over };
}
function snapshot(i: number, final = false): MeasurementSnapshot {
  return { timestampMs: IDENTITY.startEpochMs + i * 1000, values: [{ metric: 'requests', value: i * 10 }], histograms: [], final };
}

/** A server answering each request with `answer(n)` (n counts from 0); keeps every decoded body. */
async function server(answer: (n: number, res: ServerResponse) => void): Promise<{ url: string; bodies: { timeseries: { samples: { timestamp: number }[] }[] }[]; headers: IncomingMessage['headers'][]; close(): Promise<void> }> {
  const bodies: any[] = [];
  const headers: IncomingMessage['headers'][] = [];
  let n = 0;
  const s = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(WriteRequest.toObject(WriteRequest.decode(uncompressSync(Buffer.concat(chunks)) as Buffer), { longs: Number }));
      headers.push(req.headers);
      answer(n++, res);
    });
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/api/v1/write`, bodies, headers, close: () => new Promise((r) => { s.closeAllConnections(); s.close(() => r()); }) };
}

test('delivers every snapshot in order, with the protocol headers and the caller\'s', async () => {
  const srv = await server((_, res) => res.writeHead(204).end());
  const sink = new MeasurementSink(config(srv.url, { maxSnapshotsPerRequest: 2 }), IDENTITY);
  for (let i = 1; i <= 4; i++) sink.enqueue(snapshot(i));
  sink.enqueue(snapshot(5, true));
  const stats = await sink.finish();
  await srv.close();
  assert.deepEqual([stats.snapshots, stats.snapshotsDelivered, stats.snapshotsDropped, stats.snapshotsFailed, stats.snapshotsUnsent, stats.finalDelivered], [5, 5, 0, 0, 0, true]);
  const times = srv.bodies.flatMap((b) => b.timeseries[0].samples.map((s) => s.timestamp));
  assert.deepEqual(times, [1, 2, 3, 4, 5].map((i) => IDENTITY.startEpochMs + i * 1000));
  assert.equal(srv.headers[0]['content-encoding'], 'snappy');
  assert.equal(srv.headers[0]['x-prometheus-remote-write-version'], '0.1.0');
  assert.equal(srv.headers[0]['x-scope-orgid'], 'team');
});

test('retries 503 and no answer, gives a 400 up at once', async () => {
  const srv = await server((n, res) => res.writeHead(n < 2 ? 503 : n === 2 ? 400 : 204).end(n === 2 ? 'out of bounds' : ''));
  const sink = new MeasurementSink(config(srv.url), IDENTITY);
  sink.enqueue(snapshot(1));
  sink.enqueue(snapshot(2, true));
  const stats = await sink.finish();
  await srv.close();
  assert.deepEqual([stats.requests, stats.retries, stats.snapshotsDelivered, stats.snapshotsFailed, stats.finalDelivered], [4, 2, 1, 1, true]);
  assert.deepEqual(stats.statuses, { 503: 2, 400: 1, 204: 1 });
  assert.equal(stats.lastError?.status, 400);
});

test('a slow endpoint: the full queue drops its oldest snapshots, never the final one', async () => {
  const held: ServerResponse[] = [];
  const srv = await server((_, res) => held.push(res));
  const sink = new MeasurementSink(config(srv.url, { queueSnapshots: 3, timeoutMs: 5000 }), IDENTITY);
  for (let i = 1; i <= 10; i++) sink.enqueue(snapshot(i));
  sink.enqueue(snapshot(11, true));
  while (held.length === 0) await new Promise((r) => setTimeout(r, 5));
  const release = setInterval(() => held.shift()?.writeHead(204).end(), 5);
  const stats = await sink.finish();
  clearInterval(release);
  await srv.close();
  // 1 in flight, 7 dropped; the queue kept 9, 10 and the final one.
  assert.deepEqual([stats.snapshots, stats.snapshotsDropped, stats.snapshotsDelivered, stats.finalDelivered], [11, 7, 4, true]);
  assert.deepEqual(srv.bodies.map((b) => b.timeseries[0].samples[0].timestamp - IDENTITY.startEpochMs), [1000, 9000, 10000, 11000]);
});

test('a dead endpoint: finish returns after the drain timeout, the rest counted unsent', async () => {
  const srv = await server((_, res) => res.writeHead(204).end());
  const url = srv.url;
  await srv.close(); // nothing listens there any more
  const sink = new MeasurementSink(config(url, { drainTimeoutMs: 300, retry: { initialIntervalMs: 50, maxIntervalMs: 100, maxElapsedTimeMs: 60_000 } }), IDENTITY);
  for (let i = 1; i <= 3; i++) sink.enqueue(snapshot(i, i === 3));
  const t0 = performance.now();
  const stats = await sink.finish();
  const waitedMs = performance.now() - t0;
  assert.ok(waitedMs >= 250 && waitedMs < 1500, `${waitedMs} ms`);
  assert.deepEqual([stats.snapshotsDelivered, stats.snapshotsUnsent, stats.finalDelivered], [0, 3, false]);
  assert.equal(stats.lastError?.errno, 'ECONNREFUSED');
  assert.ok(stats.retries >= 1);
});
