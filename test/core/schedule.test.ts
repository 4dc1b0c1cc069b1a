import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openSchedule, vusAt } from '../../core/schedule.ts';

test('constant-arrival-rate paces arrivals evenly: arrival j at j / rate', () => {
  const s = openSchedule({ executor: 'constant-arrival-rate', ratePerSecond: 400 }, 2000);
  assert.equal(s.arrivals, 800);
  assert.equal(s.offsetMs(0), 0);
  assert.equal(s.offsetMs(1), 2.5);
  assert.equal(s.offsetMs(799), 1997.5);
});

test('ramping-arrival-rate: arrivals per stage equal the integral of the rate, and offsets are monotone', () => {
  const stages = [
    { durationMs: 2000, target: 400 },
    { durationMs: 2000, target: 400 },
    { durationMs: 2000, target: 100 },
  ];
  const s = openSchedule({ executor: 'ramping-arrival-rate', startRatePerSecond: 0, stages }, 6000);
  // ∫ = 0→400 over 2 s: 400; hold: 800; 400→100 over 2 s: 500.
  assert.equal(s.arrivals, 1700);
  assert.deepEqual(s.plannedPerStage, [400, 800, 500]);
  let last = -1;
  const perStage = [0, 0, 0];
  for (let j = 0; j < s.arrivals; j++) {
    const t = s.offsetMs(j);
    assert.ok(t >= last, `offset ${j} went back: ${t} < ${last}`);
    assert.ok(t < 6000);
    last = t;
    perStage[s.stageAt(t)]++;
  }
  assert.deepEqual(perStage, [400, 800, 500]);
  // Inside the first ramp, arrival j is due at √(j / a) with a = 400 / (2 · 2000 ms) per ms².
  assert.ok(Math.abs(s.offsetMs(100) - Math.sqrt(100 / (400 / 4000 / 1000))) < 1e-6);
});

test('a ramp down to zero ends cleanly (no arrival at or past the end)', () => {
  const s = openSchedule({ executor: 'ramping-arrival-rate', startRatePerSecond: 100, stages: [{ durationMs: 1000, target: 0 }] }, 1000);
  assert.equal(s.arrivals, 50);
  assert.ok(s.offsetMs(49) < 1000);
});

test('burst: N arrivals within W ms, every P ms', () => {
  const s = openSchedule({ executor: 'burst', connections: 100, windowMs: 20, everyMs: 1000 }, 3000);
  assert.equal(s.arrivals, 300);
  assert.equal(s.stageCount, 3);
  assert.equal(s.offsetMs(0), 0);
  assert.ok(s.offsetMs(99) < 20);
  assert.equal(s.offsetMs(100), 1000);
  assert.equal(s.stageAt(s.offsetMs(250)), 2);
  assert.equal(s.peakRatePerSecond, 5000);
});

test('ramping-vus: linear between stages, rounded down, 0 after the last stage', () => {
  const spec = { executor: 'ramping-vus' as const, startVUs: 0, stages: [{ durationMs: 1000, target: 10 }, { durationMs: 1000, target: 10 }] };
  assert.equal(vusAt(spec, 0), 0);
  assert.equal(vusAt(spec, 550), 5);
  assert.equal(vusAt(spec, 1500), 10);
  assert.equal(vusAt(spec, 2000), 0);
  assert.equal(vusAt({ executor: 'constant-vus', vus: 3 }, 99_999), 3);
});
