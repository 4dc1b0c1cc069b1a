/**
 * Histogram read-back, unit by unit: the expected classic and native forms of the model's
 * points, the comparison that names the first part that differs, and the parser of the
 * query API's native histogram values (hostile shapes refused with a pointer).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exponentialShape, histogramShape } from '../../../core/instruments-histogram.ts';
import { metricModel } from '../../../core/instruments.ts';
import { compareClassic, compareNative, explicitHistogramReadback, exponentialHistogramReadback, MAX_NATIVE_SCHEMA, parseNativeHistogram, type ClassicHistogramReadback, type NativeHistogramReadback } from '../../../readback/prometheus/histograms.ts';

const explicit = metricModel(9, 0, 4, { instrument: 'histogram', temporality: 'cumulative', buckets: [5, 10, 50] });

test('classic: at tick k the cumulative buckets are k × the per-tick shape, +Inf equals count', () => {
  const h = explicitHistogramReadback(explicit) as ClassicHistogramReadback;
  const shape = histogramShape(9, 0, 2, 0, explicit.bucketValues);
  const point = h.expected(2, 3);
  assert.equal(point.count, 3 * shape.count);
  assert.equal(point.sum, 3 * shape.sum);
  assert.equal(point.cumulative.at(-1), point.count);
  assert.deepEqual(point.cumulative, shape.bucketCounts.map((_, i) => 3 * shape.bucketCounts.slice(0, i + 1).reduce((a, b) => a + b, 0)));
});

test('classic: the first differing part is named; a matching point has no mismatch', () => {
  const h = explicitHistogramReadback(explicit) as ClassicHistogramReadback;
  const e = h.expected(1, 2);
  const seen = () => ({ count: e.count, sum: e.sum, buckets: new Map([5, 10, 50, Infinity].map((le, i) => [le, e.cumulative[i]])) });
  assert.equal(compareClassic(e, h.bounds, seen()), undefined);
  assert.equal(compareClassic(e, h.bounds, { ...seen(), count: undefined })?.field, 'count');
  assert.equal(compareClassic(e, h.bounds, { ...seen(), sum: e.sum + 1 })?.field, 'sum');
  const wrongBucket = seen();
  wrongBucket.buckets.set(10, e.cumulative[1] - 1);
  assert.equal(compareClassic(e, h.bounds, wrongBucket)?.field, 'bucket{le="10"}');
  const missingInf = seen();
  missingInf.buckets.delete(Infinity);
  assert.deepEqual(compareClassic(e, h.bounds, missingInf), { field: 'bucket{le="+Inf"}', expected: e.count, actual: 'absent' });
});

test('delta: converted points hold the running sum, points stored as sent their own delta', () => {
  const delta = metricModel(9, 0, 4, { instrument: 'histogram', temporality: 'delta', buckets: [5, 10, 50] });
  const converted = (explicitHistogramReadback(delta) as ClassicHistogramReadback).expected(0, 4);
  const asSent = (explicitHistogramReadback(delta, false, true) as ClassicHistogramReadback).expected(0, 4);
  assert.equal(converted.count, 4 * asSent.count);
  assert.equal(asSent.count, histogramShape(9, 0, 0, 0, delta.bucketValues).count);
});

test('native: an exponential histogram finer than schema 8 is merged down as Prometheus stores it', () => {
  const fine = metricModel(3, 1, 5, { instrument: 'exponential-histogram', temporality: 'cumulative', scale: 11, maxSize: 16 });
  const point = (exponentialHistogramReadback(fine) as NativeHistogramReadback).expected(4, 2);
  const shape = exponentialShape(3, 1, 4, 0, 11, 16);
  assert.equal(point.count, 2 * shape.count);
  assert.equal(point.zeroCount, 2 * shape.zeroCount);
  assert.equal(point.buckets.reduce((a, b) => a + b.count, 0) + point.zeroCount, point.count);
  const base = 2 ** (2 ** -MAX_NATIVE_SCHEMA);
  for (const b of point.buckets) {
    const index = Math.round(Math.log(b.upper) / Math.log(base));
    assert.ok(Math.abs(b.upper / base ** index - 1) < 1e-12, 'every upper bound is a schema-8 boundary');
  }
  assert.ok(point.buckets.length < shape.bucketCounts.filter((c) => c > 0).length, 'finer buckets merged into fewer');
});

test('native: parse the API form, the zero bucket apart, and compare', () => {
  const coarse = metricModel(3, 1, 5, { instrument: 'exponential-histogram', temporality: 'cumulative', scale: 3, maxSize: 4 });
  const e = (exponentialHistogramReadback(coarse) as NativeHistogramReadback).expected(0, 1);
  const api = {
    count: String(e.count),
    sum: String(e.sum),
    buckets: [...(e.zeroCount > 0 ? [[3, '-0', '0', String(e.zeroCount)]] : []), ...e.buckets.map((b) => [0, String(b.lower), String(b.upper), String(b.count)])],
  };
  const parsed = parseNativeHistogram(api, '/v');
  assert.equal(compareNative(e, parsed), undefined);
  assert.equal(compareNative(e, { ...parsed, sum: parsed.sum + 0.5 })?.field, 'sum');
  assert.equal(compareNative(e, { ...parsed, buckets: parsed.buckets.slice(1) })?.field, 'buckets[0].bounds');
  const customFirst = parseNativeHistogram({ count: '3', sum: '1', buckets: [[0, '-Inf', '5', '3']] }, '/v');
  assert.deepEqual(customFirst, { count: 3, sum: 1, zeroCount: 0, buckets: [{ lower: -Infinity, upper: 5, count: 3 }] });
});

test('native: malformed values are bad replies that name the pointer', () => {
  for (const [value, pointer] of [
    [null, '/h'],
    [{ count: 3, sum: '1' }, '/h/count'],
    [{ count: '3', sum: 'x' }, '/h/sum'],
    [{ count: '3', sum: '1', buckets: {} }, '/h/buckets'],
    [{ count: '3', sum: '1', buckets: [[0, '1', '2']] }, '/h/buckets/0'],
  ] as const) {
    assert.throws(() => parseNativeHistogram(value, '/h'), (e: { code: string; details: { pointer: string } }) => e.code === 'TALLY_COLLECTOR_BAD_REPLY' && e.details.pointer === pointer);
  }
});
