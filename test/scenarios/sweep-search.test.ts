/**
 * The knee search as a pure state machine: against a monotone oracle with a known knee it
 * ends `found` with the truth inside a bracket no wider than the resolution, in a bounded
 * number of steps, whichever way the sweep goes; the range's ends, a saturated generator and
 * a non-monotone system are reported as such.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { coarseValues, kneeSoFar, nextStep, type KneeResult, type SearchStep, type StepVerdict, type SweepSearchOptions } from '../../scenarios/sweep-search.ts';

/** Run the search against an oracle; at most 100 steps. */
function search(o: SweepSearchOptions, oracle: (value: number) => StepVerdict): { result: KneeResult; steps: SearchStep[] } {
  const steps: SearchStep[] = [];
  for (let i = 0; i < 100; i++) {
    const next = nextStep(o, steps);
    if ('done' in next) return { result: next.done, steps };
    assert.ok(!steps.some((s) => s.value === next.value), `value ${next.value} is not run twice`);
    steps.push({ value: next.value, verdict: oracle(next.value) });
  }
  throw new Error('the search did not end within 100 steps');
}

const base: SweepSearchOptions = { from: 100, to: 1000, coarseSteps: 5, resolution: 10, relative: false, integer: true, scale: 'linear' };

test('coarse values run from `from` to `to`, both included, on a linear or log scale', () => {
  assert.deepEqual(coarseValues(base), [100, 325, 550, 775, 1000]);
  assert.deepEqual(coarseValues({ ...base, scale: 'log', from: 10, to: 10000, coarseSteps: 4 }), [10, 100, 1000, 10000]);
  assert.deepEqual(coarseValues({ ...base, from: 2000, to: 100, coarseSteps: 3 }), [2000, 1050, 100]);
});

test('property: a monotone system\'s knee is found within the resolution, upward or downward, linear or log, integer or not', () => {
  fc.assert(
    fc.property(
      fc.double({ min: 0.02, max: 0.98, noNaN: true }),
      fc.boolean(),
      fc.constantFrom<'linear' | 'log'>('linear', 'log'),
      fc.boolean(),
      fc.boolean(),
      fc.integer({ min: 2, max: 8 }),
      (where, upward, scale, integer, relative, coarseSteps) => {
        const [lo, hi] = [50, 5000];
        const truth = lo + where * (hi - lo);
        const o: SweepSearchOptions = { from: upward ? lo : hi, to: upward ? hi : lo, coarseSteps, resolution: relative ? 0.02 : 25, relative, integer, scale };
        // Upward: values up to the truth pass. Downward (an interval, say): values down to the truth pass.
        const { result, steps } = search(o, (v) => ((upward ? v <= truth : v >= truth) ? 'pass' : 'fail'));
        assert.equal(result.status, 'found');
        const [pass, fail] = result.bracket!;
        assert.equal(result.knee, pass);
        assert.ok(upward ? pass <= truth && truth < fail : pass >= truth && truth > fail, `truth ${truth} in [${pass}, ${fail}]`);
        const allowed = relative ? 0.02 * Math.max(pass, fail) : 25;
        assert.ok(Math.abs(fail - pass) <= Math.max(allowed, integer ? 1 : 0) + 1e-9, `bracket ${pass}…${fail} within ${allowed}`);
        assert.ok(steps.length <= coarseSteps + 20);
        assert.equal(result.nonMonotone, false);
      },
    ),
  );
});

test('a `from` that breaks the SLO: below range; a `to` that meets it: above range, after the coarse steps only', () => {
  const below = search(base, () => 'fail');
  assert.equal(below.result.status, 'below-range');
  assert.equal(below.steps.length, 1);
  assert.equal(below.result.knee, undefined);
  const above = search(base, () => 'pass');
  assert.equal(above.result.status, 'above-range');
  assert.equal(above.result.knee, 1000);
  assert.equal(above.steps.length, 5);
});

test('a saturated generator caps the search: a clean failure below it is found; none within the resolution, the knee is beyond what it can show', () => {
  const limited = search(base, (v) => (v <= 325 ? 'pass' : v <= 775 ? 'generator-limited' : 'fail'));
  assert.equal(limited.result.status, 'generator-limited');
  assert.equal(limited.result.knee, 325);
  const [pass, upper] = limited.result.bracket!;
  assert.equal(pass, 325);
  assert.ok(upper - pass <= 10);
  assert.ok(limited.steps.every((s) => s.value <= 550), 'nothing beyond the saturated coarse step runs');
  const below = search(base, (v) => (v <= 400 ? 'pass' : v < 550 ? 'fail' : 'generator-limited'));
  assert.equal(below.result.status, 'found');
  assert.ok(below.result.bracket![0] <= 400 && below.result.bracket![1] > 400);
  assert.equal(search(base, () => 'generator-limited').result.status, 'generator-limited');
  assert.equal(search(base, () => 'generator-limited').result.knee, undefined);
});

test('an error ends the search', () => {
  assert.equal(search(base, (v) => (v > 300 ? 'error' : 'pass')).result.status, 'error');
});

test('a pass beyond a fail is reported as non-monotone, and the bracket is taken below the first fail', () => {
  const steps: SearchStep[] = [
    { value: 100, verdict: 'pass' },
    { value: 325, verdict: 'fail' },
    { value: 212, verdict: 'pass' },
    { value: 550, verdict: 'pass' },
  ];
  const next = nextStep(base, steps);
  assert.ok('value' in next);
  assert.ok(next.value > 212 && next.value < 325);
  const done = nextStep({ ...base, resolution: 200 }, steps);
  assert.ok('done' in done);
  assert.equal(done.done.nonMonotone, true);
  assert.deepEqual(done.done.bracket, [212, 325]);
});

test('a sweep stopped mid-search says so, with its last pass, first fail and whether a pass lay beyond a fail', () => {
  const steps: SearchStep[] = [{ value: 100, verdict: 'pass' }, { value: 325, verdict: 'fail' }, { value: 550, verdict: 'pass' }];
  const r = kneeSoFar({ ...base, coarseSteps: 10 }, steps);
  assert.equal(r.status, 'incomplete');
  assert.equal(r.knee, 550);
  assert.equal(r.nonMonotone, true);
  const monotone = kneeSoFar({ ...base, coarseSteps: 10 }, [{ value: 100, verdict: 'pass' }, { value: 200, verdict: 'pass' }]);
  assert.deepEqual([monotone.status, monotone.knee, monotone.nonMonotone], ['incomplete', 200, false]);
});
