/**
 * Series churn: the closed-form generation of every slot agrees with a step-by-step
 * simulation of the rotations, exactly R identities rotate at each boundary, and the
 * enumerated lifecycle is exactly the set of identity starts and ends. Also: attribute
 * parsing of churned identities, and the hot-path hash fold.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  birthTickOf, churnPosition, churnRotatedAt, churnSlotAt, generationAt, GENERATION_ATTRIBUTE, identityAt, liveSeries, metricModel,
  seriesLifecycle, seriesSlotOf,
} from '../../core/instruments.ts';
import { HASH32_INIT, hash32, mix32 } from '../../core/rng.ts';
import { seriesAttributes, seriesLayout } from '../../core/series.ts';

for (const [series, ratio, everyTicks, ticks] of [[100, 0.1, 3, 40], [37, 0.5, 1, 25], [12, 1, 2, 11], [1000, 0.013, 5, 60], [7, 0, 2, 9]] as const) {
  test(`churn ${series} series, ratio ${ratio} every ${everyTicks} ticks: closed form ≡ simulation, exact sets`, () => {
    const m = metricModel(9, 4, series, { instrument: 'counter', temporality: 'cumulative', churn: { ratio, everyTicks } });
    const plan = m.churn!;
    for (let slot = 0; slot < series; slot++) assert.equal(churnSlotAt(plan, churnPosition(plan, slot)), slot, 'the permutation inverts');
    const generation = new Array<number>(series).fill(0);
    const birth = new Array<number>(series).fill(0);
    const expectedStarts = new Set<string>();
    const expectedEnds = new Set<string>();
    for (let slot = 0; slot < series; slot++) expectedStarts.add(`${slot}/0/0`);
    for (let tick = 1; tick <= ticks; tick++) {
      // The boundary before this tick: the rotated slots' identities end at tick − 1.
      const rotated = churnRotatedAt(plan, tick - 1);
      if ((tick - 1) % everyTicks === 0 && tick > 1) assert.equal(rotated.length, plan.perBoundary);
      assert.equal(new Set(rotated).size, rotated.length, 'no slot rotates twice at one boundary');
      for (const slot of rotated) {
        expectedEnds.add(`${slot}/${generation[slot]}/${tick - 1}`);
        generation[slot]++;
        birth[slot] = tick - 1;
        expectedStarts.add(`${slot}/${generation[slot]}/${tick - 1}`);
      }
      const live = liveSeries(m, tick);
      for (let slot = 0; slot < series; slot++) {
        assert.equal(generationAt(m, slot, tick), generation[slot], `slot ${slot} tick ${tick}`);
        assert.deepEqual(live[slot], { slot, generation: generation[slot], birthTick: birth[slot] });
        assert.equal(birthTickOf(m, slot, generation[slot]), birth[slot]);
      }
    }
    const lifecycle = seriesLifecycle(m, ticks);
    assert.deepEqual(new Set(lifecycle.starts.map((s) => `${s.slot}/${s.generation}/${s.birthTick}`)), expectedStarts);
    assert.equal(lifecycle.starts.length, expectedStarts.size);
    assert.deepEqual(new Set(lifecycle.ends.map((e) => `${e.slot}/${e.generation}/${e.lastTick}`)), expectedEnds);
    assert.ok(lifecycle.starts.every((s) => s.firstTick === s.birthTick + 1));
  });
}

test('churned attributes carry tally.generation and parse back; foreign shapes are refused', () => {
  const layout = seriesLayout({ route: 4, pod: 3 });
  const attributes = { ...seriesAttributes(layout, 10), [GENERATION_ATTRIBUTE]: '12' };
  assert.deepEqual(seriesSlotOf(layout, attributes, true), { slot: 10, generation: 12 });
  assert.deepEqual(seriesSlotOf(layout, seriesAttributes(layout, 11), false), { slot: 11, generation: 0 });
  assert.equal(seriesSlotOf(layout, seriesAttributes(layout, 11), true), null, 'generation missing');
  assert.equal(seriesSlotOf(layout, attributes, false), null, 'extra attribute');
  assert.equal(seriesSlotOf(layout, { ...attributes, [GENERATION_ATTRIBUTE]: '012' }, true), null, 'non-canonical generation');
  assert.equal(seriesSlotOf(layout, { ...attributes, [GENERATION_ATTRIBUTE]: 12n }, true), null, 'int generation');
  assert.equal(seriesSlotOf(layout, { route: 'route-4', pod: 'pod-0' }, false), null, 'digit out of range');
});

test('identityAt: a churned identity begins after its birth tick and a cumulative value restarts', () => {
  const m = metricModel(1, 0, 10, { instrument: 'counter', temporality: 'cumulative', churn: { ratio: 0.5, everyTicks: 2 } });
  for (let tick = 1; tick <= 12; tick++) for (let slot = 0; slot < 10; slot++) {
    const id = identityAt(m, slot, tick);
    assert.ok(id.birthTick < tick && id.birthTick >= 0);
    if (id.generation > 0) assert.equal(generationAt(m, slot, id.birthTick), id.generation - 1, 'the predecessor was live at the birth tick');
  }
});

test('mix32 chained from HASH32_INIT is exactly hash32', () => {
  for (let i = 0; i < 1000; i++) {
    const a = hash32(i, 1);
    const b = hash32(i, 2);
    assert.equal(mix32(mix32(mix32(HASH32_INIT, a), b), i), hash32(a, b, i));
  }
});
