/**
 * `tally plan <scenario>`: what a run would do, without sending anything: series and data
 * points per second, the load's planned arrivals (per stage or burst), and the ephemeral
 * port and descriptor budget on this host, with a warning naming the numbers when the
 * scenario would exhaust ports.
 */
import { loadScenarioFile } from '../scenarios/load.ts';
import { planRun } from '../scenarios/plan.ts';
import { portBudgetFor } from '../host/preflight.ts';
import type { PlanReport } from '../reports/plan-report.ts';

/**
 * Plan a scenario on this host.
 * @param scenarioPath the scenario file.
 * @param workers worker threads the run would use.
 * @throws ConfigError for a bad scenario; CollectorError when /proc settings cannot be read.
 */
export async function planScenario(scenarioPath: string, workers: number): Promise<PlanReport> {
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
  return report;
}

