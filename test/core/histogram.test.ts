import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHistogramUs, encodeHistogram, mergeEncoded, percentilesUs, recordUs } from '../../core/histogram.ts';
import { createRng } from '../../core/rng.ts';

const PERCENTILES = [50, 90, 99, 99.9, 100];

test('merging per-worker histograms gives the same percentiles as one histogram of all values', () => {
  const rng = createRng(11);
  const workers = [createHistogramUs(), createHistogramUs(), createHistogramUs()];
  const all = createHistogramUs();
  // Different shapes per worker, so an average of percentiles would be visibly wrong.
  const shapes = [(): number => 100 + rng.int(900), (): number => 5_000 + rng.int(50_000), (): number => (rng.next() < 0.01 ? 2_000_000 : 300 + rng.int(100))];
  for (let i = 0; i < 60_000; i++) {
    const w = i % 3;
    const v = shapes[w]();
    recordUs(workers[w], v);
    recordUs(all, v);
  }
  const merged = createHistogramUs();
  for (const w of workers) mergeEncoded(merged, encodeHistogram(w));
  assert.equal(merged.totalCount, all.totalCount);
  for (const p of PERCENTILES) assert.equal(merged.getValueAtPercentile(p), all.getValueAtPercentile(p), `p${p}`);
  // Averaging the workers' p99s is not the merged p99: the test would catch that mistake.
  const averaged = workers.reduce((a, w) => a + w.getValueAtPercentile(99), 0) / workers.length;
  assert.notEqual(Math.round(averaged), merged.getValueAtPercentile(99));
  for (const h of [...workers, all, merged]) h.destroy();
});

test('merge is associative: (a+b)+c equals a+(b+c)', () => {
  const rng = createRng(5);
  const parts = [0, 1, 2].map(() => {
    const h = createHistogramUs();
    for (let i = 0; i < 5000; i++) recordUs(h, 1 + rng.int(1_000_000));
    return encodeHistogram(h);
  });
  const left = createHistogramUs();
  const ab = createHistogramUs();
  mergeEncoded(ab, parts[0]);
  mergeEncoded(ab, parts[1]);
  mergeEncoded(left, encodeHistogram(ab));
  mergeEncoded(left, parts[2]);
  const right = createHistogramUs();
  const bc = createHistogramUs();
  mergeEncoded(bc, parts[1]);
  mergeEncoded(bc, parts[2]);
  mergeEncoded(right, parts[0]);
  mergeEncoded(right, encodeHistogram(bc));
  assert.deepEqual(percentilesUs(left), percentilesUs(right));
  for (const h of [left, ab, right, bc]) h.destroy();
});

test('values are clamped to the trackable range and an empty histogram summarises to zeros', () => {
  const h = createHistogramUs();
  assert.equal(percentilesUs(h).count, 0);
  recordUs(h, 0.2);
  recordUs(h, 1e12);
  assert.equal(h.totalCount, 2);
  assert.equal(h.minNonZeroValue, 1);
  h.destroy();
});

test('percentiles never read above the largest recorded value (a bucket\'s upper edge is not a measurement)', () => {
  // 386,000 µs sits in a 256 µs wide bucket whose highest equivalent value is 386,047: the
  // visibility-lag p99 once read 386,047 above its max of 386,000.
  const one = createHistogramUs();
  recordUs(one, 386_000);
  const p = percentilesUs(one);
  assert.equal(p.max, 386_000);
  for (const key of ['p50', 'p90', 'p99', 'p999'] as const) assert.ok(p[key] <= p.max, `${key} ${p[key]} > max ${p.max}`);
  one.destroy();
  const rng = createRng(3);
  const many = createHistogramUs();
  for (let i = 0; i < 10_000; i++) recordUs(many, 200_000 + rng.int(300_000));
  const q = percentilesUs(many);
  for (const key of ['p50', 'p90', 'p99', 'p999'] as const) assert.ok(q[key] <= q.max && q[key] >= q.min, `${key} ${q[key]} outside [${q.min}, ${q.max}]`);
  many.destroy();
});
