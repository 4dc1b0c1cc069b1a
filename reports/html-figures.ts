/**
 * The HTML report's tables, from results.json: the run's header and verdict badges, the
 * key figures, the thresholds with ok/breached, the waterfall's stages and causes, the
 * findings and warnings. Every printed figure carries the results.json path it comes
 * from and its exact value (`data-path`, `data-value`, `data-unit`), so a test can check
 * the page against results.json. Pure.
 */
import type { ThresholdUnit } from '../core/thresholds.ts';
import type { ThresholdResult } from '../reconcile/thresholds.ts';
import type { Waterfall } from '../reconcile/waterfall.ts';
import { esc } from './html-page.ts';
import type { Results } from './results.ts';
import { formatFigure } from './render-thresholds.ts';
import { summarySections } from './render.ts';
import { CAUSE_LABEL, SIGNAL_TITLE, STAGE_LABEL } from './waterfall-render.ts';

/** The value at a dotted path of results.json (`summary.load.latencyUs.p99`), or undefined. */
export function valueAt(results: Results, path: string): unknown {
  let v: unknown = results;
  for (const part of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/** A figure's unit: a threshold unit, or `flag` (yes/no). */
export type FigureUnit = ThresholdUnit | 'flag';

/** One printed figure: `<td>` with its path, unit and exact value. */
export function figureCell(path: string, value: number | boolean, unit: FigureUnit): string {
  const text = unit === 'flag' ? (value ? 'yes' : 'no') : formatFigure(value as number, unit);
  return `<td class="figure" data-path="${esc(path)}" data-unit="${unit}" data-value="${esc(String(value))}">${esc(text)}</td>`;
}

type FigureRow = [label: string, path: string, unit: FigureUnit];

const FIGURE_GROUPS: readonly [string, string, readonly FigureRow[]][] = [
  ['Load', 'summary.load', [
    ['target rate', 'targetRatePerSecond', 'per_second'],
    ['achieved rate (responses)', 'achievedRatePerSecond', 'per_second'],
    ['requests', 'requests', 'count'],
    ['2xx/3xx responses', 'ok', 'count'],
    ['errors (no HTTP response)', 'errors.total', 'count'],
    ['late starts', 'lateStarts', 'count'],
    ['dropped iterations', 'droppedIterations', 'count'],
    ['new connections', 'newConnections', 'count'],
  ]],
  ['Latency (whole run)', 'summary.load', [
    ['latency p50', 'latencyUs.p50', 'us'],
    ['latency p90', 'latencyUs.p90', 'us'],
    ['latency p99', 'latencyUs.p99', 'us'],
    ['latency p99.9', 'latencyUs.p999', 'us'],
    ['latency max', 'latencyUs.max', 'us'],
    ['service time p50 / p99', 'serviceUs.p50', 'us'],
    ['', 'serviceUs.p99', 'us'],
    ['connect p50 / p99', 'connectUs.p50', 'us'],
    ['', 'connectUs.p99', 'us'],
    ['TTFB p50 / p99', 'ttfbUs.p50', 'us'],
    ['', 'ttfbUs.p99', 'us'],
  ]],
  ['OTLP metrics', 'summary.metrics', [
    ['data points sent', 'pointsSent', 'count'],
    ['acknowledged', 'pointsAcknowledged', 'count'],
    ['rejected (partial_success)', 'pointsRejected', 'count'],
    ['failed', 'pointsFailed', 'count'],
    ['dropped by queue', 'pointsDropped', 'count'],
    ['unsettled', 'pointsUnsettled', 'count'],
    ['received', 'pointsReceived', 'count'],
    ['missing', 'pointsMissing', 'count'],
    ['loss ratio', 'lossRatio', 'ratio'],
  ]],
  ['OTLP traces', 'summary.traces', [
    ['spans sent', 'spansSent', 'count'],
    ['acknowledged', 'spansAcknowledged', 'count'],
    ['received', 'spansReceived', 'count'],
    ['missing', 'spansMissing', 'count'],
    ['span loss ratio', 'spanLossRatio', 'ratio'],
    ['traces complete', 'tracesComplete', 'count'],
    ['traces missing', 'tracesMissing', 'count'],
  ]],
  ['Read-back visibility', 'readback.visibility', [
    ['points expected', 'pointsExpected', 'count'],
    ['on time', 'onTime', 'count'],
    ['late', 'late', 'count'],
    ['lost', 'lost', 'count'],
    ['time to visible p50', 'lagUs.p50', 'us'],
    ['time to visible p99', 'lagUs.p99', 'us'],
    ['time to visible max', 'lagUs.max', 'us'],
  ]],
  ['Generator', 'generator', [
    ['saturated', 'saturated', 'flag'],
    ['late start ratio', 'lateStartRatio', 'ratio'],
    ['CPU (share of all cores)', 'cpuRatio', 'ratio'],
    ['event-loop delay p99, worst', 'eventLoopDelayP99MaxUs', 'us'],
  ]],
];

/** The key figures, grouped; a group whose part of results.json is absent is left out. */
export function keyFiguresHtml(results: Results): string {
  const groups: string[] = [];
  for (const [title, base, rows] of FIGURE_GROUPS) {
    if (valueAt(results, base) === undefined) continue;
    const trs: string[] = [];
    for (const [label, rel, unit] of rows) {
      const path = `${base}.${rel}`;
      const v = valueAt(results, path);
      if (typeof v !== 'number' && typeof v !== 'boolean') continue;
      // A pair's second figure joins the row before it.
      if (label === '' && trs.length > 0) trs[trs.length - 1] = trs[trs.length - 1].replace('</tr>', `${figureCell(path, v, unit)}</tr>`);
      else trs.push(`<tr><th>${esc(label)}</th>${figureCell(path, v, unit)}</tr>`);
    }
    if (trs.length > 0) groups.push(`<div><h3>${esc(title)}</h3><table>${trs.join('')}</table></div>`);
  }
  return `<div class="figures">${groups.join('\n')}</div>`;
}

/** The thresholds table (each with its observed value and ok / BREACHED / NO DATA), or why there is none. */
export function thresholdsHtml(results: Results): string {
  const th = results.thresholds;
  if (th === undefined) return '<p class="empty">No thresholds: the scenario sets none (<code>thresholds:</code>, in k6 syntax, makes <code>tally run</code> exit 99 when one is breached).</p>';
  const rows = (th.results as ThresholdResult[]).map((t, i) => {
    const observed = t.observed === null ? '<td class="figure">no data</td>' : figureCell(`thresholds.results.${i}.observed`, t.observed, t.unit);
    const status = t.status === 'ok' ? 'ok' : t.status === 'breached' ? 'BREACHED' : 'NO DATA';
    return `<tr><td><code>${esc(t.name)}</code></td><td><code>${esc(t.expression)}</code></td><td>${esc(t.metric)}</td>${observed}<td class="num">${esc(formatFigure(t.limit, t.unit))}</td><td class="status-${t.status}" data-status="${t.status}">${status}</td><td>${t.abortOnFail ? 'abortOnFail' : ''}</td></tr>`;
  });
  const n = th.results.length;
  const head = th.ok ? `All ${n} thresholds held.` : `${th.breached + th.noData} of ${n} thresholds failed${th.abortedBy ? `; the run was stopped by ${esc(th.abortedBy)}` : ''}.`;
  return `<p class="${th.ok ? 'status-ok' : 'status-breached'}">${head}</p>
<table><thead><tr><th>threshold</th><th>expression</th><th>figure</th><th class="num">observed</th><th class="num">limit</th><th>status</th><th></th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

const count = (n: number): string => (Number.isInteger(n) ? n.toLocaleString('en-US') : n.toLocaleString('en-US', { maximumFractionDigits: 1 }));

/** Each waterfall's stages, what each step lost, who admits to it and the unattributed rest. */
export function waterfallTablesHtml(results: Results): string {
  const out: string[] = [];
  for (const [i, w] of ((results.waterfalls ?? []) as Waterfall[]).entries()) {
    const rows = w.stages.map((s, k) => {
      const step = k === 0 ? undefined : w.steps.find((st) => st.to === s.stage);
      const admitted = step?.attributed.map((a) => `${CAUSE_LABEL[a.cause]}${a.reason ? ` (${a.reason})` : ''}: ${count(a.count)}`).join('; ') ?? '';
      const stepPath = `waterfalls.${i}.steps.${step === undefined ? -1 : w.steps.indexOf(step)}`;
      const lost = step === undefined ? '<td></td>' : `${figureCell(`${stepPath}.loss`, step.loss, 'count')}`;
      return `<tr><td>${esc(STAGE_LABEL[s.stage])}</td>${figureCell(`waterfalls.${i}.stages.${k}.count`, s.count, 'count')}${lost}<td>${esc(admitted)}</td><td class="num">${step === undefined ? '' : count(step.unattributed)}</td></tr>`;
    });
    const findings = w.findings.map((f) => `<li><code>${esc(f.kind)}</code> ${count(f.count)}: ${esc(f.detail)}</li>`).join('');
    out.push(`<h3>${esc(SIGNAL_TITLE[w.signal])}</h3><table><thead><tr><th>stage</th><th class="num">count</th><th class="num">lost in the step</th><th>admitted by</th><th class="num">unattributed</th></tr></thead><tbody>${rows.join('')}</tbody></table>${findings ? `<ul>${findings}</ul>` : ''}`);
  }
  return out.join('\n');
}

/** Every section of summary.md as a table: whatever the plots and key figures leave out is here. */
export function summaryTablesHtml(results: Results): string {
  const groups = summarySections(results).map((s) => `<div><h3>${esc(s.section)}</h3><table>${s.rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table></div>`);
  return `<div class="summary">${groups.join('\n')}</div>`;
}

/** Findings and warnings, or that there are none. */
export function findingsHtml(results: Results): string {
  const findings = (results.findings ?? []) as { kind: string; count: number; detail?: string }[];
  const warnings = (results.warnings ?? []) as { pointer: string; message: string }[];
  const parts: string[] = [];
  if (findings.length === 0) parts.push('<p class="empty">No findings: nothing about the system under test was flagged.</p>');
  else {
    const rows = findings.map((f, i) => `<tr><td><code>${esc(f.kind)}</code></td>${figureCell(`findings.${i}.count`, f.count, 'count')}<td>${esc(f.detail ?? '')}</td></tr>`);
    parts.push(`<table><thead><tr><th>finding</th><th class="num">count</th><th>detail</th></tr></thead><tbody>${rows.join('')}</tbody></table>`);
  }
  if (warnings.length > 0) parts.push(`<h3>Scenario warnings</h3><ul>${warnings.map((w) => `<li><code>${esc(w.pointer)}</code>: ${esc(w.message)}</li>`).join('')}</ul>`);
  return parts.join('\n');
}

/** The run's header: what ran, when, and badges for completeness, thresholds and generator saturation. */
export function runHeaderHtml(results: Results): string {
  const r = results.run;
  const badges: string[] = [];
  badges.push(results.complete ? '<span class="badge ok">complete</span>' : `<span class="badge bad">incomplete: ${esc(results.incompleteReason ?? 'unknown')}</span>`);
  if (results.thresholds) badges.push(results.thresholds.ok ? '<span class="badge ok">thresholds held</span>' : '<span class="badge bad">thresholds failed</span>');
  if (results.generator?.saturated) badges.push(`<span class="badge warn">generator saturated: ${esc((results.generator.reasons as string[]).join('; '))}</span>`);
  const duration = `${(r.plannedDurationMs / 1000).toLocaleString('en-US')} s planned, ${(r.elapsedMs / 1000).toFixed(1)} s elapsed`;
  return `<h1>tally run: ${esc(r.scenario)}</h1>
<p class="meta">run <code>${esc(r.id)}</code> · seed ${esc(r.seed)} · started ${esc(r.startedAt)} · ${esc(duration)} · ${esc(r.workers)} worker threads · tally ${esc(r.tallyVersion)}, Node ${esc(r.nodeVersion)}</p>
<div class="badges">${badges.join('')}</div>`;
}
