/**
 * Traces at scale: which trace sequence numbers to verify by id, and how sure the loss
 * estimate from that sample is.
 *
 * Pure: no I/O, no clock, no unseeded randomness. The sample derives from the seed through
 * `core/rng.ts`, so a re-run of `tally reconcile` checks the same traces.
 *
 * Stratified by sequence range: sequence order is send order, so equal-width strata spread
 * the sample over the run and a loss burst in one window cannot fall between samples by
 * chance. Allocation is proportional (strata differ in size by at most one), which keeps
 * the pooled sample self-weighting: the plain ratio lost/checked is the estimate.
 */
import { InternalError } from '../core/errors.ts';
import { createRng, hash32, type Rng } from '../core/rng.ts';

/** What to sample. */
export interface TraceSampleRequest {
  /** Scenario seed (unsigned 32-bit). */
  seed: number;
  /** First sequence number sent, inclusive. */
  firstSeq: number;
  /** Last sequence number sent, inclusive. At most 2^48 − 1 (6 bytes of the trace id). */
  lastSeq: number;
  /** How many traces to check; the whole range when it is at least the range's size. */
  sampleSize: number;
  /** Number of equal-width sequence strata (clamped to `sampleSize`, so each holds at least one). */
  strata: number;
}

/**
 * Draw a stratified random sample of sequence numbers without replacement.
 * Per-stratum RNG streams (`hash32(seed, stratum)`) keep one stratum's draw independent of the others.
 * @returns sorted, distinct sequence numbers; `min(sampleSize, lastSeq − firstSeq + 1)` of them.
 * @throws InternalError `TALLY_INTERNAL` when the request is not integral or out of range (a caller bug).
 * @see README.md "How it measures" (Traces at scale)
 */
export function sampleTraceSeqs(request: TraceSampleRequest): number[] {
  const { seed, firstSeq, lastSeq, sampleSize, strata } = request;
  const integers = [seed, firstSeq, lastSeq, sampleSize, strata].every(Number.isSafeInteger);
  if (!integers || firstSeq < 0 || lastSeq < firstSeq || lastSeq > 2 ** 48 - 1 || sampleSize < 0 || strata < 1) {
    throw new InternalError('trace sample request out of range', { details: { ...request } });
  }
  const population = lastSeq - firstSeq + 1;
  if (sampleSize >= population) return Array.from({ length: population }, (_, i) => firstSeq + i);
  if (sampleSize === 0) return [];
  // No more strata than samples, so every stratum holds at least one.
  const k = Math.min(strata, sampleSize);
  const bounds = Array.from({ length: k + 1 }, (_, i) => Math.floor((i * population) / k));
  const quotas = allocate(seed, sampleSize, bounds, population);
  const out: number[] = [];
  for (let i = 0; i < k; i += 1) {
    const rng = createRng(hash32(seed >>> 0, i));
    const offsets = floydSample(rng, bounds[i + 1] - bounds[i], quotas[i]);
    for (const offset of offsets) out.push(firstSeq + bounds[i] + offset);
  }
  return out.sort((a, b) => a - b);
}

/**
 * Proportional allocation by largest remainder, in BigInt so sampleSize·size cannot lose precision.
 * Equal remainders are ordered by a seeded hash, not by index, so leftovers do not pile up in early strata.
 */
function allocate(seed: number, sampleSize: number, bounds: number[], population: number): number[] {
  const total = BigInt(population);
  const rows = bounds.slice(1).map((end, i) => {
    const exact = BigInt(sampleSize) * BigInt(end - bounds[i]);
    return { i, quota: Number(exact / total), remainder: exact % total, tie: hash32(seed >>> 0, i, 0x7a11) };
  });
  let left = sampleSize - rows.reduce((sum, row) => sum + row.quota, 0);
  const byRemainder = [...rows].sort((a, b) => (a.remainder === b.remainder ? a.tie - b.tie || a.i - b.i : a.remainder > b.remainder ? -1 : 1));
  for (const row of byRemainder) {
    if (left === 0) break;
    row.quota += 1;
    left -= 1;
  }
  return rows.map((row) => row.quota);
}

/** Floyd's algorithm: `m` distinct offsets in [0, n) with O(m) memory, whatever n is. */
function floydSample(rng: Rng, n: number, m: number): Set<number> {
  const chosen = new Set<number>();
  for (let j = n - m; j < n; j += 1) {
    const t = uniformInt(rng, j + 1);
    chosen.add(chosen.has(t) ? j : t);
  }
  return chosen;
}

/** Uniform integer in [0, n) from 53 random bits: one 32-bit draw is too coarse for ranges above 2^32. */
function uniformInt(rng: Rng, n: number): number {
  const high = Math.floor(rng.next() * 2 ** 21);
  const low = Math.floor(rng.next() * 2 ** 32);
  return Math.floor(((high * 2 ** 32 + low) / 2 ** 53) * n);
}

/** A Wilson score interval for a binomial proportion. */
export interface WilsonInterval {
  /** Observed ratio events/trials, or `null` when there were no trials. */
  ratio: number | null;
  /** Lower bound, in [0, 1]. */
  lower: number;
  /** Upper bound, in [0, 1]. */
  upper: number;
  /** Two-sided confidence level, e.g. 0.95. */
  confidence: number;
  /** Standard normal quantile used, e.g. 1.959964 for 0.95. */
  z: number;
}

/**
 * Wilson score interval for a loss ratio: events = traces lost, trials = traces checked.
 * Unlike the normal approximation it stays inside [0, 1] and is informative at 0 events
 * (0 of 20 at 95% gives [0, 0.1611]). With no trials it is [0, 1] and `ratio` is `null`.
 * The sample is treated as binomial (no finite-population correction), which overstates
 * the width when a large share of the population is checked.
 * @param events losses observed, integer in [0, trials].
 * @param trials traces checked, non-negative integer.
 * @param confidence two-sided level in (0, 1); default 0.95.
 * @throws InternalError `TALLY_INTERNAL` when the counts or the level are invalid (a caller bug).
 * @see Wilson, E. B. (1927), "Probable inference, the law of succession, and statistical inference", JASA 22(158).
 */
export function wilsonInterval(events: number, trials: number, confidence = 0.95): WilsonInterval {
  if (!Number.isSafeInteger(events) || !Number.isSafeInteger(trials) || events < 0 || events > trials) {
    throw new InternalError('Wilson interval needs integer counts with 0 ≤ events ≤ trials', { details: { events, trials } });
  }
  const z = zForConfidence(confidence);
  if (trials === 0) return { ratio: null, lower: 0, upper: 1, confidence, z };
  const p = events / trials;
  const z2 = z * z;
  const denominator = 1 + z2 / trials;
  const centre = (p + z2 / (2 * trials)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials))) / denominator;
  // At the edges the closed form gives 0 and 1 up to rounding; pin them exactly.
  return {
    ratio: p,
    lower: events === 0 ? 0 : Math.max(0, centre - half),
    upper: events === trials ? 1 : Math.min(1, centre + half),
    confidence,
    z,
  };
}

/**
 * Two-sided standard normal quantile: z with P(|Z| ≤ z) = confidence.
 * Acklam's rational approximation of the inverse normal CDF (relative error < 1.2e-9).
 * @throws InternalError `TALLY_INTERNAL` when confidence is not in (0, 1).
 * @see https://web.archive.org/web/20151030215612/http://home.online.no/~pjacklam/notes/invnorm/
 */
export function zForConfidence(confidence: number): number {
  if (!(confidence > 0 && confidence < 1)) {
    throw new InternalError('confidence must be in (0, 1)', { details: { confidence } });
  }
  return inverseNormalCdf((1 + confidence) / 2);
}

const A = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
const B = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
const C = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];

function inverseNormalCdf(p: number): number {
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1);
  }
  if (p > 1 - low) return -inverseNormalCdf(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q)
    / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1);
}
