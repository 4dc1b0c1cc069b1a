import { test } from 'node:test';
import assert from 'node:assert/strict';
import hdr from 'hdr-histogram-js';
import { createHistogramUs, recordUs } from '../../core/histogram.ts';
import { createRng } from '../../core/rng.ts';
import { encodeHdrV2, exponentialBuckets, forEachHdrBucket, nativeBucketIndex, nativeFromHdr, nativeSpans } from '../../core/native-histogram.ts';
import { TallyError } from '../../core/errors.ts';

function histogramOf(values: number[]) {
  const h = createHistogramUs();
  for (const v of values) recordUs(h, v);
  return h;
}

test('the V2 reader sees exactly the buckets the library iterates (the library as reference)', () => {
  const rng = createRng(7);
  const h = histogramOf(Array.from({ length: 20_000 }, () => Math.exp(rng.next() * 16)));
  try {
    const bytes = encodeHdrV2(h);
    const ours: [number, number][] = [];
    forEachHdrBucket(bytes, (v, n) => ours.push([v, n]));
    const js = (hdr as unknown as { JsHistogram: { decode(b: Uint8Array, size: number): any } }).JsHistogram.decode(bytes, 64);
    const theirs: [number, number][] = [];
    const it = js.recordedValuesIterator;
    it.reset();
    while (it.hasNext()) {
      const v = it.next();
      theirs.push([js.lowestEquivalentValue(v.valueIteratedTo), v.countAtValueIteratedTo]);
    }
    assert.deepEqual(ours, theirs);
    assert.equal(ours.reduce((a, [, n]) => a + n, 0), h.totalCount);
  } finally {
    h.destroy();
  }
});

test('bucket index: upper bounds inclusive, powers of two at the boundaries, every schema', () => {
  for (const schema of [-4, -1, 0, 1, 3, 8]) {
    const perOctave = 2 ** schema;
    assert.equal(nativeBucketIndex(1, schema), 0, `1 is the upper bound of bucket 0 at schema ${schema}`);
    if (schema >= 0) {
      assert.equal(nativeBucketIndex(2, schema), perOctave);
      assert.equal(nativeBucketIndex(2 * 1.0000001, schema), perOctave + 1);
      assert.equal(nativeBucketIndex(0.5, schema), -perOctave);
    }
    for (const x of [1e-6, 3.7e-5, 0.0021, 0.5, 0.77, 1.5, 42, 3600]) {
      const i = nativeBucketIndex(x, schema);
      const base = 2 ** (2 ** -schema);
      assert.ok(base ** (i - 1) < x * (1 + 1e-12) && x <= base ** i * (1 + 1e-12), `${x} in bucket ${i} at schema ${schema}`);
    }
  }
});

test('an HDR histogram becomes a native one with the same count, its sum within HDR precision, percentiles within a bucket', () => {
  const rng = createRng(11);
  const values = Array.from({ length: 50_000 }, () => 50 + Math.exp(rng.next() * 13));
  const h = histogramOf(values);
  try {
    const n = nativeFromHdr(encodeHdrV2(h), 1e-6);
    assert.equal(n.schema, 3);
    assert.equal(n.count, values.length);
    assert.equal(n.zeroCount, 0);
    assert.equal(n.counts.reduce((a, c) => a + c, 0), values.length);
    const exactSum = values.reduce((a, v) => a + Math.round(v), 0) / 1e6;
    assert.ok(Math.abs(n.sum - exactSum) / exactSum < 1e-3, `${n.sum} vs ${exactSum}`);
    for (let k = 1; k < n.indexes.length; k++) assert.ok(n.indexes[k] > n.indexes[k - 1]);
    // The bucket holding the 99th percentile brackets HDR's p99.
    const p99 = h.getValueAtPercentile(99) / 1e6;
    let seen = 0;
    let k = 0;
    while (seen + n.counts[k] < 0.99 * n.count) seen += n.counts[k++];
    const base = 2 ** (1 / 8);
    assert.ok(base ** (n.indexes[k] - 1) <= p99 * 1.002 && p99 <= base ** n.indexes[k] * 1.002);
  } finally {
    h.destroy();
  }
});

test('spans and deltas, and the dense OTLP form (index − 1), describe the same buckets', () => {
  const n = { schema: 3, zeroThreshold: 0, zeroCount: 0, count: 10, sum: 1, indexes: [-3, -2, 0, 5, 6, 7], counts: [1, 2, 1, 3, 2, 1] };
  assert.deepEqual(nativeSpans(n), { spans: [{ offset: -3, length: 2 }, { offset: 1, length: 1 }, { offset: 4, length: 3 }], deltas: [1, 1, -1, 2, -1, -1] });
  assert.deepEqual(exponentialBuckets(n), { offset: -4, bucketCounts: [1, 2, 0, 1, 0, 0, 0, 0, 3, 2, 1] });
  assert.deepEqual(nativeSpans({ ...n, indexes: [], counts: [] }), { spans: [], deltas: [] });
  assert.deepEqual(exponentialBuckets({ ...n, indexes: [], counts: [] }), { offset: 0, bucketCounts: [] });
});

test('bytes that are not a V2 encoding are refused with a code', () => {
  assert.throws(() => forEachHdrBucket(new Uint8Array(64), () => {}), (e) => e instanceof TallyError && e.code === 'TALLY_INTERNAL');
});
