/**
 * Delta accumulation over a run (pure): with every point seen there is no offset; each
 * missing delta point of a counter adds exactly its increment to the identity's offset;
 * cumulative metrics and gauges are not checked; churned identities are each checked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { counterIncrementOf, metricModel, seriesLifecycle } from '../../core/instruments.ts';
import { deltaOffsets } from '../../reconcile/delta-offsets.ts';
import { ObservationStore } from '../../reconcile/observations.ts';

const TICKS = 8;

function storeWith(seriesCounts: number[], missing: (m: number, s: number, k: number) => boolean): ObservationStore {
  const store = new ObservationStore(seriesCounts, TICKS);
  seriesCounts.forEach((n, m) => {
    for (let s = 0; s < n; s++) for (let k = 1; k <= TICKS; k++) if (!missing(m, s, k)) store.record(m, s, k, undefined);
  });
  return store;
}

test('no loss, no offset; each lost delta counter point offsets its identity by its increment', () => {
  const models = [
    metricModel(5, 0, 20, { instrument: 'counter', temporality: 'delta' }),
    metricModel(5, 1, 20, { instrument: 'counter', temporality: 'cumulative' }),
    metricModel(5, 2, 10, { instrument: 'gauge' }),
    metricModel(5, 3, 10, { instrument: 'histogram', temporality: 'delta' }),
  ];
  const none = deltaOffsets(models, storeWith([20, 20, 10, 10], () => false), TICKS);
  assert.deepEqual([none.identities, none.identitiesWithOffset, none.offsetTotal], [30, 0, 0]);
  assert.deepEqual(none.byMetric.map((b) => b.metricIndex), [0, 3]);
  const lost = (m: number, s: number, k: number): boolean => m <= 1 && s % 4 === 0 && (k === 3 || k === 5);
  const r = deltaOffsets(models, storeWith([20, 20, 10, 10], lost), TICKS);
  assert.equal(r.identitiesWithOffset, 5, 'slots 0, 4, 8, 12, 16 of the delta counter; the cumulative one has no offset');
  let total = 0;
  for (const s of r.samples) {
    assert.equal(s.metricIndex, 0);
    assert.equal(s.missingTicks, 2);
    assert.equal(s.offset, 2 * counterIncrementOf(models[0], s.slot, 0));
    total += s.offset;
  }
  assert.equal(r.offsetTotal, total);
});

test('with churn every identity is checked once, and a lost point offsets only the identity live at that tick', () => {
  const model = metricModel(9, 0, 10, { instrument: 'counter', temporality: 'delta', churn: { ratio: 0.3, everyTicks: 3 } });
  const starts = seriesLifecycle(model, TICKS).starts.length;
  const clean = deltaOffsets([model], storeWith([10], () => false), TICKS);
  assert.equal(clean.identities, starts);
  assert.equal(clean.identitiesWithOffset, 0);
  const r = deltaOffsets([model], storeWith([10], (_m, s, k) => s === 2 && k === TICKS), TICKS);
  assert.equal(r.identitiesWithOffset, 1);
  assert.equal(r.samples[0].slot, 2);
  assert.equal(r.samples[0].lastTick, TICKS);
});
