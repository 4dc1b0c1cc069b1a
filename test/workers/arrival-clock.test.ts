/**
 * The arrival clock wakes the load thread on time: never before the due time, and (the
 * clock thread) well under a millisecond after it, where setTimeout rounds to whole
 * milliseconds; a re-arm replaces the earlier request, a cancel drops it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newArrivalClock } from '../../workers/arrival-clock.ts';

const hrNowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

async function latenessUs(kind: 'precise' | 'timer', wakes: number): Promise<number[]> {
  const clock = newArrivalClock(kind);
  await clock.ready;
  const late: number[] = [];
  try {
    for (let i = 0; i < wakes; i++) {
      const inMs = 0.2 + ((i * 7919) % 2800) / 1000; // 0.2–3 ms, spread
      const dueMs = hrNowMs() + inMs;
      await new Promise<void>((resolve) => clock.wakeIn(inMs, () => {
        late.push((hrNowMs() - dueMs) * 1000);
        resolve();
      }));
    }
  } finally {
    await clock.stop?.();
  }
  return late.sort((a, b) => a - b);
}

test('the clock thread wakes on time: never early, and at the median well under a millisecond late', async () => {
  const precise = await latenessUs('precise', 300);
  assert.ok(precise[0] >= 0, `woke ${precise[0].toFixed(0)} µs early`);
  const median = precise[Math.floor(precise.length / 2)];
  assert.ok(median < 500, `median lateness ${median.toFixed(0)} µs`);
});

test('the setTimeout fallback wakes the caller, within its millisecond rounding', async () => {
  // Whole milliseconds (rounded down), counted from the loop time of the turn that armed it: up to ~2 ms early, or a few ms late.
  const timer = await latenessUs('timer', 50);
  assert.equal(timer.length, 50);
  assert.ok(timer[0] > -2500 && timer[timer.length - 1] < 50_000, `${timer[0].toFixed(0)}…${timer[timer.length - 1].toFixed(0)} µs`);
});

test('a re-arm replaces the pending wake; a cancel drops it', async () => {
  const clock = newArrivalClock('precise');
  await clock.ready;
  try {
    const calls: string[] = [];
    clock.wakeIn(5, () => calls.push('first'));
    clock.wakeIn(1, () => calls.push('second'));
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(calls, ['second']);
    clock.wakeIn(2, () => calls.push('cancelled'));
    clock.cancel();
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(calls, ['second']);
  } finally {
    await clock.stop?.();
  }
});
