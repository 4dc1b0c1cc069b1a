/**
 * Renderers of a {@link Comparison}: the terminal table and Markdown fit for a pull-request
 * comment (`--json` prints the object itself). Pure: comparison in, text out.
 */
import type { Verdict } from '../reconcile/compare.ts';
import type { CompareRow, Comparison } from './compare-figures.ts';
import { formatUs } from './render.ts';

const int = (n: number): string => Math.round(n).toLocaleString('en-US');

/** A row's value in its unit, for people. */
function formatValue(row: CompareRow, value: number | null, range?: [number, number]): string {
  if (value === null) return 'n/a';
  if (range !== undefined && range[0] !== range[1]) return `${formatValue(row, range[0])}–${formatValue(row, range[1])}`;
  switch (row.unit) {
    case 'us':
      return formatUs(value);
    case 'per_second':
      return `${value.toFixed(1)}/s`;
    case 'count':
      return int(value);
    case 'flag':
      return value ? 'yes' : 'no';
  }
}

/** The change column: `+19.3%`, `from 0`, or blank without data. */
function formatChange(row: CompareRow): string {
  if (row.baseline === null || row.candidate === null || row.unit === 'flag') return '';
  if (row.changeRatio === null) return row.candidate === 0 ? '' : 'from 0';
  const pct = row.changeRatio * 100;
  return `${pct >= 0 ? '+' : ''}${pct.toFixed(1)}%`;
}

/** Why: the reason code, the p-value and the interval counts where a rank test ran. */
function formatWhy(row: CompareRow): string {
  const parts: string[] = [row.reason.replaceAll('_', ' ')];
  if (row.pValue !== undefined) parts.push(`p=${row.pValue < 0.001 ? row.pValue.toExponential(1) : row.pValue.toFixed(3)}`);
  if (row.samples) parts.push(`${row.samples.candidate} vs ${row.samples.baseline} intervals`);
  return parts.join(', ');
}

const SHOUT: Record<Verdict, string> = { regressed: 'REGRESSED', improved: 'improved', unchanged: 'unchanged', inconclusive: 'inconclusive' };

/** A row's cells for people: figure, baseline, candidate, change, verdict, why. */
export function cells(row: CompareRow): string[] {
  return [row.figure, formatValue(row, row.baseline, row.baselineRange), formatValue(row, row.candidate), formatChange(row), SHOUT[row.verdict], formatWhy(row)];
}

/** `REGRESSION: 1 regressed, …` or `no regression: …`. */
export function headline(c: Comparison): string {
  const n = c.counts;
  return `${c.regressed ? 'REGRESSION' : 'no regression'}: ${n.regressed} regressed, ${n.improved} improved, ${n.unchanged} unchanged, ${n.inconclusive} inconclusive`;
}

/** `candidate <id> against baseline <id>` (or N baselines). */
export function against(c: Comparison): string {
  const ids = c.baselines.map((b) => b.runId);
  return `candidate ${c.candidate.runId} against ${ids.length === 1 ? `baseline ${ids[0]}` : `${ids.length} baselines (${ids.join(', ')})`}`;
}

/** The terminal table. */
export function renderCompareTerminal(c: Comparison): string {
  const header = ['figure', 'baseline', 'candidate', 'change', 'verdict', 'why'];
  const table = [header, ...c.rows.map(cells)];
  const widths = header.map((_, i) => Math.max(...table.map((r) => r[i].length)));
  const lines = [`tally compare: ${against(c)}`];
  for (const r of table) lines.push(`  ${r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')}`.trimEnd());
  for (const w of c.warnings) lines.push(`warning: ${w}`);
  lines.push(headline(c));
  return `${lines.join('\n')}\n`;
}

/** Markdown for a pull-request comment: the headline, the table, and the warnings. */
export function renderCompareMarkdown(c: Comparison): string {
  const esc = (s: string): string => s.replaceAll('|', '\\|');
  const lines = [`### tally compare: ${esc(headline(c))}`, '', esc(against(c)) + '.', ''];
  lines.push('| figure | baseline | candidate | change | verdict | why |', '|---|---:|---:|---:|---|---|');
  for (const row of c.rows) {
    const [figure, ...rest] = cells(row).map(esc);
    rest[3] = row.verdict === 'regressed' ? `**${rest[3]}**` : rest[3];
    lines.push(`| \`${figure}\` | ${rest.join(' | ')} |`);
  }
  if (c.warnings.length > 0) lines.push('', ...c.warnings.map((w) => `- ${esc(w)}`));
  const o = c.options;
  lines.push('', `Rank test: two-sided Mann-Whitney U over per-second values, α = ${o.alpha}, minimum effect ${o.minEffectRatio * 100}% (and ${o.minEffectUs} µs for durations); exact counts: any rise from zero, or above the highest baseline by more than ${o.countToleranceRatio * 100}%.`);
  return `${lines.join('\n')}\n`;
}
