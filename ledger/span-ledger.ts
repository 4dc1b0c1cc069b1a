/**
 * The sent-side ledger of a run's spans: for every (sequence, span index) what happened
 * to the span on the way out, in 4 bits (never one object per span). A trace has a slot
 * per possible span (`spansMax`), so memory is traceCount × spansMax / 2 bytes.
 *
 * States as in ledger.ts: `unsent`; `failed` (a non-retryable answer, or retries
 * exhausted: HTTP error, transport error, timeout); `acknowledged` (2xx / OK, no
 * rejection); `partial` (in an acknowledged request whose partial_success rejected some
 * of its spans; OTLP does not say which, so the batch's rejected count is kept beside
 * it); `dropped` (refused by the exporter's full queue, never on the wire); `unsettled`
 * (the run stopped while its batch was queued, retrying or in flight).
 *
 * Pure: fed with export outcomes, no I/O.
 */
import type { TallyErrorCode } from '../core/errors.ts';
import { nibbleArray, readNibble, writeNibble } from '../core/nibbles.ts';
import { InternalError } from '../core/errors.ts';
import { traceSpanCount, type TraceExportOutcome, type TraceModel } from '../core/trace-model.ts';
import type { ExportFinalState, TraceExportSettlement } from '../core/messages.ts';
import type { RequestTotals } from './ledger.ts';

export const SPAN_UNSENT = 0;
export const SPAN_FAILED = 1;
export const SPAN_ACKNOWLEDGED = 2;
export const SPAN_PARTIAL = 3;
export const SPAN_DROPPED = 4;
export const SPAN_UNSETTLED = 5;
export type SpanState = 0 | 1 | 2 | 3 | 4 | 5;

/**
 * Final state of a trace export: the exporter's, when it says; otherwise acknowledged on
 * a 2xx without error code, dropped for `TALLY_QUEUE_FULL`, failed for anything else.
 */
export function spanFinalStateOf(o: TraceExportSettlement): ExportFinalState {
  if (o.finalState !== undefined) return o.finalState;
  if (o.errorCode === ('TALLY_QUEUE_FULL' satisfies TallyErrorCode)) return 'dropped';
  return o.status >= 200 && o.status < 300 && o.errorCode === undefined ? 'acknowledged' : 'failed';
}

/** A span run of one shard's send order (see {@link TraceExportOutcome}). */
export type SpanRange = Pick<TraceExportOutcome, 'shard' | 'firstSeq' | 'firstIndex' | 'lastSeq' | 'lastIndex' | 'seqStride'>;

/** A request answered with partial_success: its spans and how many were rejected. */
export interface PartialSpanBatch extends SpanRange {
  rejectedSpans: number;
  message: string;
}

/** Run totals. */
export interface SpanLedgerTotals extends RequestTotals {
  /** Traces with at least one span in a settled request (their first span: a trace's spans go out in order). */
  tracesSent: number;
  spansSent: number;
  spansAcknowledged: number;
  spansRejected: number;
  spansFailed: number;
  /** Spans whose batch the exporter's full queue refused. */
  spansDropped: number;
  /** Spans whose batch had not settled when the run stopped. */
  spansUnsettled: number;
  /** Spans that appeared in more than one request. */
  spansResent: number;
}

/**
 * Call `each(seq, index)` for every span of a range, in send order. Bounded by the range:
 * at most (lastSeq − firstSeq) / stride + 1 traces (stride: the range's `seqStride`, else
 * the model's shardCount).
 * @throws InternalError `TALLY_INTERNAL` when the range is not one of the shard's (a caller bug).
 */
export function forEachSpanInRange(model: TraceModel, range: SpanRange, each: (seq: number, index: number) => void): void {
  const { shard, firstSeq, lastSeq } = range;
  const stride = range.seqStride ?? model.shardCount;
  if (firstSeq % model.shardCount !== shard || lastSeq < firstSeq || !Number.isInteger(stride) || stride < 1
    || stride % model.shardCount !== 0 || (lastSeq - firstSeq) % stride !== 0) {
    throw new InternalError('span range is not a run of its shard\'s sequences', { details: { ...range, shardCount: model.shardCount } });
  }
  for (let seq = firstSeq; seq <= lastSeq; seq += stride) {
    const from = seq === firstSeq ? range.firstIndex : 0;
    const to = seq === lastSeq ? range.lastIndex : traceSpanCount(model, shard, seq) - 1;
    for (let index = from; index <= to; index++) each(seq, index);
  }
}

/** Ledger of one run's spans, sequences [0, traceCount). */
export class SpanLedger {
  readonly model: TraceModel;
  readonly traceCount: number;
  readonly slotsPerTrace: number;
  readonly #states: Uint8Array;
  readonly partialBatches: PartialSpanBatch[] = [];
  readonly totals: SpanLedgerTotals = {
    tracesSent: 0,
    spansSent: 0,
    spansAcknowledged: 0,
    spansRejected: 0,
    spansFailed: 0,
    spansDropped: 0,
    spansUnsettled: 0,
    spansResent: 0,
    requests: 0,
    requestsFailed: 0,
    requestsPartial: 0,
    requestsDropped: 0,
    requestsUnsettled: 0,
    retries: 0,
    statuses: {},
    errorCodes: {},
  };

  /** @throws InternalError `TALLY_INTERNAL` when traceCount is not a non-negative safe integer. */
  constructor(model: TraceModel, traceCount: number) {
    if (!Number.isSafeInteger(traceCount) || traceCount < 0) throw new InternalError('traceCount must be a non-negative integer', { details: { traceCount } });
    this.model = model;
    this.traceCount = traceCount;
    this.slotsPerTrace = model.spansMax;
    this.#states = nibbleArray(traceCount * this.slotsPerTrace);
  }

  /** State of span `index` of trace `seq`. */
  state(seq: number, index: number): SpanState {
    return readNibble(this.#states, seq * this.slotsPerTrace + index) as SpanState;
  }

  #set(seq: number, index: number, state: SpanState): void {
    writeNibble(this.#states, seq * this.slotsPerTrace + index, state);
  }

  /**
   * Record one export's outcome. Each span ends in exactly one state: a span recorded
   * twice (a retry) keeps its latest state and is counted in `spansResent`.
   * @throws InternalError `TALLY_INTERNAL` when the outcome's range lies outside the run.
   */
  record(o: TraceExportSettlement): void {
    if (o.lastSeq >= this.traceCount) throw new InternalError('trace export outcome beyond the run\'s sequences', { details: { lastSeq: o.lastSeq, traceCount: this.traceCount } });
    const t = this.totals;
    t.requests++;
    t.statuses[o.status] = (t.statuses[o.status] ?? 0) + 1;
    if (o.errorCode !== undefined && o.status === 0) t.errorCodes[o.errorCode] = (t.errorCodes[o.errorCode] ?? 0) + 1;
    if (o.attempts !== undefined && o.attempts > 1) t.retries += o.attempts - 1;
    const final = spanFinalStateOf(o);
    const state: SpanState =
      final === 'acknowledged' ? (o.rejectedSpans > 0 ? SPAN_PARTIAL : SPAN_ACKNOWLEDGED) : final === 'failed' ? SPAN_FAILED : final === 'dropped' ? SPAN_DROPPED : SPAN_UNSETTLED;
    forEachSpanInRange(this.model, o, (seq, index) => {
      if (this.state(seq, index) === SPAN_UNSENT) {
        t.spansSent++;
        if (index === 0) t.tracesSent++;
      } else t.spansResent++;
      this.#set(seq, index, state);
    });
    if (state === SPAN_FAILED) {
      t.requestsFailed++;
      t.spansFailed += o.spans;
    } else if (state === SPAN_DROPPED) {
      t.requestsDropped++;
      t.spansDropped += o.spans;
    } else if (state === SPAN_UNSETTLED) {
      t.requestsUnsettled++;
      t.spansUnsettled += o.spans;
    } else if (state === SPAN_PARTIAL) {
      t.requestsPartial++;
      const rejected = Math.min(o.rejectedSpans, o.spans);
      t.spansRejected += rejected;
      t.spansAcknowledged += o.spans - rejected;
      const { shard, firstSeq, firstIndex, lastSeq, lastIndex } = o;
      this.partialBatches.push({ shard, firstSeq, firstIndex, lastSeq, lastIndex, ...(o.seqStride === undefined ? {} : { seqStride: o.seqStride }), rejectedSpans: rejected, message: o.message ?? '' });
    } else {
      t.spansAcknowledged += o.spans;
    }
  }
}
