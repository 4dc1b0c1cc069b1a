/**
 * Trace and span id codecs for the Tempo read-back adapter.
 *
 * Tempo shows one id in three spellings: raw bytes (protobuf bodies), standard padded
 * base64 (v1 JSON trace bodies, because gogo jsonpb encodes `bytes` that way) and hex
 * (URLs, search results). Search additionally trims leading `0` hex characters, so a
 * search id can be shorter than 32 characters and even of odd length. Everything here
 * maps those spellings to one canonical form: lowercase, zero-padded hex.
 *
 * The run-id · shard · sequence layout of a trace id is core/trace-model.ts's; it is
 * re-exported here under the names the verifier uses.
 */
import { CollectorError } from '../../core/errors.ts';

/** Length of a trace id in bytes (OTLP). */
export const TRACE_ID_BYTES = 16;
/** Length of a span id in bytes (OTLP). */
export const SPAN_ID_BYTES = 8;

const HEX = /^[0-9a-fA-F]+$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Left-pad a hex id to its full width and lowercase it.
 * Restores ids from Tempo search, which strips leading `0` characters (not whole bytes).
 * @param hex 1..2·byteLength hex digits.
 * @param byteLength id width in bytes: 16 for a trace id, 8 for a span id.
 * @returns lowercase hex of exactly 2·byteLength characters.
 * @throws CollectorError `TALLY_COLLECTOR_BAD_REPLY` when `hex` is not hex or too long.
 * @see https://grafana.com/docs/tempo/latest/api_docs/#search
 */
export function padIdHex(hex: string, byteLength: number): string {
  if (hex.length === 0 || hex.length > byteLength * 2 || !HEX.test(hex)) {
    throw new CollectorError(`expected up to ${byteLength * 2} hex digits as an id, got ${JSON.stringify(hex.slice(0, 80))}`, {
      code: 'TALLY_COLLECTOR_BAD_REPLY',
      details: { expected: `hex id of at most ${byteLength * 2} digits`, received: hex.slice(0, 80) },
    });
  }
  return hex.toLowerCase().padStart(byteLength * 2, '0');
}

/** Lowercase hex of raw id bytes. */
export function bytesToHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/**
 * Decode an id from a JSON trace body to lowercase hex.
 *
 * Tempo's v1 JSON carries base64 (`ehF6EQAAAAEAAAAAAAAAAQ==`); OTLP/JSON proper carries
 * hex. The two cannot be confused for a known width: 16 bytes are 32 hex characters but
 * 24 base64 characters, 8 bytes are 16 versus 12.
 * @param value the JSON string; `undefined` or `""` mean "no id" (a root span's parent).
 * @param byteLength 16 for a trace id, 8 for a span id.
 * @returns lowercase hex of 2·byteLength characters, or `null` when absent.
 * @throws CollectorError `TALLY_COLLECTOR_BAD_REPLY` when the value is neither spelling.
 */
export function jsonIdToHex(value: unknown, byteLength: number): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value === 'string') {
    if (value.length === byteLength * 2 && HEX.test(value)) return value.toLowerCase();
    if (value.length === Math.ceil(byteLength / 3) * 4 && BASE64.test(value)) {
      const bytes = Buffer.from(value, 'base64');
      if (bytes.length === byteLength) return bytes.toString('hex');
    }
  }
  throw new CollectorError(`expected a ${byteLength}-byte id as base64 or hex, got ${JSON.stringify(value).slice(0, 80)}`, {
    code: 'TALLY_COLLECTOR_BAD_REPLY',
    details: { expected: `${byteLength}-byte id, base64 or hex`, received: JSON.stringify(value).slice(0, 80) },
  });
}

/**
 * Decode an id from a protobuf body (raw bytes) to lowercase hex.
 * @returns lowercase hex of 2·byteLength characters, or `null` when empty (no parent).
 * @throws CollectorError `TALLY_COLLECTOR_BAD_REPLY` when the length is wrong.
 */
export function protoIdToHex(value: Uint8Array | undefined, byteLength: number): string | null {
  if (value === undefined || value.length === 0) return null;
  if (value.length !== byteLength) {
    throw new CollectorError(`expected a ${byteLength}-byte id, got ${value.length} bytes`, {
      code: 'TALLY_COLLECTOR_BAD_REPLY',
      details: { expected: `${byteLength}-byte id`, receivedBytes: value.length },
    });
  }
  return bytesToHex(value);
}

/**
 * The tally trace-id layout (8 bytes run id · 2 bytes shard · 6 bytes big-endian sequence)
 * lives in core/trace-model.ts, the single source shared with the emitter and the
 * receiver; these are its names on the read-back side.
 * - `traceIdFor(parts)`: 32 lowercase hex characters; throws InternalError `TALLY_INTERNAL` for out-of-range parts.
 * - `parseTraceId(hex)`: the parts of a 1..32-digit hex id (left-padded), or `null`.
 * @see README.md "How it measures" (Determinism: Traces)
 */
export { parseTraceIdHex as parseTraceId, traceIdHex as traceIdFor, type TraceIdParts } from '../../core/trace-model.ts';
