/**
 * `tally reconcile <run-dir>`: read the backends again, later (soak jobs, late data),
 * against the ledger the run saved. Re-derives the plan from plan.json (the planner is
 * pure), reads every (series, tick) back from Prometheus, reconciles with ledger.bin,
 * lists exactly which series and ticks are missing and to which stage each is
 * attributed, re-verifies the trace sample (Tempo, Jaeger) when the run had one, and writes
 * `<run-dir>/reconcile-<timestamp>.json` (validated against reports/reconcile.schema.json).
 * A run that sent traces and no metrics has no ledger.bin: its trace sample alone is
 * verified again.
 */
import { readFile } from 'node:fs/promises';
import { writeJsonAtomic } from '../host/files.ts';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.ts';
import { claimRunDir } from '../host/run-dir.ts';
import type { TextOut } from '../core/text-out.ts';
import type { MetricsLedger } from '../ledger/ledger.ts';
import { ObservationStore } from '../reconcile/observations.ts';
import { PrometheusApi } from '../readback/prometheus/api.ts';
import { readAndReconcile } from '../readback/prometheus/read-and-reconcile.ts';
import { RUN_LABEL, runMetricNaming } from '../scenarios/prometheus-naming.ts';
import { runReadbackSpace } from '../readback/prometheus/run-space.ts';
import {
  buildReconcileReport, buildTracesReconcileReport, missingBySeries, renderReconcileSummary, renderTracesReconcileSummary, validateReconcileReport,
  type ReconcileReport, type TracesReconcileReport,
} from '../reports/reconcile-report.ts';
import type { Plan } from '../scenarios/plan.ts';
import type { Scenario } from '../scenarios/types.ts';
import { loadRun } from './run-files.ts';
import { hasTraceBackend, verifyTraceBackends } from './trace-backends.ts';

/** Series listed with their missing ticks in the report; counts stay exact beyond it. */
export const MISSING_SERIES_LISTED = 1000;

/** Options of {@link reconcileRun}. */
export interface ReconcileOptions {
  runDir: string;
  /** A scenario file to use instead of plan.json's document (to supply redacted headers). */
  scenarioPath?: string;
  stdout?: TextOut;
}

/**
 * Reconcile a saved run against its backends again.
 * @returns the report and where it was written.
 * @throws ConfigError (exit 2) for a run directory without plan.json (or without ledger.bin
 * when it sent metrics), or a run with neither `backends.prometheus` nor a trace backend;
 * CollectorError (exit 1) when a backend cannot be read.
 */
export async function reconcileRun(options: ReconcileOptions): Promise<{ path: string; report: ReconcileReport | TracesReconcileReport }> {
  const scenarioText = options.scenarioPath === undefined ? undefined : await readFile(options.scenarioPath, 'utf8').catch((cause: unknown) => {
    throw new ConfigError(`cannot read scenario ${options.scenarioPath}`, [], { code: 'TALLY_CONFIG_UNREADABLE', cause });
  });
  const { scenario, plan, ledger } = await loadRun(options.runDir, scenarioText);
  // Not while a run (or another reconcile) writes to the same directory.
  const dirLock = await claimRunDir(options.runDir, { overwrite: false, existingRun: true, flag: '<run-dir>' });
  try {
    return await reconcileLocked(options, scenario, plan, ledger);
  } finally {
    await dirLock.release();
  }
}

/** The reconciliation, once the run directory is claimed. */
async function reconcileLocked(options: ReconcileOptions, scenario: Scenario, plan: Plan, ledger: MetricsLedger | undefined): Promise<{ path: string; report: ReconcileReport | TracesReconcileReport }> {
  const out = options.stdout ?? process.stdout;
  const p = scenario.backends?.prometheus;
  const startedMs = Date.now();
  let report: ReconcileReport | TracesReconcileReport;
  if (ledger !== undefined && p !== undefined && plan.telemetry !== undefined) {
    const metrics = await reconcileMetrics({ scenario, plan, ledger, runDir: options.runDir, startedMs });
    out.write(renderReconcileSummary(metrics));
    report = metrics;
  } else if (ledger === undefined && hasTraceBackend(scenario, plan)) {
    const traces = await verifyTraceBackends(scenario, plan, traceWindow(plan));
    const tracesOnly = buildTracesReconcileReport({
      runId: plan.runId, runDir: options.runDir, reconciledAtMs: Date.now(), startEpochMs: plan.startEpochMs,
      ticks: plan.telemetry?.ticks ?? 0, exportIntervalMs: plan.telemetry?.exportIntervalMs ?? 0, seconds: (Date.now() - startedMs) / 1000, ...traces,
    });
    out.write(renderTracesReconcileSummary(tracesOnly));
    report = tracesOnly;
  } else {
    throw new ConfigError('the run has no backends.prometheus (or, for a traces-only run, no trace backend) to reconcile against', [{ pointer: '/backends', message: 'backends.prometheus, or backends.tempo / backends.jaeger for a run that sent only traces, is expected' }]);
  }
  validateReconcileReport(report);
  const stamp = new Date(report.reconciledAtMs).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const path = join(options.runDir, `reconcile-${stamp}.json`);
  await writeJsonAtomic(path, report);
  out.write(`reconcile: ${path}\n`);
  return { path, report };
}

/** The run's span window: its start to its planned end (the traces' intended times). */
function traceWindow(plan: Plan): { startMs: number; endMs: number } {
  return { startMs: plan.startEpochMs, endMs: plan.startEpochMs + plan.durationMs };
}

/** Every (series, tick) read again from Prometheus, reconciled with ledger.bin; the trace sample too. */
async function reconcileMetrics(o: { scenario: Scenario; plan: Plan; ledger: MetricsLedger; runDir: string; startedMs: number }): Promise<ReconcileReport> {
  const { scenario, plan, ledger } = o;
  const p = scenario.backends!.prometheus!;
  const telemetry = plan.telemetry!;
  const api = new PrometheusApi({ url: p.url, auth: p.auth, timeoutMs: p.timeoutMs });
  try {
    const version = (await api.buildInfo()).data.version;
    const space = runReadbackSpace(plan, runMetricNaming(plan, { translationStrategy: p.translationStrategy, convertHistogramsToNhcb: p.convertHistogramsToNhcb, resource: scenario.telemetry?.resource }), p.maxSamplesPerQuery, { deltaIngestion: p.deltaIngestion });
    const { view, report: readback, reconciliation } = await readAndReconcile(api, space, ledger, new ObservationStore(ledger.seriesCounts, ledger.ticks));
    const missing = missingBySeries(space, ledger, view, MISSING_SERIES_LISTED);
    const traces = hasTraceBackend(scenario, plan) ? await verifyTraceBackends(scenario, plan, traceWindow(plan)) : {};
    return buildReconcileReport({
      runId: plan.runId,
      runDir: o.runDir,
      reconciledAtMs: Date.now(),
      backend: { name: 'prometheus', url: p.url, version },
      runLabel: { name: RUN_LABEL, value: plan.runId },
      ticks: telemetry.ticks,
      exportIntervalMs: telemetry.exportIntervalMs,
      startEpochMs: plan.startEpochMs,
      reconciliation,
      readback,
      missing: { ...missing, listedLimit: MISSING_SERIES_LISTED },
      queries: api.requests,
      seconds: (Date.now() - o.startedMs) / 1000,
      ...traces,
    });
  } finally {
    await api.close();
  }
}
