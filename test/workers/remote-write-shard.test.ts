/**
 * The remote-write shard keeps its schedule when the receiver is slow: each tick goes out
 * at its time with requests in flight concurrently (up to a limit, as Prometheus's own
 * remote-write queue runs shards), not after the previous tick's answers; each outcome
 * carries its actual send time. A receiver that answers after 600 ms, ticks every 200 ms.
 * Real HTTP on loopback.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExportOutcome, ShardRemoteWriteTask } from '../../core/messages.ts';
import { epochNowMs } from '../../workers/load-shard.ts';
import { RemoteWriteShard } from '../../workers/remote-write-shard.ts';

const ANSWER_MS = 600;
const INTERVAL_MS = 200;
const TICKS = 6;

test(`ticks go out on schedule although every answer takes ${ANSWER_MS} ms`, async () => {
  let inFlight = 0;
  let maxInFlight = 0;
  const server = createServer((req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    req.resume();
    req.on('end', () => setTimeout(() => {
      inFlight--;
      res.writeHead(204).end();
    }, ANSWER_MS));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const task: ShardRemoteWriteTask = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/write`,
    headers: {},
    timeoutMs: 5000,
    seed: 1,
    exportIntervalMs: INTERVAL_MS,
    ticks: TICKS,
    maxBatchDataPoints: 5,
    faults: { outOfOrderRequestRatio: 0, duplicateRequestRatio: 0 },
    metrics: [{ metricIndex: 0, name: 'tally_test_total', instrument: 'counter', keys: ['route'], counts: [10], labelNames: ['route'], commonLabels: { job: 'tally' }, seriesStart: 0, seriesEnd: 10 }],
  };
  const startEpochMs = Math.ceil(epochNowMs()) + 50;
  const shard = new RemoteWriteShard(task, startEpochMs);
  try {
    await shard.run();
    const outcomes: ExportOutcome[] = shard.takeOutcomes();
    assert.equal(outcomes.length, TICKS * 2);
    for (const o of outcomes) {
      assert.equal(o.finalState, 'acknowledged');
      const lateMs = (o.sentAtMs as number) - (startEpochMs + o.tick * INTERVAL_MS);
      assert.ok(lateMs >= -1 && lateMs < 100, `tick ${o.tick} sent ${lateMs.toFixed(0)} ms after its time`);
    }
    assert.ok(maxInFlight >= 4, `at most ${maxInFlight} requests were in flight at once`);
  } finally {
    await new Promise((r) => server.close(r));
  }
});
