/**
 * drainTimeWait: polls an injected counter until it falls below the bound, stops at its
 * deadline or on abort, and leaves no listener on a long-lived signal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { drainTimeWait } from '../../host/time-wait.ts';

test('waits until fewer than the bound are left, polling; no abort listener is left behind', async () => {
  const readings = [5000, 3000, 1200, 900];
  const controller = new AbortController();
  const r = await drainTimeWait(1000, 10_000, { signal: controller.signal, pollMs: 5, read: () => readings.shift() ?? 0 });
  assert.deepEqual([r.atStart, r.left, r.drained], [5000, 900, true]);
  assert.equal(readings.length, 0, 'read once per poll until drained');
  assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
});

test('gives up at its deadline, and an abort ends the wait at once', async () => {
  const stuck = await drainTimeWait(10, 60, { pollMs: 10, read: () => 500 });
  assert.deepEqual([stuck.left, stuck.drained], [500, false]);
  assert.ok(stuck.waitedS <= 0.5, `waited ${stuck.waitedS} s`);
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 30);
  const startedMs = performance.now();
  const aborted = await drainTimeWait(10, 60_000, { signal: controller.signal, pollMs: 10_000, read: () => 500 });
  assert.equal(aborted.drained, false);
  assert.ok(performance.now() - startedMs < 5000, 'ended by the abort, not the 10 s poll');
  assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
});
