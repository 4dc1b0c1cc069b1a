/**
 * Span records for the official @opentelemetry/otlp-transformer trace serializers: objects
 * of the SDK's `ReadableSpan` shape, filled from core/trace-model.ts and reused from batch
 * to batch (serialization is synchronous, so a record is free again once its batch's body
 * exists). Per span this allocates the two id strings and little else: attribute maps are
 * cached per combination, times are kept in place.
 *
 * @see https://open-telemetry.github.io/opentelemetry-js/interfaces/_opentelemetry_sdk-trace-base.ReadableSpan.html
 */
import { SCOPE } from '../core/telemetry-identity.ts';
import type { HrTime, SpanContext, SpanKind } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { seriesAttributes } from '../core/series.ts';
import { canonicalOtlpJsonBody } from '../wire/otlp/json-canonical.ts';
import {
  spanAttributeIndex, spanIdHex, spanKindNumber, spanName, spanOffsetsNs, spanParentIndex, spanStatusCode, traceIdHex,
  traceResourceAttributes, traceSpanCount, traceSpanPrefix, traceStartUnixNano, type TraceModel,
} from '../core/trace-model.ts';

/** What the official serializers take: the SDK's `ReadableSpan`, named through the serializer so no SDK package is imported. */
export type ReadableSpanShape = Parameters<typeof ProtobufTraceSerializer.serializeRequest>[0][number];

const NS_PER_S = 1e9;
/** W3C trace flags: sampled. */
const TRACE_FLAGS_SAMPLED = 1;
const STATUS_UNSET = Object.freeze({ code: 0 });
const STATUS_ERROR = Object.freeze({ code: 2 });
/** Attribute maps cached per combination up to this cardinality; beyond, built per span. */
const ATTRIBUTE_CACHE_LIMIT = 65_536;

/** One reusable span record. `kind` is the API's SpanKind (OTLP number − 1; undefined → UNSPECIFIED). */
class SpanRecord {
  name = '';
  kind: SpanKind = 0;
  readonly context: SpanContext = { traceId: '', spanId: '', traceFlags: TRACE_FLAGS_SAMPLED };
  readonly parent: SpanContext = { traceId: '', spanId: '', traceFlags: TRACE_FLAGS_SAMPLED };
  parentSpanContext: SpanContext | undefined = undefined;
  readonly startTime: HrTime = [0, 0];
  readonly endTime: HrTime = [0, 0];
  readonly duration: HrTime = [0, 0];
  status: { code: number } = STATUS_UNSET;
  attributes: Record<string, string> = {};
  readonly links = [];
  readonly events = [];
  readonly ended = true;
  readonly droppedAttributesCount = 0;
  readonly droppedEventsCount = 0;
  readonly droppedLinksCount = 0;
  readonly resource: ReadableSpanShape['resource'];
  readonly instrumentationScope: ReadableSpanShape['instrumentationScope'];
  readonly spanContext = (): SpanContext => this.context;

  constructor(resource: ReadableSpanShape['resource'], scope: ReadableSpanShape['instrumentationScope']) {
    this.resource = resource;
    this.instrumentationScope = scope;
  }
}

/** The span run a batch holds (see TraceExportOutcome). */
export interface BatchRange {
  firstSeq: number;
  firstIndex: number;
  lastSeq: number;
  lastIndex: number;
}

function setHrTime(target: HrTime, seconds: number, nanos: number): void {
  const carry = Math.floor(nanos / NS_PER_S);
  target[0] = seconds + carry;
  target[1] = nanos - carry * NS_PER_S;
}

/**
 * Builds batches of at most `maxBatchSpans` span records for one shard, trace by trace.
 * Use: `beginTrace(seq)`, then `addSpans()` until `traceDone` (taking and releasing the
 * batch whenever it is `full`).
 */
export class SpanBatchBuilder {
  readonly #model: TraceModel;
  readonly #shard: number;
  readonly #maxBatchSpans: number;
  readonly #pool: SpanRecord[] = [];
  readonly #batch: SpanRecord[] = [];
  readonly #attributeCache: (Record<string, string> | undefined)[];
  readonly #range: BatchRange = { firstSeq: 0, firstIndex: 0, lastSeq: 0, lastIndex: 0 };
  // The trace being added.
  #seq = 0;
  #traceId = '';
  #prefix = 0;
  #spanCount = 0;
  #index = 0;
  #startS = 0;
  #startNanos = 0;

  constructor(model: TraceModel, shard: number, maxBatchSpans: number) {
    this.#model = model;
    this.#shard = shard;
    this.#maxBatchSpans = maxBatchSpans;
    const resource = resourceFromAttributes({ ...traceResourceAttributes(model, shard), 'tally.shard': shard });
    const scope = { ...SCOPE };
    for (let i = 0; i < maxBatchSpans; i++) this.#pool.push(new SpanRecord(resource, scope));
    this.#attributeCache = model.layout.seriesCount <= ATTRIBUTE_CACHE_LIMIT ? new Array(model.layout.seriesCount) : [];
  }

  /** Spans in the open batch. */
  get size(): number {
    return this.#batch.length;
  }

  get full(): boolean {
    return this.#batch.length >= this.#maxBatchSpans;
  }

  /** Every span of the current trace is in a batch. */
  get traceDone(): boolean {
    return this.#index >= this.#spanCount;
  }

  /** Start trace `seq` (which this shard must send: seq ≡ shard mod shardCount). */
  beginTrace(seq: number): void {
    const parts = { runIdHex: this.#model.runIdHex, shard: this.#shard, seq };
    this.#seq = seq;
    this.#traceId = traceIdHex(parts);
    this.#prefix = traceSpanPrefix(parts);
    this.#spanCount = traceSpanCount(this.#model, this.#shard, seq);
    this.#index = 0;
    const startNs = traceStartUnixNano(this.#model, seq);
    this.#startS = Number(startNs / 1_000_000_000n);
    this.#startNanos = Number(startNs % 1_000_000_000n);
  }

  /** Add spans of the current trace until it is done or the batch is full. */
  addSpans(): void {
    const model = this.#model;
    const shard = this.#shard;
    const seq = this.#seq;
    while (this.#index < this.#spanCount && this.#batch.length < this.#maxBatchSpans) {
      const index = this.#index++;
      const record = this.#pool[this.#batch.length];
      if (this.#batch.length === 0) {
        this.#range.firstSeq = seq;
        this.#range.firstIndex = index;
      }
      this.#range.lastSeq = seq;
      this.#range.lastIndex = index;
      this.#batch.push(record);
      record.name = spanName(index);
      record.kind = (spanKindNumber(model, shard, seq, index) - 1) as SpanKind;
      if (record.kind < 0) (record as { kind: SpanKind | undefined }).kind = undefined;
      record.context.traceId = this.#traceId;
      record.context.spanId = spanIdHex(this.#prefix, index);
      const parent = spanParentIndex(model, index);
      if (parent < 0) record.parentSpanContext = undefined;
      else {
        record.parent.traceId = this.#traceId;
        record.parent.spanId = spanIdHex(this.#prefix, parent);
        record.parentSpanContext = record.parent;
      }
      const { startNs, endNs } = spanOffsetsNs(model, this.#spanCount, index);
      setHrTime(record.startTime, this.#startS, this.#startNanos + startNs);
      setHrTime(record.endTime, this.#startS, this.#startNanos + endNs);
      setHrTime(record.duration, 0, endNs - startNs);
      record.status = spanStatusCode(model, shard, seq, index) === 2 ? STATUS_ERROR : STATUS_UNSET;
      record.attributes = this.#attributes(spanAttributeIndex(model, shard, seq, index));
    }
  }

  /** The open batch's records (valid until {@link release}) and the span run they hold. */
  take(): { records: ReadableSpanShape[]; range: BatchRange } {
    return { records: this.#batch as unknown as ReadableSpanShape[], range: { ...this.#range } };
  }

  /** Empty the batch: its records are reused. */
  release(): void {
    this.#batch.length = 0;
  }

  #attributes(combo: number): Record<string, string> {
    if (this.#attributeCache.length === 0) return seriesAttributes(this.#model.layout, combo);
    return (this.#attributeCache[combo] ??= seriesAttributes(this.#model.layout, combo));
  }
}

/**
 * A shard's span batches as request bodies: what a trace shard needs of an encoder. The
 * fast protobuf encoder (otlp-fast-traces.ts) and {@link OfficialSpanBatches} both are one.
 */
export interface SpanBatchSource {
  readonly size: number;
  readonly full: boolean;
  readonly traceDone: boolean;
  beginTrace(seq: number): void;
  addSpans(): void;
  /** The open batch as an `ExportTraceServiceRequest` body the caller owns, and its span run; empties the batch. */
  takeBody(): { body: Uint8Array; range: BatchRange; spans: number };
  /** Drop the open batch. */
  release(): void;
}

/**
 * {@link SpanBatchBuilder} records serialized by an official otlp-transformer serializer (the
 * protobuf reference), or for OTLP/HTTP JSON (`json`) by the JSON serializer and re-encoded
 * in the proto3 JSON mapping's form.
 */
export class OfficialSpanBatches implements SpanBatchSource {
  readonly #builder: SpanBatchBuilder;
  readonly #serializer: typeof ProtobufTraceSerializer | typeof JsonTraceSerializer;
  /** OTLP/JSON: re-encoded in the proto3 JSON mapping's form, span flags left out (wire/otlp/json-canonical.ts). */
  readonly #json: boolean;

  constructor(model: TraceModel, shard: number, maxBatchSpans: number, serializer: typeof ProtobufTraceSerializer | typeof JsonTraceSerializer, json = false) {
    this.#builder = new SpanBatchBuilder(model, shard, maxBatchSpans);
    this.#serializer = serializer;
    this.#json = json;
  }

  get size(): number {
    return this.#builder.size;
  }

  get full(): boolean {
    return this.#builder.full;
  }

  get traceDone(): boolean {
    return this.#builder.traceDone;
  }

  beginTrace(seq: number): void {
    this.#builder.beginTrace(seq);
  }

  addSpans(): void {
    this.#builder.addSpans();
  }

  takeBody(): { body: Uint8Array; range: BatchRange; spans: number } {
    const { records, range } = this.#builder.take();
    const spans = records.length;
    try {
      const body = this.#serializer.serializeRequest(records) ?? new Uint8Array();
      return { body: this.#json ? canonicalOtlpJsonBody(body, { omitSpanFlags: true }) : body, range, spans };
    } finally {
      this.#builder.release();
    }
  }

  release(): void {
    this.#builder.release();
  }
}
