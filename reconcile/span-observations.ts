/**
 * What a read-back saw of a run's spans, per (sequence, span index): how many times each
 * span arrived (one byte, saturating at 255), which arrivals differed from the span the
 * model regenerates, and what arrived that the run never sent.
 *
 * {@link observeTraceRequest} is the receiver-side entry: it places every span of a
 * decoded OTLP trace request by its ids (trace id → shard and sequence, span id → index),
 * checks its content against the model, and records it. Pure: no I/O.
 */
import { hash32 } from '../core/rng.ts';
import { seriesIndexOf } from '../core/series.ts';
import {
  parseTraceIdHex, spanAttributeIndex, spanIdHex, spanIndexOf, spanKindNumber, spanName, spanOffsetsNs, spanParentIndex,
  spanStatusCode, traceSpanCount, traceSpanPrefix, traceStartUnixNano, type TraceModel,
} from '../core/trace-model.ts';
import { SAMPLE_LIMIT } from './observations.ts';

/** Span fields read here; `wire/otlp/codec.ts`'s `Span` has them (ids lowercase hex, times ns). */
export interface DecodedSpan {
  traceId: string;
  spanId: string;
  /** `''` for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP `SpanKind` number. */
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: Record<string, unknown>;
  status: { code: number; message: string };
}

/**
 * A decoded `ExportTraceServiceRequest`, as far as it is read here: `wire/otlp/codec.ts`'s
 * `TraceRequest` (from `decodeTraceRequest`) is one, so the embedded receiver passes it as is.
 */
export interface DecodedTraceRequest {
  resourceSpans: { resource: { attributes: Record<string, unknown> }; scopeSpans: { spans: DecodedSpan[] }[] }[];
}

/** Where spans are placed: the run's model and how many sequences it sends. */
export interface TraceSpace {
  model: TraceModel;
  /** Sequences [0, traceCount) exist. */
  traceCount: number;
  /** Seeded fault injection: share of placed spans to reject through partial_success. */
  faults?: { rejectSpanRatio: number };
}

/** Why a span could not be placed. */
export type UnexpectedSpanReason =
  | 'foreign_trace_id' | 'shard_mismatch' | 'seq_out_of_range' | 'foreign_span_id' | 'span_index_out_of_range';

/** A span the store could not place. */
export interface UnexpectedSpan {
  reason: UnexpectedSpanReason;
  traceId: string;
  spanId: string;
}

/** Fields a span's content is checked on. */
export type SpanField = 'name' | 'kind' | 'parentSpanId' | 'status' | 'attributes' | 'startTimeUnixNano' | 'endTimeUnixNano' | 'resource';

/** A placed span whose content differs from the model (first differing field). */
export interface WrongSpanContent {
  seq: number;
  index: number;
  traceId: string;
  spanId: string;
  field: SpanField;
  expected: string;
  observed: string;
}

/** Everything a {@link SpanObservationStore} holds besides its per-span counts (structured-clone safe). */
export interface SpanObservationTotals {
  spansReceived: number;
  wrongContentCount: number;
  wrongContentByField: Partial<Record<SpanField, number>>;
  wrongContent: WrongSpanContent[];
  unexpectedCount: number;
  unexpectedByReason: Partial<Record<UnexpectedSpanReason, number>>;
  unexpected: UnexpectedSpan[];
  foreignRunSpans: number;
}

/** Observations of one run's spans. */
export class SpanObservationStore {
  readonly traceCount: number;
  readonly slotsPerTrace: number;
  readonly #counts: Uint8Array;
  /** Every span arrival, placed or not (duplicates included). */
  spansReceived = 0;
  /** Arrivals with at least one wrong field. */
  wrongContentCount = 0;
  wrongContentByField: Partial<Record<SpanField, number>> = {};
  wrongContent: WrongSpanContent[] = [];
  unexpectedCount = 0;
  unexpectedByReason: Partial<Record<UnexpectedSpanReason, number>> = {};
  unexpected: UnexpectedSpan[] = [];
  /** Spans whose resource named another run (`tally.run.id`): ignored, but counted. */
  foreignRunSpans = 0;

  /**
   * @param counts the per-span arrival counts to use (e.g. over a SharedArrayBuffer, so
   * that the receiver's thread and the reconciler's see the same spans), `traceCount ×
   * model.spansMax` bytes; default new, private ones.
   */
  constructor(model: TraceModel, traceCount: number, counts?: Uint8Array) {
    this.traceCount = traceCount;
    this.slotsPerTrace = model.spansMax;
    if (counts !== undefined && counts.length !== traceCount * this.slotsPerTrace) throw new RangeError('counts do not match the trace space');
    this.#counts = counts ?? new Uint8Array(traceCount * this.slotsPerTrace);
  }

  /** The per-span arrival counts. */
  get spanCounts(): Uint8Array {
    return this.#counts;
  }

  /** Everything but the counts, as plain data. */
  totals(): SpanObservationTotals {
    return {
      spansReceived: this.spansReceived, wrongContentCount: this.wrongContentCount, wrongContentByField: { ...this.wrongContentByField },
      wrongContent: [...this.wrongContent], unexpectedCount: this.unexpectedCount, unexpectedByReason: { ...this.unexpectedByReason },
      unexpected: [...this.unexpected], foreignRunSpans: this.foreignRunSpans,
    };
  }

  /** Take the totals another store (over the same counts, on another thread) collected. */
  adoptTotals(t: SpanObservationTotals): void {
    this.spansReceived = t.spansReceived;
    this.wrongContentCount = t.wrongContentCount;
    this.wrongContentByField = { ...t.wrongContentByField };
    this.wrongContent = [...t.wrongContent];
    this.unexpectedCount = t.unexpectedCount;
    this.unexpectedByReason = { ...t.unexpectedByReason };
    this.unexpected = [...t.unexpected];
    this.foreignRunSpans = t.foreignRunSpans;
  }

  /** Times span `index` of trace `seq` arrived (saturates at 255). */
  count(seq: number, index: number): number {
    return this.#counts[seq * this.slotsPerTrace + index];
  }

  /** Record one arrival of a placed span. */
  add(seq: number, index: number): void {
    const i = seq * this.slotsPerTrace + index;
    if (this.#counts[i] < 255) this.#counts[i]++;
    this.spansReceived++;
  }

  /** Record that an arrival's content differs (its first differing field). */
  addWrongContent(finding: WrongSpanContent): void {
    this.wrongContentCount++;
    this.wrongContentByField[finding.field] = (this.wrongContentByField[finding.field] ?? 0) + 1;
    if (this.wrongContent.length < SAMPLE_LIMIT) this.wrongContent.push(finding);
  }

  /** Record a span that does not belong in the run. */
  addUnexpected(span: UnexpectedSpan): void {
    this.unexpectedCount++;
    this.spansReceived++;
    this.unexpectedByReason[span.reason] = (this.unexpectedByReason[span.reason] ?? 0) + 1;
    if (this.unexpected.length < SAMPLE_LIMIT) this.unexpected.push(span);
  }
}

/** The trace the previous span belonged to: spans of one trace usually arrive together. */
interface TraceCursor {
  traceId: string;
  shard: number;
  seq: number;
  prefix: number;
  spanCount: number;
  startUnixNano: bigint;
  shardInt: bigint;
}

const FAULT_SPAN = 0x5ba9;

/**
 * Place, check and record every span of a decoded trace request.
 *
 * Spans under a resource whose `tally.run.id` is another run are counted as foreign and
 * skipped. The others are placed by id: the trace id must carry this run's 8 bytes, a
 * shard equal to `seq mod shardCount` and a sequence below `traceCount`; the span id must
 * be one of that trace's. Placed spans are checked field by field against the model
 * (name, kind, parent, status code, attributes, start and end time, and the resource's
 * `tally.shard`); the first differing field is recorded. A seeded draw on
 * (seed, shard, seq, index) rejects `faults.rejectSpanRatio` of placed spans: they are not
 * recorded and are counted in the returned `rejectedSpans`, for the partial_success reply.
 * @returns how many spans were rejected by fault injection.
 * @see https://opentelemetry.io/docs/specs/otlp/#partial-success
 */
export function observeTraceRequest(request: DecodedTraceRequest, space: TraceSpace, store: SpanObservationStore): { rejectedSpans: number } {
  const { model } = space;
  const rejectRatio = space.faults?.rejectSpanRatio ?? 0;
  let rejectedSpans = 0;
  let cursor: TraceCursor | undefined;
  for (const rs of request.resourceSpans) {
    const resource = rs.resource.attributes;
    if (resource['tally.run.id'] !== model.runId) {
      for (const ss of rs.scopeSpans) store.foreignRunSpans += ss.spans.length;
      continue;
    }
    for (const ss of rs.scopeSpans) {
      for (const span of ss.spans) {
        if (cursor === undefined || cursor.traceId !== span.traceId) cursor = place(space, span, store);
        if (cursor === undefined) continue;
        const index = spanIndexOf(cursor.prefix, span.spanId);
        if (index < 0 || index >= cursor.spanCount) {
          store.addUnexpected({ reason: index < 0 ? 'foreign_span_id' : 'span_index_out_of_range', traceId: span.traceId, spanId: span.spanId });
          continue;
        }
        const { shard, seq } = cursor;
        if (rejectRatio > 0 && hash32(model.seed, FAULT_SPAN, shard, Math.floor(seq / 0x1_0000_0000), seq >>> 0, index) / 0x1_0000_0000 < rejectRatio) {
          rejectedSpans++;
          continue;
        }
        store.add(seq, index);
        const wrong = firstWrongField(model, cursor, index, span, resource);
        if (wrong !== undefined) store.addWrongContent({ seq, index, traceId: span.traceId, spanId: span.spanId, ...wrong });
      }
    }
  }
  return { rejectedSpans };
}

/** Place a trace id in the run, or record the span as unexpected and return undefined. */
function place(space: TraceSpace, span: DecodedSpan, store: SpanObservationStore): TraceCursor | undefined {
  const { model } = space;
  const parts = parseTraceIdHex(span.traceId);
  let reason: UnexpectedSpanReason | undefined;
  if (parts === null || span.traceId.length !== 32 || parts.runIdHex !== model.runIdHex) reason = 'foreign_trace_id';
  else if (parts.seq >= space.traceCount) reason = 'seq_out_of_range';
  else if (parts.seq % model.shardCount !== parts.shard) reason = 'shard_mismatch';
  if (reason !== undefined || parts === null) {
    store.addUnexpected({ reason: reason ?? 'foreign_trace_id', traceId: span.traceId, spanId: span.spanId });
    return undefined;
  }
  const { shard, seq } = parts;
  return {
    traceId: span.traceId,
    shard,
    seq,
    prefix: traceSpanPrefix(parts),
    spanCount: traceSpanCount(model, shard, seq),
    startUnixNano: traceStartUnixNano(model, seq),
    shardInt: BigInt(shard),
  };
}

/** The first field of a placed span that differs from the model, rendered, or undefined. */
function firstWrongField(
  model: TraceModel,
  c: TraceCursor,
  index: number,
  span: DecodedSpan,
  resource: Record<string, unknown>,
): { field: SpanField; expected: string; observed: string } | undefined {
  const name = spanName(index);
  if (span.name !== name) return { field: 'name', expected: name, observed: span.name };
  const kind = spanKindNumber(model, c.shard, c.seq, index);
  if (span.kind !== kind) return { field: 'kind', expected: String(kind), observed: String(span.kind) };
  const parent = spanParentIndex(model, index);
  const parentId = parent < 0 ? '' : spanIdHex(c.prefix, parent);
  if (span.parentSpanId !== parentId) return { field: 'parentSpanId', expected: parentId, observed: span.parentSpanId };
  const status = spanStatusCode(model, c.shard, c.seq, index);
  if (span.status.code !== status) return { field: 'status', expected: String(status), observed: String(span.status.code) };
  const combo = spanAttributeIndex(model, c.shard, c.seq, index);
  if (seriesIndexOf(model.layout, span.attributes) !== combo) {
    return { field: 'attributes', expected: `combination ${combo}`, observed: JSON.stringify(span.attributes, bigintText).slice(0, 200) };
  }
  const { startNs, endNs } = spanOffsetsNs(model, c.spanCount, index);
  const start = c.startUnixNano + BigInt(startNs);
  if (span.startTimeUnixNano !== start) return { field: 'startTimeUnixNano', expected: String(start), observed: String(span.startTimeUnixNano) };
  const end = c.startUnixNano + BigInt(endNs);
  if (span.endTimeUnixNano !== end) return { field: 'endTimeUnixNano', expected: String(end), observed: String(span.endTimeUnixNano) };
  const shardAttr = resource['tally.shard'];
  if (shardAttr !== c.shardInt) return { field: 'resource', expected: `tally.shard int ${c.shard}`, observed: `tally.shard ${String(shardAttr)}` };
  return undefined;
}

function bigintText(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? `int ${value}` : value;
}
