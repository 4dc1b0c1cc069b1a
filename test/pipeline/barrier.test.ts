/**
 * The start barrier and the hand-over of results to shard 0, over real sockets on
 * loopback: every shard gets the same start instant once all have checked in; a shard of
 * another plan, and a barrier nobody answers, fail with TALLY_SHARD_BARRIER_FAILED; a
 * shard's run files arrive whole in shard 0's collection directory, and another plan's are refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile, mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ShardError } from '../../core/errors.ts';
import { startBarrier } from '../../pipeline/barrier.ts';
import { collectedShardDir, handOverRunDir, ShardCollector } from '../../pipeline/shard-collect.ts';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const barrierFailed = (e: unknown): boolean => e instanceof ShardError && e.code === 'TALLY_SHARD_BARRIER_FAILED';

test('every shard gets one start instant once all have checked in, at least the lead ahead', async () => {
  const url = `http://127.0.0.1:${await freePort()}`;
  const before = Date.now();
  const reached = await Promise.all([2, 0, 1].map((index) => startBarrier({ url, bindHost: '127.0.0.1', shard: { index, count: 3 }, scenarioHash: 'sha256:x', leadMs: 1500, timeoutMs: 20_000 })));
  try {
    const starts = new Set(reached.map((r) => r.startEpochMs));
    assert.equal(starts.size, 1);
    assert.ok([...starts][0] >= before + 1500);
  } finally {
    await Promise.all(reached.map((r) => r.close()));
  }
});

test('a shard of another plan is refused; a barrier that never completes times out', async () => {
  const url = `http://127.0.0.1:${await freePort()}`;
  const coordinator = startBarrier({ url, bindHost: '127.0.0.1', shard: { index: 0, count: 2 }, scenarioHash: 'sha256:x', timeoutMs: 3000 });
  await assert.rejects(startBarrier({ url, shard: { index: 1, count: 2 }, scenarioHash: 'sha256:other', timeoutMs: 3000 }), barrierFailed);
  await assert.rejects(startBarrier({ url, shard: { index: 1, count: 3 }, scenarioHash: 'sha256:x', timeoutMs: 3000 }), barrierFailed);
  await assert.rejects(coordinator, barrierFailed, 'shard 1 never checked in with the right plan');
  const nobody = `http://127.0.0.1:${await freePort()}`;
  await assert.rejects(startBarrier({ url: nobody, shard: { index: 1, count: 2 }, scenarioHash: 'sha256:x', timeoutMs: 800 }), barrierFailed);
});

test("a shard's run files arrive whole in shard 0's collection directory; another plan's are refused", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tally-collect-'));
  const run = join(dir, 'run');
  await mkdir(run);
  await writeFile(join(run, 'results.json'), '{"complete":true}\n');
  await writeFile(join(run, 'ledger.bin'), Buffer.alloc(70_000, 7));
  const collector = new ShardCollector(join(dir, 'collected'), { index: 0, count: 2 }, 'sha256:x');
  const url = `http://127.0.0.1:${await freePort()}`;
  const coordinator = startBarrier({ url, bindHost: '127.0.0.1', shard: { index: 0, count: 2 }, scenarioHash: 'sha256:x', leadMs: 200, timeoutMs: 20_000, routes: collector.routes });
  const follower = await startBarrier({ url, shard: { index: 1, count: 2 }, scenarioHash: 'sha256:x', timeoutMs: 20_000 });
  const zero = await coordinator;
  try {
    assert.equal(follower.startEpochMs, zero.startEpochMs);
    await assert.rejects(handOverRunDir(url, { index: 1, count: 2 }, 'sha256:other', run), barrierFailed);
    await handOverRunDir(url, { index: 1, count: 2 }, 'sha256:x', run);
    assert.deepEqual(await collector.waitForShards(1000), []);
    const got = collectedShardDir(join(dir, 'collected'), 1);
    assert.equal(await readFile(join(got, 'results.json'), 'utf8'), '{"complete":true}\n');
    assert.deepEqual(await readFile(join(got, 'ledger.bin')), Buffer.alloc(70_000, 7));
    const other = new ShardCollector(join(dir, 'other'), { index: 0, count: 3 }, 'sha256:x');
    assert.deepEqual(await other.waitForShards(50), [1, 2], 'a shard that never handed over is named');
  } finally {
    await zero.close();
  }
});
