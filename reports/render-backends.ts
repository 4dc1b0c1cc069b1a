/**
 * The read-back parts of summary.md and the terminal summary: Prometheus read-back and
 * visibility, remote write refusals, cluster datapath metrics, Tempo and Jaeger, and (Markdown only)
 * the loss waterfalls. Pure: results in, text out.
 */
import type { Waterfall } from '../reconcile/waterfall.ts';
import type { Results } from './results.ts';
import { renderWaterfallMarkdown } from './waterfall-render.ts';

type Section = { section: string; rows: [string, string][] };

const int = (n: number): string => n.toLocaleString('en-US');
const pct = (ratio: number): string => `${(ratio * 100).toFixed(ratio > 0 && ratio < 0.001 ? 4 : 2)}%`;
function us(v: number): string {
  if (v >= 1_000_000) return `${(v / 1_000_000).toFixed(2)}s`;
  if (v >= 1000) return `${(v / 1000).toFixed(1)}ms`;
  return `${Math.round(v)}µs`;
}

/** The trace backends, as results.json names them and as people do. */
const TRACE_BACKENDS = [['tempo', 'Tempo'], ['jaeger', 'Jaeger']] as const;

/**
 * How a run's traces were read back from a trace backend, for the traces section's
 * "read back" row; undefined when none was.
 */
export function traceReadbackNote(r: Results): string | undefined {
  for (const [name, label] of TRACE_BACKENDS) {
    const t = r[name];
    if (t) return `yes: ${int(t.sampled)} sampled traces read by id from ${label} (see below)`;
  }
  return undefined;
}

/** A trace backend's sample: counts, the loss interval and the count cross-check. */
function traceSampleSection(label: string, t: Results): Section {
  const loss = t.traceLoss;
  const cross = t.crossCheck;
  let crossText = cross.method === 'none' ? `none${cross.failure ? ` (${cross.failure.reason})` : ''}` : `${cross.method}: ${cross.observedTraces} of ${cross.expectedTraces}${cross.lowerBound ? ' (at least)' : ''}`;
  if (cross.readings !== undefined && cross.readings > 1) crossText += `, ${cross.readings} readings over ${(cross.waitedMs / 1000).toFixed(1)} s`;
  if (cross.consistentWithSample === false) crossText += ': DISAGREES with the sample';
  return {
    section: `${label} ${t.version ?? ''} (sampled traces)`.replace('  ', ' '),
    rows: [
      ['sampled / checked / found / missing', `${int(t.sampled)} / ${int(t.checked)} / ${int(t.found)} / ${int(t.missing)}`],
      ['incomplete / altered / failed reads', `${int(t.incomplete)} / ${int(t.altered)} / ${int(t.failed)}`],
      ['trace loss (Wilson interval)', loss.ratio === null ? 'n/a' : `${pct(loss.ratio)} [${pct(loss.lower)}, ${pct(loss.upper)}] at ${loss.confidence}`],
      ['cross-check', crossText],
    ],
  };
}

/** Sections shared by summary.md and the terminal. */
export function backendSections(r: Results): Section[] {
  const out: Section[] = [];
  const rb = r.readback;
  if (rb) {
    const rep = rb.report;
    const v = rb.visibility;
    out.push({
      section: `Read-back (Prometheus ${rb.version}, ${rb.transport})`,
      rows: [
        ['run label', `${rb.runLabel.name}="${rb.runLabel.value}"`],
        ['points expected / present / missing', `${int(rep.pointsExpected)} / ${int(rep.pointsPresent)} / ${int(rep.pointsMissing)}`],
        ['series missing / partial', `${int(rep.seriesMissing)} / ${int(rep.seriesPartial)}`],
        ['value mismatches / duplicates / unexpected', `${int(rep.valueMismatches)} / ${int(rep.duplicatePoints)} / ${int(rep.unexpected)}`],
        ['visible on time / late / lost (of acknowledged)', `${int(v.onTime)} / ${int(v.late)} / ${int(v.lost)} of ${int(v.pointsExpected)}${v.pending > 0 ? ` (${int(v.pending)} pending)` : ''}`],
        ...(v.seriesTracked !== undefined && v.seriesTracked < v.seriesTotal ? [['visibility tracked (a sample)', `${int(v.seriesTracked)} of ${int(v.seriesTotal)} series`] as [string, string]] : []),
        ['deadlines settle / maxWait, poll interval', `${v.settleMs} ms / ${v.maxWaitMs} ms, ${v.pollIntervalMs} ms`],
        ['time to visible p50 / p99 / max', `${us(v.lagUs.p50)} / ${us(v.lagUs.p99)} / ${us(v.lagUs.max)}`],
        ['read-back queries (final) / seconds', `${int(rep.queries)} / ${rb.seconds.toFixed(2)}`],
        ...(rb.pathLabels && rb.pathLabels.length > 0 ? [['labels the path added', (rb.pathLabels as string[]).join(', ')] as [string, string]] : []),
      ],
    });
    const f = rb.deltaFate;
    if (f) {
      out.push({
        section: `Delta points (${f.ingestion === 'native' ? 'stored as sent' : 'converted to cumulative'})`,
        rows: [
          ['sent / not acknowledged', `${int(f.sent)} / ${int(f.notAcknowledged)}`],
          ['stored exactly / with a lasting offset / wrong', `${int(f.storedExact)} / ${int(f.storedWithOffset)} (in ${int(f.seriesWithOffset)} series) / ${int(f.storedWrong)}`],
          ['acknowledged, never stored', int(f.droppedAfterAck)],
          ['per metric', (f.byMetric as { metricIndex: number; verdict: string }[]).map((x) => `#${x.metricIndex} ${x.verdict}`).join(', ')],
        ],
      });
    }
  }
  const rw = r.remoteWrite;
  if (rw) {
    const refused = Object.entries(rw.rejections as Record<string, number>).map(([k, n]) => `${k} ${int(n)}`).join(', ');
    out.push({ section: 'Remote write', rows: [['requests', int(rw.requests)], ['refused whole (by reason)', refused === '' ? '0' : refused]] });
  }
  const d = r.datapathMetrics;
  if (d) {
    const drops = (d.drops as { packets: number }[]).reduce((a, x) => a + x.packets, 0);
    const pressure = Math.max(0, ...(d.bpfMapPressureMaxRatio as { maxRatio: number }[]).map((m) => m.maxRatio));
    out.push({
      section: 'Cluster datapath metrics (Prometheus)',
      rows: d.available
        ? [['BPF map pressure, highest', pct(pressure)], ['Cilium drops in the window', int(Math.round(drops))], ['queries with no data', String(d.missing.length)]]
        : [['available', 'no (no Cilium or node-exporter series in this Prometheus)']],
    });
  }
  for (const [name, label] of TRACE_BACKENDS) {
    const t = r[name];
    if (t) out.push(traceSampleSection(label, t));
  }
  return out;
}

/** The waterfalls as Markdown sections (summary.md only). */
export function waterfallMarkdown(r: Results): string[] {
  return ((r.waterfalls ?? []) as Waterfall[]).map((w) => renderWaterfallMarkdown(w, 2).trimEnd());
}
