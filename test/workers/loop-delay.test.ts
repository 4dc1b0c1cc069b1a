/**
 * The loop delay a load thread reports is the delay (how late the 10 ms sampling timer
 * fired), not the sampling interval: an idle loop reads near 0, not 10 ms; a loop blocked
 * for 40 ms in every 100 reads about 40 ms at p99.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loopDelayUs, startLoopDelay } from '../../workers/loop-delay.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('an idle loop reads a delay near 0, a blocked one its block', async () => {
  const idle = startLoopDelay();
  await sleep(500);
  idle.disable();
  assert.ok(idle.percentile(50) / 1e6 >= 9.5, 'the raw figure is the sampling interval');
  assert.ok(loopDelayUs(idle, 50) < 3000, `idle p50 ${loopDelayUs(idle, 50)} µs`);
  const blocked = startLoopDelay();
  for (let i = 0; i < 6; i++) {
    const until = performance.now() + 40;
    while (performance.now() < until);
    await sleep(60);
  }
  blocked.disable();
  const p99 = loopDelayUs(blocked, 99);
  assert.ok(p99 >= 25_000 && p99 < 60_000, `blocked p99 ${p99} µs`);
});
