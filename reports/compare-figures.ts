/**
 * `tally compare`: one row per headline figure of the runs, each judged by its rule
 * (reconcile/compare.ts), and the comparison as one object that the terminal table,
 * `--markdown`, `--json` and JUnit all render. Figures are named as thresholds name them
 * (scenarios/threshold-names.ts), with the aggregation for percentiles (`latency p(99)`).
 */
import { judgeCount, judgeQuantile, judgeSampled, quantileRankInterval, type Better, type CompareOptions, type Judgement, type QuantileEstimate, type Verdict } from '../reconcile/compare.ts';
import { DATAPATH_THRESHOLDS, LOSS_STAGES } from '../scenarios/threshold-names.ts';
import { median, pooledSamples, withMergedHistograms, type CompareRun, type MergedHistograms } from './compare-inputs.ts';
import type { IntervalLine } from './aggregate.ts';
import type { Results } from './results.ts';
import { datapathCount } from './threshold-figures.ts';

/** One figure compared. Values are in `unit`; counts are the count, their shares of volume in `shares`. */
export interface CompareRow extends Judgement {
  figure: string;
  group: 'load' | 'metrics' | 'traces' | 'readback' | 'datapath' | 'generator';
  /** `intervals`: rank test over per-second values; `count`: exact count; `quantile`: confidence intervals; `flag`: generator saturation. */
  method: 'intervals' | 'count' | 'quantile' | 'flag';
  unit: 'us' | 'per_second' | 'count' | 'flag';
  better: Better;
  /** The baseline value (merged histograms, pooled median, or the median baseline count); null without data. */
  baseline: number | null;
  /** With several baselines: the lowest and highest baseline value (counts and flags). */
  baselineRange?: [number, number];
  candidate: number | null;
  /** Intervals in the rank test: all baselines pooled, and the candidate. */
  samples?: { baseline: number; candidate: number };
  /** Exact counts: each baseline's and the candidate's share of its volume (what the verdict compares). */
  shares?: { baseline: number[]; candidate: number };
}

/** The comparison of a candidate run with one or more baselines. */
export interface Comparison {
  schemaVersion: 1;
  baselines: RunRef[];
  candidate: RunRef;
  options: CompareOptions;
  rows: CompareRow[];
  counts: Record<Verdict, number>;
  /** True when any row regressed (`tally compare` then exits with its regression code). */
  regressed: boolean;
  /** What makes the comparison weaker: different scenarios, incomplete runs, figures some runs lack. */
  warnings: string[];
}

/** Which run a comparison names. */
export interface RunRef {
  dir: string;
  runId: string;
  scenario: string;
  complete: boolean;
  saturated: boolean;
}

type Load = NonNullable<IntervalLine['load']>;
const DISTRIBUTIONS: readonly [string, string, (l: Load) => { p50: number; p99: number } | undefined][] = [
  ['latency', 'latencyUs', (l) => l.latencyUs],
  ['service', 'serviceUs', (l) => l.serviceUs],
  ['connect', 'connectUs', (l) => l.connectUs],
  ['ttfb', 'ttfbUs', (l) => l.ttfbUs],
];
/**
 * Namespace-wide TCP counters that ordinary traffic moves (a refused connect elsewhere on the
 * host, a reset, a retransmitted segment): thresholds may name them, compare does not judge them.
 */
const NOT_COMPARED = new Set(['tcp_attempt_fails', 'tcp_estab_resets', 'tcp_retransmits']);
const STAGE_FIELDS: Readonly<Record<string, string>> = { rejected: 'rejected', failed_export: 'failedExport', dropped_by_queue: 'droppedByQueue', unsettled: 'unsettled', lost_after_ack: 'lostAfterAck' };

/** An exact count of a run and the volume it is a share of (undefined: not measured). */
type Counted = (r: Results) => { count: number; volume?: number } | undefined;

function countRow(figure: string, group: CompareRow['group'], baselines: readonly CompareRun[], candidate: CompareRun, of: Counted, options: CompareOptions): CompareRow {
  const share = (c: { count: number; volume?: number } | undefined): number | undefined => (c === undefined ? undefined : c.volume === undefined ? c.count : c.volume > 0 ? c.count / c.volume : c.count === 0 ? 0 : undefined);
  const b = baselines.map((r) => of(r.results));
  const c = of(candidate.results);
  const bShares = b.map(share);
  const judgement = judgeCount({ baselines: bShares, candidate: share(c) }, options);
  const counts = b.filter((x) => x !== undefined).map((x) => x!.count);
  const row: CompareRow = { figure, group, method: 'count', unit: 'count', better: 'lower', baseline: median(counts) ?? null, candidate: c?.count ?? null, ...judgement };
  if (counts.length > 1) row.baselineRange = [Math.min(...counts), Math.max(...counts)];
  if (bShares.every((s) => s !== undefined) && share(c) !== undefined) row.shares = { baseline: bShares as number[], candidate: share(c)! };
  return row;
}

function distributionRows(baselines: readonly CompareRun[], candidate: CompareRun, saturated: boolean, mb: MergedHistograms, mc: MergedHistograms, options: CompareOptions): CompareRow[] {
  const rows: CompareRow[] = [];
  for (const [name, histogram, pick] of DISTRIBUTIONS) {
    for (const [p, key] of [[50, 'p50'], [99, 'p99']] as const) {
      const value = (m: MergedHistograms): number | undefined => m.percentile(histogram, p);
      const bs = pooledSamples(baselines, (l) => pick(l)?.[key]);
      const cs = pooledSamples([candidate], (l) => pick(l)?.[key]);
      const baselineRuns = baselines.map((r) => r.results.summary.load[histogram]?.[key] as number);
      const judgement = judgeSampled({ baseline: value(mb), candidate: value(mc), baselineSamples: bs, candidateSamples: cs, better: 'lower', saturated, baselineRuns, durationUs: true }, options);
      rows.push({ figure: `${name} p(${p})`, group: 'load', method: 'intervals', unit: 'us', better: 'lower', baseline: value(mb) ?? null, candidate: value(mc) ?? null, samples: { baseline: bs.length, candidate: cs.length }, ...judgement });
    }
  }
  const bs = pooledSamples(baselines, (l) => l.achievedRatePerSecond);
  const cs = pooledSamples([candidate], (l) => l.achievedRatePerSecond);
  const baselineRuns = baselines.map((r) => median(pooledSamples([r], (l) => l.achievedRatePerSecond))).filter((v): v is number => v !== undefined);
  const rate = judgeSampled({ baseline: median(bs), candidate: median(cs), baselineSamples: bs, candidateSamples: cs, better: 'higher', saturated, baselineRuns }, options);
  rows.push({ figure: 'achieved_rate', group: 'load', method: 'intervals', unit: 'per_second', better: 'higher', baseline: median(bs) ?? null, candidate: median(cs) ?? null, samples: { baseline: bs.length, candidate: cs.length }, ...rate });
  return rows;
}

function loadCountRows(baselines: readonly CompareRun[], candidate: CompareRun, options: CompareOptions): CompareRow[] {
  const all = [...baselines, candidate];
  const rows = [countRow('errors', 'load', baselines, candidate, (r) => ({ count: r.summary.load.requests - r.summary.load.ok, volume: r.summary.load.requests }), options)];
  const classes = [...new Set(all.flatMap((r) => Object.keys(r.results.summary.load.errors.byClass)))].sort();
  for (const c of classes) rows.push(countRow(`errors{class:${c}}`, 'load', baselines, candidate, (r) => ({ count: r.summary.load.errors.byClass[c] ?? 0, volume: r.summary.load.requests }), options));
  rows.push(countRow('dropped_iterations', 'load', baselines, candidate, (r) => ({ count: r.summary.load.droppedIterations, volume: (r.summary.load.iterationsStarted ?? 0) + r.summary.load.droppedIterations }), options));
  rows.push(countRow('syn_retransmit_signature', 'load', baselines, candidate, (r) => ({ count: r.summary.load.synRetransmit?.corroborated ?? r.summary.load.synRetransmit?.connections ?? 0, volume: r.summary.load.newConnections }), options));
  return rows;
}

function telemetryRows(baselines: readonly CompareRun[], candidate: CompareRun, options: CompareOptions): CompareRow[] {
  const all = [...baselines, candidate];
  const rows: CompareRow[] = [];
  if (all.every((r) => r.results.summary.metrics !== undefined)) {
    const m = (r: Results, count: (x: Results) => number): { count: number; volume: number } | undefined => (r.summary.metrics.reconciled === false ? undefined : { count: count(r.summary.metrics), volume: r.summary.metrics.pointsSent });
    rows.push(countRow('otlp_loss', 'metrics', baselines, candidate, (r) => m(r, (x) => x.pointsMissing ?? 0), options));
    for (const s of LOSS_STAGES) {
      const field = STAGE_FIELDS[s];
      if (!all.some((r) => (r.results.summary.metrics.missingByExportStage?.[field] ?? 0) > 0)) continue;
      rows.push(countRow(`otlp_loss{stage:${s}}`, 'metrics', baselines, candidate, (r) => m(r, (x) => x.missingByExportStage?.[field] ?? 0), options));
    }
    rows.push(countRow('otlp_duplicates', 'metrics', baselines, candidate, (r) => m(r, (x) => x.duplicatePoints ?? 0), options));
    rows.push(countRow('otlp_value_mismatches', 'metrics', baselines, candidate, (r) => m(r, (x) => x.valueMismatches ?? 0), options));
    rows.push(countRow('otlp_unexpected', 'metrics', baselines, candidate, (r) => m(r, (x) => x.unexpectedPoints ?? 0), options));
  }
  if (all.every((r) => r.results.summary.traces !== undefined)) {
    const t = (r: Results, count: (x: Results) => number, volume: (x: Results) => number): { count: number; volume: number } | undefined => (r.summary.traces.reconciled ? { count: count(r.summary.traces), volume: volume(r.summary.traces) } : undefined);
    rows.push(countRow('span_loss', 'traces', baselines, candidate, (r) => t(r, (x) => x.spansMissing, (x) => x.spansSent), options));
    rows.push(countRow('trace_loss', 'traces', baselines, candidate, (r) => t(r, (x) => x.tracesMissing, (x) => x.tracesSent), options));
  }
  return rows;
}

/** The q-quantile of a merged histogram with its 95 % distribution-free confidence interval. */
function quantileOf(m: MergedHistograms, name: string, q: number): QuantileEstimate | undefined {
  const n = m.count(name);
  const value = m.percentile(name, q * 100);
  if (n === 0 || value === undefined) return undefined;
  const { lowPercentile, highPercentile } = quantileRankInterval(n, q);
  return { value, low: m.percentile(name, lowPercentile) ?? value, high: m.percentile(name, highPercentile) ?? value };
}

function readbackRows(mb: MergedHistograms, mc: MergedHistograms, options: CompareOptions): CompareRow[] {
  return [0.5, 0.99].map((q) => {
    const b = quantileOf(mb, 'visibilityLagUs', q);
    const c = quantileOf(mc, 'visibilityLagUs', q);
    return { figure: `visibility_lag p(${q * 100})`, group: 'readback', method: 'quantile', unit: 'us', better: 'lower', baseline: b?.value ?? null, candidate: c?.value ?? null, ...judgeQuantile({ baseline: b, candidate: c, better: 'lower', durationUs: true }, options) };
  });
}

function refOf(run: CompareRun): RunRef {
  const r = run.results;
  return { dir: run.dir, runId: r.run.id, scenario: r.run.scenario, complete: r.complete, saturated: r.generator.saturated };
}

function warningsOf(baselines: readonly CompareRun[], candidate: CompareRun): string[] {
  const all = [...baselines, candidate];
  const warnings: string[] = [];
  const scenarios = new Set(all.map((r) => r.results.run.scenario));
  if (scenarios.size > 1) warnings.push(`the runs are of different scenarios (${[...scenarios].join(', ')})`);
  for (const r of all) if (!r.results.complete) warnings.push(`${r.results.run.id} is incomplete (${r.results.incompleteReason ?? 'unknown'})`);
  const steady = baselines.some((r) => !r.results.generator.saturated);
  for (const r of all) {
    if (!r.results.generator.saturated) continue;
    const leftOut = r !== candidate && steady;
    warnings.push(`${r.results.run.id}: the generator was saturated (${r.results.generator.reasons.join('; ')}): ${leftOut ? 'left out of the latency and rate verdicts' : 'latency and rate verdicts are inconclusive'}`);
  }
  for (const part of ['load', 'metrics', 'traces'] as const) {
    const has = all.filter((r) => r.results.summary[part] !== undefined).length;
    if (has > 0 && has < all.length) warnings.push(`only ${has} of ${all.length} runs have ${part}: its figures are not compared`);
  }
  if (all.some((r) => r.results.datapath?.source === 'self')) warnings.push("datapath counters were read in the generator's own network namespace: other traffic on this host counts in them too");
  for (const r of all) if (r.results.summary.load !== undefined && r.results.histograms === undefined) warnings.push(`${r.results.run.id} has no histograms in results.json (written by an older tally): its percentiles are not compared`);
  return warnings;
}

/**
 * Compare a candidate run with baselines (e.g. the last nights' runs).
 * @returns every row judged, the verdict counts and whether anything regressed.
 */
export function compareRuns(baselines: readonly CompareRun[], candidate: CompareRun, options: CompareOptions): Comparison {
  const all = [...baselines, candidate];
  // Latency and rate: a saturated baseline is left out while steady ones remain; a saturated candidate (or no steady baseline) makes them inconclusive.
  const steady = baselines.filter((r) => !r.results.generator.saturated);
  const timing = steady.length > 0 ? steady : baselines;
  const saturated = candidate.results.generator.saturated || steady.length === 0;
  const rows = withMergedHistograms(timing, (mb) =>
    withMergedHistograms([candidate], (mc) => {
      const out: CompareRow[] = [];
      if (all.every((r) => r.results.summary.load !== undefined)) out.push(...distributionRows(timing, candidate, saturated, mb, mc, options), ...loadCountRows(baselines, candidate, options));
      out.push(...telemetryRows(baselines, candidate, options));
      if (all.every((r) => r.results.readback?.visibility !== undefined)) out.push(...withMergedHistograms(baselines, (all) => readbackRows(all, mc, options)));
      return out;
    }),
  );
  if (all.every((r) => r.results.datapath !== undefined)) {
    const volume = (r: Results): number | undefined => r.summary.load?.newConnections;
    for (const d of DATAPATH_THRESHOLDS.filter((x) => !NOT_COMPARED.has(x.name))) {
      rows.push(countRow(d.name, 'datapath', baselines, candidate, (r) => {
        const n = datapathCount(r, d.key);
        return n === undefined ? undefined : { count: n, volume: volume(r) };
      }, options));
    }
  }
  const flags = baselines.map((r) => (r.results.generator.saturated ? 1 : 0));
  const flagRow: CompareRow = { figure: 'generator_saturated', group: 'generator', method: 'flag', unit: 'flag', better: 'lower', baseline: Math.max(...flags), candidate: candidate.results.generator.saturated ? 1 : 0, ...(saturated ? { verdict: 'inconclusive', reason: 'generator_saturated', changeRatio: null } : { verdict: 'unchanged', reason: 'not_saturated', changeRatio: 0 }) };
  if (flags.length > 1) flagRow.baselineRange = [Math.min(...flags), Math.max(...flags)];
  rows.push(flagRow);
  const counts: Record<Verdict, number> = { improved: 0, regressed: 0, unchanged: 0, inconclusive: 0 };
  for (const r of rows) counts[r.verdict]++;
  return { schemaVersion: 1, baselines: baselines.map(refOf), candidate: refOf(candidate), options: { ...options }, rows, counts, regressed: counts.regressed > 0, warnings: warningsOf(baselines, candidate) };
}
