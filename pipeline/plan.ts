/**
 * `tally plan <scenario>`: what a run would do, without sending anything: series and data
 * points per second, the load's planned arrivals (per stage or burst), and the ephemeral
 * port and descriptor budget on this host, with a warning naming the numbers when the
 * scenario would exhaust ports. For metrics, the cardinality budget: per metric and in total
 * the series (OTLP streams and Prometheus series), data points per second, the exact OTLP and
 * remote-write bytes of one export (counted on a thread by the encoders that send them), what
 * each attribute costs and what dropping or bucketing it would save; the storage cost per
 * series when `--calibrate` measured it on a Prometheus (else it says none was measured);
 * and the scenario's `budget` checked against all of it (enforced: exit 2).
 */
import { loadScenarioFile } from '../scenarios/load.ts';
import { planRun } from '../scenarios/plan.ts';
import { portBudgetFor } from '../host/preflight.ts';
import type { PlanReport } from '../reports/plan-report.ts';
import { cardinalityOf, DEFAULT_BUCKET_TO } from '../scenarios/cardinality.ts';
import { runMetricNaming } from '../scenarios/prometheus-naming.ts';
import { calibrateStorage, type CalibrateOptions, type StorageCalibration } from '../readback/prometheus/calibrate.ts';
import { budgetChecks, enforceBudget, transportBytesPerSecond } from './budget.ts';
import { measureExportBytes } from './export-bytes.ts';

/** Options of {@link planScenario}. */
export interface PlanOptions {
  /** Measure storage per series on this Prometheus (API base URL), which tally may write to. */
  calibrate?: string;
  /** Calibration series and samples (readback/prometheus/calibrate.ts). */
  calibration?: Omit<CalibrateOptions, 'headers'>;
  /** The bucket count considered for each attribute (default 10). */
  bucketTo?: number;
}

/** What plan says when no calibration was done: no figure is assumed. */
export const NOT_CALIBRATED = 'not measured: tally plan --calibrate <prometheus-url> sends a known set of series to a Prometheus tally may write to and measures bytes per series there; no figure is assumed';

/**
 * Plan a scenario on this host.
 * @param scenarioPath the scenario file.
 * @param workers worker threads the run would use.
 * @throws ConfigError for a bad scenario, or a budget exceeded with `budget.enforce` (pointer `/budget/<limit>`);
 *   CollectorError when /proc settings cannot be read, or the calibration's Prometheus cannot be read or written.
 */
export async function planScenario(scenarioPath: string, workers: number, options: PlanOptions = {}): Promise<PlanReport> {
  const { scenario, warnings } = await loadScenarioFile(scenarioPath);
  const plan = planRun(scenario, Math.ceil(Date.now()), workers);
  const report: PlanReport = { scenario: scenario.name, workers: plan.workers, warnings: warnings.map((w) => ({ pointer: w.pointer, message: w.message })) };
  if (scenario.load && plan.load) {
    const targetHost = scenario.load.target === undefined ? '127.0.0.1' : new URL(scenario.load.target).hostname;
    const portBudget = await portBudgetFor(scenario.load, plan.load, targetHost, scenario.load.target === undefined);
    const { executor, model, iterationsPlanned, ratePerSecond, peakRatePerSecond, plannedPerStage, maxVUs, loadDurationMs } = plan.load;
    report.load = { executor, model, iterationsPlanned, ratePerSecond, peakRatePerSecond, plannedPerStage, maxVUs, loadDurationMs, portBudget };
    if (portBudget.computed) for (const w of portBudget.warnings) report.warnings.push({ code: w.code, message: w.message });
  }
  if (plan.telemetry) {
    const t = plan.telemetry;
    const series = t.metrics.reduce((a, m) => a + m.layout.seriesCount, 0);
    report.telemetry = {
      ticks: t.ticks,
      exportIntervalMs: t.exportIntervalMs,
      series,
      dataPointsPerSecond: (series * 1000) / t.exportIntervalMs,
      dataPointsPlanned: t.pointsPlanned,
      metrics: t.metrics.map((m) => ({ name: m.name, series: m.layout.seriesCount })),
    };
  }
  const cardinality = cardinalityOf(plan, { bucketTo: options.bucketTo ?? DEFAULT_BUCKET_TO, convertHistogramsToNhcb: scenario.backends?.prometheus?.convertHistogramsToNhcb });
  if (cardinality === undefined || cardinality.metrics.length === 0) return report;
  const bytes = await measureExportBytes(scenario, plan);
  const perSecond = (n: number | undefined): number | undefined => (n === undefined ? undefined : (n * 1000) / cardinality.exportIntervalMs);
  report.cardinality = {
    ...cardinality,
    transport: scenario.telemetry?.remoteWrite !== undefined ? 'prometheus/remote-write' : 'otlp',
    bytesPerExport: bytes,
    bytesPerSecond: {
      otlp: perSecond(bytes.otlp?.bytes),
      otlpWire: perSecond(bytes.otlp?.wireBytes),
      remoteWrite: perSecond(bytes.remoteWrite?.bytes),
      transport: transportBytesPerSecond(scenario, bytes, cardinality.exportIntervalMs),
    },
  };
  let storage: StorageCalibration | undefined;
  if (options.calibrate !== undefined) {
    const p = scenario.backends?.prometheus;
    const naming = runMetricNaming({ ...plan, runId: `${plan.runId}-calibration` }, { translationStrategy: p?.translationStrategy, convertHistogramsToNhcb: p?.convertHistogramsToNhcb, resource: scenario.telemetry?.resource });
    storage = await calibrateStorage(options.calibrate, naming, options.calibration);
    report.storage = { ...storage, estimatedBytes: cardinality.prometheusSeries * storage.bytesPerSeries };
  } else {
    report.storage = { calibrated: false, note: NOT_CALIBRATED };
  }
  if (scenario.budget !== undefined) {
    const checks = budgetChecks(scenario, cardinality, bytes, storage);
    report.budget = { enforce: scenario.budget.enforce, checks };
    for (const p of enforceBudget(scenario, checks)) report.warnings.push(p);
  }
  return report;
}
