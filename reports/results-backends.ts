/**
 * The read-back parts of results.json (`readback`, `remoteWrite`, `prometheusIngest`,
 * `waterfalls`, `datapathMetrics`, `tempo`, `readbackProblems`) and the findings they
 * raise. Pure: values in, values out. See results.schema.json for each field.
 */
import type { DeltaFate } from '../reconcile/delta-fate.ts';
import type { Waterfall } from '../reconcile/waterfall.ts';
import type { VisibilitySummary } from '../reconcile/visibility.ts';
import type { ReadbackReport } from '../readback/prometheus/store.ts';
import type { PrometheusIngestDelta } from '../readback/backend-self-metrics.ts';
import type { DatapathMetrics } from '../readback/cilium/datapath-metrics.ts';
import type { TraceSampleVerification } from '../readback/traces/verify.ts';
import type { Finding } from './load-results.ts';

/** Visibility as the run measured it: the summary, with the deadlines and poll cadence (ms). */
export type VisibilityResults = VisibilitySummary & { settleMs: number; maxWaitMs: number; pollIntervalMs: number; pollErrors: number; seriesTracked?: number; seriesTotal?: number };

/** Prometheus read-back of the run's metrics. */
export interface PrometheusReadbackResults {
  backend: 'prometheus';
  /** Base URL (never carries credentials: the scenario refuses userinfo). */
  url: string;
  version: string;
  transport: 'prometheus/remote-write' | 'otlp';
  runLabel: { name: string; value: string };
  metricNames: string[];
  /** Labels the storing path added beside the run label and the attributes (resource attributes, scope), as seen. */
  pathLabels: string[];
  /** What happened to every delta-temporality point (reconcile/delta-fate.ts); absent without delta metrics. */
  deltaFate?: DeltaFate;
  /** Exemplars read back and checked against the model; absent when no metric carries them. */
  exemplars?: ExemplarResults;
  /** Wall time of the final read-back, s. */
  seconds: number;
  /** API requests over the whole run (visibility polls included), retries included. */
  queriesTotal: number;
  report: ReadbackReport;
  visibility: VisibilityResults;
}

/** A trace backend's sample verification (`tempo`, `jaeger`). */
export type TraceBackendResults = TraceSampleVerification & { url: string; version: string | null; generation: string; tracesPlanned: number };

/** Everything the backends said. */
export interface BackendsResults {
  readback?: PrometheusReadbackResults;
  remoteWrite?: {
    url: string;
    requests: number;
    rejections: Record<string, number>;
    statuses: Record<string, number>;
    /** How late requests went out after their tick's time (ms): the largest, and those later than `lateAfterMs` (one export interval). */
    sendLag?: { maxMs: number; requestsLate: number; lateAfterMs: number };
  };
  prometheusIngest?: Omit<PrometheusIngestDelta, 'flags'>;
  waterfalls?: Waterfall[];
  datapathMetrics?: DatapathMetrics;
  tempo?: TraceBackendResults;
  jaeger?: TraceBackendResults;
  problems?: { source: string; code: string; message: string }[];
}

/** The exemplar read-back, as results.json carries it (readback/prometheus/exemplars.ts). */
export interface ExemplarResults {
  expected: number;
  read: number;
  matching: number;
  wrong: number;
  /** Distinct generated traces the matching exemplars name. */
  tracesNamed: number;
  /** Those traces looked up in the trace backend (pipeline/exemplar-traces.ts); absent without one. */
  traceBackend?: { backend: string; url: string; checked: number; found: number; withoutRootSpan: number; missing: number };
  samples: { metric: string; series: number; tick: number; expected: string; actual: string }[];
}

/**
 * The top-level results.json fields and findings of the backends. Pure.
 * @returns `fields` to merge into results.json and `findings` to append.
 */
export function backendsSection(b: BackendsResults): { fields: Record<string, unknown>; findings: Finding[] } {
  const fields: Record<string, unknown> = {};
  const findings: Finding[] = [];
  const add = (kind: string, count: number, detail: string): void => {
    if (count > 0) findings.push({ kind, count, detail });
  };
  if (b.readback) {
    fields.readback = b.readback;
    const v = b.readback.visibility;
    add('late_points', v.late, `visible in ${b.readback.backend} after settle (${v.settleMs} ms), within maxWait`);
    add('not_visible_points', v.lost, `acknowledged, not visible in ${b.readback.backend} within maxWait (${v.maxWaitMs} ms)`);
    add('visibility_poll_errors', v.pollErrors, 'visibility polls that failed (lag resolution lost, not data)');
    const d = b.readback.deltaFate;
    if (d) {
      add('delta_points_not_acknowledged', d.notAcknowledged, 'delta points the first hop refused or never answered (see missingByStage: a backend without delta support refuses them)');
      add('delta_points_dropped_after_ack', d.droppedAfterAck, `delta points acknowledged and never stored in ${b.readback.backend}: dropped downstream without an error (a path that cannot carry delta temporality)`);
      add('delta_cumulative_offset', d.storedWithOffset, `stored running sums short by an earlier lost delta point, in ${d.seriesWithOffset} series: a lasting offset, not a gap`);
      add('delta_points_wrong', d.storedWrong, 'delta points stored with a value no lost point explains');
    }
    const ex = b.readback.exemplars;
    if (ex) {
      add('exemplars_not_read_back', Math.max(0, ex.expected - ex.matching - ex.wrong), `acknowledged points whose exemplar ${b.readback.backend} did not return (without exemplar storage it keeps none)`);
      add('exemplars_wrong', ex.wrong, 'exemplars naming another trace, span or value than the model gives their point');
      if (ex.traceBackend) {
        add('exemplars_naming_missing_traces', ex.traceBackend.missing, `of ${ex.traceBackend.checked} traces named by exemplars, not found in ${ex.traceBackend.backend}: an exemplar that leads nowhere`);
        add('exemplars_naming_traces_without_root_span', ex.traceBackend.withoutRootSpan, `traces named by exemplars found in ${ex.traceBackend.backend} without the root span the exemplar names`);
      }
    }
  }
  if (b.remoteWrite) {
    fields.remoteWrite = b.remoteWrite;
    for (const [rejection, count] of Object.entries(b.remoteWrite.rejections).sort()) add(`remote_write_rejected_${rejection}`, count, 'requests the receiver refused whole (HTTP 4xx)');
    // Failures that are no refusal of the data, each by what happened.
    const statuses = Object.entries(b.remoteWrite.statuses).map(([status, n]) => [Number(status), n] as const);
    const sum = (match: (status: number) => boolean): number => statuses.reduce((a, [status, n]) => a + (match(status) ? n : 0), 0);
    add('remote_write_server_errors', sum((s) => s >= 500), 'requests the receiver failed (HTTP 5xx): not a refusal of the data');
    add('remote_write_throttled', sum((s) => s === 429), 'requests the receiver throttled (HTTP 429)');
    add('remote_write_no_answer', sum((s) => s === 0), 'requests that got no HTTP answer (connection refused or reset, timeout, run stopped)');
    const lag = b.remoteWrite.sendLag;
    if (lag !== undefined) add('remote_write_sender_behind', lag.requestsLate, `requests sent more than one export interval (${lag.lateAfterMs} ms) after their tick's time, the latest ${(lag.maxMs / 1000).toFixed(1)} s after it: the sender fell behind its schedule (every request in flight at once: the receiver answers too slowly); visibility lag is measured from each request's actual send`);
  }
  if (b.prometheusIngest) fields.prometheusIngest = b.prometheusIngest;
  if (b.waterfalls) {
    fields.waterfalls = b.waterfalls;
    for (const w of b.waterfalls) {
      add(`waterfall_unattributed_${w.signal}`, w.unattributedTotal, 'lost where no stage admits to it');
      for (const c of w.counters ?? []) {
        add(`waterfall_counter_resets_${w.signal}`, c.resets + c.restarts, `${c.source}: ${c.restarts} restarts seen by its process start time, ${c.resets} counter series went down or vanished; counted across them as increase() does, from readings every ${c.intervalMs} ms (${c.readings} read, ${c.failedReadings} failed); what it counted between the last reading before a restart and the restart is lost`);
      }
    }
  }
  if (b.datapathMetrics) fields.datapathMetrics = b.datapathMetrics;
  for (const name of ['tempo', 'jaeger'] as const) {
    const t = b[name];
    if (!t) continue;
    fields[name] = t;
    findings.push(...traceSampleFindings(name, t));
  }
  if (b.problems && b.problems.length > 0) fields.readbackProblems = b.problems;
  return { fields, findings };
}

/** The findings of a trace backend's sample: missing, incomplete and altered traces, and a count that disagrees. */
function traceSampleFindings(name: 'tempo' | 'jaeger', t: TraceBackendResults): Finding[] {
  const findings: Finding[] = [];
  const add = (kind: string, count: number, detail: string): void => {
    if (count > 0) findings.push({ kind, count, detail });
  };
  add(`${name}_missing_traces`, t.missing, `of ${t.checked} sampled traces checked by id`);
  add(`${name}_incomplete_traces`, t.incomplete, 'sampled traces with missing spans');
  add(`${name}_altered_traces`, t.altered, 'sampled traces with wrong, unexpected or duplicate spans');
  const c = t.crossCheck;
  if (c.consistentWithSample === false && c.observedTraces !== null && c.lossRatio !== null) {
    const pctOf = (x: number): string => `${(x * 100).toFixed(2)}%`;
    findings.push({
      kind: `${name}_count_disagrees_with_sample`,
      count: Math.abs(c.expectedTraces - c.observedTraces),
      detail: `${name}'s ${c.method} counted ${c.observedTraces}${c.lowerBound ? ' or more' : ''} of ${c.expectedTraces} traces (loss ${pctOf(c.lossRatio)}), outside the sample's interval [${pctOf(t.traceLoss.lower)}, ${pctOf(t.traceLoss.upper)}], after ${c.readings} readings over ${(c.waitedMs / 1000).toFixed(1)} s (${c.settledBy})`,
    });
  }
  return findings;
}
