import { test } from 'node:test';
import assert from 'node:assert/strict';
import { counterIncrement, cumulativeCounterValue, seriesAttributes, seriesIndexOf, seriesLayout } from '../../core/series.ts';

test('series index ↔ attributes is a bijection over the whole space', () => {
  const layout = seriesLayout({ route: 20, status: 5, pod: 10 });
  assert.equal(layout.seriesCount, 1000);
  const seen = new Set<string>();
  for (let i = 0; i < layout.seriesCount; i++) {
    const attrs = seriesAttributes(layout, i);
    assert.deepEqual(Object.keys(attrs), ['route', 'status', 'pod']);
    seen.add(JSON.stringify(attrs));
    assert.equal(seriesIndexOf(layout, attrs), i);
  }
  assert.equal(seen.size, 1000);
  assert.deepEqual(seriesAttributes(layout, 0), { route: 'route-0', status: 'status-0', pod: 'pod-0' });
  assert.deepEqual(seriesAttributes(layout, 999), { route: 'route-19', status: 'status-4', pod: 'pod-9' });
});

test('foreign attributes do not map to a series', () => {
  const layout = seriesLayout({ a: 3, b: 2 });
  assert.equal(seriesIndexOf(layout, { a: 'a-3', b: 'b-0' }), -1, 'digit out of range');
  assert.equal(seriesIndexOf(layout, { a: 'a-1' }), -1, 'missing key');
  assert.equal(seriesIndexOf(layout, { a: 'a-1', b: 'b-1', c: 'c-0' }), -1, 'extra key');
  assert.equal(seriesIndexOf(layout, { a: 'a-01', b: 'b-1' }), -1, 'non-canonical digit');
  assert.equal(seriesIndexOf(layout, { a: 'x-1', b: 'b-1' }), -1, 'wrong prefix');
  assert.equal(seriesIndexOf(layout, { a: 1, b: 'b-1' }), -1, 'not a string');
});

test('counter values are k · inc(series), inc in [1, 100], and depend on the seed', () => {
  let differs = 0;
  for (let s = 0; s < 200; s++) {
    const inc = counterIncrement(42, 0, s);
    assert.ok(inc >= 1 && inc <= 100);
    assert.equal(cumulativeCounterValue(42, 0, s, 7), 7 * inc);
    if (counterIncrement(43, 0, s) !== inc) differs++;
  }
  assert.ok(differs > 150);
});
