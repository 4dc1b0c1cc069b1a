/**
 * Renderers of results.json: Markdown (summary.md) and the terminal summary, plus the
 * live progress line. Pure: results in, text out. `--json`-style consumers read the same
 * results object.
 */
import type { IntervalLine } from './aggregate.ts';
import type { Results } from './results.ts';
import { backendSections, traceReadbackNote, waterfallMarkdown } from './render-backends.ts';
import { thresholdsSectionRows } from './render-thresholds.ts';

/** Format µs for people: `850µs`, `1.23ms`, `2.10s`. */
export function formatUs(us: number): string {
  if (us >= 1_000_000) return `${(us / 1_000_000).toFixed(2)}s`;
  if (us >= 1000) return `${(us / 1000).toFixed(2)}ms`;
  return `${Math.round(us)}µs`;
}

const pct = (ratio: number): string => `${(ratio * 100).toFixed(ratio > 0 && ratio < 0.001 ? 4 : 2)}%`;
const int = (n: number): string => n.toLocaleString('en-US');

/** Rows of (label, value) that both renderers share. */
function rows(r: Results): { section: string; rows: [string, string][] }[] {
  const out: { section: string; rows: [string, string][] }[] = [];
  const thresholds = thresholdsSectionRows(r);
  if (thresholds) out.push(thresholds);
  const l = r.summary.load;
  if (l) {
    const errs = Object.entries(l.errors.byClass as Record<string, number>).map(([k, v]) => `${k} ${int(v)}`).join(', ');
    const loadRows: [string, string][] = [
      [
        l.model === 'closed' ? `VUs (${l.executor}), most active` : `arrival rate (${l.executor}), target → achieved`,
        l.model === 'closed' ? `${int(l.vusActiveMax ?? 0)} of ${int(l.maxVUs ?? 0)}; ${l.achievedRatePerSecond.toFixed(1)} responses/s` : `${int(l.targetRatePerSecond)}/s → ${l.achievedRatePerSecond.toFixed(1)}/s`,
      ],
      ['new connections (per second)', `${int(l.newConnections ?? l.requests)} (${(l.connectionsPerSecond ?? 0).toFixed(1)}/s)`],
      ['requests / iterations', `${int(l.requests)} / ${int(l.iterationsCompleted ?? l.requests)}`],
      ['errors (generator side / target side)', l.errors.total === 0 ? '0' : `${int(l.errors.total)} (${int(l.errors.generatorSide ?? 0)} / ${int(l.errors.targetSide ?? 0)}: ${errs})`],
      ['late starts / dropped iterations', `${int(l.lateStarts)} / ${int(l.droppedIterations)}`],
      ['latency from intended start p50 / p99 / max', `${formatUs(l.latencyUs.p50)} / ${formatUs(l.latencyUs.p99)} / ${formatUs(l.latencyUs.max)}`],
      ['connect p50 / p99 / max', `${formatUs(l.connectUs.p50)} / ${formatUs(l.connectUs.p99)} / ${formatUs(l.connectUs.max)}`],
      ['TTFB p50 / p99', `${formatUs(l.ttfbUs.p50)} / ${formatUs(l.ttfbUs.p99)}`],
    ];
    if (l.dnsUs) loadRows.push(['DNS p50 / p99', `${formatUs(l.dnsUs.p50)} / ${formatUs(l.dnsUs.p99)}`]);
    if (l.stages && l.stages.length > 1) loadRows.push(['stages: started / planned', (l.stages as { iterationsStarted: number; iterationsPlanned: number }[]).map((st) => `${int(st.iterationsStarted)}/${int(st.iterationsPlanned)}`).join(', ')]);
    if (l.bursts) loadRows.push(['bursts: count, release spread max', `${int(l.bursts.count)} × ${int(l.bursts.connectionsPerBurst)} within ${l.bursts.windowMs} ms planned; ${l.bursts.releaseSpreadMaxMs} ms measured`]);
    if (l.endpointSpread) loadRows.push(['endpoint spread (max deviation from uniform)', `${Object.entries(l.endpointSpread.backends as Record<string, number>).map(([b, n]) => `${b} ${int(n)}`).join(', ')} (${pct(l.endpointSpread.maxDeviationRatio)})`]);
    if (l.synRetransmit && l.synRetransmit.connections > 0) {
      const corroborated = l.synRetransmit.corroborated ?? l.synRetransmit.connections;
      loadRows.push(['SYN-retransmit signature', `${int(corroborated)} of ${int(l.synRetransmit.ofConnects)} connects${corroborated < l.synRetransmit.connections ? ` (${int(l.synRetransmit.connections - corroborated)} more slow connects without SYN retransmits)` : ''}`]);
    }
    out.push({ section: `Load (${l.protocol ?? 'http1'}, reuse ${l.reuse ?? 'never'})`, rows: loadRows });
  }
  const m = r.summary.metrics;
  if (m) {
    const st = m.missingByExportStage ?? { ...m.missingByStage, droppedByQueue: 0, unsettled: 0 };
    const metricRows: [string, string][] = [
      ['data points sent / acknowledged', `${int(m.pointsSent)} / ${int(m.pointsAcknowledged)}`],
      ['rejected (partial_success) / failed / dropped by queue / unsettled', `${int(m.pointsRejected)} / ${int(m.pointsFailed ?? 0)} / ${int(m.pointsDropped ?? 0)} / ${int(m.pointsUnsettled ?? 0)}`],
      ['requests / failed / retries', `${int(m.requests ?? 0)} / ${int(m.requestsFailed ?? 0)} / ${int(m.retries ?? 0)}`],
    ];
    if (m.reconciled !== false) {
      metricRows.push(
        ['received / missing', `${int(m.pointsReceived)} / ${int(m.pointsMissing)}`],
        ['loss ratio', pct(m.lossRatio)],
        ['missing by stage: rejected / failed export / dropped by queue / unsettled / lost after ack', `${int(st.rejected)} / ${int(st.failedExport)} / ${int(st.droppedByQueue)} / ${int(st.unsettled)} / ${int(st.lostAfterAck)}`],
        ['duplicates / value mismatches / unexpected', `${int(m.duplicatePoints)} / ${int(m.valueMismatches)} / ${int(m.unexpectedPoints)}`],
      );
    } else metricRows.push(['read back', 'no (external endpoint): loss is not reconciled']);
    if (m.exemplarTraces) {
      const x = m.exemplarTraces;
      metricRows.push(['traces named by exemplars: with root span / complete / missing', `${int(x.tracesNamed)}: ${int(x.tracesNamedWithRootSpan)} / ${int(x.tracesNamedComplete)} / ${int(x.tracesNamedMissing)}`]);
    }
    if (m.deltaAccumulation) metricRows.push(['delta series with an accumulated offset', `${int(m.deltaAccumulation.identitiesWithOffset)} of ${int(m.deltaAccumulation.identities)}`]);
    if (m.exporter) metricRows.push(...exporterRows(m.exporter));
    out.push({ section: `OTLP metrics (${m.protocol}${m.compression === 'gzip' ? ', gzip' : ''})`, rows: metricRows });
  }
  const tr = r.summary.traces;
  if (tr) {
    const st = tr.missingByStage;
    const traceRows: [string, string][] = [
      ['spans sent / acknowledged', `${int(tr.spansSent)} / ${int(tr.spansAcknowledged)}`],
      ['rejected (partial_success) / failed / dropped by queue / unsettled', `${int(tr.spansRejected)} / ${int(tr.spansFailed)} / ${int(tr.spansDropped)} / ${int(tr.spansUnsettled)}`],
    ];
    if (tr.reconciled) {
      traceRows.push(
        ['traces sent / complete / incomplete / missing', `${int(tr.tracesSent)} / ${int(tr.tracesComplete)} / ${int(tr.tracesIncomplete)} / ${int(tr.tracesMissing)}`],
        ['spans received / missing', `${int(tr.spansReceived)} / ${int(tr.spansMissing)}`],
        ['span loss ratio', pct(tr.spanLossRatio)],
        ['missing by stage: rejected / failed export / dropped by queue / unsettled / lost after ack', `${int(st.rejected)} / ${int(st.failedExport)} / ${int(st.droppedByQueue)} / ${int(st.unsettled)} / ${int(st.lostAfterAck)}`],
        ['duplicates / wrong content / unexpected', `${int(tr.duplicateSpans)} / ${int(tr.wrongContentSpans)} / ${int(tr.unexpectedSpans)}`],
      );
    } else traceRows.push(['read back', traceReadbackNote(r) ?? 'no (external endpoint): loss is not reconciled']);
    if (tr.reconciled === false) traceRows.splice(2, 0, ['traces sent', int(tr.tracesSent ?? 0)]);
    if (tr.exporter) traceRows.push(...exporterRows(tr.exporter));
    out.push({ section: `OTLP traces (${tr.protocol})`, rows: traceRows });
  }
  out.push(...backendSections(r));
  const g = r.generator;
  out.push({
    section: 'Generator',
    rows: [
      ['saturated', g.saturated ? `yes: ${g.reasons.join('; ')}` : 'no'],
      ['CPU', pct(g.cpuRatio)],
      ['event-loop delay p99 (worst interval)', formatUs(g.eventLoopDelayP99MaxUs)],
      ['worker thread CPU (share of a core)', (g.workerCpuRatios ?? []).map((x: number) => pct(x)).join(', ') || 'n/a'],
    ],
  });
  if (r.portBudget?.computed) {
    const n = r.portBudget.numbers;
    out.push({
      section: 'Port budget (before the run)',
      rows: [
        ['verdict', r.portBudget.ok ? 'ok' : `short: ${r.portBudget.warnings.map((w: { code: string }) => w.code).join(', ')}`],
        ['ports per pair × pairs; peak need per pair', `${int(n.portsPerPair)} × ${int(n.pairCount)}; ${int(n.portsNeededPeakPerPair)}`],
      ],
    });
  }
  if (r.datapath) {
    const c = r.datapath.counters as Record<string, { delta: number | null }>;
    const g2 = r.datapath.gauges as Record<string, { before: number; after: number }>;
    const d = (k: string): string => (c[k]?.delta ?? 0).toLocaleString('en-US');
    out.push({
      section: `Datapath counters (${r.datapath.source})`,
      rows: [
        ['conntrack insert_failed / drop / early_drop', `${d('conntrack.insert_failed')} / ${d('conntrack.drop')} / ${d('conntrack.early_drop')}`],
        ['conntrack entries before → after (max)', g2['conntrack.count'] ? `${int(g2['conntrack.count'].before)} → ${int(g2['conntrack.count'].after)} (${int(g2['conntrack.max']?.after ?? 0)})` : 'n/a'],
        ['TCP ActiveOpens / AttemptFails / EstabResets / RetransSegs', `${d('snmp.Tcp.ActiveOpens')} / ${d('snmp.Tcp.AttemptFails')} / ${d('snmp.Tcp.EstabResets')} / ${d('snmp.Tcp.RetransSegs')}`],
        ['ListenOverflows / ListenDrops / TCPSynRetrans', `${d('netstat.TcpExt.ListenOverflows')} / ${d('netstat.TcpExt.ListenDrops')} / ${d('netstat.TcpExt.TCPSynRetrans')}`],
        ['TIME_WAIT sockets before → after', g2['sockstat.TCP.tw'] ? `${int(g2['sockstat.TCP.tw'].before)} → ${int(g2['sockstat.TCP.tw'].after)}` : 'n/a'],
      ],
    });
  }
  return out;
}

/**
 * The summary's sections as (label, value) rows, as summary.md and the terminal show them
 * (the HTML report shows them too, so it leaves out nothing the summary says).
 */
export function summarySections(r: Results): { section: string; rows: [string, string][] }[] {
  return rows(r);
}

/** Rows of one exporter's totals: queue, drops, blocking, attempt and export latency. */
function exporterRows(e: Results): [string, string][] {
  return [
    ['exporter queue depth max / dropped batches / blocked', `${int(e.queueDepthMax)} / ${int(e.droppedBatches)} / ${formatUs(e.blockedUs)}`],
    ['export latency p50 / p99 / max (retries included)', `${formatUs(e.exportLatencyUs.p50)} / ${formatUs(e.exportLatencyUs.p99)} / ${formatUs(e.exportLatencyUs.max)}`],
  ];
}

/** summary.md for a run. */
export function renderMarkdown(r: Results): string {
  const lines = [`# tally run ${r.run.id}`, ''];
  lines.push(`Scenario \`${r.run.scenario}\`, seed ${r.run.seed}, ${r.run.workers} workers, started ${r.run.startedAt}, planned ${r.run.plannedDurationMs / 1000}s.`);
  if (!r.complete) lines.push('', `**Incomplete run** (${r.incompleteReason ?? 'unknown'}): the figures cover only what was measured.`);
  for (const s of rows(r)) {
    lines.push('', `## ${s.section}`, '', '| measure | value |', '|---|---|');
    for (const [k, v] of s.rows) lines.push(`| ${k} | ${v} |`);
  }
  for (const w of waterfallMarkdown(r)) lines.push('', w);
  lines.push('', '## Findings', '');
  if (r.findings.length === 0) lines.push('None.');
  for (const f of r.findings) lines.push(`- \`${f.kind}\`: ${int(f.count)}${f.detail ? ` (${f.detail})` : ''}`);
  return `${lines.join('\n')}\n`;
}

/** The terminal summary printed at the end of a run. */
export function renderTerminal(r: Results): string {
  const lines = [`tally ${r.complete ? 'run' : 'INCOMPLETE run'} ${r.run.id}`];
  for (const s of rows(r)) {
    lines.push(`  ${s.section}`);
    const width = Math.max(...s.rows.map(([k]) => k.length));
    for (const [k, v] of s.rows) lines.push(`    ${k.padEnd(width)}  ${v}`);
  }
  lines.push(`  findings: ${r.findings.length === 0 ? 'none' : r.findings.map((f: { kind: string; count: number }) => `${f.kind}=${f.count}`).join(', ')}`);
  return `${lines.join('\n')}\n`;
}

/** Running totals the progress line shows. */
export interface Progress {
  elapsedMs: number;
  targetRatePerSecond?: number;
  lastLine?: IntervalLine;
  errorsTotal: number;
  p99SoFarUs?: number;
  /** Absent when the run sends no metrics. */
  pointsSent?: number;
  pointsAcknowledged?: number;
  /** Absent when the run sends no traces. */
  spansSent?: number;
  spansAcknowledged?: number;
}

/** One progress line (no newline): achieved vs target rate, errors, p99 so far, OTLP points and spans acknowledged vs sent. */
export function renderProgress(p: Progress): string {
  const parts = [`${(p.elapsedMs / 1000).toFixed(0).padStart(4)}s`];
  if (p.targetRatePerSecond !== undefined) {
    const rate = p.lastLine?.load?.achievedRatePerSecond ?? 0;
    parts.push(`rate ${rate.toFixed(0)}/${p.targetRatePerSecond}/s`, `errors ${p.errorsTotal}`);
    if (p.p99SoFarUs !== undefined) parts.push(`p99 ${formatUs(p.p99SoFarUs)}`);
  }
  if (p.pointsSent !== undefined) parts.push(`OTLP acked ${p.pointsAcknowledged ?? 0}/${p.pointsSent}`);
  if (p.spansSent !== undefined) parts.push(`spans acked ${p.spansAcknowledged ?? 0}/${p.spansSent}`);
  return parts.join('  ');
}
