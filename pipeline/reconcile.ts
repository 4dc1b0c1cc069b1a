/**
 * `tally reconcile <run-dir>`: read the backends again, later (soak jobs, late data),
 * against the ledger the run saved. Re-derives the plan from plan.json (the planner is
 * pure), reads every (series, tick) back from Prometheus, reconciles with ledger.bin,
 * lists exactly which series and ticks are missing and to which stage each is
 * attributed, re-verifies the Tempo sample when the run had one, and writes
 * `<run-dir>/reconcile-<timestamp>.json` (validated against reports/reconcile.schema.json).
 */
import { readFile } from 'node:fs/promises';
import { writeJsonAtomic } from '../host/files.ts';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.ts';
import { claimRunDir } from '../host/run-dir.ts';
import type { TextOut } from '../core/text-out.ts';
import { ObservationStore } from '../reconcile/observations.ts';
import { PrometheusApi } from '../readback/prometheus/api.ts';
import { readAndReconcile } from '../readback/prometheus/read-and-reconcile.ts';
import { RUN_LABEL, runMetricNaming } from '../scenarios/prometheus-naming.ts';
import { runReadbackSpace } from '../readback/prometheus/run-space.ts';
import { buildReconcileReport, missingBySeries, renderReconcileSummary, validateReconcileReport, type ReconcileReport } from '../reports/reconcile-report.ts';
import { loadRun } from './run-files.ts';
import { verifyRunTraces } from './tempo.ts';

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
 * @throws ConfigError (exit 2) for a run directory without plan.json/ledger.bin or a run
 * without `backends.prometheus`; CollectorError (exit 1) when a backend cannot be read.
 */
export async function reconcileRun(options: ReconcileOptions): Promise<{ path: string; report: ReconcileReport }> {
  const out = options.stdout ?? process.stdout;
  const scenarioText = options.scenarioPath === undefined ? undefined : await readFile(options.scenarioPath, 'utf8').catch((cause: unknown) => {
    throw new ConfigError(`cannot read scenario ${options.scenarioPath}`, [], { code: 'TALLY_CONFIG_UNREADABLE', cause });
  });
  const { scenario, plan, ledger } = await loadRun(options.runDir, scenarioText);
  const p = scenario.backends?.prometheus;
  if (p === undefined || plan.telemetry === undefined) {
    throw new ConfigError('the run has no backends.prometheus to reconcile against', [{ pointer: '/backends/prometheus', message: 'a Prometheus backend is expected' }]);
  }
  // Not while a run (or another reconcile) writes to the same directory.
  const dirLock = await claimRunDir(options.runDir, { overwrite: false, existingRun: true, flag: '<run-dir>' });
  const startedMs = Date.now();
  const api = new PrometheusApi({ url: p.url, auth: p.auth, timeoutMs: p.timeoutMs });
  try {
    const version = (await api.buildInfo()).data.version;
    const space = runReadbackSpace(plan, runMetricNaming(plan, p.translationStrategy), p.maxSamplesPerQuery);
    const { view, report: readback, reconciliation } = await readAndReconcile(api, space, ledger, new ObservationStore(ledger.seriesCounts, ledger.ticks));
    const missing = missingBySeries(space, ledger, view, MISSING_SERIES_LISTED);
    const tempoSpec = scenario.backends?.tempo;
    const tempo = tempoSpec !== undefined && plan.traces
      ? await verifyRunTraces(tempoSpec.url, plan.traces.model, plan.traces.traceCount, tempoSpec.sampleSize, { startMs: plan.startEpochMs, endMs: plan.startEpochMs + plan.durationMs })
      : undefined;
    const report = buildReconcileReport({
      runId: plan.runId,
      runDir: options.runDir,
      reconciledAtMs: Date.now(),
      backend: { name: 'prometheus', url: p.url, version },
      runLabel: { name: RUN_LABEL, value: plan.runId },
      ticks: plan.telemetry.ticks,
      exportIntervalMs: plan.telemetry.exportIntervalMs,
      startEpochMs: plan.startEpochMs,
      reconciliation,
      readback,
      missing: { ...missing, listedLimit: MISSING_SERIES_LISTED },
      queries: api.requests,
      seconds: (Date.now() - startedMs) / 1000,
      ...(tempo ? { tempo } : {}),
    });
    validateReconcileReport(report);
    const stamp = new Date(report.reconciledAtMs).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    const path = join(options.runDir, `reconcile-${stamp}.json`);
    await writeJsonAtomic(path, report);
    out.write(renderReconcileSummary(report));
    out.write(`reconcile: ${path}\n`);
    return { path, report };
  } finally {
    await api.close();
    await dirLock.release();
  }
}
