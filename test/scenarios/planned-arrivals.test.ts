/**
 * The target rate per interval: arrivals due in each second of an open-model schedule,
 * against the schedule itself (every arrival counted once, in the interval it is due in).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { openSchedule, type ExecutorSpec, type OpenExecutorSpec } from '../../core/schedule.ts';
import { plannedArrivalsPerInterval } from '../../scenarios/planned-arrivals.ts';

/** The same counts by walking every arrival (the slow, obvious way). */
function byWalking(spec: OpenExecutorSpec, durationMs: number, intervalMs: number): number[] {
  const s = openSchedule(spec, durationMs);
  const out = new Array<number>(Math.ceil(durationMs / intervalMs)).fill(0);
  for (let j = 0; j < s.arrivals; j++) {
    const k = Math.floor(s.offsetMs(j) / intervalMs);
    while (out.length <= k) out.push(0);
    out[k]++;
  }
  return out;
}

test('a constant rate has the rate due in every whole second', () => {
  assert.deepEqual(plannedArrivalsPerInterval({ executor: 'constant-arrival-rate', ratePerSecond: 250 }, 4000, 1000), [250, 250, 250, 250]);
  // A run that ends mid-second has that part of a second due in its last interval.
  assert.deepEqual(plannedArrivalsPerInterval({ executor: 'constant-arrival-rate', ratePerSecond: 100 }, 2500, 1000), [100, 100, 50]);
});

test('a ramp rises second by second (not a stage average), and a burst lands in the seconds it is released in', () => {
  const ramp = plannedArrivalsPerInterval({ executor: 'ramping-arrival-rate', startRatePerSecond: 0, stages: [{ durationMs: 4000, target: 400 }] }, 4000, 1000)!;
  // ∫ of a rate rising 100/s per second over each second: 50, 150, 250, 350 (an arrival due on
  // a boundary may fall either side of it in floating point).
  assert.equal(ramp.length, 4);
  for (const [k, expected] of [50, 150, 250, 350].entries()) assert.ok(Math.abs(ramp[k] - expected) <= 1, `second ${k}: ${ramp[k]}`);
  assert.equal(ramp.reduce((a, b) => a + b, 0), 800);
  const burst = plannedArrivalsPerInterval({ executor: 'burst', connections: 300, windowMs: 50, everyMs: 2000 }, 5000, 1000);
  assert.deepEqual(burst, [300, 0, 300, 0, 300]);
});

test('a closed model has no target rate', () => {
  assert.equal(plannedArrivalsPerInterval({ executor: 'constant-vus', vus: 10 }, 3000, 1000), undefined);
  assert.equal(plannedArrivalsPerInterval({ executor: 'ramping-vus', startVUs: 0, stages: [{ durationMs: 1000, target: 5 }] }, 1000, 1000), undefined);
});

test('property: the counts equal a walk over every arrival and add up to the planned arrivals', () => {
  const stage = fc.record({ durationMs: fc.integer({ min: 100, max: 5000 }), target: fc.integer({ min: 0, max: 2000 }) });
  const spec: fc.Arbitrary<OpenExecutorSpec> = fc.oneof(
    fc.record({ executor: fc.constant('constant-arrival-rate' as const), ratePerSecond: fc.integer({ min: 1, max: 3000 }) }),
    fc.record({ executor: fc.constant('ramping-arrival-rate' as const), startRatePerSecond: fc.integer({ min: 0, max: 2000 }), stages: fc.array(stage, { minLength: 1, maxLength: 4 }) }),
    fc.record({ executor: fc.constant('burst' as const), connections: fc.integer({ min: 1, max: 500 }), windowMs: fc.integer({ min: 0, max: 900 }), everyMs: fc.integer({ min: 1000, max: 3000 }) }),
  );
  fc.assert(
    fc.property(spec, fc.integer({ min: 500, max: 8000 }), fc.constantFrom(250, 1000), (s: ExecutorSpec, durationMs, intervalMs) => {
      const counts = plannedArrivalsPerInterval(s, durationMs, intervalMs)!;
      assert.deepEqual(counts, byWalking(s as OpenExecutorSpec, durationMs, intervalMs));
      assert.equal(counts.reduce((a, b) => a + b, 0), openSchedule(s as OpenExecutorSpec, durationMs).arrivals);
    }),
    { numRuns: 150 },
  );
});
