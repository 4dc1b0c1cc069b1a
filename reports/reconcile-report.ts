/**
 * The report `tally reconcile` writes (`reconcile-<timestamp>.json`): built from the
 * parts (pure), validated against `reconcile.schema.json` before it is written.
 */
import { createRequire } from 'node:module';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { ReconcileError } from '../core/errors.ts';
import type { MissingByStage, Reconciliation } from '../reconcile/points.ts';
import { POINT_ACKNOWLEDGED, POINT_DROPPED, POINT_FAILED, POINT_PARTIAL, POINT_UNSENT, type MetricsLedger } from '../ledger/ledger.ts';
import type { ReadbackSpace } from '../readback/prometheus/space.ts';
import type { ReadbackReport, ReadbackStore } from '../readback/prometheus/store.ts';
import type { TraceSampleVerification } from '../readback/traces/verify.ts';

const require = createRequire(import.meta.url);
/** The reconcile report JSON Schema (draft 2020-12). */
export const reconcileSchema = require('./reconcile.schema.json') as Record<string, unknown>;

/** One series with sent points the read-back did not find, and the ledger's state of each such tick. */
export interface MissingSeriesEntry {
  metric: string;
  metricIndex: number;
  series: number;
  labels: Record<string, string>;
  ticks: { tick: number; ledgerState: 'acknowledged' | 'partial' | 'failed' | 'dropped' | 'unsettled' }[];
}

/** Everything the report is built from. */
export interface ReconcileReportInput {
  runId: string;
  runDir: string;
  reconciledAtMs: number;
  backend: { name: 'prometheus'; url: string; version: string };
  runLabel: { name: string; value: string };
  ticks: number;
  exportIntervalMs: number;
  startEpochMs: number;
  reconciliation: Reconciliation;
  readback: ReadbackReport;
  missing: { series: MissingSeriesEntry[]; seriesWithMissing: number; listedLimit: number };
  /** API requests, retries included. */
  queries: number;
  seconds: number;
  tempo?: TraceSampleReport;
  jaeger?: TraceSampleReport;
}

/** A trace backend's sample verification as the report carries it. */
export type TraceSampleReport = TraceSampleVerification & { url: string; version: string | null; generation: string; tracesPlanned: number };

/** The report (see reconcile.schema.json). */
export interface ReconcileReport {
  schemaVersion: 1;
  runId: string;
  runDir: string;
  reconciledAt: string;
  reconciledAtMs: number;
  backend: { name: 'prometheus'; url: string; version: string };
  runLabel: { name: string; value: string };
  window: { startedAt: string; ticks: number; exportIntervalMs: number };
  pointsSent: number;
  pointsRead: number;
  pointsMissing: number;
  lossRatio: number;
  seriesMissing: number;
  duplicatePoints: number;
  valueMismatches: number;
  unexpectedPoints: number;
  missingByStage: MissingByStage;
  missing: { seriesWithMissing: number; listedLimit: number; truncated: boolean; series: MissingSeriesEntry[] };
  readback: ReadbackReport;
  queries: number;
  seconds: number;
  tempo?: TraceSampleReport;
  jaeger?: TraceSampleReport;
}

/** The report of a run that sent traces and no metrics: the trace sample only (see reconcile.schema.json). */
export interface TracesReconcileReport {
  schemaVersion: 1;
  runId: string;
  runDir: string;
  reconciledAt: string;
  reconciledAtMs: number;
  window: { startedAt: string; ticks: number; exportIntervalMs: number };
  seconds: number;
  tempo?: TraceSampleReport;
  jaeger?: TraceSampleReport;
}

/** Build the report. Pure. */
export function buildReconcileReport(input: ReconcileReportInput): ReconcileReport {
  const r = input.reconciliation;
  const report: ReconcileReport = {
    schemaVersion: 1,
    runId: input.runId,
    runDir: input.runDir,
    reconciledAt: new Date(input.reconciledAtMs).toISOString(),
    reconciledAtMs: input.reconciledAtMs,
    backend: input.backend,
    runLabel: input.runLabel,
    window: { startedAt: new Date(input.startEpochMs).toISOString(), ticks: input.ticks, exportIntervalMs: input.exportIntervalMs },
    pointsSent: r.pointsSent,
    pointsRead: r.pointsReceived,
    pointsMissing: r.pointsMissing,
    lossRatio: r.lossRatio,
    seriesMissing: r.seriesMissing,
    duplicatePoints: r.duplicatePoints,
    valueMismatches: r.valueMismatches,
    unexpectedPoints: r.unexpectedPoints,
    missingByStage: { ...r.missingByExportStage },
    missing: {
      seriesWithMissing: input.missing.seriesWithMissing,
      listedLimit: input.missing.listedLimit,
      truncated: input.missing.seriesWithMissing > input.missing.series.length,
      series: input.missing.series,
    },
    readback: input.readback,
    queries: input.queries,
    seconds: Math.round(input.seconds * 1000) / 1000,
  };
  if (input.tempo) report.tempo = input.tempo;
  if (input.jaeger) report.jaeger = input.jaeger;
  return report;
}

/** Build the report of a traces-only run. Pure. */
export function buildTracesReconcileReport(input: {
  runId: string; runDir: string; reconciledAtMs: number; startEpochMs: number; ticks: number; exportIntervalMs: number; seconds: number;
  tempo?: TraceSampleReport; jaeger?: TraceSampleReport;
}): TracesReconcileReport {
  return {
    schemaVersion: 1,
    runId: input.runId,
    runDir: input.runDir,
    reconciledAt: new Date(input.reconciledAtMs).toISOString(),
    reconciledAtMs: input.reconciledAtMs,
    window: { startedAt: new Date(input.startEpochMs).toISOString(), ticks: input.ticks, exportIntervalMs: input.exportIntervalMs },
    seconds: Math.round(input.seconds * 1000) / 1000,
    ...(input.tempo ? { tempo: input.tempo } : {}),
    ...(input.jaeger ? { jaeger: input.jaeger } : {}),
  };
}

let validator: ReturnType<Ajv2020['compile']> | undefined;
/**
 * Validate a report against reconcile.schema.json.
 * @throws ReconcileError `TALLY_RESULTS_INVALID` listing each problem's JSON pointer (a bug in tally).
 */
export function validateReconcileReport(report: ReconcileReport | TracesReconcileReport): void {
  validator ??= new Ajv2020({ allErrors: true, strict: true }).compile(reconcileSchema);
  if (!validator(report)) {
    const problems = (validator.errors ?? []).map((e) => ({ pointer: e.instancePath, message: e.message ?? e.keyword }));
    throw new ReconcileError(`reconcile report fails its schema: ${problems.map((p) => `${p.pointer} ${p.message}`).join('; ')}`, { code: 'TALLY_RESULTS_INVALID', details: { problems } });
  }
}

const STATE_NAMES: Record<number, MissingSeriesEntry['ticks'][number]['ledgerState']> = {
  [POINT_FAILED]: 'failed',
  [POINT_ACKNOWLEDGED]: 'acknowledged',
  [POINT_PARTIAL]: 'partial',
  [POINT_DROPPED]: 'dropped',
};

/**
 * Every sent point the read-back did not see, grouped by series, with the ledger's state
 * of each tick; at most `limit` series listed.
 */
export function missingBySeries(space: ReadbackSpace, ledger: MetricsLedger, seen: ReadbackStore, limit: number): { series: MissingSeriesEntry[]; seriesWithMissing: number } {
  const series: MissingSeriesEntry[] = [];
  let seriesWithMissing = 0;
  for (let m = 0; m < space.metrics.length; m++) {
    const metric = space.metrics[m];
    for (let s = 0; s < metric.seriesCount; s++) {
      let entry: MissingSeriesEntry | undefined;
      for (let k = 1; k <= space.ticks; k++) {
        const state = ledger.state(m, s, k);
        if (state === POINT_UNSENT || seen.count(m, s, k) > 0) continue;
        if (entry === undefined) {
          seriesWithMissing++;
          entry = { metric: metric.name, metricIndex: m, series: s, labels: metric.seriesLabels(s), ticks: [] };
          if (series.length < limit) series.push(entry);
        }
        entry.ticks.push({ tick: k, ledgerState: STATE_NAMES[state] ?? 'unsettled' });
      }
    }
  }
  return { series, seriesWithMissing };
}

/** The terminal summary of a reconcile report. */
export function renderReconcileSummary(r: ReconcileReport): string {
  const s = r.missingByStage;
  const lines = [
    `tally reconcile ${r.runId} against ${r.backend.name} ${r.backend.version}`,
    `  points sent / read / missing   ${r.pointsSent} / ${r.pointsRead} / ${r.pointsMissing} (loss ${(r.lossRatio * 100).toFixed(4)}%)`,
    `  series with missing points     ${r.missing.seriesWithMissing} (of which wholly missing ${r.seriesMissing})`,
    `  missing by stage               rejected ${s.rejected}, failed export ${s.failedExport}, dropped ${s.droppedByQueue}, unsettled ${s.unsettled}, lost after ack ${s.lostAfterAck}`,
    `  value mismatches / unexpected  ${r.valueMismatches} / ${r.unexpectedPoints}`,
  ];
  for (const e of r.missing.series.slice(0, 10)) lines.push(`    ${e.metric}{${Object.entries(e.labels).map(([k, v]) => `${k}="${v}"`).join(',')}} ticks ${e.ticks.map((t) => t.tick).join(',')}`);
  if (r.missing.series.length > 10) lines.push(`    … ${r.missing.seriesWithMissing - 10} more series (see the report)`);
  lines.push(...traceSampleLines(r));
  return `${lines.join('\n')}\n`;
}

/** The terminal summary of a traces-only reconcile report. */
export function renderTracesReconcileSummary(r: TracesReconcileReport): string {
  return `${[`tally reconcile ${r.runId} (traces only)`, ...traceSampleLines(r)].join('\n')}\n`;
}

function traceSampleLines(r: Pick<ReconcileReport, 'tempo' | 'jaeger'>): string[] {
  const lines: string[] = [];
  for (const [name, t] of [['tempo', r.tempo], ['jaeger', r.jaeger]] as const) {
    if (t === undefined) continue;
    const c = t.crossCheck;
    lines.push(`  ${name}: ${t.missing} of ${t.checked} sampled traces missing; ${c.method === 'none' ? 'no count' : `count ${c.observedTraces} of ${c.expectedTraces}${c.consistentWithSample === false ? ' (disagrees with the sample)' : ''}`}`);
  }
  return lines;
}
