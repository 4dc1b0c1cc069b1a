/**
 * The fast path for OTLP/protobuf traces: spans of the trace model (core/trace-model.ts)
 * written straight into one reused buffer, byte for byte as the official
 * `ProtobufTraceSerializer` writes the same spans from SDK `ReadableSpan`s
 * (workers/otlp-trace-spans.ts), without building span objects, id strings or
 * attribute maps. What never changes is encoded once: the resource and scope, each span
 * name (per span index) and each span-attribute combination (per combination, up to
 * {@link ATTRIBUTE_CACHE_LIMIT}). Per span only the fixed-width fields are written: trace
 * id (16 bytes), span and parent span ids (8 bytes), start and end time (fixed64), plus
 * one-byte kind and status code.
 *
 * Field order and presence follow the official serializer (otlp-transformer 0.223):
 * trace_id, span_id, parent_span_id (children only), name, kind (omitted when
 * UNSPECIFIED), start, end, attributes, dropped_attributes_count 0, dropped_events_count 0,
 * dropped_links_count 0, status { code }, flags 0x101 (sampled, parent-is-remote known
 * and false). Byte equality with it is proven in test/workers/otlp-fast-traces.test.ts.
 *
 * @see opentelemetry/proto/trace/v1/trace.proto (Span, ScopeSpans, ResourceSpans)
 * @see https://protobuf.dev/programming-guides/encoding/
 */
import { SCOPE } from '../core/telemetry-identity.ts';
import { seriesAttributes } from '../core/series.ts';
import {
  runIdWords, spanAttributeIndex, spanKindNumber, spanName, spanOffsetsNs, spanParentIndex, spanStatusCode,
  traceResourceAttributes, traceSpanCount, traceSpanPrefixOf, traceStartUnixNano, type TraceModel,
} from '../core/trace-model.ts';
import type { BatchRange } from './otlp-trace-spans.ts';
import { ProtoWriter, varintSize, WIRE_LEN, WIRE_VARINT } from './otlp-fast-writer.ts';

/** Attribute combinations encoded once and kept, up to this cardinality; beyond, encoded per span. */
export const ATTRIBUTE_CACHE_LIMIT = 65_536;
const TWO_32 = 0x1_0000_0000;
/** Tags and length varints of the request, resource-spans and scope-spans headers, at most. */
const HEADER_FRAMING_BYTES = 16;
/** Fixed bytes of a span besides its name, attributes and optional parent id and kind. */
const SPAN_FIXED_BYTES = 18 /* trace_id */ + 10 /* span_id */ + 9 + 9 /* start, end */ + 6 /* dropped counts */ + 4 /* status */ + 6 /* flags */;

/**
 * Batches of at most `maxBatchSpans` spans of one shard, encoded as they are added. Use:
 * `beginTrace(seq)`, then `addSpans()` until `traceDone`, taking the batch with
 * {@link takeBody} whenever it is `full` (and at the end).
 */
export class FastSpanBatches {
  readonly #model: TraceModel;
  readonly #shard: number;
  readonly #maxBatchSpans: number;
  readonly #runHigh: number;
  readonly #runLow: number;
  /** `ResourceSpans.resource` and `ScopeSpans.scope` fields, tag included. */
  readonly #resourceField: Buffer;
  readonly #scopeField: Buffer;
  /** Per span index: the `name` field, tag included. */
  readonly #names: Buffer[] = [];
  readonly #attributeCache: (Buffer | undefined)[];
  #buffer: Buffer;
  #view: DataView;
  /** Room kept in front of the spans for the headers: the spans start here. */
  readonly #headerRoom: number;
  /** End of the spans written so far. */
  #pos: number;
  #size = 0;
  readonly #range: BatchRange = { firstSeq: 0, firstIndex: 0, lastSeq: 0, lastIndex: 0 };
  // The trace being added.
  #seq = 0;
  #prefix = 0;
  #spanCount = 0;
  #index = 0;
  #startLow = 0;
  #startHigh = 0;

  /**
   * @param model the run's trace model.
   * @param shard this shard (it sends the sequences ≡ shard mod `model.shardCount`).
   * @param maxBatchSpans spans per request, ≥ 1.
   */
  constructor(model: TraceModel, shard: number, maxBatchSpans: number) {
    this.#model = model;
    this.#shard = shard;
    this.#maxBatchSpans = maxBatchSpans;
    const run = runIdWords(model.runIdHex);
    this.#runHigh = run.high;
    this.#runLow = run.low;
    const resource = new ProtoWriter(256).attributes(1, { ...traceResourceAttributes(model, shard), 'tally.shard': shard }).tag(2, WIRE_VARINT).varint(0);
    this.#resourceField = lengthField(1, resource.bytes());
    const scope = new ProtoWriter(32).tag(1, WIRE_LEN).string(SCOPE.name).tag(2, WIRE_LEN).string(SCOPE.version);
    this.#scopeField = lengthField(1, scope.bytes());
    for (let index = 0; index < model.spansMax; index++) this.#names.push(Buffer.from(new ProtoWriter(32).tag(5, WIRE_LEN).string(spanName(index)).bytes()));
    this.#attributeCache = model.layout.seriesCount <= ATTRIBUTE_CACHE_LIMIT ? new Array(model.layout.seriesCount) : [];
    this.#headerRoom = this.#resourceField.length + this.#scopeField.length + HEADER_FRAMING_BYTES;
    this.#pos = this.#headerRoom;
    this.#buffer = Buffer.allocUnsafe(this.#headerRoom + maxBatchSpans * 160);
    this.#view = new DataView(this.#buffer.buffer, this.#buffer.byteOffset, this.#buffer.byteLength);
  }

  /** Spans in the open batch. */
  get size(): number {
    return this.#size;
  }

  get full(): boolean {
    return this.#size >= this.#maxBatchSpans;
  }

  /** Every span of the current trace is in a batch. */
  get traceDone(): boolean {
    return this.#index >= this.#spanCount;
  }

  /** Start trace `seq` (which this shard must send: seq ≡ shard mod shardCount). */
  beginTrace(seq: number): void {
    this.#seq = seq;
    this.#prefix = traceSpanPrefixOf(this.#runHigh, this.#runLow, this.#shard, seq);
    this.#spanCount = traceSpanCount(this.#model, this.#shard, seq);
    this.#index = 0;
    const startNs = traceStartUnixNano(this.#model, seq);
    this.#startLow = Number(startNs & 0xffff_ffffn);
    this.#startHigh = Number(startNs >> 32n);
  }

  /** Add spans of the current trace until it is done or the batch is full. */
  addSpans(): void {
    const model = this.#model;
    const shard = this.#shard;
    const seq = this.#seq;
    const seqHigh = Math.floor(seq / TWO_32);
    const seqLow = seq >>> 0;
    while (this.#index < this.#spanCount && this.#size < this.#maxBatchSpans) {
      const index = this.#index++;
      if (this.#size === 0) {
        this.#range.firstSeq = seq;
        this.#range.firstIndex = index;
      }
      this.#range.lastSeq = seq;
      this.#range.lastIndex = index;
      this.#size++;
      const name = this.#names[index];
      const attributes = this.#attributes(spanAttributeIndex(model, shard, seq, index));
      const parent = spanParentIndex(model, index);
      const kind = spanKindNumber(model, shard, seq, index);
      const length = SPAN_FIXED_BYTES + name.length + attributes.length + (parent >= 0 ? 10 : 0) + (kind !== 0 ? 2 : 0);
      this.#ensure(1 + 5 + length);
      const buffer = this.#buffer;
      const view = this.#view;
      let p = this.#pos;
      buffer[p++] = 0x12; // ScopeSpans.spans (2, LEN)
      p = writeVarint(buffer, p, length);
      buffer[p++] = 0x0a; // trace_id (1, LEN 16)
      buffer[p++] = 16;
      view.setUint32(p, this.#runHigh);
      view.setUint32(p + 4, this.#runLow);
      view.setUint16(p + 8, shard);
      view.setUint16(p + 10, seqHigh);
      view.setUint32(p + 12, seqLow);
      p += 16;
      buffer[p++] = 0x12; // span_id (2, LEN 8)
      buffer[p++] = 8;
      view.setUint32(p, this.#prefix);
      view.setUint32(p + 4, index + 1);
      p += 8;
      if (parent >= 0) {
        buffer[p++] = 0x22; // parent_span_id (4, LEN 8)
        buffer[p++] = 8;
        view.setUint32(p, this.#prefix);
        view.setUint32(p + 4, parent + 1);
        p += 8;
      }
      buffer.set(name, p);
      p += name.length;
      if (kind !== 0) {
        buffer[p++] = 0x30; // kind (6, VARINT)
        buffer[p++] = kind;
      }
      const { startNs, endNs } = spanOffsetsNs(model, this.#spanCount, index);
      buffer[p++] = 0x39; // start_time_unix_nano (7, I64)
      p = this.#writeTime(p, startNs);
      buffer[p++] = 0x41; // end_time_unix_nano (8, I64)
      p = this.#writeTime(p, endNs);
      buffer.set(attributes, p);
      p += attributes.length;
      buffer[p++] = 0x50; // dropped_attributes_count (10) 0
      buffer[p++] = 0;
      buffer[p++] = 0x60; // dropped_events_count (12) 0
      buffer[p++] = 0;
      buffer[p++] = 0x70; // dropped_links_count (14) 0
      buffer[p++] = 0;
      buffer[p++] = 0x7a; // status (15, LEN 2) { code (3) }
      buffer[p++] = 2;
      buffer[p++] = 0x18;
      buffer[p++] = spanStatusCode(model, shard, seq, index);
      buffer[p++] = 0x85; // flags (16, I32)
      buffer[p++] = 0x01;
      view.setUint32(p, 0x101, true);
      p += 4;
      this.#pos = p;
    }
  }

  /**
   * The open batch as an `ExportTraceServiceRequest` body (a fresh copy, safe to queue and
   * send later), with the span run it holds; empties the batch.
   */
  takeBody(): { body: Buffer; range: BatchRange; spans: number } {
    const spansBytes = this.#pos - this.#headerRoom;
    const scopeSpansLength = this.#scopeField.length + spansBytes;
    const resourceSpansLength = this.#resourceField.length + 1 + varintSize(scopeSpansLength) + scopeSpansLength;
    const headerBytes = 1 + varintSize(resourceSpansLength) + this.#resourceField.length + 1 + varintSize(scopeSpansLength) + this.#scopeField.length;
    const buffer = this.#buffer;
    let p = this.#headerRoom - headerBytes;
    const start = p;
    buffer[p++] = 0x0a; // ExportTraceServiceRequest.resource_spans (1, LEN)
    p = writeVarint(buffer, p, resourceSpansLength);
    buffer.set(this.#resourceField, p);
    p += this.#resourceField.length;
    buffer[p++] = 0x12; // ResourceSpans.scope_spans (2, LEN)
    p = writeVarint(buffer, p, scopeSpansLength);
    buffer.set(this.#scopeField, p);
    const body = Buffer.from(buffer.subarray(start, this.#pos));
    const out = { body, range: { ...this.#range }, spans: this.#size };
    this.release();
    return out;
  }

  /** Drop the open batch. */
  release(): void {
    this.#pos = this.#headerRoom;
    this.#size = 0;
  }

  /** Write the trace start + `offsetNs` as fixed64 (little-endian words) at `p`; returns the next offset. */
  #writeTime(p: number, offsetNs: number): number {
    const low = this.#startLow + offsetNs;
    const carry = Math.floor(low / TWO_32);
    this.#view.setUint32(p, low - carry * TWO_32, true);
    this.#view.setUint32(p + 4, this.#startHigh + carry, true);
    return p + 8;
  }

  #attributes(combo: number): Buffer {
    const cached = this.#attributeCache.length > 0 ? this.#attributeCache[combo] : undefined;
    if (cached !== undefined) return cached;
    const bytes = Buffer.from(new ProtoWriter(64).attributes(9, seriesAttributes(this.#model.layout, combo)).bytes());
    if (this.#attributeCache.length > 0) this.#attributeCache[combo] = bytes;
    return bytes;
  }

  #ensure(extra: number): void {
    if (this.#pos + extra <= this.#buffer.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.#buffer.length * 2, this.#pos + extra));
    this.#buffer.copy(next, 0, 0, this.#pos);
    this.#buffer = next;
    this.#view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }
}

/** Field `field` (LEN) holding `body`, tag and length included, as a fresh buffer. */
function lengthField(field: number, body: Uint8Array): Buffer {
  const w = new ProtoWriter(body.length + 8);
  w.message(field, body);
  return Buffer.from(w.bytes());
}

/** Canonical varint of `value` (< 2^35) at `p`; returns the next offset. */
function writeVarint(buffer: Buffer, p: number, value: number): number {
  while (value >= 0x80) {
    buffer[p++] = (value % 0x80) | 0x80;
    value = Math.floor(value / 0x80);
  }
  buffer[p++] = value;
  return p;
}
