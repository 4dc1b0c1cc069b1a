/**
 * The thresholds part of summary.md and the terminal summary: each threshold as written,
 * its observed value in the figure's unit, and ok / BREACHED / NO DATA. Pure.
 */
import type { ThresholdUnit } from '../core/thresholds.ts';
import type { ThresholdResult } from '../reconcile/thresholds.ts';
import type { Results } from './results.ts';

/** Format a figure's value in its unit for people: `1.23ms`, `0.0100%`, `1,234`, `498.2/s`. */
export function formatFigure(value: number, unit: ThresholdUnit): string {
  switch (unit) {
    case 'us':
      if (value >= 1_000_000) return `${(value / 1_000_000).toFixed(2)}s`;
      if (value >= 1000) return `${(value / 1000).toFixed(2)}ms`;
      return `${Math.round(value)}µs`;
    case 'ratio':
      return `${(value * 100).toFixed(value > 0 && value < 0.001 ? 4 : 2)}%`;
    case 'count':
      return Math.round(value).toLocaleString('en-US');
    case 'per_second':
      return `${value.toFixed(1)}/s`;
    case 'value':
      return Number.isInteger(value) ? String(value) : value.toFixed(4);
  }
}

/** One threshold's verdict text: `ok (observed 1.20ms)`, `BREACHED (observed 25.0ms)`, `NO DATA`. */
export function thresholdVerdict(t: ThresholdResult): string {
  const observed = t.observed === null ? '' : ` (observed ${formatFigure(t.observed, t.unit)})`;
  const abort = t.abortOnFail ? ', abortOnFail' : '';
  if (t.status === 'no_data') return `NO DATA: the run did not measure ${t.metric}${abort}`;
  return `${t.status === 'ok' ? 'ok' : 'BREACHED'}${observed}${abort}`;
}

/** The thresholds section of results.json as (label, value) rows, or undefined without thresholds. */
export function thresholdsSectionRows(r: Results): { section: string; rows: [string, string][] } | undefined {
  const th = r.thresholds;
  if (th === undefined) return undefined;
  const results = th.results as ThresholdResult[];
  const head = th.ok ? `Thresholds: all ${results.length} held` : `Thresholds: ${th.breached + th.noData} of ${results.length} FAILED${th.abortedBy ? ` (run stopped by ${th.abortedBy})` : ''}`;
  return { section: head, rows: results.map((t) => [`${t.name} ${t.expression}`, thresholdVerdict(t)]) };
}
