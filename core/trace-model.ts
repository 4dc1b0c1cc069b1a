/**
 * The deterministic trace space: trace and span ids, and every field of every span, as
 * functions of (seed, shard, sequence). The emitter (workers/otlp-traces.ts), the
 * receiver-side placement (reconcile/span-observations.ts) and the Tempo read-back
 * (readback/tempo/expected.ts) all call these, so the checker regenerates what it
 * expects instead of storing what was sent. This module is the single source of the id
 * layout.
 *
 * Sequences are global arrival indices: trace j of the run is due at
 * `start + j / ratePerSecond` and shard s of n sends the traces with j ≡ s (mod n), as the
 * load shards do with arrivals. A verifier can therefore sample sequence numbers over the
 * whole run and read the shard off each one.
 *
 * Pure: no I/O, no clock, no unseeded randomness.
 *
 * @see README.md "How it measures" (Determinism: everything is derived from the seed)
 */
import { RUN_ID_ATTRIBUTE, SERVICE_NAME, SHARD_ATTRIBUTE } from './telemetry-identity.ts';
import { ConfigError, InternalError } from './errors.ts';
import { HASH32_INIT, hash32, mix32 } from './rng.ts';
import { seriesAttributes, seriesLayout, type SeriesLayout } from './series.ts';

// ---------------------------------------------------------------------------------------
// Ids
// ---------------------------------------------------------------------------------------

/** Largest shard a trace id can carry (2 bytes). */
export const MAX_TRACE_SHARD = 0xffff;
/** Largest sequence a trace id can carry (6 bytes). */
export const MAX_TRACE_SEQ = 2 ** 48 - 1;
const HEX = /^[0-9a-f]+$/i;
const TWO_32 = 0x1_0000_0000;

/** The parts of a tally trace id. */
export interface TraceIdParts {
  /** Trace id bytes 0–7: 16 lowercase hex characters (see {@link runIdHexOf}). */
  runIdHex: string;
  /** Trace id bytes 8–9: the shard, 0..65535. */
  shard: number;
  /** Trace id bytes 10–15, big-endian: the sequence, 0..2^48−1. */
  seq: number;
}

/**
 * The 8 run-id bytes of every trace id of a run: two salted {@link hash32}s of the run id's
 * UTF-8 bytes. Never all zero (a zero result gets its last bit set), so no trace id of a
 * run is the invalid all-zero id, whatever its shard and sequence.
 * @param runId the plan's run id (any string).
 * @returns 16 lowercase hex characters.
 */
export function runIdHexOf(runId: string): string {
  const bytes = new TextEncoder().encode(runId);
  let hi = 0x7a11_0001;
  let lo = 0x7a11_0002;
  for (const b of bytes) {
    hi = hash32(hi, b);
    lo = hash32(lo, b, 0x5bd1e995);
  }
  if (hi === 0 && lo === 0) lo = 1;
  return hex8(hi) + hex8(lo);
}

/**
 * Build a trace id: 8 bytes run id · 2 bytes shard · 6 bytes big-endian sequence.
 * @returns 32 lowercase hex characters.
 * @throws InternalError `TALLY_INTERNAL` when a part is out of range (a caller bug).
 * @see https://www.w3.org/TR/trace-context/#trace-id (16 bytes, not all zero)
 */
export function traceIdHex(parts: TraceIdParts): string {
  const { runIdHex, shard, seq } = parts;
  if (runIdHex.length !== 16 || !HEX.test(runIdHex) || !Number.isInteger(shard) || shard < 0 || shard > MAX_TRACE_SHARD
    || !Number.isInteger(seq) || seq < 0 || seq > MAX_TRACE_SEQ) {
    throw new InternalError('trace id parts out of range: run id must be 16 hex, shard 0..65535, seq 0..2^48-1', {
      details: { runIdHex, shard, seq },
    });
  }
  return runIdHex.toLowerCase() + shard.toString(16).padStart(4, '0') + seq.toString(16).padStart(12, '0');
}

/**
 * Split a trace id into its parts. Shorter ids (Tempo search trims leading zeros) are
 * left-padded first.
 * @param hex 1..32 hex digits.
 * @returns the parts, or `null` when `hex` is not a hex id of at most 16 bytes.
 */
export function parseTraceIdHex(hex: string): TraceIdParts | null {
  if (hex.length === 0 || hex.length > 32 || !HEX.test(hex)) return null;
  const full = hex.toLowerCase().padStart(32, '0');
  return { runIdHex: full.slice(0, 16), shard: Number.parseInt(full.slice(16, 20), 16), seq: Number.parseInt(full.slice(20), 16) };
}

/** The 4-byte span-id prefix shared by every span of one trace: a hash of the trace id's parts. */
export function traceSpanPrefix(parts: TraceIdParts): number {
  const run = runIdWords(parts.runIdHex);
  return traceSpanPrefixOf(run.high, run.low, parts.shard, parts.seq);
}

/** A run id hex ({@link runIdHexOf}) as two big-endian 32-bit words: trace id bytes 0–3 and 4–7. */
export function runIdWords(runIdHex: string): { high: number; low: number } {
  return { high: Number.parseInt(runIdHex.slice(0, 8), 16), low: Number.parseInt(runIdHex.slice(8, 16), 16) };
}

/**
 * {@link traceSpanPrefix} from the run id's words ({@link runIdWords}), for hot loops that
 * write ids into buffers: no strings, no rest-parameter array. Equal to
 * `hash32(high, low, shard, ⌊seq / 2^32⌋, seq mod 2^32)`.
 */
export function traceSpanPrefixOf(runHigh: number, runLow: number, shard: number, seq: number): number {
  return mix32(mix32(mix32(mix32(mix32(HASH32_INIT, runHigh), runLow), shard), Math.floor(seq / TWO_32)), seq >>> 0);
}

/**
 * Trace id and root span id of trace (shard, seq) of a run, as an exemplar names them.
 * @returns 32 and 16 lowercase hex characters.
 * @throws InternalError `TALLY_INTERNAL` when a part is out of range.
 */
export function rootSpanIdsOf(runIdHex: string, shard: number, seq: number): { traceId: string; spanId: string } {
  const parts = { runIdHex, shard, seq };
  return { traceId: traceIdHex(parts), spanId: spanIdHex(traceSpanPrefix(parts), 0) };
}

/**
 * Span id of span `index` of a trace: 4 bytes {@link traceSpanPrefix} · 4 bytes big-endian
 * `index + 1`. The low half is never zero, so the id is never the invalid all-zero span id;
 * ids are unique within a trace and carry their index.
 * @param index 0-based span index, 0..2^32−2.
 * @returns 16 lowercase hex characters.
 * @see https://www.w3.org/TR/trace-context/#parent-id (8 bytes, not all zero)
 */
export function spanIdHex(prefix: number, index: number): string {
  return hex8(prefix) + hex8(index + 1);
}

/**
 * Inverse of {@link spanIdHex} for a known trace.
 * @returns the span index, or -1 when the id is not one of this trace's span ids.
 */
export function spanIndexOf(prefix: number, spanId: string): number {
  if (spanId.length !== 16 || Number.parseInt(spanId.slice(0, 8), 16) !== prefix) return -1;
  const low = Number.parseInt(spanId.slice(8), 16);
  return Number.isInteger(low) && low >= 1 && HEX.test(spanId) ? low - 1 : -1;
}

function hex8(value: number): string {
  return (value >>> 0).toString(16).padStart(8, '0');
}

// ---------------------------------------------------------------------------------------
// Model
// ---------------------------------------------------------------------------------------

/** OTLP span kinds in the spec's lowercase terms. */
export type SpanKindName = 'unspecified' | 'internal' | 'server' | 'client' | 'producer' | 'consumer';
/** OTLP span status codes. */
export type StatusCodeName = 'unset' | 'ok' | 'error';
/** OTLP `SpanKind` enum numbers. @see opentelemetry/proto/trace/v1/trace.proto Span.SpanKind */
export const SPAN_KIND_NUMBER: Readonly<Record<SpanKindName, number>> = { unspecified: 0, internal: 1, server: 2, client: 3, producer: 4, consumer: 5 };
/** OTLP `Status.StatusCode` numbers. @see trace.proto Status.StatusCode */
export const STATUS_CODE_NUMBER: Readonly<Record<StatusCodeName, number>> = { unset: 0, ok: 1, error: 2 };
/** Parentage: `chain` (span i's parent is span i−1) or `fan-out` (every span's parent is the root). */
export type TraceShape = 'chain' | 'fan-out';

/** The normalised `telemetry.traces` scenario section (durations parsed). */
export interface TraceSpec {
  /** Traces started per second across all shards (open model). */
  ratePerSecond: number;
  /** Spans per trace: a fixed count, or a range drawn per trace. */
  spansPerTrace: number | { min: number; max: number };
  shape: TraceShape;
  /** Span attribute key → number of distinct values; cardinality is their product. */
  attributes: Record<string, number>;
  /** Relative weights of span kinds; kinds left out never occur. */
  kinds: Partial<Record<SpanKindName, number>>;
  /** Share of spans with status ERROR, in [0, 1]; the rest are UNSET. */
  statusErrorRatio: number;
  /** Duration of the root span, in ms; children nest inside it. */
  spanDurationMs: number;
}

/** What the model needs of the run. */
export interface TraceRun {
  runId: string;
  seed: number;
  shardCount: number;
  /** Run start, Unix ns (decimal string or bigint): trace 0's intended start. */
  startUnixNano: string | bigint;
}

/** A resolved trace model: plain data, structured-clone safe (BigInt included). */
export interface TraceModel {
  runId: string;
  /** {@link runIdHexOf} of `runId`. */
  runIdHex: string;
  seed: number;
  shardCount: number;
  startUnixNano: bigint;
  ratePerSecond: number;
  spansMin: number;
  spansMax: number;
  shape: TraceShape;
  layout: SeriesLayout;
  /** Kinds with positive weight, and their cumulative share ending at 1. */
  kindNames: SpanKindName[];
  kindCumulative: number[];
  statusErrorRatio: number;
  /** Root span duration, ns (a safe integer). */
  spanDurationNs: number;
}

/** Most spans a trace may have (the span-id index is 4 bytes, the ledger keeps a slot per possible span). */
export const MAX_SPANS_PER_TRACE = 1000;
const POINTER = '/telemetry/traces';

/**
 * Check a trace section and resolve it against the run.
 * @throws ConfigError `TALLY_CONFIG_INVALID` listing every bad field with its JSON pointer under `/telemetry/traces`.
 */
export function resolveTraceModel(spec: TraceSpec, run: TraceRun): TraceModel {
  const problems: { pointer: string; message: string }[] = [];
  const bad = (field: string, message: string): void => void problems.push({ pointer: `${POINTER}/${field}`, message });
  const spans = typeof spec.spansPerTrace === 'number' ? { min: spec.spansPerTrace, max: spec.spansPerTrace } : spec.spansPerTrace;
  const isCount = (n: number): boolean => Number.isInteger(n) && n >= 1 && n <= MAX_SPANS_PER_TRACE;
  if (!(spec.ratePerSecond > 0 && Number.isFinite(spec.ratePerSecond))) bad('ratePerSecond', 'expected traces per second > 0');
  if (!isCount(spans.min) || !isCount(spans.max) || spans.min > spans.max) {
    bad('spansPerTrace', `expected an integer in [1, ${MAX_SPANS_PER_TRACE}] or { min, max } with min ≤ max`);
  }
  if (spec.shape !== 'chain' && spec.shape !== 'fan-out') bad('shape', 'expected "chain" or "fan-out"');
  for (const [key, count] of Object.entries(spec.attributes)) {
    if (!Number.isInteger(count) || count < 1) bad(`attributes/${key}`, 'expected a value count ≥ 1');
  }
  const kinds = Object.entries(spec.kinds).filter(([, w]) => w !== undefined && w > 0) as [SpanKindName, number][];
  for (const [name, weight] of Object.entries(spec.kinds)) {
    if (!(name in SPAN_KIND_NUMBER)) bad(`kinds/${name}`, 'expected a span kind: internal, server, client, producer, consumer');
    else if (weight === undefined || !(weight >= 0) || !Number.isFinite(weight)) bad(`kinds/${name}`, 'expected a weight ≥ 0');
  }
  if (kinds.length === 0) bad('kinds', 'expected at least one kind with a positive weight');
  if (!(spec.statusErrorRatio >= 0 && spec.statusErrorRatio <= 1)) bad('statusErrorRatio', 'expected a ratio in [0, 1]');
  const spanDurationNs = Math.round(spec.spanDurationMs * 1e6);
  if (!(spanDurationNs >= 1 && Number.isSafeInteger(spanDurationNs))) bad('spanDuration', 'expected a duration ≥ 1ns');
  if (problems.length > 0) throw new ConfigError(`telemetry.traces: ${problems.map((p) => `${p.pointer}: ${p.message}`).join('; ')}`, problems);
  if (!Number.isInteger(run.shardCount) || run.shardCount < 1 || run.shardCount > MAX_TRACE_SHARD + 1) {
    throw new InternalError('trace model: shardCount must be an integer in [1, 65536]', { details: { shardCount: run.shardCount } });
  }
  const total = kinds.reduce((sum, [, w]) => sum + w, 0);
  let acc = 0;
  return {
    runId: run.runId,
    runIdHex: runIdHexOf(run.runId),
    seed: run.seed >>> 0,
    shardCount: run.shardCount,
    startUnixNano: BigInt(run.startUnixNano),
    ratePerSecond: spec.ratePerSecond,
    spansMin: spans.min,
    spansMax: spans.max,
    shape: spec.shape,
    layout: seriesLayout(spec.attributes),
    kindNames: kinds.map(([name]) => name),
    kindCumulative: kinds.map(([, w], i) => (i === kinds.length - 1 ? 1 : (acc += w) / total)),
    statusErrorRatio: spec.statusErrorRatio,
    spanDurationNs,
  };
}

// Salts that keep the per-field draws independent.
const DRAW_COUNT = 0x5c0;
const DRAW_KIND = 0x5c1;
const DRAW_STATUS = 0x5c2;
const DRAW_ATTRS = 0x5c3;

/**
 * `hash32(seed, salt, shard, ⌊seq / 2^32⌋, seq mod 2^32)` as a {@link mix32} fold: the
 * per-trace draws run for every span the encoders write, so no rest-parameter array.
 */
function draw(seed: number, salt: number, shard: number, seq: number): number {
  return mix32(mix32(mix32(mix32(mix32(HASH32_INIT, seed), salt), shard), Math.floor(seq / TWO_32)), seq >>> 0);
}

/** Shard that sends sequence `seq`: `seq mod shardCount`. */
export function shardOfSeq(model: TraceModel, seq: number): number {
  return seq % model.shardCount;
}

/** Trace id of sequence `seq` (its shard is {@link shardOfSeq}). */
export function traceIdOf(model: TraceModel, seq: number): string {
  return traceIdHex({ runIdHex: model.runIdHex, shard: shardOfSeq(model, seq), seq });
}

/** Number of traces a run of `durationMs` sends: every j ≥ 0 with j / rate < duration. */
export function traceCountFor(model: TraceModel, durationMs: number): number {
  return Math.max(0, Math.ceil((durationMs * model.ratePerSecond) / 1000 - 1e-9));
}

/** Intended start of trace `seq`, Unix ns: `start + seq / ratePerSecond` (exact to 1 ns for offsets under 104 days). */
export function traceStartUnixNano(model: TraceModel, seq: number): bigint {
  return model.startUnixNano + BigInt(Math.round((seq * 1e9) / model.ratePerSecond));
}

/** Number of spans of trace (shard, seq), in [spansMin, spansMax]. */
export function traceSpanCount(model: TraceModel, shard: number, seq: number): number {
  const range = model.spansMax - model.spansMin + 1;
  if (range === 1) return model.spansMin;
  return model.spansMin + (draw(model.seed, DRAW_COUNT, shard, seq) % range);
}

/** Index of the parent of span `index` (−1 for the root): chain → index−1, fan-out → 0. */
export function spanParentIndex(model: TraceModel, index: number): number {
  if (index === 0) return -1;
  return model.shape === 'chain' ? index - 1 : 0;
}

/** Span name: `tally-root` for the root, `tally-span-<index>` otherwise. */
export function spanName(index: number): string {
  return index === 0 ? 'tally-root' : `tally-span-${index}`;
}

/** OTLP `SpanKind` number of a span, drawn by the kind weights. */
export function spanKindNumber(model: TraceModel, shard: number, seq: number, index: number): number {
  const u = mix32(draw(model.seed, DRAW_KIND, shard, seq), index) / TWO_32;
  const names = model.kindNames;
  for (let k = 0; k < names.length - 1; k++) if (u < model.kindCumulative[k]) return SPAN_KIND_NUMBER[names[k]];
  return SPAN_KIND_NUMBER[names[names.length - 1]];
}

/** OTLP `StatusCode` number of a span: 2 (ERROR) with probability `statusErrorRatio`, else 0 (UNSET). */
export function spanStatusCode(model: TraceModel, shard: number, seq: number, index: number): number {
  if (model.statusErrorRatio <= 0) return 0;
  return mix32(draw(model.seed, DRAW_STATUS, shard, seq), index) / TWO_32 < model.statusErrorRatio ? 2 : 0;
}

/** Attribute combination of a span: an index in [0, cardinality) for `seriesAttributes(model.layout, ·)`. */
export function spanAttributeIndex(model: TraceModel, shard: number, seq: number, index: number): number {
  return mix32(draw(model.seed, DRAW_ATTRS, shard, seq), index) % model.layout.seriesCount;
}

/**
 * Start offset of a span from its trace's intended start, ns. Nested so that every child
 * lies inside its parent: gap = duration / (2 · spanCount); chain span i runs
 * [i·gap, D − i·gap]; fan-out child i runs [i·gap, D − (count − i)·gap] inside the root.
 */
export function spanOffsetsNs(model: TraceModel, spanCount: number, index: number): { startNs: number; endNs: number } {
  const d = model.spanDurationNs;
  const gap = Math.floor(d / (2 * spanCount));
  if (index === 0) return { startNs: 0, endNs: d };
  if (model.shape === 'chain') return { startNs: index * gap, endNs: d - index * gap };
  return { startNs: index * gap, endNs: d - (spanCount - index) * gap };
}

/** Resource attributes every span of a shard carries. `tally.shard` is an int (bigint here). */
export function traceResourceAttributes(model: TraceModel, shard: number): { 'service.name': string; 'tally.run.id': string; 'tally.shard': bigint } {
  return { 'service.name': SERVICE_NAME, [RUN_ID_ATTRIBUTE]: model.runId, [SHARD_ATTRIBUTE]: BigInt(shard) };
}

// ---------------------------------------------------------------------------------------
// Expected traces
// ---------------------------------------------------------------------------------------

/**
 * An attribute value as read back (OTLP `AnyValue` normalised: int → bigint, double →
 * number, bytes → Uint8Array, empty → null). The model itself only emits strings and ints.
 */
export type ExpectedAttributeValue =
  | string | boolean | bigint | number | Uint8Array | null | ExpectedAttributeValue[] | { readonly [key: string]: ExpectedAttributeValue };

/** One span the system under test should hold. */
export interface ExpectedSpan {
  index: number;
  /** 16 lowercase hex characters. */
  spanId: string;
  /** 16 lowercase hex characters, or `null` for the root. */
  parentSpanId: string | null;
  name: string;
  kind: SpanKindName;
  /** Unix epoch ns. */
  startTimeUnixNano: bigint;
  /** Unix epoch ns. */
  endTimeUnixNano: bigint;
  /** Span attributes: exactly these. */
  attributes: Record<string, ExpectedAttributeValue>;
  /** Resource attributes that must be present (a subset: SDKs and collectors add their own). */
  resourceAttributes: Record<string, ExpectedAttributeValue>;
  status: StatusCodeName;
}

/** One trace the system under test should hold. */
export interface ExpectedTrace {
  /** Global sequence number. */
  seq: number;
  shard?: number;
  /** 32 lowercase hex characters. */
  traceId: string;
  spans: ExpectedSpan[];
}

const KIND_NAMES: SpanKindName[] = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
const STATUS_NAMES: StatusCodeName[] = ['unset', 'ok', 'error'];

/**
 * Regenerate trace `seq` of `shard` span by span.
 * @throws InternalError `TALLY_INTERNAL` when `shard` is not the shard that sends `seq`, or seq is out of range.
 */
export function expectedTrace(model: TraceModel, shard: number, seq: number): ExpectedTrace {
  if (shard !== shardOfSeq(model, seq)) {
    throw new InternalError(`trace ${seq} is sent by shard ${shardOfSeq(model, seq)}, not ${shard}`, { details: { shard, seq, shardCount: model.shardCount } });
  }
  const parts = { runIdHex: model.runIdHex, shard, seq };
  const traceId = traceIdHex(parts);
  const prefix = traceSpanPrefix(parts);
  const count = traceSpanCount(model, shard, seq);
  const start = traceStartUnixNano(model, seq);
  const resourceAttributes = traceResourceAttributes(model, shard);
  const spans: ExpectedSpan[] = [];
  for (let index = 0; index < count; index++) {
    const parent = spanParentIndex(model, index);
    const { startNs, endNs } = spanOffsetsNs(model, count, index);
    spans.push({
      index,
      spanId: spanIdHex(prefix, index),
      parentSpanId: parent < 0 ? null : spanIdHex(prefix, parent),
      name: spanName(index),
      kind: KIND_NAMES[spanKindNumber(model, shard, seq, index)],
      startTimeUnixNano: start + BigInt(startNs),
      endTimeUnixNano: start + BigInt(endNs),
      attributes: seriesAttributes(model.layout, spanAttributeIndex(model, shard, seq, index)),
      resourceAttributes,
      status: STATUS_NAMES[spanStatusCode(model, shard, seq, index)],
    });
  }
  return { seq, shard, traceId, spans };
}

/**
 * Every trace a shard sends in sequences [0, traceCount): j = shard, shard + n, … .
 * @yields `{ seq, traceId }` in send order.
 */
export function* shardTraceIds(model: TraceModel, shard: number, traceCount: number): Generator<{ seq: number; traceId: string }> {
  for (let seq = shard; seq < traceCount; seq += model.shardCount) {
    yield { seq, traceId: traceIdHex({ runIdHex: model.runIdHex, shard, seq }) };
  }
}

// ---------------------------------------------------------------------------------------
// Export outcomes (worker → ledger). Belongs in core/messages.ts beside ExportOutcome.
// ---------------------------------------------------------------------------------------

/**
 * Outcome of one OTLP trace export request. Its spans are a contiguous run of one shard's
 * send order: from span `firstIndex` of trace `firstSeq` to span `lastIndex` of trace
 * `lastSeq` (both inclusive), sequences stepping by the shard count.
 */
export interface TraceExportOutcome {
  shard: number;
  firstSeq: number;
  firstIndex: number;
  lastSeq: number;
  lastIndex: number;
  /**
   * Step between the consecutive sequences of the sender (a sharded run's thread: N·T,
   * a multiple of the model's `shardCount`); absent: the model's `shardCount`.
   */
  seqStride?: number;
  /** Spans in the request. */
  spans: number;
  /** HTTP status, 0 when no response arrived (or the request was never sent). */
  status: number;
  /** partial_success.rejected_spans (0 when absent). */
  rejectedSpans: number;
  /** partial_success.error_message, or the error / body text of a failure. */
  message?: string;
  /** The receiver's own words when the last attempt got an error answer (the `google.rpc.Status` message of its body). */
  answerMessage?: string;
  /** errno-style code of a transport failure, `TALLY_QUEUE_FULL` when never sent, `BAD_RESPONSE` for an unreadable 2xx. */
  errorCode?: string;
  retryAfterMs?: number;
  durationUs: number;
  /** Request body size. */
  sizeBytes: number;
}
