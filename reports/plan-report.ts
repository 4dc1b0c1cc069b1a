/**
 * What `tally plan` reports: the series space, data points per second, the load's planned
 * arrivals and the port budget of a scenario on this host, and its text rendering. Pure.
 */
import type { PortBudgetReport } from '../host/preflight.ts';
import { renderCardinality, type PlanBudget, type PlanCardinality, type PlanStorage } from './cardinality-render.ts';

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
  /** The metrics' cardinality and bytes (reports/cardinality-render.ts). */
  cardinality?: PlanCardinality;
  /** Storage per series, measured by `--calibrate` or said not to be. */
  storage?: PlanStorage;
  /** The scenario's budget, checked. */
  budget?: PlanBudget;
  warnings: { pointer?: string; code?: string; message: string }[];
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
  if (r.cardinality) lines.push(...renderCardinality(r.cardinality, r.storage, r.budget));
  for (const w of r.warnings) lines.push(`warning: ${w.code ?? w.pointer}: ${w.message}`);
  return `${lines.join('\n')}\n`;
}
