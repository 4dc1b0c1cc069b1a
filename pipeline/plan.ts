/**
 * `tally plan <scenario>`: what a run would do, without sending anything: series and data
 * points per second, the load's planned arrivals (per stage or burst), and the ephemeral
 * port and descriptor budget on this host, with a warning naming the numbers when the
 * scenario would exhaust ports.
 */
import { loadScenarioFile } from '../scenarios/load.ts';
import { planRun } from '../scenarios/plan.ts';
import { portBudgetFor, type PortBudgetReport } from '../host/preflight.ts';

/** What `tally plan` prints (as JSON with `--json`). */
export interface PlanReport {
  scenario: string;
  workers: number;
  load?: {
    executor: string;
    model: 'open' | 'closed';
    iterationsPlanned?: number;
    ratePerSecond?: number;
    peakRatePerSecond?: number;
    plannedPerStage?: number[];
    maxVUs?: number;
    loadDurationMs: number;
    portBudget: PortBudgetReport;
  };
  telemetry?: {
    ticks: number;
    exportIntervalMs: number;
    series: number;
    dataPointsPerSecond: number;
    dataPointsPlanned: number;
    metrics: { name: string; series: number }[];
  };
  warnings: { pointer?: string; code?: string; message: string }[];
}

/**
 * Plan a scenario on this host.
 * @param scenarioPath the scenario file.
 * @param workers worker threads the run would use.
 * @throws ConfigError for a bad scenario; CollectorError when /proc settings cannot be read.
 */
export async function planCommand(scenarioPath: string, workers: number): Promise<PlanReport> {
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

/** Human-readable rendering of a {@link PlanReport}. */
export function renderPlan(r: PlanReport): string {
  const lines = [`plan for ${r.scenario} (${r.workers} workers)`];
  if (r.load) {
    const l = r.load;
    lines.push(
      l.model === 'open'
        ? `load: ${l.executor}, ${l.iterationsPlanned} iterations over ${l.loadDurationMs / 1000} s (average ${l.ratePerSecond?.toFixed(1)}/s, peak ${l.peakRatePerSecond}/s)`
        : `load: ${l.executor}, up to ${l.maxVUs} VUs for ${l.loadDurationMs / 1000} s`,
    );
    if (l.plannedPerStage && l.plannedPerStage.length > 1) lines.push(`  per stage: ${l.plannedPerStage.slice(0, 20).join(', ')}${l.plannedPerStage.length > 20 ? ', …' : ''}`);
    const b = l.portBudget;
    if (!b.computed) lines.push(`port budget: not computed (${b.reason})`);
    else {
      const n = b.numbers;
      lines.push(`port budget: ${b.ok ? 'ok' : 'EXHAUSTED'}: ${n.portsPerPair} ports per pair × ${n.pairCount} pairs; ${b.newConnectionsPerSecond}/s new connections hold each port ${n.portHoldMs} ms; peak need ${n.portsNeededPeakPerPair} per pair; descriptors ${n.fdsNeeded} of ${n.fdSoftLimit}`);
    }
  }
  if (r.telemetry) {
    const t = r.telemetry;
    lines.push(`telemetry: ${t.series} series, ${t.dataPointsPerSecond.toFixed(1)} data points/s, ${t.dataPointsPlanned} data points in ${t.ticks} ticks`);
  }
  for (const w of r.warnings) lines.push(`warning: ${w.code ?? w.pointer}: ${w.message}`);
  return `${lines.join('\n')}\n`;
}
