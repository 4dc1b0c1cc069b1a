/**
 * Visibility lag from the real send: a tick sent late (its request waited, or the sender
 * fell behind) and seen before its outcome reached the main thread still gets its lag from
 * the actual send, not from its planned time. Pure (scripted source, manual times).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { summariseVisibility, VisibilityPoller, type VisibilitySource } from '../../reconcile/visibility.ts';

const TICK_MS = 1000;

test('a point seen before its send time is known gets its lag from the actual send once it is', async () => {
  let visibleFromMs = Infinity;
  const source: VisibilitySource = {
    async read(window, visible) {
      for (let k = window.fromTick; k <= window.toTick; k++) if (k === 1) visible(0, 0, 1);
    },
  };
  const poller = new VisibilityPoller({ seriesCounts: [1], ticks: 1, referenceMs: (_m, k) => 100_000 + k * TICK_MS, source });
  // Tick 1 was planned at 101,000 but went out at 129,900 (28.9 s late); it was visible 0.25 s later,
  // and the poll that saw it ran before the request's outcome (with its send time) arrived.
  visibleFromMs = 130_150;
  await poller.pollOnce(visibleFromMs);
  poller.markSent(0, 1, 129_900);
  const summary = summariseVisibility(poller.state, { settleMs: 5_000, maxWaitMs: 15_000 }, 200_000);
  assert.deepEqual([summary.pointsVisible, summary.onTime, summary.late, summary.lost], [1, 1, 0, 0]);
  assert.equal(summary.lagUs.max, 250_000);
});

test('a point not seen by its hard deadline counts from the actual send: pending until then, lost after', async () => {
  const source: VisibilitySource = { async read() {} };
  const poller = new VisibilityPoller({ seriesCounts: [1], ticks: 1, referenceMs: (_m, k) => 100_000 + k * TICK_MS, source });
  poller.markSent(0, 1, 129_900);
  assert.equal(summariseVisibility(poller.state, { settleMs: 5_000, maxWaitMs: 15_000 }, 140_000).pending, 1);
  assert.equal(summariseVisibility(poller.state, { settleMs: 5_000, maxWaitMs: 15_000 }, 145_000).lost, 1);
});
