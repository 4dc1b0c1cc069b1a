import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sampleTraceSeqs, wilsonInterval, zForConfidence } from '../../reconcile/traces-sample.ts';
import { InternalError } from '../../core/errors.ts';
import { createRng } from '../../core/rng.ts';

const close = (actual: number, expected: number, tolerance = 1e-9): void => {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} is not within ${tolerance} of ${expected}`);
};

test('z for common confidence levels', () => {
  close(zForConfidence(0.95), 1.959963984540054, 1e-8);
  close(zForConfidence(0.99), 2.5758293035489004, 1e-8);
  close(zForConfidence(0.9), 1.6448536269514722, 1e-8);
  close(zForConfidence(0.999), 3.2905267314918945, 1e-7);
});

test('Wilson interval known values: 0 of 20 and 5 of 100 at 95%', () => {
  const none = wilsonInterval(0, 20);
  assert.equal(none.ratio, 0);
  assert.equal(none.lower, 0);
  close(none.upper, 0.16112515805281938);
  const five = wilsonInterval(5, 100);
  close(five.lower, 0.02154367915436796);
  close(five.upper, 0.11175046923191913);
  close(wilsonInterval(1, 10).lower, 0.017876213095072896);
  close(wilsonInterval(1, 10).upper, 0.4041500267952385);
  close(wilsonInterval(0, 20, 0.99).upper, 0.24910540109875343);
});

test('Wilson interval edges: all lost, and no trials', () => {
  const all = wilsonInterval(20, 20);
  assert.equal(all.upper, 1);
  close(all.lower, 0.8388748419471806);
  assert.deepEqual({ ...wilsonInterval(0, 0), z: 0 }, { ratio: null, lower: 0, upper: 1, confidence: 0.95, z: 0 });
});

test('Wilson interval properties: bounds ordered, in [0,1], symmetric, wider at higher confidence (seeded)', () => {
  const rng = createRng(20261121);
  for (let i = 0; i < 2000; i += 1) {
    const trials = 1 + rng.int(5000);
    const events = rng.int(trials + 1);
    const w = wilsonInterval(events, trials);
    assert.ok(w.lower >= 0 && w.upper <= 1 && w.lower <= (w.ratio ?? 0) && (w.ratio ?? 1) <= w.upper);
    const mirror = wilsonInterval(trials - events, trials);
    close(w.lower, 1 - mirror.upper, 1e-12);
    const wide = wilsonInterval(events, trials, 0.99);
    assert.ok(wide.lower <= w.lower + 1e-15 && wide.upper >= w.upper - 1e-15);
  }
});

test('Wilson interval covers the true loss ratio about 95% of the time (seeded simulation)', () => {
  const rng = createRng(5);
  const trueRatio = 0.05;
  const trials = 100;
  let covered = 0;
  const runs = 4000;
  for (let r = 0; r < runs; r += 1) {
    let lost = 0;
    for (let t = 0; t < trials; t += 1) if (rng.next() < trueRatio) lost += 1;
    const w = wilsonInterval(lost, trials);
    if (w.lower <= trueRatio && trueRatio <= w.upper) covered += 1;
  }
  const coverage = covered / runs;
  assert.ok(coverage > 0.92 && coverage < 0.99, `coverage ${coverage}`);
});

test('Wilson interval rejects impossible counts and levels', () => {
  for (const [events, trials, confidence] of [[3, 2, 0.95], [-1, 5, 0.95], [1.5, 5, 0.95], [1, 5, 1], [1, 5, 0]]) {
    assert.throws(() => wilsonInterval(events, trials, confidence), (e: unknown) => e instanceof InternalError && e.code === 'TALLY_INTERNAL');
  }
});

test('stratified sample: deterministic, sorted, distinct, in range, of the requested size', () => {
  const request = { seed: 42, firstSeq: 1, lastSeq: 1_000_000, sampleSize: 500, strata: 20 };
  const a = sampleTraceSeqs(request);
  assert.deepEqual(sampleTraceSeqs(request), a);
  assert.equal(a.length, 500);
  assert.equal(new Set(a).size, 500);
  assert.ok(a.every((seq, i) => seq >= 1 && seq <= 1_000_000 && (i === 0 || seq > a[i - 1])));
  assert.notDeepEqual(sampleTraceSeqs({ ...request, seed: 43 }), a);
});

test('stratified sample: every stratum gets its proportional share', () => {
  const seqs = sampleTraceSeqs({ seed: 7, firstSeq: 0, lastSeq: 9_999, sampleSize: 100, strata: 10 });
  const perStratum = Array.from({ length: 10 }, (_, s) => seqs.filter((seq) => Math.floor(seq / 1000) === s).length);
  assert.deepEqual(perStratum, Array(10).fill(10));
  // Uneven: 7 samples over 3 strata of 10, 10, 10 → 3/2/2 in some seeded order, never 0.
  const uneven = sampleTraceSeqs({ seed: 9, firstSeq: 1, lastSeq: 30, sampleSize: 7, strata: 3 });
  const counts = [0, 1, 2].map((s) => uneven.filter((seq) => Math.floor((seq - 1) / 10) === s).length).sort();
  assert.deepEqual(counts, [2, 2, 3]);
});

test('stratified sample: leftovers are not always given to the first strata', () => {
  const firstStratumCounts = new Set<number>();
  for (let seed = 0; seed < 20; seed += 1) {
    const seqs = sampleTraceSeqs({ seed, firstSeq: 1, lastSeq: 300, sampleSize: 4, strata: 3 });
    firstStratumCounts.add(seqs.filter((seq) => seq <= 100).length);
  }
  assert.deepEqual([...firstStratumCounts].sort(), [1, 2]);
});

test('stratified sample: whole range when the sample is at least the population; empty for size 0', () => {
  assert.deepEqual(sampleTraceSeqs({ seed: 1, firstSeq: 1, lastSeq: 20, sampleSize: 50, strata: 4 }), Array.from({ length: 20 }, (_, i) => i + 1));
  assert.deepEqual(sampleTraceSeqs({ seed: 1, firstSeq: 1, lastSeq: 20, sampleSize: 0, strata: 4 }), []);
});

test('stratified sample: works at the 6-byte sequence limit without materialising the range', () => {
  const last = 2 ** 48 - 1;
  const seqs = sampleTraceSeqs({ seed: 3, firstSeq: 0, lastSeq: last, sampleSize: 1000, strata: 50 });
  assert.equal(new Set(seqs).size, 1000);
  assert.ok(seqs.every((seq) => Number.isSafeInteger(seq) && seq >= 0 && seq <= last));
  assert.ok(seqs[999] > last * 0.97, 'the last stratum is sampled');
});

test('stratified sample: invalid requests are caller bugs', () => {
  assert.throws(() => sampleTraceSeqs({ seed: 1, firstSeq: 5, lastSeq: 4, sampleSize: 1, strata: 1 }), InternalError);
  assert.throws(() => sampleTraceSeqs({ seed: 1, firstSeq: 0, lastSeq: 2 ** 48, sampleSize: 1, strata: 1 }), InternalError);
  assert.throws(() => sampleTraceSeqs({ seed: 1, firstSeq: 0, lastSeq: 9, sampleSize: 1, strata: 0 }), InternalError);
});
