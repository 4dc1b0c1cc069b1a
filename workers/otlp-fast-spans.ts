/**
 * Spans: a reference batch built as the SDK's ReadableSpans and serialized by the
 * official `ProtobufTraceSerializer`, and a fast path that encodes one template per
 * batch shape and, per batch, patches trace ids (sequence bytes), span and parent span ids,
 * and start/end times in place. Ids come from core/trace-ids.ts (run hash · shard ·
 * sequence), so the traces generator and the reconciler derive the same ids.
 *
 * Batch b holds traces b·T … b·T + T − 1 (T = tracesPerBatch); span x of trace s is a
 * child of span x − 1 (span 0 is the root), starts at `start + s·traceSpacing + x·spanStep`
 * and lasts `spanDuration`. Attributes depend only on x, so their widths never change.
 *
 * @see opentelemetry/proto/trace/v1/trace.proto
 * @see https://opentelemetry.io/docs/specs/otlp/
 */
import { SpanKind, SpanStatusCode, TraceFlags, type SpanContext } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { runIdHash, spanIdHex, spanIdHigh, spanIdLow, traceIdHex, type RunIdHash } from '../core/trace-ids.ts';
import { ProtoWriter, WIRE_I32, WIRE_I64, WIRE_LEN, WIRE_VARINT } from './otlp-fast-writer.ts';

/** The shape of every span batch of a shard. */
export interface SpanBatchSpec {
  runId: string;
  shard: number;
  /** Run start, Unix ns. */
  startUnixNano: bigint;
  tracesPerBatch: number;
  /** 1..127 spans per trace. */
  spansPerTrace: number;
  traceSpacingNs: number;
  spanStepNs: number;
  spanDurationNs: number;
  /** Span name; span x is named `<name> <x>`. */
  name: string;
}

type ReadableSpans = Parameters<typeof ProtobufTraceSerializer.serializeRequest>[0];
type HrTime = [number, number];

/** Attributes of span x (depend only on x). */
export function spanAttributes(x: number): Record<string, string | number> {
  return { 'http.route': `/api/v${x % 10}`, 'tally.span.index': x };
}

function hr(ns: bigint): HrTime {
  return [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)];
}

/**
 * Batch `batch` as SDK ReadableSpans (plain objects with the fields the official
 * serializer reads), sharing one resource and one scope.
 */
export function buildOfficialSpans(spec: SpanBatchSpec, batch: number): ReadableSpans {
  const run = runIdHash(spec.runId);
  const resource = resourceFromAttributes({ 'service.name': 'tally', 'tally.run.id': spec.runId, 'tally.shard': spec.shard });
  const instrumentationScope = { name: 'tally', version: '0.1.0' };
  const spans = [];
  for (let t = 0; t < spec.tracesPerBatch; t++) {
    const sequence = batch * spec.tracesPerBatch + t;
    const traceId = traceIdHex(run, spec.shard, sequence);
    let parent: SpanContext | undefined;
    for (let x = 0; x < spec.spansPerTrace; x++) {
      const context: SpanContext = { traceId, spanId: spanIdHex(run, spec.shard, sequence, x), traceFlags: TraceFlags.SAMPLED };
      const startNs = spec.startUnixNano + BigInt(sequence * spec.traceSpacingNs + x * spec.spanStepNs);
      const endNs = startNs + BigInt(spec.spanDurationNs);
      spans.push({
        name: `${spec.name} ${x}`, kind: x === 0 ? SpanKind.SERVER : SpanKind.CLIENT, spanContext: () => context,
        parentSpanContext: parent === undefined ? undefined : { ...parent, isRemote: false },
        startTime: hr(startNs), endTime: hr(endNs), duration: hr(endNs - startNs), ended: true,
        status: { code: SpanStatusCode.UNSET }, attributes: spanAttributes(x), links: [], events: [],
        resource, instrumentationScope, droppedAttributesCount: 0, droppedEventsCount: 0, droppedLinksCount: 0,
      });
      parent = context;
    }
  }
  return spans as unknown as ReadableSpans;
}

/** Official protobuf bytes of a batch. */
export function encodeOfficialSpans(spec: SpanBatchSpec, batch: number): Uint8Array {
  return ProtobufTraceSerializer.serializeRequest(buildOfficialSpans(spec, batch)) ?? new Uint8Array();
}

/** The fast span encoder: one template, patched per batch. The returned buffer is reused. */
export class FastSpanBatch {
  readonly #spec: SpanBatchSpec;
  readonly #run: RunIdHash;
  readonly #buffer: Buffer;
  readonly #view: DataView;
  /** Per span: absolute offsets of the trace id, span id, parent span id (−1 for a root) and start time. */
  readonly #traceAt: Int32Array;
  readonly #spanAt: Int32Array;
  readonly #parentAt: Int32Array;
  readonly #startAt: Int32Array;
  /** Per span: ns from the batch's first trace start. */
  readonly #offsetNs: Float64Array;

  constructor(spec: SpanBatchSpec) {
    this.#spec = spec;
    this.#run = runIdHash(spec.runId);
    const n = spec.tracesPerBatch * spec.spansPerTrace;
    this.#traceAt = new Int32Array(n);
    this.#spanAt = new Int32Array(n);
    this.#parentAt = new Int32Array(n);
    this.#startAt = new Int32Array(n);
    this.#offsetNs = new Float64Array(n);
    const spans = new ProtoWriter(n * 160);
    for (let t = 0, i = 0; t < spec.tracesPerBatch; t++) {
      for (let x = 0; x < spec.spansPerTrace; x++, i++) {
        const body = new ProtoWriter(160);
        body.tag(1, WIRE_LEN);
        const trace = body.bytesField(new Uint8Array(16));
        body.tag(2, WIRE_LEN);
        const span = body.bytesField(new Uint8Array(8));
        let parent = -1;
        if (x > 0) {
          body.tag(4, WIRE_LEN);
          parent = body.bytesField(new Uint8Array(8));
        }
        body.tag(7, WIRE_I64);
        const start = body.fixed64(0, 0);
        body.tag(8, WIRE_I64);
        body.fixed64(0, 0);
        body.tag(5, WIRE_LEN).string(`${spec.name} ${x}`);
        body.tag(6, WIRE_VARINT).varint(x === 0 ? 2 : 3); // proto SpanKind: SERVER 2, CLIENT 3
        body.attributes(9, spanAttributes(x));
        body.tag(10, WIRE_VARINT).varint(0);
        body.tag(12, WIRE_VARINT).varint(0);
        body.tag(14, WIRE_VARINT).varint(0);
        body.message(15, new ProtoWriter(4).tag(3, WIRE_VARINT).varint(0).bytes());
        body.tag(16, WIRE_I32);
        body.fixed32(0x101); // sampled | has-is-remote (not remote), as the official serializer sets
        spans.tag(2, WIRE_LEN);
        const at = spans.bytesField(body.bytes());
        this.#traceAt[i] = at + trace;
        this.#spanAt[i] = at + span;
        this.#parentAt[i] = parent < 0 ? -1 : at + parent;
        this.#startAt[i] = at + start;
        this.#offsetNs[i] = t * spec.traceSpacingNs + x * spec.spanStepNs;
      }
    }
    const scope = new ProtoWriter(32).tag(1, WIRE_LEN).string('tally').tag(2, WIRE_LEN).string('0.1.0');
    const ss = new ProtoWriter(spans.pos + 64);
    ss.message(1, scope.bytes());
    ss.raw(spans.bytes());
    const resource = new ProtoWriter(128).attributes(1, { 'service.name': 'tally', 'tally.run.id': spec.runId, 'tally.shard': spec.shard });
    resource.tag(2, WIRE_VARINT).varint(0);
    const rs = new ProtoWriter(ss.pos + 256);
    rs.message(1, resource.bytes());
    rs.message(2, ss.bytes());
    const request = new ProtoWriter(rs.pos + 8);
    request.message(1, rs.bytes());
    this.#buffer = Buffer.from(request.bytes());
    // ScopeSpans ends the ResourceSpans, which ends the request: the spans end the buffer.
    const base = this.#buffer.length - spans.pos;
    for (let i = 0; i < n; i++) {
      this.#traceAt[i] += base;
      this.#spanAt[i] += base;
      if (this.#parentAt[i] >= 0) this.#parentAt[i] += base;
      this.#startAt[i] += base;
    }
    this.#view = new DataView(this.#buffer.buffer, this.#buffer.byteOffset, this.#buffer.byteLength);
    for (let i = 0; i < n; i++) {
      this.#view.setUint32(this.#traceAt[i], this.#run.high);
      this.#view.setUint32(this.#traceAt[i] + 4, this.#run.low);
      this.#view.setUint16(this.#traceAt[i] + 8, spec.shard);
    }
  }

  /** The ExportTraceServiceRequest body of batch `batch` (traces b·T …), ready to POST. */
  encode(batch: number): Buffer {
    const spec = this.#spec;
    const view = this.#view;
    const run = this.#run;
    const shard = spec.shard;
    const firstNs = spec.startUnixNano + BigInt(batch * spec.tracesPerBatch) * BigInt(spec.traceSpacingNs);
    const baseLow = Number(firstNs & 0xffff_ffffn);
    const baseHigh = Number(firstNs >> 32n);
    const perTrace = spec.spansPerTrace;
    let i = 0;
    for (let t = 0; t < spec.tracesPerBatch; t++) {
      const sequence = batch * spec.tracesPerBatch + t;
      const seqHigh = Math.floor(sequence / 0x1_0000_0000);
      const seqLow = sequence >>> 0;
      let parentHigh = 0;
      let parentLow = 0;
      for (let x = 0; x < perTrace; x++, i++) {
        const trace = this.#traceAt[i];
        view.setUint16(trace + 10, seqHigh);
        view.setUint32(trace + 12, seqLow);
        const high = spanIdHigh(run, shard, sequence, x);
        const low = spanIdLow(run, shard, sequence, x);
        view.setUint32(this.#spanAt[i], high);
        view.setUint32(this.#spanAt[i] + 4, low);
        if (x > 0) {
          view.setUint32(this.#parentAt[i], parentHigh);
          view.setUint32(this.#parentAt[i] + 4, parentLow);
        }
        parentHigh = high;
        parentLow = low;
        const start = this.#startAt[i];
        const startLow = baseLow + this.#offsetNs[i];
        const endLow = startLow + spec.spanDurationNs;
        view.setUint32(start, startLow % 0x1_0000_0000, true);
        view.setUint32(start + 4, baseHigh + Math.floor(startLow / 0x1_0000_0000), true);
        view.setUint32(start + 9, endLow % 0x1_0000_0000, true);
        view.setUint32(start + 13, baseHigh + Math.floor(endLow / 0x1_0000_0000), true);
      }
    }
    return this.#buffer;
  }
}
