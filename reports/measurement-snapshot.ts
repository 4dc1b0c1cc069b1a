/**
 * tally's own figures as measurement snapshots (core/measurement-output.ts): one per
 * interval line, cumulative since the run started, and a final one built from results.json,
 * whose every counter is the results.json field the catalogue names
 * (core/measurement-metrics.ts), so the last sample of each series is the run's exact total.
 *
 * Every bounded label set is declared from the first snapshot on (zeros included: an error
 * class that never occurs still has a series), so `rate()` and `increase()` see each series
 * from its start. Per-interval gauges (VUs, in flight, worker CPU) are left out of the final
 * snapshot: they describe intervals, not the run. Pure.
 */
import { ERROR_CLASSES, LOAD_HISTOGRAMS, STATUS_CLASSES, type LoadHistogramName } from '../core/messages.ts';
import { DATAPATH_COUNTER_METRICS, DATAPATH_GAUGE_METRICS, LEDGER_STATES, LOSS_STAGES } from '../core/measurement-metrics.ts';
import type { MeasurementHistogram, MeasurementSnapshot, MeasurementValue } from '../core/measurement-output.ts';
import { decodeHistogram } from '../core/histogram.ts';
import { encodeHdrV2 } from '../core/native-histogram.ts';
import { isOpenModel, openSchedule, type OpenSchedule } from '../core/schedule.ts';
import type { Plan } from '../scenarios/plan.ts';
import type { Scenario } from '../scenarios/types.ts';
import type { IntervalLine } from './aggregate.ts';
import { GENERATOR_SIDE_ERRORS } from './load-results.ts';
import type { Results } from './results.ts';

/** Catalogue key of each load histogram pushed (dnsUs is left out: most runs have none). */
export const HISTOGRAM_KEYS: Readonly<Partial<Record<LoadHistogramName, string>>> = {
  latencyUs: 'latency',
  serviceUs: 'serviceTime',
  connectUs: 'connect',
  ttfbUs: 'ttfb',
  schedulerLagUs: 'schedulerLag',
};

/** HDR V2 encodings of the load's run-total histograms (core/native-histogram.ts `encodeHdrV2`). */
export type LoadHistogramBytes = Partial<Record<LoadHistogramName, Uint8Array>>;

const US_TO_S = 1e-6;
const sideOf = (errorClass: string): string => ((GENERATOR_SIDE_ERRORS as readonly string[]).includes(errorClass) ? 'generator' : 'target');
const LEDGER_FIELD: Record<(typeof LEDGER_STATES)[number], string> = { acknowledged: 'Acknowledged', rejected: 'Rejected', failed: 'Failed', dropped: 'Dropped', unsettled: 'Unsettled' };
const LOSS_FIELD: Record<(typeof LOSS_STAGES)[number], string> = { rejected: 'rejected', failed_export: 'failedExport', dropped_by_queue: 'droppedByQueue', unsettled: 'unsettled', lost_after_ack: 'lostAfterAck' };

/** What the snapshots need to know about the run. */
export interface SnapshotRun {
  plan: Plan;
  scenario: Scenario;
  /** Whether interval lines carry /proc datapath deltas. */
  datapath: boolean;
}

/** Builds a run's snapshots; one instance per run. */
export class MeasurementSnapshots {
  readonly #run: SnapshotRun;
  readonly #schedule: OpenSchedule | undefined;
  /** Stages of an arrival-rate executor whose `stageStarted` is pushed (bursts are not: one per burst is unbounded). */
  readonly #stages: number;
  /** Cumulative counter values, by series key. */
  readonly #counters = new Map<string, MeasurementValue>();
  #lastTimestampMs = 0;

  constructor(run: SnapshotRun) {
    this.#run = run;
    const ex = run.scenario.load?.executor;
    this.#schedule = ex !== undefined && isOpenModel(ex) ? openSchedule(ex, run.scenario.durationMs) : undefined;
    this.#stages = ex?.executor === 'ramping-arrival-rate' || ex?.executor === 'constant-arrival-rate' ? (this.#schedule?.stageCount ?? 0) : 0;
    this.#declare();
  }

  /** Every counter series at 0, so each exists from the first snapshot. */
  #declare(): void {
    const { scenario } = this.#run;
    if (scenario.load) {
      if (this.#schedule) this.#set('iterationsPlanned', undefined, 0);
      for (const key of ['iterationsStarted', 'iterationsCompleted', 'requests', 'newConnections', 'lateStarts', 'droppedIterations']) this.#set(key, undefined, 0);
      for (let s = 0; s < this.#stages; s++) this.#set('stageIterationsStarted', { stage: String(s) }, 0);
      for (const c of STATUS_CLASSES) this.#set('responses', { status_class: c }, 0);
      for (const c of ERROR_CLASSES) this.#set('requestErrors', { class: c, side: sideOf(c) }, 0);
    }
    if ((scenario.telemetry?.metrics.length ?? 0) > 0) for (const s of LEDGER_STATES) this.#set('dataPoints', { state: s }, 0);
    if (scenario.telemetry?.traces) for (const s of LEDGER_STATES) this.#set('spans', { state: s }, 0);
    if (this.#run.datapath) for (const [key] of DATAPATH_COUNTER_METRICS) this.#set(`datapath:${key}`, undefined, 0);
  }

  #key(metric: string, labels: Record<string, string> | undefined): string {
    return labels === undefined ? metric : `${metric}{${Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',')}}`;
  }

  #set(metric: string, labels: Record<string, string> | undefined, value: number): void {
    const key = this.#key(metric, labels);
    const v = this.#counters.get(key);
    if (v === undefined) this.#counters.set(key, labels === undefined ? { metric, value } : { metric, labels, value });
    else v.value = value;
  }

  #add(metric: string, labels: Record<string, string> | undefined, n: number): void {
    const v = this.#counters.get(this.#key(metric, labels));
    this.#set(metric, labels, (v?.value ?? 0) + n);
  }

  /** Whole ms, strictly after the previous snapshot. */
  #timestamp(ms: number): number {
    this.#lastTimestampMs = Math.max(Math.round(ms), this.#lastTimestampMs + 1);
    return this.#lastTimestampMs;
  }

  /** Gauges every snapshot carries: the plan's rate and the load's length. */
  #planGauges(): MeasurementValue[] {
    const load = this.#run.plan.load;
    if (load === undefined) return [];
    const out: MeasurementValue[] = [{ metric: 'loadDuration', value: load.loadDurationMs / 1000 }];
    if (load.ratePerSecond !== undefined) out.push({ metric: 'targetRate', value: load.ratePerSecond });
    return out;
  }

  #histograms(bytes: LoadHistogramBytes): MeasurementHistogram[] {
    const out: MeasurementHistogram[] = [];
    for (const name of LOAD_HISTOGRAMS) {
      const metric = HISTOGRAM_KEYS[name];
      const hdr = bytes[name];
      if (metric !== undefined && hdr !== undefined) out.push({ metric, hdr, unitScale: US_TO_S });
    }
    return out;
  }

  /** Iterations the schedule had due before `offsetMs` into the run. */
  #plannedBy(offsetMs: number): number {
    const s = this.#schedule!;
    let lo = 0;
    let hi = s.arrivals;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (s.offsetMs(mid) < offsetMs) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #addLoad(l: NonNullable<IntervalLine['load']>, endMs: number): MeasurementValue[] {
    if (this.#schedule) this.#set('iterationsPlanned', undefined, this.#plannedBy(endMs));
    this.#add('iterationsStarted', undefined, l.started);
    this.#add('iterationsCompleted', undefined, l.iterationsCompleted);
    this.#add('requests', undefined, l.completed);
    this.#add('newConnections', undefined, l.newConnections);
    this.#add('lateStarts', undefined, l.lateStarts);
    this.#add('droppedIterations', undefined, l.droppedIterations);
    for (let s = 0; s < this.#stages; s++) this.#add('stageIterationsStarted', { stage: String(s) }, l.stageStarted[s] ?? 0);
    for (const c of STATUS_CLASSES) this.#add('responses', { status_class: c }, l.statusClasses[c] ?? 0);
    for (const c of ERROR_CLASSES) this.#add('requestErrors', { class: c, side: sideOf(c) }, l.errorsByClass[c] ?? 0);
    const gauges: MeasurementValue[] = [{ metric: 'inFlightMax', value: l.maxInFlight }];
    if (this.#run.plan.load?.model === 'closed') gauges.push({ metric: 'vusActive', value: l.vusActive });
    return gauges;
  }

  /**
   * The snapshot of one interval line, stamped at the interval's end, or at `nowMs` when that
   * is earlier (the last line of a run may end before its interval would have).
   * @param histograms the load's run totals just after this line was merged (absent without load).
   * @param nowMs epoch ms now; a snapshot is never stamped in the future.
   */
  interval(line: IntervalLine, histograms: LoadHistogramBytes = {}, nowMs = Number.POSITIVE_INFINITY): MeasurementSnapshot {
    const gauges: MeasurementValue[] = [...this.#planGauges()];
    if (line.load) gauges.push(...this.#addLoad(line.load, line.endMs));
    gauges.push({ metric: 'workerCpuMax', value: line.workerCpuMaxRatio }, { metric: 'eventLoopDelayP99', value: line.eventLoopDelayP99MaxUs * US_TO_S });
    const m = line.metrics;
    if (m) {
      const byState = { acknowledged: m.pointsAcknowledged, rejected: m.pointsRejected, failed: m.pointsFailed, dropped: m.pointsDropped, unsettled: m.pointsUnsettled };
      for (const s of LEDGER_STATES) this.#add('dataPoints', { state: s }, byState[s]);
    }
    const t = line.traces;
    if (t) {
      const byState = { acknowledged: t.spansAcknowledged, rejected: t.spansRejected, failed: t.spansFailed, dropped: t.spansDropped, unsettled: t.spansUnsettled };
      for (const s of LEDGER_STATES) this.#add('spans', { state: s }, byState[s]);
    }
    if (line.datapath) {
      for (const [key] of DATAPATH_COUNTER_METRICS) this.#add(`datapath:${key}`, undefined, line.datapath[key] ?? 0);
      for (const [key] of DATAPATH_GAUGE_METRICS) if (line.datapath[key] !== undefined) gauges.push({ metric: `datapath:${key}`, value: line.datapath[key] });
    }
    return {
      timestampMs: this.#timestamp(Math.min(this.#run.plan.startEpochMs + line.endMs, nowMs)),
      values: [...[...this.#counters.values()].map((v) => ({ ...v })), ...gauges],
      histograms: this.#histograms(histograms),
      final: false,
    };
  }

  /** Set every counter to its results.json field. */
  #fromResults(r: Results): void {
    const load = r.summary?.load;
    if (load && this.#run.scenario.load) {
      if (this.#schedule) this.#set('iterationsPlanned', undefined, load.iterationsPlanned ?? 0);
      this.#set('iterationsStarted', undefined, load.iterationsStarted);
      this.#set('iterationsCompleted', undefined, load.iterationsCompleted);
      this.#set('requests', undefined, load.requests);
      this.#set('newConnections', undefined, load.newConnections);
      this.#set('lateStarts', undefined, load.lateStarts);
      this.#set('droppedIterations', undefined, load.droppedIterations);
      for (let s = 0; s < this.#stages; s++) this.#set('stageIterationsStarted', { stage: String(s) }, load.stages?.[s]?.iterationsStarted ?? 0);
      for (const c of STATUS_CLASSES) this.#set('responses', { status_class: c }, load.statusClasses?.[c] ?? 0);
      for (const c of ERROR_CLASSES) this.#set('requestErrors', { class: c, side: sideOf(c) }, load.errors?.byClass?.[c] ?? 0);
    }
    const metrics = r.summary?.metrics;
    if (metrics && (this.#run.scenario.telemetry?.metrics.length ?? 0) > 0) {
      for (const s of LEDGER_STATES) this.#set('dataPoints', { state: s }, metrics[`points${LEDGER_FIELD[s]}`] ?? 0);
      if (metrics.reconciled) for (const s of LOSS_STAGES) this.#set('dataPointsMissing', { stage: s }, metrics.missingByExportStage?.[LOSS_FIELD[s]] ?? 0);
    }
    const traces = r.summary?.traces;
    if (traces && this.#run.scenario.telemetry?.traces) {
      for (const s of LEDGER_STATES) this.#set('spans', { state: s }, traces[`spans${LEDGER_FIELD[s]}`] ?? 0);
      if (traces.reconciled) for (const s of LOSS_STAGES) this.#set('spansMissing', { stage: s }, traces.missingByStage?.[LOSS_FIELD[s]] ?? 0);
    }
    if (r.datapath && this.#run.datapath) {
      for (const [key] of DATAPATH_COUNTER_METRICS) this.#set(`datapath:${key}`, undefined, r.datapath.counters?.[key]?.delta ?? 0);
    }
  }

  /**
   * The final snapshot, from results.json: every counter equals its results.json field.
   * @param histograms the load's run totals (what results.json's percentiles come from).
   * @param nowMs when it is taken (epoch ms); stamped after every interval snapshot.
   */
  final(results: Results, histograms: LoadHistogramBytes, nowMs: number): MeasurementSnapshot {
    this.#fromResults(results);
    const values: MeasurementValue[] = [...[...this.#counters.values()].map((v) => ({ ...v })), ...this.#planGauges()];
    values.push({ metric: 'saturated', value: results.generator?.saturated ? 1 : 0 });
    if (results.datapath && this.#run.datapath) {
      for (const [key] of DATAPATH_GAUGE_METRICS) {
        const g = results.datapath.gauges?.[key]?.after;
        if (typeof g === 'number') values.push({ metric: `datapath:${key}`, value: g });
      }
    }
    const out = this.#histograms(histograms);
    const lag = visibilityLagHdr(results);
    if (lag !== undefined) out.push({ metric: 'visibilityLag', hdr: lag, unitScale: US_TO_S });
    return { timestampMs: this.#timestamp(nowMs), values, histograms: out, final: true };
  }
}

/** results.json's visibility lag histogram (`readback.visibility.lagHistogramUs`) as HDR V2 bytes; undefined without read-back. */
export function visibilityLagHdr(results: Results): Uint8Array | undefined {
  const encoded = results.readback?.visibility?.lagHistogramUs;
  if (typeof encoded !== 'string' || encoded === '') return undefined;
  const h = decodeHistogram(encoded);
  try {
    return encodeHdrV2(h);
  } finally {
    h.destroy();
  }
}
