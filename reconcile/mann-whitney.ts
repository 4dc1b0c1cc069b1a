/**
 * The Mann-Whitney U test (Wilcoxon rank-sum test) of two independent samples, two-sided:
 * the rank test google/benchmark's `compare.py` runs over repetitions
 * (`scipy.stats.mannwhitneyu(..., alternative='two-sided')`), here over the per-interval
 * figures of two runs. The rank sum (mid-ranks for ties) and the error function come from
 * simple-statistics; the statistic, the exact null distribution and the normal
 * approximation are here. Pure.
 *
 * - U of the first sample: `R1 − n1(n1+1)/2`, where R1 is its rank sum; `U1 + U2 = n1·n2`.
 * - Exact p-value when neither sample has ties and `n1 + n2 ≤` {@link EXACT_MAX_TOTAL}: the
 *   null distribution of U is the coefficients of the Gaussian binomial
 *   `[n1+n2 choose n1]_q` (every split of the pooled ranks equally likely).
 * - Otherwise the normal approximation with the tie correction of the variance and a 0.5
 *   continuity correction, as scipy's `asymptotic` method.
 *
 * @see https://docs.scipy.org/doc/scipy/reference/generated/scipy.stats.mannwhitneyu.html
 * @see https://github.com/google/benchmark/blob/main/tools/gbench/report.py (calc_utest)
 * @see Mann, H. B.; Whitney, D. R. (1947), Ann. Math. Statist. 18(1): 50–60
 */
import { errorFunction, wilcoxonRankSum } from 'simple-statistics';

/** Largest pooled sample size for which the exact null distribution is computed. */
export const EXACT_MAX_TOTAL = 60;

/** What {@link mannWhitneyU} found. */
export interface UTest {
  /** Sizes of the first and second sample. */
  n1: number;
  n2: number;
  /** U of the first sample (0 … n1·n2): how often a value of the first sample exceeds one of the second, ties counting ½. */
  u1: number;
  /** U of the second sample (`n1·n2 − u1`). */
  u2: number;
  /** Two-sided p-value, in (0, 1]. */
  pValue: number;
  /** `exact` (no ties, small samples) or `asymptotic` (normal approximation). */
  method: 'exact' | 'asymptotic';
  /**
   * The smallest two-sided p-value these sample sizes (and ties) allow, reached when the
   * samples do not overlap at all: when it is not below the significance level, the test
   * cannot find any difference, whatever the data.
   */
  minPValue: number;
  /**
   * The common-language effect size `u1 / (n1·n2)`: the probability that a value of the
   * first sample exceeds one of the second (ties ½); 0.5 when they are alike.
   */
  probabilityFirstGreater: number;
}

/**
 * Two-sided Mann-Whitney U test of `x` against `y`.
 * @param x first sample (at least one value; NaN is not allowed).
 * @param y second sample (at least one value).
 * @param options.method `auto` (default): exact without ties up to {@link EXACT_MAX_TOTAL} values, else
 * asymptotic; `exact` or `asymptotic` force one (`exact` with ties falls back to asymptotic).
 * @returns the statistic, its p-value and the smallest p-value the sizes allow.
 * @throws RangeError when a sample is empty or holds a non-finite value (a bug in the caller).
 */
export function mannWhitneyU(x: readonly number[], y: readonly number[], options: { method?: 'auto' | 'exact' | 'asymptotic' } = {}): UTest {
  if (x.length === 0 || y.length === 0) throw new RangeError('both samples need at least one value');
  if (![...x, ...y].every(Number.isFinite)) throw new RangeError('samples must hold finite numbers');
  const n1 = x.length;
  const n2 = y.length;
  const u1 = wilcoxonRankSum([...x], [...y]) - (n1 * (n1 + 1)) / 2;
  const u2 = n1 * n2 - u1;
  const ties = tieGroupSizes([...x, ...y]);
  const method = options.method ?? 'auto';
  const exact = ties.length === 0 && (method === 'exact' || (method === 'auto' && n1 + n2 <= EXACT_MAX_TOTAL));
  const p = (u: number): number => (exact ? exactPValue(u, n1, n2) : asymptoticPValue(u, n1, n2, ties));
  return {
    n1,
    n2,
    u1,
    u2,
    pValue: p(Math.max(u1, u2)),
    method: exact ? 'exact' : 'asymptotic',
    minPValue: p(n1 * n2),
    probabilityFirstGreater: u1 / (n1 * n2),
  };
}

/** Sizes of the groups of equal values (only groups of two or more). */
function tieGroupSizes(values: number[]): number[] {
  const sorted = values.sort((a, b) => a - b);
  const sizes: number[] = [];
  let run = 1;
  for (let i = 1; i <= sorted.length; i++) {
    if (i < sorted.length && sorted[i] === sorted[i - 1]) run++;
    else {
      if (run > 1) sizes.push(run);
      run = 1;
    }
  }
  return sizes;
}

/**
 * The null distribution of U for sizes (n1, n2) without ties: `counts[u]` is the number of
 * the C(n1+n2, n1) equally likely rank splits that give U = u. The coefficients of the
 * Gaussian binomial ∏_{i=1..n1} (1 − q^(n2+i)) / (1 − q^i), built by multiplying and dividing
 * one factor at a time (each step stays a polynomial).
 * @returns counts of length n1·n2 + 1, as doubles (exact below 2^53).
 */
export function exactUDistribution(n1: number, n2: number): Float64Array {
  const size = n1 * n2 + 1;
  const poly = new Float64Array(size);
  poly[0] = 1;
  for (let i = 1; i <= n1; i++) {
    // × (1 − q^(n2+i)): subtract the shifted copy, highest degree first.
    const shift = n2 + i;
    for (let d = size - 1; d >= shift; d--) poly[d] -= poly[d - shift];
    // ÷ (1 − q^i): a running sum with stride i.
    for (let d = i; d < size; d++) poly[d] += poly[d - i];
  }
  return poly;
}

const exactCache = new Map<string, { counts: Float64Array; total: number }>();

/** Two-sided exact p-value of U = max(u1, u2): 2 · P(U ≥ u), at most 1. */
function exactPValue(uMax: number, n1: number, n2: number): number {
  const key = `${Math.min(n1, n2)}:${Math.max(n1, n2)}`;
  let dist = exactCache.get(key);
  if (dist === undefined) {
    const counts = exactUDistribution(Math.min(n1, n2), Math.max(n1, n2));
    dist = { counts, total: counts.reduce((a, b) => a + b, 0) };
    exactCache.set(key, dist);
  }
  let upper = 0;
  for (let u = Math.ceil(uMax); u < dist.counts.length; u++) upper += dist.counts[u];
  return Math.min(1, (2 * upper) / dist.total);
}

/**
 * Two-sided p-value of U = max(u1, u2) by the normal approximation: mean n1·n2/2, variance
 * n1·n2/12 · ((n+1) − Σ(t³ − t) / (n(n−1))) over the tie groups t, continuity correction ½.
 */
function asymptoticPValue(uMax: number, n1: number, n2: number, ties: readonly number[]): number {
  const n = n1 + n2;
  const tieTerm = ties.reduce((a, t) => a + t ** 3 - t, 0) / (n * (n - 1) || 1);
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm);
  if (!(variance > 0)) return 1;
  const z = (uMax - (n1 * n2) / 2 - 0.5) / Math.sqrt(variance);
  if (z <= 0) return 1;
  // 2 · (1 − Φ(z)) = erfc(z / √2).
  return Math.min(1, Math.max(Number.MIN_VALUE, 1 - errorFunction(z / Math.SQRT2)));
}
