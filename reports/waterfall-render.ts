/**
 * Markdown rendering of a loss waterfall, for summary.md. Pure: waterfall in, text out.
 */
import type { LossCause, Waterfall, WaterfallSignal, WaterfallStage } from '../reconcile/waterfall.ts';

/** What a waterfall counts, for people. */
export const SIGNAL_TITLE: Readonly<Record<WaterfallSignal, string>> = { metric_points: 'metric data points', spans: 'spans' };

/** Each stage of a waterfall, for people. */
export const STAGE_LABEL: Readonly<Record<WaterfallStage, string>> = {
  generated: 'generated',
  sent: 'sent',
  acknowledged: 'acknowledged (first hop)',
  collector_accepted: 'accepted by the collector receiver',
  exported: 'exported by the collector',
  backend_received: 'received by the backend',
  stored: 'stored',
  queryable: 'queryable (read-back)',
};

/** Each cause a stage admits to, for people. */
export const CAUSE_LABEL: Readonly<Record<LossCause, string>> = {
  dropped_by_generator_queue: 'dropped by tally’s export queue',
  rejected_partial_success: 'rejected (partial_success)',
  refused_by_receiver: 'refused by the receiver',
  failed_export: 'failed export (no 2xx)',
  dropped_by_processor: 'dropped by a processor',
  processor_in_out_gap: 'processor in − out (dropped or held)',
  enqueue_failed: 'enqueue failed (queue full)',
  send_failed: 'send failed',
  discarded_by_backend: 'discarded by the backend',
};

/** Integers with thousands separators; `increase()`-style fractions with one decimal. */
function count(n: number): string {
  return Number.isInteger(n) ? n.toLocaleString('en-US') : n.toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
}

function pct(ratio: number): string {
  return `${(ratio * 100).toFixed(ratio > 0 && ratio < 0.001 ? 4 : 2)}%`;
}

/** `|` would end a table cell. */
function cell(text: string): string {
  return text.replaceAll('|', '\\|');
}

/**
 * Render one waterfall as a Markdown section: a heading, a table with one row per stage
 * (count, loss in the step into it with its ratio, who admits to it, the unattributed
 * rest) and the findings as a list.
 * @param w from `buildWaterfall`.
 * @param headingLevel `#` count of the heading (default 2, as in summary.md's sections).
 * @returns Markdown ending in a newline.
 */
export function renderWaterfallMarkdown(w: Waterfall, headingLevel = 2): string {
  const lines = [`${'#'.repeat(headingLevel)} Loss waterfall: ${SIGNAL_TITLE[w.signal]}`, ''];
  lines.push('| stage | count | lost in the step | admitted by | unattributed |', '|---|---:|---:|---|---:|');
  const first = w.stages[0];
  if (first !== undefined) lines.push(`| ${STAGE_LABEL[first.stage]} | ${count(first.count)} | | | |`);
  for (const s of w.steps) {
    const admitted = s.attributed
      .map((a) => `${CAUSE_LABEL[a.cause]}${a.reason !== undefined ? ` \`${a.reason}\`` : ''} ${count(a.count)}${a.detail !== undefined ? ` (${a.detail})` : ''}`)
      .join('; ');
    const lost = s.loss === 0 ? '0' : `${count(s.loss)} (${pct(s.lossRatio)})`;
    lines.push(`| ${STAGE_LABEL[s.to]} | ${count(s.output)} | ${lost} | ${cell(admitted)} | ${count(s.unattributed)} |`);
  }
  lines.push('', `Lost in all: ${count(w.lossTotal)}; admitted by a stage: ${count(w.attributedTotal)}; unattributed: ${count(w.unattributedTotal)}.`);
  if (w.findings.length > 0) {
    lines.push('', 'Findings:', '');
    for (const f of w.findings) lines.push(`- \`${f.kind}\`${f.step !== undefined ? ` at ${f.step}` : ''}: ${count(f.count)} (${f.detail})`);
  }
  return `${lines.join('\n')}\n`;
}
