/**
 * The loss waterfall of one signal: how many items (metric data points or spans) each
 * stage saw, what each step lost, and which stage admits to it. Pure.
 *
 * ```
 * [generated] → sent → acknowledged → [collector accepted → exported] → [backend received] → [stored] → [queryable]
 * ```
 * Bracketed stages are present only when measured: no collector (the embedded receiver,
 * direct remote write) means no collector stages. A step runs from one present stage to
 * the next, and the causes of the stages it skips over are attributed in it.
 *
 * Each step's loss (`input − output`) is attributed greedily to the causes that can
 * explain it, in stage order, each capped at what is left; what no cause covers is
 * `unattributed`. A cause admitting more than was lost (retried send failures, refusals
 * of another client's data) is reported as an `admitted_beyond_loss` finding; a backend's
 * discards in requests it refused are `backend_refused` findings, as the sender already
 * counts those items as failed. A stage reporting more than its input is an
 * `inconsistency` finding and a loss of 0, never a negative loss.
 *
 * @see README.md "How it measures" (Reconciliation: classes and stages)
 */
import { InternalError } from '../core/errors.ts';

/** The signals the waterfall follows. */
export type WaterfallSignal = 'metric_points' | 'spans';

/** Stages in pipeline order. */
export type WaterfallStage = 'generated' | 'sent' | 'acknowledged' | 'collector_accepted' | 'exported' | 'backend_received' | 'stored' | 'queryable';

/** What tally's own ledger knows, in items of the signal. */
export interface LedgerStageInput {
  /** Items carried by at least one request. */
  sent: number;
  /** Items in 2xx answers, less partial_success rejections. */
  acknowledged: number;
  /** Items a partial_success answer rejected. */
  rejected: number;
  /** Items in requests that got no 2xx answer (HTTP error, transport error, timeout). */
  failed: number;
  /** Items tally's own export queue dropped before any request carried them; adds a `generated` stage. */
  droppedByQueue?: number;
}

/** The collector's run-window deltas for the signal, summed over the selected components. */
export interface CollectorStageInput {
  receiverAccepted: number;
  /** Refused back to the client (downstream error, memory_limiter). */
  receiverRefused: number;
  /** Internal receiver errors (newer collectors split these from refused). */
  receiverFailed: number;
  /** `processor_dropped_*` (v0.110 and earlier). */
  processorDropped: number;
  /** `processor_refused_*` (memory_limiter, v0.110 and earlier): a part of `receiverRefused`. */
  processorRefused: number;
  /** Σ over processors of `incoming − outgoing` items (v0.110+): dropped, filtered, or still held (batch). */
  processorInOutGap: number;
  exporterSent: number;
  /** Items in failed send attempts: retried ones may later succeed. */
  exporterSendFailed: number;
  /** Items the sending queue refused (full): dropped. */
  exporterEnqueueFailed: number;
  /** How many exporters the sums cover; more than one is a fan-out. */
  exporterCount: number;
  /** Queue size at the end reading (batches or items, by the queue's sizer). */
  queueSizeAfter?: number;
}

/** A backend's run-window deltas. */
export interface BackendStageInput {
  /** e.g. `prometheus`, `tempo`. */
  name: string;
  /** Items the backend's intake counted (Tempo `tempo_distributor_spans_received_total`). */
  received?: number;
  /** Items the backend says it stored (Prometheus `prometheus_tsdb_head_samples_appended_total`). */
  stored?: number;
  /** Items discarded by reason that the sender may have seen acknowledged: loss causes at `stored`. */
  discarded: Readonly<Record<string, number>>;
  /**
   * Items discarded by reason in requests the backend refused (the sender saw the error:
   * Prometheus's 400s, Tempo's 429s). Not causes of an acknowledged item's loss: they are
   * already counted as the sender's failures, and are reported as `backend_refused` findings.
   */
  refused?: Readonly<Record<string, number>>;
}

/** Everything a waterfall is built from. */
export interface WaterfallInput {
  signal: WaterfallSignal;
  ledger: LedgerStageInput;
  /** Absent when no collector sits between tally and the backend. */
  collector?: CollectorStageInput;
  /** Absent when the backend's own counters were not read. */
  backend?: BackendStageInput;
  /** Distinct items the read-back found; absent when no read-back ran. */
  queryable?: number;
}

/** Who admits to a loss. */
export type LossCause =
  | 'dropped_by_generator_queue'
  | 'rejected_partial_success'
  | 'refused_by_receiver'
  | 'failed_export'
  | 'dropped_by_processor'
  | 'processor_in_out_gap'
  | 'enqueue_failed'
  | 'send_failed'
  | 'discarded_by_backend';

/** Part of a step's loss that a cause admits to. */
export interface Attribution {
  cause: LossCause;
  /** Items. */
  count: number;
  /** The backend's discard reason, for `discarded_by_backend`. */
  reason?: string;
  detail?: string;
}

/** One step between two present stages. */
export interface WaterfallStep {
  from: WaterfallStage;
  to: WaterfallStage;
  input: number;
  output: number;
  /** `max(0, input − output)`. */
  loss: number;
  /** loss / input; 0 when input is 0. */
  lossRatio: number;
  attributed: Attribution[];
  /** The part of the loss no stage admits to. */
  unattributed: number;
}

/** Something the counts do not say plainly. */
export interface WaterfallFinding {
  kind: 'inconsistency' | 'admitted_beyond_loss' | 'backend_refused' | 'fan_out' | 'queue_not_empty' | 'unplaced_cause';
  /** `from→to` of the step concerned, when one is. */
  step?: string;
  cause?: LossCause;
  /** The backend's discard reason, for `discarded_by_backend`. */
  reason?: string;
  count: number;
  detail: string;
}

/** How one source of stage counters was read over the run (set by the reader, not by {@link buildWaterfall}). */
export interface WaterfallCounterReadings {
  /** `collector`, `prometheus`, `tempo`, `jaeger`. */
  source: string;
  /** Readings that succeeded, the first and the last included. */
  readings: number;
  /** Readings that failed (the source was down or unreadable), skipped in the chain. */
  failedReadings: number;
  /** Counter series that went down or vanished between two readings (restarts): counted from zero after, as `increase()` does. */
  resets: number;
  /** Restarts seen by the source's process start time changing between two readings: its counters taken from zero. */
  restarts: number;
  /** Interval between readings during the run, ms. */
  intervalMs: number;
}

/** The waterfall of one signal. */
export interface Waterfall {
  signal: WaterfallSignal;
  stages: { stage: WaterfallStage; count: number }[];
  steps: WaterfallStep[];
  /** Σ step losses. */
  lossTotal: number;
  attributedTotal: number;
  unattributedTotal: number;
  findings: WaterfallFinding[];
  /** How the stage counters were read: periodically, the deltas chained across resets. */
  counters?: WaterfallCounterReadings[];
}

interface Candidate {
  cause: LossCause;
  admitted: number;
  reason?: string;
  detail?: string;
}

const ORDER: readonly WaterfallStage[] = ['generated', 'sent', 'acknowledged', 'collector_accepted', 'exported', 'backend_received', 'stored', 'queryable'];

/**
 * Build the waterfall.
 * @returns stages in pipeline order (only the present ones), one step per adjacent pair.
 * @throws InternalError `TALLY_INTERNAL` when a count is negative or not finite (a bug upstream).
 */
export function buildWaterfall(input: WaterfallInput): Waterfall {
  checkCounts(input);
  const { ledger, collector, backend } = input;
  const counts = new Map<WaterfallStage, number>();
  if (ledger.droppedByQueue !== undefined) counts.set('generated', ledger.sent + ledger.droppedByQueue);
  counts.set('sent', ledger.sent);
  counts.set('acknowledged', ledger.acknowledged);
  if (collector !== undefined) {
    counts.set('collector_accepted', collector.receiverAccepted);
    counts.set('exported', collector.exporterSent);
  }
  if (backend?.received !== undefined) counts.set('backend_received', backend.received);
  if (backend?.stored !== undefined) counts.set('stored', backend.stored);
  if (input.queryable !== undefined) counts.set('queryable', input.queryable);

  const findings: WaterfallFinding[] = [];
  const causes = causesByStage(input, findings);
  const present = ORDER.filter((s) => counts.has(s));
  const steps: WaterfallStep[] = [];
  let pending: Candidate[] = [];
  for (let i = 0; i < ORDER.length; i++) {
    const stage = ORDER[i];
    pending.push(...(causes.get(stage) ?? []));
    const at = present.indexOf(stage);
    if (at <= 0) {
      if (at === 0) pending = [];
      continue;
    }
    const from = present[at - 1];
    steps.push(step(from, stage, counts.get(from) as number, counts.get(stage) as number, pending, findings));
    pending = [];
  }
  for (const c of pending) {
    if (c.admitted > 0) findings.push({ kind: 'unplaced_cause', cause: c.cause, ...(c.reason !== undefined ? { reason: c.reason } : {}), count: c.admitted, detail: `${c.cause}${c.reason ? ` (${c.reason})` : ''} admits ${c.admitted} items but no later stage was measured` });
  }
  if (collector !== undefined && collector.exporterCount > 1) {
    findings.push({ kind: 'fan_out', count: collector.exporterCount, detail: `exported sums ${collector.exporterCount} exporters: select the one toward the backend under test` });
  }
  if (collector?.queueSizeAfter !== undefined && collector.queueSizeAfter > 0) {
    findings.push({ kind: 'queue_not_empty', count: collector.queueSizeAfter, detail: 'the exporter queue still held data at the end reading (batches or items, by its sizer)' });
  }
  let lossTotal = 0;
  let attributedTotal = 0;
  let unattributedTotal = 0;
  for (const s of steps) {
    lossTotal += s.loss;
    unattributedTotal += s.unattributed;
    for (const a of s.attributed) attributedTotal += a.count;
  }
  return { signal: input.signal, stages: present.map((stage) => ({ stage, count: counts.get(stage) as number })), steps, lossTotal, attributedTotal, unattributedTotal, findings };
}

/** The causes that explain a shortfall at each stage, in the order they are applied. */
function causesByStage(input: WaterfallInput, findings: WaterfallFinding[]): Map<WaterfallStage, Candidate[]> {
  const { ledger, collector, backend } = input;
  const out = new Map<WaterfallStage, Candidate[]>();
  if (ledger.droppedByQueue !== undefined) out.set('sent', [{ cause: 'dropped_by_generator_queue', admitted: ledger.droppedByQueue }]);
  const ack: Candidate[] = [{ cause: 'rejected_partial_success', admitted: ledger.rejected }];
  if (collector !== undefined) {
    // A refusal reaches the client as an error: it is one of the ledger's failures, not more.
    const refused = collector.receiverRefused + collector.receiverFailed;
    const refusedUsed = Math.min(refused, ledger.failed);
    const detail = collector.processorRefused > 0 ? `of which processors (memory_limiter) refused ${collector.processorRefused}` : undefined;
    ack.push({ cause: 'refused_by_receiver', admitted: refusedUsed, ...(detail ? { detail } : {}) });
    ack.push({ cause: 'failed_export', admitted: ledger.failed - refusedUsed });
    if (refused > refusedUsed) {
      findings.push({
        kind: 'admitted_beyond_loss',
        step: 'sent→acknowledged',
        cause: 'refused_by_receiver',
        count: refused - refusedUsed,
        detail: `the receiver refused ${refused} items, tally saw ${ledger.failed} fail: another client's data, or refusals retried`,
      });
    }
  } else {
    ack.push({ cause: 'failed_export', admitted: ledger.failed });
  }
  out.set('acknowledged', ack);
  if (collector !== undefined) {
    out.set('exported', [
      { cause: 'dropped_by_processor', admitted: collector.processorDropped },
      { cause: 'processor_in_out_gap', admitted: collector.processorInOutGap },
      { cause: 'enqueue_failed', admitted: collector.exporterEnqueueFailed },
      { cause: 'send_failed', admitted: collector.exporterSendFailed },
    ]);
  }
  if (backend !== undefined) {
    const reasons = Object.keys(backend.discarded).sort();
    out.set('stored', reasons.map((reason) => ({ cause: 'discarded_by_backend' as const, admitted: backend.discarded[reason], reason })));
    for (const [reason, count] of Object.entries(backend.refused ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (count > 0) {
        findings.push({ kind: 'backend_refused', reason, count, detail: `${backend.name} refused ${count} items (${reason}) in requests that failed: counted in the sender's failures, not here` });
      }
    }
  }
  return out;
}

function step(from: WaterfallStage, to: WaterfallStage, input: number, output: number, candidates: readonly Candidate[], findings: WaterfallFinding[]): WaterfallStep {
  const name = `${from}→${to}`;
  const loss = Math.max(0, input - output);
  if (output > input) {
    findings.push({ kind: 'inconsistency', step: name, count: output - input, detail: `${to} (${output}) reports more than ${from} (${input}): other traffic counted, duplicates, or readings from different windows` });
  }
  let remaining = loss;
  const attributed: Attribution[] = [];
  for (const c of candidates) {
    const take = Math.min(c.admitted, remaining);
    if (take > 0) {
      attributed.push({ cause: c.cause, count: take, ...(c.reason !== undefined ? { reason: c.reason } : {}), ...(c.detail !== undefined ? { detail: c.detail } : {}) });
      remaining -= take;
    }
    if (c.admitted > take) {
      findings.push({
        kind: 'admitted_beyond_loss',
        step: name,
        cause: c.cause,
        ...(c.reason !== undefined ? { reason: c.reason } : {}),
        count: c.admitted - take,
        detail: `${c.cause}${c.reason ? ` (${c.reason})` : ''} admits ${c.admitted} items, ${take} of them lost in this step`,
      });
    }
  }
  return { from, to, input, output, loss, lossRatio: input === 0 ? 0 : loss / input, attributed, unattributed: remaining };
}

function checkCounts(input: WaterfallInput): void {
  const bad: string[] = [];
  const check = (path: string, value: number | undefined): void => {
    if (value !== undefined && !(Number.isFinite(value) && value >= 0)) bad.push(`${path}=${value}`);
  };
  for (const [k, v] of Object.entries(input.ledger)) check(`ledger.${k}`, v);
  if (input.collector) for (const [k, v] of Object.entries(input.collector)) check(`collector.${k}`, v);
  if (input.backend) {
    check('backend.received', input.backend.received);
    check('backend.stored', input.backend.stored);
    for (const [k, v] of Object.entries(input.backend.discarded)) check(`backend.discarded.${k}`, v);
    for (const [k, v] of Object.entries(input.backend.refused ?? {})) check(`backend.refused.${k}`, v);
  }
  check('queryable', input.queryable);
  if (bad.length > 0) throw new InternalError(`waterfall input has negative or non-finite counts: ${bad.join(', ')}`, { details: { bad } });
}
