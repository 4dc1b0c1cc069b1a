/**
 * Noise-aware verdicts for `tally compare`: is the candidate run improved, regressed,
 * unchanged, or can the data not tell (inconclusive)? One rule per kind of figure:
 *
 * - **Sampled figures** (latency percentiles, achieved rate): the headline values (merged
 *   HDR histograms, or the median of the per-second values) must differ by at least the
 *   minimum effect (relative, and for durations also absolute: the host's timing noise
 *   floor); with several baselines the candidate must also clear every baseline run's
 *   own value by the minimum effect (their spread is the run-to-run noise, which pooled
 *   intervals understate); and the per-interval samples of the two sides must differ by a
 *   two-sided Mann-Whitney U test at `alpha` in the same direction, as google/benchmark's
 *   compare.py judges repetitions. Too few intervals for the test to ever reach `alpha`
 *   is inconclusive. With a single baseline, a shift of a whole run (another job on the
 *   host) cannot be told from a change: compare with several baselines where it matters.
 * - **Exact counts** (loss, duplicates, errors, datapath drops), as shares of their volume
 *   where they have one: any rise from zero regresses; from a non-zero baseline, a rise
 *   beyond the highest baseline by more than the tolerance. Falls mirror this as improved.
 * - **Quantiles without per-interval samples** (visibility lag): the minimum effect and
 *   disjoint distribution-free confidence intervals of the quantile.
 * - A saturated generator in any of the runs makes latency and rate verdicts inconclusive,
 *   never regressed: the generator, not the system under test, may have set them.
 *
 * Pure. Verdict reasons are codes (`below_min_effect`, `significant`, …), for tests and JSON.
 *
 * @see https://github.com/google/benchmark/blob/main/docs/tools.md (U test in compare.py)
 */
import { mannWhitneyU } from './mann-whitney.ts';

/** A figure's verdict. */
export type Verdict = 'improved' | 'regressed' | 'unchanged' | 'inconclusive';

/** Which way is better for a figure. */
export type Better = 'lower' | 'higher';

/** Why a verdict was given. */
export type VerdictReason =
  | 'generator_saturated'
  | 'no_data'
  | 'below_min_effect'
  | 'within_baseline_runs'
  | 'too_few_intervals'
  | 'not_significant'
  | 'direction_disagrees'
  | 'significant'
  | 'rose_from_zero'
  | 'above_baseline'
  | 'fell_to_zero'
  | 'below_baseline'
  | 'within_tolerance'
  | 'within_baseline'
  | 'ci_overlap'
  | 'ci_disjoint'
  | 'not_saturated';

/** The knobs of the rules. */
export interface CompareOptions {
  /** Significance level of the rank test (compare.py's default: 0.05). */
  alpha: number;
  /** Smallest relative change of a sampled figure that counts (0.1 = 10 %). */
  minEffectRatio: number;
  /**
   * Smallest absolute change of a duration that counts (µs): the timing noise floor of a
   * generator on a busy host, where a 150 µs loopback connect moves by tens of µs from run
   * to run whatever the code does. The larger of the two minimums applies.
   */
  minEffectUs: number;
  /** Relative rise of a non-zero exact count (as a share of its volume) that is still unchanged. */
  countToleranceRatio: number;
}

/** Defaults of {@link CompareOptions}. */
export const DEFAULT_COMPARE_OPTIONS: Readonly<CompareOptions> = { alpha: 0.05, minEffectRatio: 0.1, minEffectUs: 50, countToleranceRatio: 0.1 };

/** A verdict with its reason and the numbers behind it. */
export interface Judgement {
  verdict: Verdict;
  reason: VerdictReason;
  /** (candidate − baseline) / baseline; null when the baseline is 0 and the candidate is not. */
  changeRatio: number | null;
  /** The rank test's two-sided p-value, when it ran. */
  pValue?: number;
}

/** Relative change; 0 when both are 0, null when only the baseline is 0. */
export function changeRatio(baseline: number, candidate: number): number | null {
  if (baseline === 0) return candidate === 0 ? 0 : null;
  return (candidate - baseline) / Math.abs(baseline);
}

/** Whether the change from b to c is below both minimum effects (relative, and absolute for durations). */
function belowMinEffect(b: number, c: number, durationUs: boolean, options: CompareOptions): boolean {
  return Math.abs(c - b) < Math.max(options.minEffectRatio * Math.abs(b), durationUs ? options.minEffectUs : 0);
}

function worse(better: Better, up: boolean): boolean {
  return better === 'lower' ? up : !up;
}

/** Inputs of {@link judgeSampled}. */
export interface SampledInput {
  /** Headline values (e.g. the merged histograms' p99, in µs; the median per-second rate). */
  baseline: number | undefined;
  candidate: number | undefined;
  /** The same figure per interval: every baseline run's intervals pooled, and the candidate's. */
  baselineSamples: readonly number[];
  candidateSamples: readonly number[];
  better: Better;
  /** Whether any of the runs had a saturated generator. */
  saturated: boolean;
  /** True for durations in µs, to which {@link CompareOptions.minEffectUs} applies. */
  durationUs?: boolean;
  /**
   * Each baseline run's own headline value, when there are several: the candidate must clear
   * all of them by the minimum effect, since pooled intervals alone understate how much
   * whole runs differ (the machine, the night).
   */
  baselineRuns?: readonly number[];
}

/** Verdict on a figure with per-interval samples: minimum effect on the headline values, then the U test on the samples. */
export function judgeSampled(input: SampledInput, options: CompareOptions = DEFAULT_COMPARE_OPTIONS): Judgement {
  const { baseline: b, candidate: c } = input;
  if (b === undefined || c === undefined) return { verdict: 'inconclusive', reason: 'no_data', changeRatio: null };
  const change = changeRatio(b, c);
  if (input.saturated) return { verdict: 'inconclusive', reason: 'generator_saturated', changeRatio: change };
  if (belowMinEffect(b, c, input.durationUs === true, options)) return { verdict: 'unchanged', reason: 'below_min_effect', changeRatio: change };
  // With several baselines, their spread is the run-to-run noise: the candidate must clear the nearest baseline run by the minimum effect.
  const runs = input.baselineRuns ?? [];
  const edge = c > b ? Math.max(...runs) : Math.min(...runs);
  if (runs.length > 1 && ((c > b ? c <= edge : c >= edge) || belowMinEffect(edge, c, input.durationUs === true, options))) {
    return { verdict: 'unchanged', reason: 'within_baseline_runs', changeRatio: change };
  }
  if (input.baselineSamples.length < 2 || input.candidateSamples.length < 2) return { verdict: 'inconclusive', reason: 'too_few_intervals', changeRatio: change };
  const u = mannWhitneyU(input.candidateSamples, input.baselineSamples);
  if (u.minPValue >= options.alpha) return { verdict: 'inconclusive', reason: 'too_few_intervals', changeRatio: change, pValue: u.pValue };
  if (u.pValue >= options.alpha) return { verdict: 'unchanged', reason: 'not_significant', changeRatio: change, pValue: u.pValue };
  const up = u.probabilityFirstGreater > 0.5;
  if (up !== c > b) return { verdict: 'inconclusive', reason: 'direction_disagrees', changeRatio: change, pValue: u.pValue };
  return { verdict: worse(input.better, up) ? 'regressed' : 'improved', reason: 'significant', changeRatio: change, pValue: u.pValue };
}

/** Inputs of {@link judgeCount}: each run's count as a share of its volume (or the count, without one). */
export interface CountInput {
  baselines: readonly (number | undefined)[];
  candidate: number | undefined;
}

/** Verdict on an exact count (lower is better): a rise from zero, or beyond the highest baseline by more than the tolerance, regresses. */
export function judgeCount(input: CountInput, options: CompareOptions = DEFAULT_COMPARE_OPTIONS): Judgement {
  const c = input.candidate;
  if (c === undefined || input.baselines.length === 0 || input.baselines.some((b) => b === undefined)) return { verdict: 'inconclusive', reason: 'no_data', changeRatio: null };
  const bs = input.baselines as number[];
  const hi = Math.max(...bs);
  const lo = Math.min(...bs);
  const tol = options.countToleranceRatio;
  if (c > hi) {
    if (hi === 0) return { verdict: 'regressed', reason: 'rose_from_zero', changeRatio: null };
    const change = changeRatio(hi, c);
    return c > hi * (1 + tol) ? { verdict: 'regressed', reason: 'above_baseline', changeRatio: change } : { verdict: 'unchanged', reason: 'within_tolerance', changeRatio: change };
  }
  if (c < lo) {
    const change = changeRatio(lo, c);
    if (c === 0) return { verdict: 'improved', reason: 'fell_to_zero', changeRatio: change };
    return c < lo * (1 - tol) ? { verdict: 'improved', reason: 'below_baseline', changeRatio: change } : { verdict: 'unchanged', reason: 'within_tolerance', changeRatio: change };
  }
  return { verdict: 'unchanged', reason: 'within_baseline', changeRatio: 0 };
}

/** A quantile with its confidence interval (same unit). */
export interface QuantileEstimate {
  value: number;
  low: number;
  high: number;
}

/** Verdict on a quantile without per-interval samples: minimum effect, then disjoint confidence intervals. */
export function judgeQuantile(input: { baseline: QuantileEstimate | undefined; candidate: QuantileEstimate | undefined; better: Better; durationUs?: boolean }, options: CompareOptions = DEFAULT_COMPARE_OPTIONS): Judgement {
  const { baseline: b, candidate: c } = input;
  if (b === undefined || c === undefined) return { verdict: 'inconclusive', reason: 'no_data', changeRatio: null };
  const change = changeRatio(b.value, c.value);
  if (belowMinEffect(b.value, c.value, input.durationUs === true, options)) return { verdict: 'unchanged', reason: 'below_min_effect', changeRatio: change };
  const up = c.low > b.high;
  if (!up && !(c.high < b.low)) return { verdict: 'unchanged', reason: 'ci_overlap', changeRatio: change };
  return { verdict: worse(input.better, up) ? 'regressed' : 'improved', reason: 'ci_disjoint', changeRatio: change };
}

/**
 * Ranks of the distribution-free confidence interval of the q-quantile of n samples
 * (normal approximation of the binomial: n·q ± z·√(n·q·(1−q))), as percentiles 0..100.
 * @param z the normal quantile of the confidence (1.96 for 95 %).
 */
export function quantileRankInterval(n: number, q: number, z = 1.96): { lowPercentile: number; highPercentile: number } {
  const half = z * Math.sqrt(n * q * (1 - q));
  const clamp = (k: number): number => (100 * Math.min(n, Math.max(0, k))) / n;
  return { lowPercentile: clamp(Math.floor(n * q - half)), highPercentile: clamp(Math.ceil(n * q + half)) };
}
