/**
 * The verdict rules of `tally compare`, case by case (asserting reason codes), and the
 * properties a noise-aware comparison must keep: identical samples never change, swapping
 * the sides swaps regressed and improved, a saturated generator is never "regressed".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { changeRatio, DEFAULT_COMPARE_OPTIONS, judgeCount, judgeQuantile, judgeSampled, quantileRankInterval, type SampledInput } from '../../reconcile/compare.ts';

const o = DEFAULT_COMPARE_OPTIONS;
const base = [20_000, 20_400, 19_800, 20_100, 20_300];
const slower = base.map((v) => v * 1.2);

function sampled(over: Partial<SampledInput>): SampledInput {
  return { baseline: 20_100, candidate: 24_120, baselineSamples: base, candidateSamples: slower, better: 'lower', saturated: false, durationUs: true, ...over };
}

test('sampled figures: each rule gives its reason', () => {
  const cases: [string, Partial<SampledInput>, string, string][] = [
    ['20% slower, every interval', {}, 'regressed', 'significant'],
    ['20% faster', { candidate: 16_080, candidateSamples: base.map((v) => v * 0.8) }, 'improved', 'significant'],
    ['higher is better (a rate that rose)', { better: 'higher' }, 'improved', 'significant'],
    ['5% slower: below the minimum effect', { candidate: 21_100, candidateSamples: base.map((v) => v * 1.05) }, 'unchanged', 'below_min_effect'],
    ['a 30 µs change on 150 µs: below the absolute floor', { baseline: 150, candidate: 180, baselineSamples: [150, 151, 149, 150], candidateSamples: [180, 181, 179, 180] }, 'unchanged', 'below_min_effect'],
    ['the same, not a duration: relative minimum only', { baseline: 150, candidate: 180, baselineSamples: [150, 151, 149, 150], candidateSamples: [180, 181, 179, 180], durationUs: false }, 'regressed', 'significant'],
    ['a saturated generator', { saturated: true }, 'inconclusive', 'generator_saturated'],
    ['no candidate value', { candidate: undefined }, 'inconclusive', 'no_data'],
    ['3 vs 3 intervals can never reach α = 0.05', { baselineSamples: base.slice(0, 3), candidateSamples: slower.slice(0, 3) }, 'inconclusive', 'too_few_intervals'],
    ['one interval', { candidateSamples: [24_000] }, 'inconclusive', 'too_few_intervals'],
    ['intervals overlap: not significant', { candidateSamples: [19_900, 20_500, 24_000, 20_200, 19_700] }, 'unchanged', 'not_significant'],
    ['the headline moved up, the intervals down', { candidateSamples: base.map((v) => v * 0.7) }, 'inconclusive', 'direction_disagrees'],
    ['inside the range of the baseline runs', { baselineRuns: [19_000, 25_000] }, 'unchanged', 'within_baseline_runs'],
    ['beyond every baseline run by the minimum effect', { baselineRuns: [19_900, 20_300] }, 'regressed', 'significant'],
    ['beyond every baseline run, but by less than the minimum effect', { baselineRuns: [19_900, 23_000] }, 'unchanged', 'within_baseline_runs'],
  ];
  for (const [what, over, verdict, reason] of cases) {
    const j = judgeSampled(sampled(over), o);
    assert.deepEqual([j.verdict, j.reason], [verdict, reason], what);
  }
});

const samples = fc.array(fc.integer({ min: 100, max: 100_000 }), { minLength: 2, maxLength: 30 });

test('properties: a side against itself is unchanged; swapping sides swaps regressed and improved; saturation is never regressed', () => {
  fc.assert(
    fc.property(samples, samples, (xs, ys) => {
      const med = (v: number[]): number => [...v].sort((a, b) => a - b)[v.length >> 1];
      const self = judgeSampled({ baseline: med(xs), candidate: med(xs), baselineSamples: xs, candidateSamples: xs, better: 'lower', saturated: false }, o);
      assert.equal(self.verdict, 'unchanged');
      const ab = judgeSampled({ baseline: med(xs), candidate: med(ys), baselineSamples: xs, candidateSamples: ys, better: 'lower', saturated: false }, o);
      const ba = judgeSampled({ baseline: med(ys), candidate: med(xs), baselineSamples: ys, candidateSamples: xs, better: 'lower', saturated: false }, o);
      const swapped: Record<string, string> = { regressed: 'improved', improved: 'regressed' };
      if (ab.verdict === 'regressed' || ab.verdict === 'improved') assert.equal(ba.verdict, swapped[ab.verdict]);
      const sat = judgeSampled({ baseline: med(xs), candidate: med(ys), baselineSamples: xs, candidateSamples: ys, better: 'lower', saturated: true }, o);
      assert.notEqual(sat.verdict, 'regressed');
    }),
  );
});

test('exact counts: any rise from zero regresses; beyond the highest baseline by more than the tolerance; falls mirror it', () => {
  const cases: [(number | undefined)[], number | undefined, string, string][] = [
    [[0], 0, 'unchanged', 'within_baseline'],
    [[0], 1, 'regressed', 'rose_from_zero'],
    [[0, 0, 0], 0.0001, 'regressed', 'rose_from_zero'],
    [[0.01], 0.0105, 'unchanged', 'within_tolerance'],
    [[0.01], 0.0115, 'regressed', 'above_baseline'],
    [[0.01, 0.02], 0.015, 'unchanged', 'within_baseline'],
    [[0.01, 0.02], 0.0225, 'regressed', 'above_baseline'],
    [[0.01], 0, 'improved', 'fell_to_zero'],
    [[0.01], 0.0095, 'unchanged', 'within_tolerance'],
    [[0.01], 0.005, 'improved', 'below_baseline'],
    [[0.01, undefined], 0.01, 'inconclusive', 'no_data'],
    [[0], undefined, 'inconclusive', 'no_data'],
  ];
  for (const [baselines, candidate, verdict, reason] of cases) {
    const j = judgeCount({ baselines, candidate }, o);
    assert.deepEqual([j.verdict, j.reason], [verdict, reason], `${JSON.stringify(baselines)} → ${candidate}`);
  }
  assert.equal(judgeCount({ baselines: [0.01], candidate: 0.0105 }, { ...o, countToleranceRatio: 0 }).verdict, 'regressed');
});

test('quantiles without intervals: minimum effect, then disjoint confidence intervals', () => {
  const b = { value: 1000, low: 950, high: 1050 };
  assert.equal(judgeQuantile({ baseline: b, candidate: { value: 1300, low: 1200, high: 1400 }, better: 'lower' }, o).verdict, 'regressed');
  assert.equal(judgeQuantile({ baseline: b, candidate: { value: 1300, low: 1000, high: 1400 }, better: 'lower' }, o).reason, 'ci_overlap');
  assert.equal(judgeQuantile({ baseline: b, candidate: { value: 1050, low: 1060, high: 1070 }, better: 'lower' }, o).reason, 'below_min_effect');
  assert.equal(judgeQuantile({ baseline: b, candidate: { value: 700, low: 650, high: 750 }, better: 'lower' }, o).verdict, 'improved');
  assert.equal(judgeQuantile({ baseline: undefined, candidate: b, better: 'lower' }, o).reason, 'no_data');
});

test('the quantile rank interval narrows as samples grow and stays within 0..100', () => {
  const small = quantileRankInterval(100, 0.5);
  const large = quantileRankInterval(100_000, 0.5);
  assert.ok(small.lowPercentile < 50 && small.highPercentile > 50);
  assert.ok(large.highPercentile - large.lowPercentile < small.highPercentile - small.lowPercentile);
  const tail = quantileRankInterval(50, 0.99);
  assert.ok(tail.lowPercentile >= 0 && tail.highPercentile <= 100);
  assert.equal(changeRatio(0, 0), 0);
  assert.equal(changeRatio(0, 5), null);
  assert.equal(changeRatio(200, 150), -0.25);
});
