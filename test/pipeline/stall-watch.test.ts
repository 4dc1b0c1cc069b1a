/**
 * Main-thread stalls: the watch counts a blocked event loop once, with its length, and
 * nothing while the loop runs freely; results.json carries the count and makes any stall a
 * saturation reason.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { STALL_THRESHOLD_MS, StallWatch } from '../../pipeline/stall-watch.ts';

function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // Busy: the event loop cannot run.
  }
}

test('a 300 ms block of the main thread is one stall of about 300 ms; a free-running loop none', async () => {
  const watch = new StallWatch();
  watch.start();
  await delay(200);
  assert.equal(watch.summary().count, 0, 'no stall while the loop runs');
  block(300);
  await delay(60);
  block(STALL_THRESHOLD_MS / 2);
  await delay(60);
  watch.stop();
  const s = watch.summary();
  assert.equal(s.count, 1, JSON.stringify(s));
  assert.ok(s.maxMs >= 250 && s.maxMs < 400, JSON.stringify(s));
  assert.equal(s.thresholdMs, STALL_THRESHOLD_MS);
  block(300);
  await delay(60);
  assert.equal(watch.summary().count, 1, 'nothing is counted after stop');
});
