/**
 * The results input of a whole sharded run from its shards' shard.json records
 * (`tally merge`): counters are summed, HDR histograms merged bucket by bucket, ledger
 * totals and reconciliations added up, and the whole run's figures (rates, percentiles,
 * findings, saturation) are then derived by the same code a run uses (reports/results.ts
 * buildResults), on the whole run's plan. Pure.
 */
import { sumCounts } from '../core/counts.ts';
import { decodeHistogram, percentilesUs } from '../core/histogram.ts';
import { LOAD_HISTOGRAMS, type LoadHistogramName } from '../core/messages.ts';
import type { LedgerTotals } from '../ledger/ledger.ts';
import { mergeRefusals } from '../ledger/refusals.ts';
import type { SpanLedgerTotals } from '../ledger/span-ledger.ts';
import { mergeDeltaOffsets, mergeReconciliations, mergeTraceReconciliations } from '../reconcile/merge.ts';
import type { Plan } from '../scenarios/plan.ts';
import type { Scenario } from '../scenarios/types.ts';
import { addEncodedExporterTotals, exporterTotalsOfEncoded, type EncodedExporterTotals } from './exporter-aggregate.ts';
import type { ConnectCliff } from './connect-cliff.ts';
import { mergeDatapath, mergeEncodedHistograms, mergeGenerator, mergeHistogramMaps, sumLoadCounts } from './merge-parts.ts';
import type { MergeSummary, ResultsInput } from './results.ts';
import type { ShardRecord } from './shard-record.ts';
import type { TelemetryResultsInput } from './telemetry-results.ts';

/** What {@link mergeShardInputs} needs besides the records. */
export interface MergeInputs {
  scenario: Scenario;
  /** The whole run's plan (planRun with `{ count }`). */
  plan: Plan;
  /** The shards' records, one per shard present. */
  records: readonly ShardRecord[];
  merge: MergeSummary;
  /** The union of the shards' ledgers (ledger/ledger-merge.ts), when they sent metrics. */
  ledgerTotals?: LedgerTotals;
  /** Peaks of the per-interval sums over shards (from the merged interval lines). */
  peaks: { maxInFlight: number; vusActiveMax: number };
}

const defined = <T>(values: readonly (T | undefined)[]): T[] => values.filter((v): v is T => v !== undefined);

/** All of them, or none: a figure merged from some shards only would not be the run's. */
function allOrNone<T>(values: readonly (T | undefined)[]): T[] | undefined {
  const present = defined(values);
  return present.length === values.length && present.length > 0 ? present : undefined;
}

function percentilesOf(encoded: string): ReturnType<typeof percentilesUs> {
  const h = decodeHistogram(encoded);
  try {
    return percentilesUs(h);
  } finally {
    h.destroy();
  }
}

function mergeLoad(o: MergeInputs, histograms: Record<string, string> | undefined): ResultsInput['load'] {
  const loads = defined(o.records.map((r) => r.input.load));
  if (loads.length === 0) return undefined;
  const counts = sumLoadCounts(loads);
  counts.maxInFlight = o.peaks.maxInFlight;
  counts.vusActiveMax = o.peaks.vusActiveMax;
  const h = Object.fromEntries(LOAD_HISTOGRAMS.map((n) => [n, percentilesOf(histograms?.[n] ?? mergeEncodedHistograms([]))])) as Record<LoadHistogramName, ReturnType<typeof percentilesUs>>;
  return { ...counts, histograms: h };
}

function mergeExporter(parts: readonly (EncodedExporterTotals | undefined)[]): ReturnType<typeof exporterTotalsOfEncoded> | undefined {
  let total: EncodedExporterTotals | undefined;
  for (const p of defined(parts)) total = addEncodedExporterTotals(total, p);
  return total === undefined ? undefined : exporterTotalsOfEncoded(total);
}

function mergeTelemetry(o: MergeInputs): TelemetryResultsInput | undefined {
  const parts = defined(o.records.map((r) => r.input.telemetry));
  if (parts.length === 0) return undefined;
  const out: TelemetryResultsInput = { protocol: parts[0].protocol, compression: parts[0].compression };
  const metrics = defined(parts.map((p) => p.metrics));
  if (metrics.length > 0) {
    const latency = defined(o.records.map((r) => r.encoded.exportLatencyUs));
    out.metrics = {
      pointsPlanned: o.plan.telemetry?.pointsPlanned ?? 0,
      ledger: o.ledgerTotals ?? sumCounts<LedgerTotals>(metrics.map((m) => m.ledger)),
      ...(latency.length > 0 ? { exportLatencyUs: percentilesOf(mergeEncodedHistograms(latency)) } : {}),
    };
    const reconciliation = allOrNone(metrics.map((m) => m.reconciliation));
    if (reconciliation) out.metrics.reconciliation = mergeReconciliations(reconciliation);
    const offsets = allOrNone(metrics.map((m) => m.deltaOffsets));
    if (offsets) out.metrics.deltaOffsets = mergeDeltaOffsets(offsets);
    const refusals = mergeRefusals(defined(metrics.map((m) => m.refusals)));
    if (refusals) out.metrics.refusals = refusals;
    const exporter = mergeExporter(o.records.map((r) => r.encoded.exporters?.metrics));
    if (exporter) out.metrics.exporter = exporter;
  }
  const traces = defined(parts.map((p) => p.traces));
  if (traces.length > 0) {
    out.traces = { tracesPlanned: o.plan.traces?.traceCount ?? 0, ledger: sumCounts<SpanLedgerTotals>(traces.map((t) => t.ledger)) };
    const reconciliation = allOrNone(traces.map((t) => t.reconciliation));
    if (reconciliation) out.traces.reconciliation = mergeTraceReconciliations(reconciliation);
    const refusals = mergeRefusals(defined(traces.map((t) => t.refusals)));
    if (refusals) out.traces.refusals = refusals;
    const exporter = mergeExporter(o.records.map((r) => r.encoded.exporters?.traces));
    if (exporter) out.traces.exporter = exporter;
  }
  const refusedDelta = defined(parts.map((p) => p.requestsRefusedDelta));
  if (refusedDelta.length > 0) out.requestsRefusedDelta = refusedDelta.reduce((a, n) => a + n, 0);
  return out;
}

/** Warnings of every shard, each once. */
function mergeWarnings(o: MergeInputs): ResultsInput['warnings'] {
  const seen = new Map<string, ResultsInput['warnings'][number]>();
  for (const w of o.records.flatMap((r) => r.input.warnings)) seen.set(`${w.pointer}\u0000${w.message}`, w);
  return [...seen.values()];
}

/** `{ [key]: value }`, or nothing when the value is undefined. */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/**
 * The connect cliffs the shards detected, as one: the first to reach it (every shard's
 * host is its own), its worst interval mean the worst of all; intervals are the most any
 * shard had (the shards' seconds are the same seconds, not added up).
 */
export function mergeConnectCliffs(cliffs: readonly ConnectCliff[]): ConnectCliff | undefined {
  if (cliffs.length === 0) return undefined;
  const first = cliffs.reduce((a, c) => (c.firstEndMs < a.firstEndMs ? c : a));
  return { ...first, intervals: Math.max(...cliffs.map((c) => c.intervals)), worstMeanUs: Math.max(...cliffs.map((c) => c.worstMeanUs)) };
}

/**
 * The whole run's results input.
 * @returns an input for reports/results.ts buildResults: complete only when every shard
 * is present and complete.
 */
export function mergeShardInputs(o: MergeInputs): ResultsInput {
  const inputs = o.records.map((r) => r.input);
  const complete = o.merge.incompleteShards.length === 0 && inputs.every((i) => i.complete);
  const histogramMaps = defined(inputs.map((i) => i.histograms));
  const histograms = histogramMaps.length > 0 ? mergeHistogramMaps(histogramMaps) : undefined;
  const budgets = defined(inputs.map((i) => i.portBudget));
  const ended = defined(inputs.map((i) => i.endedAtMs));
  const receivers = defined(inputs.map((i) => i.receiver));
  const targets = defined(inputs.map((i) => i.target));
  const input: ResultsInput = {
    scenario: o.scenario,
    plan: o.plan,
    complete,
    ...(complete ? {} : { incompleteReason: `shards incomplete: ${o.merge.incompleteShards.join(', ')}` }),
    elapsedMs: Math.max(0, ...inputs.map((i) => i.elapsedMs)),
    ...(ended.length > 0 ? { endedAtMs: Math.max(...ended) } : {}),
    load: mergeLoad(o, histograms),
    telemetry: mergeTelemetry(o),
    ...mergeGenerator(inputs),
    synSchedule: inputs.find((i) => i.synSchedule !== undefined)?.synSchedule,
    // The tightest host: a shard whose budget does not hold, else the first.
    portBudget: budgets.find((b) => 'ok' in b && b.ok === false) ?? budgets[0],
    datapath: mergeDatapath(defined(inputs.map((i) => i.datapath))),
    ...optional('socketCounters', mergeDatapath(defined(inputs.map((i) => i.socketCounters)))),
    ...optional('connectCliff', mergeConnectCliffs(defined(inputs.map((i) => i.connectCliff)))),
    ...(receivers.length > 0 ? { receiver: sumCounts(receivers) } : {}),
    ...(targets.length > 0 ? { target: sumCounts(targets) } : {}),
    ...(histograms === undefined ? {} : { histograms }),
    merge: o.merge,
    warnings: mergeWarnings(o),
    nodeVersion: inputs[0]?.nodeVersion ?? '',
    tallyVersion: inputs[0]?.tallyVersion ?? '',
  };
  return input;
}

