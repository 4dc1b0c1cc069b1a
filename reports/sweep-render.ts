/**
 * The terminal table of a sweep (`tally sweep`, and the summary it prints): one row per
 * step in value order (value, throughput, latency p50/p99, loss, verdict, why), then the
 * knee and its bracket. Pure: the report in, text out.
 */
import { formatFigure } from './render-thresholds.ts';
import type { SweepReport, SweepStep } from './sweep-report.ts';

function cell(value: number | undefined, digits: number): string {
  if (value === undefined || !Number.isFinite(value)) return '—';
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** Why a step got its verdict: its breached thresholds, the generator's reasons, or its error. */
export function stepReason(step: SweepStep): string {
  if (step.error !== undefined) return `${step.error.code}: ${step.error.message}`;
  if (step.verdict === 'generator-limited') return `generator saturated: ${step.generator?.reasons.join('; ') ?? ''}`;
  const broken = (step.thresholds ?? []).filter((t) => t.status !== 'ok').map((t) => `${t.name} ${t.expression} (${t.observed === null ? 'no data' : `observed ${formatFigure(t.observed, t.unit)}`})`);
  return broken.join('; ');
}

function pad(rows: string[][]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((v, c) => (c === r.length - 1 ? v : v.padEnd(widths[c]))).join('  ').trimEnd());
}

/** The sweep's table and its knee, as printed on the terminal. */
export function renderSweep(report: SweepReport): string {
  const first = report.steps.find((s) => s.figures !== undefined)?.figures;
  const header = [
    '#',
    report.vary.field,
    `throughput (${first?.throughputUnit ?? '/s'})`,
    `${first?.latencyFigure ?? 'latency'} p50 ms`,
    'p99 ms',
    `loss (${first?.lossFigure ?? 'share'})`,
    'verdict',
    'why',
  ];
  const steps = [...report.steps].sort((a, b) => (report.to >= report.from ? a.value - b.value : b.value - a.value));
  const rows = steps.map((s) => [
    String(s.index),
    s.valueText,
    cell(s.figures?.throughputPerSecond, 1),
    cell(s.figures?.latencyP50Ms, 2),
    cell(s.figures?.latencyP99Ms, 2),
    cell(s.figures?.lossRatio, 4),
    s.verdict + (s.attempts > 1 ? ` (${s.attempts} runs)` : ''),
    stepReason(s),
  ]);
  const lines = [`sweep of ${report.scenario}: ${report.vary.field} from ${String(report.from)} to ${String(report.to)} (${report.vary.kind === 'duration' ? 'ms' : report.vary.unit})`, ...pad([header, ...rows])];
  lines.push(report.knee.summary);
  if (report.knee.suggestion !== undefined) lines.push(report.knee.suggestion);
  if (!report.complete) lines.push(`incomplete: ${report.incompleteReason ?? 'stopped'}`);
  return `${lines.join('\n')}\n`;
}
