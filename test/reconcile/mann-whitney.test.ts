/**
 * The Mann-Whitney U test against known tables and by its properties: the exact null
 * distribution equals brute-force enumeration of every rank split, the two-sided 5 %
 * critical values of the published tables are where the exact p-value crosses 0.05, the
 * worked example of scipy's documentation, and properties that any rank test must keep
 * (symmetry, U1 + U2 = n1·n2, invariance under increasing transforms).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { exactUDistribution, mannWhitneyU } from '../../reconcile/mann-whitney.ts';

/** Every way to choose which of the pooled ranks 0..n1+n2-1 belong to the first sample. */
function* splits(n: number, k: number, start = 0, chosen: number[] = []): Generator<number[]> {
  if (chosen.length === k) {
    yield chosen;
    return;
  }
  for (let i = start; i <= n - (k - chosen.length); i++) yield* splits(n, k, i + 1, [...chosen, i]);
}

test('the exact null distribution of U equals brute-force enumeration of every rank split (n1, n2 ≤ 6)', () => {
  for (let n1 = 1; n1 <= 6; n1++) {
    for (let n2 = 1; n2 <= 6; n2++) {
      const counts = new Array<number>(n1 * n2 + 1).fill(0);
      for (const ranks of splits(n1 + n2, n1)) {
        // U of the first sample: its rank sum less n1(n1+1)/2 (ranks counted from 1).
        counts[ranks.reduce((a, r) => a + r + 1, 0) - (n1 * (n1 + 1)) / 2]++;
      }
      assert.deepEqual([...exactUDistribution(n1, n2)], counts, `n1=${n1} n2=${n2}`);
    }
  }
});

/** Two samples of sizes n1, n2 without ties whose first sample has U = u. */
function samplesWithU(n1: number, n2: number, u: number): { x: number[]; y: number[] } {
  const y = Array.from({ length: n2 }, (_, j) => 10 * j);
  let left = u;
  const x = Array.from({ length: n1 }, (_, i) => {
    const above = Math.min(n2, left); // this x exceeds the `above` smallest y values
    left -= above;
    return 10 * above - 5 + i * 0.001;
  });
  return { x, y };
}

// Two-sided α = 0.05 critical values of U for equal sample sizes (reject when U ≤ value),
// as printed in the standard tables (e.g. Siegel & Castellan, Nonparametric Statistics, Table J).
const CRITICAL_EQUAL: Record<number, number> = { 5: 2, 6: 5, 7: 8, 8: 13, 9: 17, 10: 23, 11: 30, 12: 37, 13: 45, 14: 55, 15: 64, 16: 75, 17: 87, 18: 99, 19: 113, 20: 127 };
// The n1 = 5 row of the same table.
const CRITICAL_N1_5: Record<number, number> = { 5: 2, 6: 3, 7: 5, 8: 6, 9: 7, 10: 8, 11: 9, 12: 11, 13: 12, 14: 13, 15: 14, 16: 15, 17: 17, 18: 18, 19: 19, 20: 20 };

test('the exact p-value crosses 0.05 at the critical values of the published two-sided 5% table', () => {
  const check = (n1: number, n2: number, critical: number): void => {
    const at = samplesWithU(n1, n2, critical);
    const past = samplesWithU(n1, n2, critical + 1);
    const pAt = mannWhitneyU(at.x, at.y);
    assert.equal(pAt.u1, critical);
    assert.equal(pAt.method, 'exact');
    assert.ok(pAt.pValue <= 0.05, `n1=${n1} n2=${n2} U=${critical}: p=${pAt.pValue}`);
    assert.ok(mannWhitneyU(past.x, past.y).pValue > 0.05, `n1=${n1} n2=${n2} U=${critical + 1}`);
  };
  for (const [n, c] of Object.entries(CRITICAL_EQUAL)) check(Number(n), Number(n), c);
  for (const [n2, c] of Object.entries(CRITICAL_N1_5)) check(5, Number(n2), c);
});

test("scipy's documented example: U = 17, exact p = 1/9, asymptotic p ≈ 0.11135", () => {
  const males = [19, 22, 16, 29, 24];
  const females = [20, 11, 17, 12];
  const exact = mannWhitneyU(males, females);
  assert.equal(exact.u1, 17);
  assert.equal(exact.method, 'exact');
  assert.ok(Math.abs(exact.pValue - 1 / 9) < 1e-12);
  const asymptotic = mannWhitneyU(males, females, { method: 'asymptotic' });
  assert.ok(Math.abs(asymptotic.pValue - 0.11134688653314041) < 1e-6, `p=${asymptotic.pValue}`);
});

test('ties: mid-ranks and the tie-corrected normal approximation; all-equal samples have p = 1', () => {
  const r = mannWhitneyU([1, 2, 2, 3], [2, 3, 3, 4]);
  assert.equal(r.method, 'asymptotic');
  assert.equal(r.u1 + r.u2, 16);
  assert.equal(r.u1, 3); // 1 vs 2: ½; 2,2 vs 2: ½ each; 3 vs 2: 1, vs 3,3: ½ each
  assert.ok(r.pValue > 0.05 && r.pValue < 1);
  const same = mannWhitneyU([5, 5, 5], [5, 5]);
  assert.equal(same.pValue, 1);
  assert.equal(same.minPValue, 1);
  assert.equal(same.probabilityFirstGreater, 0.5);
});

test('the smallest reachable p-value: 3 vs 3 can never reach 0.05 (2/20), 4 vs 4 can (2/70)', () => {
  assert.ok(Math.abs(mannWhitneyU([1, 2, 3], [4, 5, 6]).minPValue - 0.1) < 1e-12);
  assert.ok(Math.abs(mannWhitneyU([1, 2, 3, 4], [5, 6, 7, 8]).minPValue - 2 / 70) < 1e-12);
  assert.ok(Math.abs(mannWhitneyU([1, 2, 3, 4], [5, 6, 7, 8]).pValue - 2 / 70) < 1e-12);
});

test('the normal approximation agrees with the exact distribution for 20 vs 20 within 0.01', () => {
  for (const u of [100, 127, 150, 180, 200]) {
    const { x, y } = samplesWithU(20, 20, u);
    const exact = mannWhitneyU(x, y).pValue;
    const asymptotic = mannWhitneyU(x, y, { method: 'asymptotic' }).pValue;
    assert.ok(Math.abs(exact - asymptotic) < 0.01, `U=${u}: exact ${exact}, asymptotic ${asymptotic}`);
  }
});

const sample = fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 1, maxLength: 25 });

test('properties: symmetric, U1 + U2 = n1·n2, p in (0, 1] and not below the reachable minimum', () => {
  fc.assert(
    fc.property(sample, sample, (x, y) => {
      const a = mannWhitneyU(x, y);
      const b = mannWhitneyU(y, x);
      assert.equal(a.u1 + a.u2, x.length * y.length);
      assert.equal(a.u1, b.u2);
      assert.ok(Math.abs(a.pValue - b.pValue) < 1e-12);
      assert.ok(a.pValue > 0 && a.pValue <= 1);
      assert.ok(a.minPValue <= a.pValue + 1e-12);
    }),
  );
});

test('properties: invariant under a strictly increasing transform of both samples (only ranks count)', () => {
  fc.assert(
    fc.property(sample, sample, (x, y) => {
      const f = (v: number): number => 3 * v + Math.cbrt(v) + 7;
      const a = mannWhitneyU(x, y);
      const b = mannWhitneyU(x.map(f), y.map(f));
      assert.equal(a.u1, b.u1);
      assert.ok(Math.abs(a.pValue - b.pValue) < 1e-12);
    }),
  );
});

test('properties: shifting one sample past the other drives U to its bound and p to the minimum', () => {
  fc.assert(
    fc.property(sample, sample, (x, y) => {
      const top = Math.max(...y);
      const shifted = x.map((v) => v - Math.min(...x) + top + 1);
      const r = mannWhitneyU(shifted, y);
      assert.equal(r.u1, x.length * y.length);
      assert.equal(r.probabilityFirstGreater, 1);
      assert.ok(Math.abs(r.pValue - r.minPValue) < 1e-12);
    }),
  );
});
