/**
 * A shard that falls behind its schedule: arrivals due inside the run but started after
 * its planned end, late, are the overrun. They are counted apart (not in the last stage), with
 * the latest such start, and their responses apart, so the achieved rate counts only
 * arrivals started in the window. Real sockets on loopback against the embedded target;
 * the shard's thread is blocked in the middle of the run, as a stalled generator is.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startEmbeddedTarget } from '../../embedded/target.ts';
import { buildRequestText } from '../../workers/load-client.ts';
import { epochNowMs, LoadShard } from '../../workers/load-shard.ts';
import type { ShardLoadTask } from '../../core/messages.ts';

/** A client of the embedded target on `port`: a new connection per request, closed with RST. */
function clientTo(port: number): ShardLoadTask['client'] {
  return {
    protocol: 'http1', host: '127.0.0.1', port, method: 'GET', path: '/',
    requestText: buildRequestText({ method: 'GET', host: '127.0.0.1', port, path: '/' }),
    reuse: 'never', close: 'rst', requestsPerIteration: 1, connectTimeoutMs: 2000, requestTimeoutMs: 2000,
    tcpCrr: { requestBytes: 1, responseBytes: 1 }, dns: { mode: 'per-connection', ttlMs: 0 }, maxConnections: 64,
  };
}

function busyWait(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

test('arrivals started after the planned end are the overrun, not the last stage', async () => {
  const target = await startEmbeddedTarget({ responseBytes: 2 });
  try {
    const task: ShardLoadTask = {
      executor: { executor: 'constant-arrival-rate', ratePerSecond: 200 },
      maxInFlight: 1000,
      lateStartThresholdMs: 10,
      client: clientTo(target.port),
    };
    const durationMs = 300;
    const startEpochMs = epochNowMs() + 20;
    const shard = new LoadShard(task, 0, 1, startEpochMs, durationMs);
    // 120 ms into the run the thread blocks until 200 ms past the planned end.
    setTimeout(() => busyWait(startEpochMs + durationMs + 200 - epochNowMs()), startEpochMs + 120 - epochNowMs());
    await shard.run();
    const { counts } = shard.takeInterval();
    shard.destroy();
    assert.equal(counts.started, 60, 'every planned arrival still starts');
    const inWindow = counts.stageStarted[0] ?? 0;
    assert.ok(inWindow >= 20 && inWindow <= 30, `started in the window: ${inWindow}`);
    assert.equal(counts.overrunStarted, 60 - inWindow);
    assert.ok(counts.lastOverrunStartMs >= startEpochMs + durationMs + 150, `last overrun start ${counts.lastOverrunStartMs - startEpochMs - durationMs} ms after the end`);
    assert.equal(counts.overrunResponses, counts.overrunStarted, 'each overrun iteration got its response');
    assert.equal(counts.ok, 60);
  } finally {
    await target.close();
  }
});

test('an arrival due just before the end that starts just after it, on time, is no overrun', async () => {
  const target = await startEmbeddedTarget({ responseBytes: 2 });
  try {
    const task: ShardLoadTask = {
      executor: { executor: 'constant-arrival-rate', ratePerSecond: 10 },
      maxInFlight: 10,
      lateStartThresholdMs: 50,
      client: clientTo(target.port),
    };
    // 10/s for 220 ms: arrivals due at 0, 100 and 200 ms. The thread blocks from 150 ms to
    // 240 ms, so the one due at 200 ms starts about 40 ms late (within the 50 ms threshold),
    // 20 ms past the planned end.
    const durationMs = 220;
    const startEpochMs = epochNowMs() + 20;
    const shard = new LoadShard(task, 0, 1, startEpochMs, durationMs);
    setTimeout(() => busyWait(startEpochMs + durationMs + 20 - epochNowMs()), startEpochMs + 150 - epochNowMs());
    await shard.run();
    const { counts } = shard.takeInterval();
    shard.destroy();
    assert.equal(counts.started, 3);
    assert.equal(counts.overrunStarted, 0, 'a start 20 ms past the end but within the late-start threshold is on time');
    assert.equal(counts.stageStarted[0], 3);
    assert.equal(counts.ok, 3);
  } finally {
    await target.close();
  }
});

test('a burst window planned past the end keeps its schedule: no overrun, every start in its burst', async () => {
  const target = await startEmbeddedTarget({ responseBytes: 2 });
  try {
    const task: ShardLoadTask = {
      // Bursts at 0 and 150 ms of a 200 ms run, each 10 connections spread over 100 ms: the
      // second burst's last half is due after the planned end, by its own schedule.
      executor: { executor: 'burst', connections: 10, windowMs: 100, everyMs: 150 },
      maxInFlight: 100,
      lateStartThresholdMs: 50,
      client: clientTo(target.port),
    };
    const startEpochMs = epochNowMs() + 20;
    const shard = new LoadShard(task, 0, 1, startEpochMs, 200);
    await shard.run();
    const { counts } = shard.takeInterval();
    shard.destroy();
    assert.equal(counts.started, 20);
    assert.equal(counts.overrunStarted, 0);
    assert.deepEqual([counts.stageStarted[0], counts.stageStarted[1]], [10, 10]);
    assert.deepEqual(Object.keys(counts.stageStarted).sort(), ['0', '1'], 'no start counted outside the stages');
  } finally {
    await target.close();
  }
});
