/**
 * Every PromQL query of a generated dashboard, and the variables Grafana would substitute
 * into it, so tests (and the README's screenshot) run exactly what the panels run. Pure.
 *
 * @see https://grafana.com/docs/grafana/latest/dashboards/variables/add-template-variables/#global-variables
 */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';

/** One query of one panel. */
export interface PanelQuery {
  panelId: number;
  panelTitle: string;
  panelType: string;
  refId: string;
  expr: string;
  legend?: string;
  /** Stat panels: one instant query at the end of the time range. */
  instant: boolean;
}

/** Every panel's queries, in panel order. */
export function panelQueries(dashboard: Dashboard): PanelQuery[] {
  const out: PanelQuery[] = [];
  for (const p of (dashboard.panels ?? []) as { id?: number; type?: string; title?: string; targets?: { refId?: string; expr?: string; legendFormat?: string; instant?: boolean }[] }[]) {
    if (p.type === 'row') continue;
    for (const t of p.targets ?? []) {
      out.push({ panelId: p.id ?? 0, panelTitle: p.title ?? '', panelType: p.type ?? '', refId: t.refId ?? '', expr: t.expr ?? '', ...(t.legendFormat !== undefined ? { legend: t.legendFormat } : {}), instant: t.instant === true });
    }
  }
  return out;
}

/**
 * Substitute dashboard and global variables (`$name`, `${name}`), longest names first, so
 * `$__range` is not taken for `$__range_s`.
 */
export function substitute(expr: string, variables: Readonly<Record<string, string>>): string {
  let out = expr;
  for (const name of Object.keys(variables).sort((a, b) => b.length - a.length)) {
    out = out.replaceAll(`\${${name}}`, variables[name]).replaceAll(`$${name}`, variables[name]);
  }
  return out;
}

/**
 * Grafana's `$__rate_interval` for a step: max(step + scrape interval, 4 × scrape interval),
 * where the scrape interval is the queries' min interval (1 s: tally pushes every second).
 * @param stepSeconds the range query's step.
 */
export function rateIntervalSeconds(stepSeconds: number, minIntervalSeconds = 1): number {
  return Math.max(stepSeconds + minIntervalSeconds, 4 * minIntervalSeconds);
}
