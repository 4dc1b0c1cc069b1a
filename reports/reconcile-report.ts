/**
 * The report `tally reconcile` writes (`reconcile-<timestamp>.json`): built from the
 * parts (pure), validated against `reconcile.schema.json` before it is written.
 */
import { createRequire } from 'node:module';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { ReconcileError } from '../core/errors.ts';
import type { MissingByStage, Reconciliation } from '../reconcile/points.ts';
import type { ReadbackReport } from '../readback/prometheus/store.ts';
import type { TraceSampleVerification } from '../readback/tempo/verify.ts';

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
  tempo?: TraceSampleVerification & { url: string; version: string | null; generation: string; tracesPlanned: number };
}

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
  tempo?: ReconcileReportInput['tempo'];
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
  return report;
}

let validator: ReturnType<Ajv2020['compile']> | undefined;
/**
 * Validate a report against reconcile.schema.json.
 * @throws ReconcileError `TALLY_RESULTS_INVALID` listing each problem's JSON pointer (a bug in tally).
 */
export function validateReconcileReport(report: ReconcileReport): void {
  validator ??= new Ajv2020({ allErrors: true, strict: true }).compile(reconcileSchema);
  if (!validator(report)) {
    const problems = (validator.errors ?? []).map((e) => ({ pointer: e.instancePath, message: e.message ?? e.keyword }));
    throw new ReconcileError(`reconcile report fails its schema: ${problems.map((p) => `${p.pointer} ${p.message}`).join('; ')}`, { code: 'TALLY_RESULTS_INVALID', details: { problems } });
  }
}
