/**
 * `tally reconcile <run-dir>`: read the backends again, later (soak jobs, late data),
 * against the ledger the run saved. Re-derives the plan from plan.json (the planner is
 * pure), reads every (series, tick) back from Prometheus, reconciles with ledger.bin,
 * lists exactly which series and ticks are missing and to which stage each is
 * attributed, re-verifies the Tempo sample when the run had one, and writes
 * `<run-dir>/reconcile-<timestamp>.json` (validated against reports/reconcile.schema.json).
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.ts';
import { POINT_ACKNOWLEDGED, POINT_DROPPED, POINT_FAILED, POINT_PARTIAL, POINT_UNSENT, type MetricsLedger } from '../ledger/ledger.ts';
import { ObservationStore } from '../reconcile/observations.ts';
import { reconcile } from '../reconcile/points.ts';
import { PrometheusApi } from '../readback/prometheus/api.ts';
import { readSamplesInto } from '../readback/prometheus/read-samples.ts';
import type { ReadbackSpace } from '../readback/prometheus/space.ts';
import { ReadbackStore, summariseReadback } from '../readback/prometheus/store.ts';
import { RUN_LABEL, runMetricNaming } from '../scenarios/prometheus-naming.ts';
import { runReadbackSpace } from '../readback/prometheus/run-space.ts';
import { buildReconcileReport, validateReconcileReport, type MissingSeriesEntry, type ReconcileReport } from '../reports/reconcile-report.ts';
import { loadRun } from './run-files.ts';
import { teeSink } from './readback.ts';
import { verifyRunTraces } from './tempo.ts';

/** Series listed with their missing ticks in the report; counts stay exact beyond it. */
export const MISSING_SERIES_LISTED = 1000;

/** Options of {@link reconcileCommand}. */
export interface ReconcileOptions {
  runDir: string;
  /** A scenario file to use instead of plan.json's document (to supply redacted headers). */
  scenarioPath?: string;
  stdout?: { write(text: string): unknown };
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

async function writeAtomic(path: string, text: string): Promise<void> {
  await writeFile(`${path}.tmp`, text);
  await rename(`${path}.tmp`, path);
}

/**
 * Reconcile a saved run against its backends again.
 * @returns the report and where it was written.
 * @throws ConfigError (exit 2) for a run directory without plan.json/ledger.bin or a run
 * without `backends.prometheus`; CollectorError (exit 1) when a backend cannot be read.
 */
export async function reconcileCommand(options: ReconcileOptions): Promise<{ path: string; report: ReconcileReport }> {
  const out = options.stdout ?? process.stdout;
  const scenarioText = options.scenarioPath === undefined ? undefined : await readFile(options.scenarioPath, 'utf8').catch((cause: unknown) => {
    throw new ConfigError(`cannot read scenario ${options.scenarioPath}`, [], { code: 'TALLY_CONFIG_UNREADABLE', cause });
  });
  const { scenario, plan, ledger } = await loadRun(options.runDir, scenarioText);
  const p = scenario.backends?.prometheus;
  if (p === undefined || plan.telemetry === undefined) {
    throw new ConfigError('the run has no backends.prometheus to reconcile against', [{ pointer: '/backends/prometheus', message: 'a Prometheus backend is expected' }]);
  }
  const startedMs = Date.now();
  const api = new PrometheusApi({ url: p.url, auth: p.auth, timeoutMs: 300_000 });
  try {
    const version = (await api.buildInfo()).data.version;
    const space = runReadbackSpace(plan, runMetricNaming(plan, p.translationStrategy), p.maxSamplesPerQuery);
    const store = new ObservationStore(ledger.seriesCounts, ledger.ticks);
    const view = new ReadbackStore(ledger.seriesCounts, ledger.ticks);
    const requestsBefore = api.requests;
    await readSamplesInto(api, space, teeSink(store, view), { concurrency: 2 });
    const readback = summariseReadback(space, view, { queries: api.requests - requestsBefore });
    const reconciliation = reconcile(ledger, store);
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
    await writeAtomic(path, `${JSON.stringify(report, null, 2)}\n`);
    out.write(renderReconcileSummary(report));
    out.write(`reconcile: ${path}\n`);
    return { path, report };
  } finally {
    await api.close();
  }
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
  if (r.tempo) lines.push(`  tempo: ${r.tempo.missing} of ${r.tempo.checked} sampled traces missing`);
  return `${lines.join('\n')}\n`;
}
