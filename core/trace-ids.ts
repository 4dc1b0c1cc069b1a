/**
 * Trace and span ids derived from the run, so the generator, the metrics exemplars and
 * the reconciler name the same traces without storing them.
 *
 * Layout of a trace id (16 bytes, big-endian, as OTLP carries it):
 * `runIdHash` (8 bytes) · shard (2 bytes) · sequence (6 bytes).
 * A span id (8 bytes) is derived from (trace id, span index).
 *
 * Every function here works on 32-bit words, so a hot loop can write ids into a buffer
 * with `setUint32` and no BigInt or string.
 *
 * @see ../../shared/DESIGN.md "Determinism: everything is derived from the seed" (Traces)
 * @see https://opentelemetry.io/docs/specs/otlp/ (trace_id 16 bytes, span_id 8 bytes)
 */
import { InternalError } from './errors.ts';
import { hash32 } from './rng.ts';

/** Initial state of {@link hash32}'s fold: `mix32(mix32(HASH32_INIT, a), b) === hash32(a, b)`. */
export const HASH32_INIT = 0x9e3779b9;

/**
 * One step of {@link hash32}'s fold, for hot loops: chaining it from {@link HASH32_INIT}
 * over the same inputs gives exactly `hash32(...)` without the rest-parameter array.
 * @param state the previous step's result (or {@link HASH32_INIT}).
 * @param value an unsigned 32-bit input.
 */
export function mix32(state: number, value: number): number {
  let h = Math.imul(state ^ (value >>> 0), 0x85ebca6b) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d) >>> 0;
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** Largest trace sequence number: 6 bytes. */
export const MAX_TRACE_SEQUENCE = 2 ** 48 - 1;

/** 8 bytes derived from a run id, as two big-endian 32-bit words. */
export interface RunIdHash {
  high: number;
  low: number;
}

/**
 * Hash a run id (any string) to the 8 bytes that open its trace ids.
 * Two independent 32-bit folds of the UTF-16 code units; never all zero.
 * @returns two unsigned 32-bit words (`high` = bytes 0-3, `low` = bytes 4-7).
 */
export function runIdHash(runId: string): RunIdHash {
  let high = 0x7a11;
  let low = runId.length;
  for (let i = 0; i < runId.length; i++) {
    const c = runId.charCodeAt(i);
    high = hash32(high, c, 1);
    low = hash32(low, c, 2);
  }
  // An all-zero trace id is invalid in OTLP; the run part alone keeps it non-zero.
  if (high === 0 && low === 0) low = 1;
  return { high, low };
}

/** Lowercase hex of a run id's 8-byte hash (16 characters). */
export function runIdHashHex(runId: string): string {
  const { high, low } = runIdHash(runId);
  return hex32(high) + hex32(low);
}

/**
 * The trace id of trace `sequence` of `shard` in a run.
 * @param shard 0..65535.
 * @param sequence 0..2^48-1.
 * @returns 32 lowercase hex characters.
 * @throws InternalError `TALLY_INTERNAL` when shard or sequence is out of range (a caller bug).
 */
export function traceIdHex(run: RunIdHash, shard: number, sequence: number): string {
  checkTraceParts(shard, sequence);
  return hex32(run.high) + hex32(run.low) + shard.toString(16).padStart(4, '0') + sequence.toString(16).padStart(12, '0');
}

/**
 * Write trace id (run, shard, sequence) into `view` at `offset` (16 bytes), without
 * allocating. The caller guarantees the ranges of {@link traceIdHex}.
 */
export function writeTraceId(view: DataView, offset: number, run: RunIdHash, shard: number, sequence: number): void {
  view.setUint32(offset, run.high);
  view.setUint32(offset + 4, run.low);
  view.setUint16(offset + 8, shard);
  view.setUint16(offset + 10, Math.floor(sequence / 0x1_0000_0000));
  view.setUint32(offset + 12, sequence >>> 0);
}

/**
 * First 32-bit word of the span id of span `index` of trace (run, shard, sequence).
 * The span id is {@link spanIdHigh} · {@link spanIdLow}; both hash every part of the trace
 * id and the index, so span ids of different traces are unrelated.
 */
export function spanIdHigh(run: RunIdHash, shard: number, sequence: number, index: number): number {
  const seqHigh = Math.floor(sequence / 0x1_0000_0000);
  return mix32(mix32(mix32(mix32(mix32(mix32(mix32(HASH32_INIT, run.high), run.low), shard), seqHigh), sequence >>> 0), index), 0x5a);
}

/** Second 32-bit word of a span id; see {@link spanIdHigh}. Never lets the id be all zero. */
export function spanIdLow(run: RunIdHash, shard: number, sequence: number, index: number): number {
  const seqHigh = Math.floor(sequence / 0x1_0000_0000);
  const low = mix32(mix32(mix32(mix32(mix32(mix32(mix32(HASH32_INIT, run.low), run.high), shard), sequence >>> 0), seqHigh), index), 0xa5);
  return low === 0 ? 1 : low;
}

/**
 * The span id of span `index` (0 = root) of a trace.
 * @returns 16 lowercase hex characters, never all zero.
 * @throws InternalError `TALLY_INTERNAL` when shard or sequence is out of range.
 */
export function spanIdHex(run: RunIdHash, shard: number, sequence: number, index: number): string {
  checkTraceParts(shard, sequence);
  return hex32(spanIdHigh(run, shard, sequence, index)) + hex32(spanIdLow(run, shard, sequence, index));
}

/** Write the span id of (trace, index) into `view` at `offset` (8 bytes), without allocating. */
export function writeSpanId(view: DataView, offset: number, run: RunIdHash, shard: number, sequence: number, index: number): void {
  view.setUint32(offset, spanIdHigh(run, shard, sequence, index));
  view.setUint32(offset + 4, spanIdLow(run, shard, sequence, index));
}

/**
 * Split a 32-hex trace id into its parts.
 * @returns the run hash, shard and sequence, or `null` when `hex` is not 32 hex characters.
 */
export function parseTraceIdHex(hex: string): { run: RunIdHash; shard: number; sequence: number } | null {
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) return null;
  const h = hex.toLowerCase();
  return {
    run: { high: Number.parseInt(h.slice(0, 8), 16), low: Number.parseInt(h.slice(8, 16), 16) },
    shard: Number.parseInt(h.slice(16, 20), 16),
    sequence: Number.parseInt(h.slice(20), 16),
  };
}

function checkTraceParts(shard: number, sequence: number): void {
  if (!Number.isInteger(shard) || shard < 0 || shard > 0xffff || !Number.isInteger(sequence) || sequence < 0 || sequence > MAX_TRACE_SEQUENCE) {
    throw new InternalError('trace id parts out of range: shard 0..65535, sequence 0..2^48-1', { details: { shard, sequence } });
  }
}

function hex32(word: number): string {
  return (word >>> 0).toString(16).padStart(8, '0');
}
