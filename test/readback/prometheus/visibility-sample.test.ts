/**
 * The visibility sample: chunks carry the series ranges they cover; a sample keeps whole
 * chunks spread over the space within the bound, renumbers their series 0..n−1 both ways,
 * and keeps a small metric whole.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { seriesLayout } from '../../../core/series.ts';
import { layoutMetric } from '../../../readback/prometheus/space.ts';
import { visibilitySample } from '../../../readback/prometheus/visibility-sample.ts';

function metric(attributes: Record<string, number>, maxSeriesPerSelector: number) {
  return layoutMetric({ name: 'm_total', layout: seriesLayout(attributes), commonLabels: { job: 'tally' }, maxSeriesPerSelector, expectedValue: (s, k) => s * 1000 + k });
}

test('property: selector ranges are contiguous, in order, cover every series, and match what each selector selects', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 60 }), (counts, max) => {
      const attributes = Object.fromEntries(counts.map((c, i) => [`k${i}`, c]));
      const m = metric(attributes, max);
      const ranges = m.selectorSeries!;
      assert.equal(ranges.length, m.selectors.length);
      let next = 0;
      for (const [first, end] of ranges) {
        assert.equal(first, next);
        assert.ok(end > first);
        next = end;
      }
      assert.equal(next, m.seriesCount);
      // Each series of a range carries the label values its selector names.
      ranges.forEach(([first, end], i) => {
        const equals = [...m.selectors[i].matchAll(/(\w+)="([^"]+)"/g)].filter(([, k]) => k !== 'job');
        const regex = /(\w+)=~"([^"]+)"/.exec(m.selectors[i]);
        for (let s = first; s < end; s++) {
          const labels = m.seriesLabels(s);
          for (const [, k, v] of equals) assert.equal(labels[k], v);
          if (regex) assert.ok(regex[2].replaceAll('\\\\', '').split('|').includes(labels[regex[1]]));
        }
      });
    }),
  );
});

test('a sample keeps whole chunks within the bound, spread over the space, and maps series both ways', () => {
  const m = metric({ pod: 10_000 }, 100);
  const sample = visibilitySample({ metrics: [m], ticks: 3, startMs: 0, intervalMs: 1000 }, 1000);
  assert.equal(sample.trackedCounts[0], 1000);
  assert.equal(sample.totalCounts[0], 10_000);
  const sm = sample.space.metrics[0];
  assert.equal(sm.selectors.length, 10);
  const runSeries = Array.from({ length: 1000 }, (_, t) => sample.seriesOf(0, t));
  assert.ok(runSeries[999] >= 9000, 'the sample reaches the end of the space');
  for (let t = 0; t < 1000; t += 37) {
    const s = runSeries[t];
    assert.equal(sm.seriesIndexOf(m.seriesLabels(s)), t);
    assert.deepEqual(sm.seriesLabels(t), m.seriesLabels(s));
    assert.equal(sm.expectedValue(t, 2), s * 1000 + 2);
  }
  assert.equal(sm.seriesIndexOf(m.seriesLabels(runSeries[99] + 1)), -1, 'a series outside the sample is not tracked');
  const whole = visibilitySample({ metrics: [metric({ pod: 50 }, 100)], ticks: 3, startMs: 0, intervalMs: 1000 }, 1000);
  assert.equal(whole.trackedCounts[0], 50);
});
