/**
 * First decoding stage: body bytes → message objects shaped as protobufjs decodes them
 * (lowerCamelCase fields, 64-bit integers as `{ low, high }`, unset fields reading their
 * defaults from the message prototype). Protobuf goes through protobufjs's generated
 * decoders; OTLP/JSON through a walker driven by the same reflected types. normalise.ts
 * then maps both to the model, so the two formats cannot drift apart.
 *
 * Errors are {@link Issue}s whose pointer is prefixed segment by segment as they unwind,
 * so the happy path builds no pointer strings.
 */
import { isUtf8 } from 'node:buffer';
import path from 'node:path';
import protobuf from 'protobufjs';
import { CollectorError } from '../../core/errors.ts';

const PROTO_DIR = path.join(import.meta.dirname, 'proto');

/**
 * A fresh protobufjs Root holding `files` (paths under `wire/otlp/proto/`, e.g.
 * `opentelemetry/proto/trace/v1/trace.proto`) and what they import, fields in
 * lowerCamelCase. Not yet resolved: a caller may parse its own messages into it (the
 * Tempo envelopes do) before `resolveAll()`.
 * @throws Error from protobufjs when a file is missing or does not parse (a packaging bug).
 */
export function loadProtoRoot(files: string[]): protobuf.Root {
  const root = new protobuf.Root();
  // The spec's imports are relative to the include root, not to the importing file.
  root.resolvePath = (_origin, target) => (path.isAbsolute(target) ? target : path.join(PROTO_DIR, target));
  root.loadSync(files, { keepCase: false });
  return root;
}

function loadRoot(): protobuf.Root {
  const root = loadProtoRoot([
    'opentelemetry/proto/collector/metrics/v1/metrics_service.proto',
    'opentelemetry/proto/collector/trace/v1/trace_service.proto',
    'google/rpc/status.proto',
  ]);
  root.resolveAll();
  recordOneofsAsData(root);
  return root;
}

/**
 * protobufjs's decoders record which oneof member they read by assigning the oneof's
 * virtual property (`m.value = "asInt"`), whose setter `delete`s every other member: a
 * runtime call per AnyValue and data point (a quarter of decode time) that also leaves
 * objects in dictionary mode. A prototype in between (protobufjs's own property is not
 * configurable) turns that property into a plain data property, so the assignment just
 * stores the member name on the message: `value`/`data` then name the member read last,
 * which is the protobuf rule, and the normaliser switches on it. Messages built by hand
 * must set it too; wire.ts's JSON reader does.
 */
function recordOneofsAsData(namespace: protobuf.NamespaceBase): void {
  for (const nested of namespace.nestedArray) {
    if (nested instanceof protobuf.Type && nested.oneofsArray.length > 0) {
      const properties: PropertyDescriptorMap = {};
      for (const oneof of nested.oneofsArray) properties[oneof.name] = { value: undefined, writable: true };
      const ctor = nested.ctor;
      ctor.prototype = Object.create(ctor.prototype, properties);
    }
    if (nested instanceof protobuf.Namespace) recordOneofsAsData(nested);
  }
}

/**
 * The protobufjs Root with the OTLP metrics and trace definitions (collector services
 * included) and `google.rpc.Status`, loaded once from `wire/otlp/proto/`. Field
 * names are lowerCamelCase, as in OTLP/JSON.
 */
export const otlpRoot: protobuf.Root = loadRoot();

const type = (name: string): protobuf.Type => otlpRoot.lookupType(name);

/**
 * The OTLP service messages, for a gRPC service (@grpc/grpc-js `requestDeserialize`,
 * `responseSerialize`) or tests. A receiver may instead pass raw bytes through and call
 * `decodeMetricsRequest(bytes, 'protobuf')`, which reports bad input with a pointer.
 * @see https://opentelemetry.io/docs/specs/otlp/#otlpgrpc
 */
export const otlpTypes = {
  ExportMetricsServiceRequest: type('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest'),
  ExportMetricsServiceResponse: type('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse'),
  ExportTraceServiceRequest: type('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest'),
  ExportTraceServiceResponse: type('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse'),
  Status: type('google.rpc.Status'),
};

/** gRPC method path of `MetricsService/Export`. @see metrics_service.proto */
export const OTLP_GRPC_METRICS_EXPORT_PATH = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';
/** gRPC method path of `TraceService/Export`. @see trace_service.proto */
export const OTLP_GRPC_TRACE_EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

const ANY_VALUE = type('opentelemetry.proto.common.v1.AnyValue');

/** AnyValue levels allowed: a top-level attribute value is level 1, an element of it level 2. */
export const MAX_ANY_VALUE_DEPTH = 32;

/** A 64-bit integer as two 32-bit halves (protobufjs `Long`, or built from JSON). */
export interface Long {
  low: number;
  high: number;
}

/** A decoding problem: `pointer` grows from the leaf towards the root as it unwinds. */
export class Issue extends Error {
  pointer: string;
  constructor(pointer: string, message: string) {
    super(message);
    this.pointer = pointer;
  }
}

/** Prefix an {@link Issue}'s pointer with `segment` (e.g. `/dataPoints/7`); other errors pass unchanged. */
export function at(error: unknown, segment: string): unknown {
  if (error instanceof Issue) error.pointer = segment + error.pointer;
  return error;
}

/** Turn an {@link Issue} into the public `TALLY_OTLP_DECODE` error; other errors (bugs) pass unchanged. */
export function toDecodeError(error: unknown, format: 'protobuf' | 'json', cause?: unknown): unknown {
  if (!(error instanceof Issue)) return error;
  return new CollectorError(`undecodable OTLP/${format} body at "${error.pointer}": ${error.message}`, {
    code: 'TALLY_OTLP_DECODE',
    details: { pointer: error.pointer },
    cause,
  });
}

/**
 * Decode a protobuf message, keeping unknown fields (as `$unknowns`) so that the
 * normaliser can reject known fields sent with the wrong wire type.
 * @throws CollectorError `TALLY_OTLP_DECODE` with the field path where the wire data breaks.
 */
export function readProtobuf<M>(body: Uint8Array, messageType: protobuf.Type): M {
  // A Buffer view (no copy) gets protobufjs's faster BufferReader.
  const buffer = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const reader = protobuf.Reader.create(buffer);
  reader.discardUnknown = false;
  try {
    return messageType.decode(reader) as unknown as M;
  } catch (error) {
    // The slow path: walk the wire data again to say where it breaks.
    const issue = scan(body, 0, body.length, messageType, '', 0) ?? new Issue('', (error as Error).message);
    throw toDecodeError(issue, 'protobuf', error);
  }
}

function readVarint(buf: Uint8Array, pos: number, end: number): [value: number, next: number] | undefined {
  let value = 0;
  for (let i = 0; i < 10 && pos + i < end; i++) {
    value += (buf[pos + i] & 0x7f) * 2 ** (7 * i);
    if (buf[pos + i] < 0x80) return [value, pos + i + 1];
  }
  return undefined;
}

const FIXED64 = new Set(['double', 'fixed64', 'sfixed64']);
const FIXED32 = new Set(['float', 'fixed32', 'sfixed32']);

function wireTypeOf(field: protobuf.Field): number {
  if (field.resolvedType instanceof protobuf.Type || field.type === 'string' || field.type === 'bytes') return 2;
  return FIXED64.has(field.type) ? 1 : FIXED32.has(field.type) ? 5 : 0;
}

function depthOf(field: protobuf.Field, anyDepth: number): number {
  return field.resolvedType === ANY_VALUE ? anyDepth + 1 : anyDepth;
}

/** Find the first structural problem in `buf[pos, end)` read as `messageType`, with its field path. */
function scan(buf: Uint8Array, pos: number, end: number, messageType: protobuf.Type, pointer: string, anyDepth: number): Issue | undefined {
  const seen = new Map<number, number>();
  while (pos < end) {
    const tag = readVarint(buf, pos, end);
    if (tag === undefined || tag[0] > 0xffffffff) return new Issue(pointer, `truncated or oversized tag at byte ${pos}`);
    const fieldNumber = Math.floor(tag[0] / 8);
    const wireType = tag[0] % 8;
    const field = messageType.fieldsById[fieldNumber];
    let here = pointer;
    if (field !== undefined) {
      here += '/' + field.name;
      if (field.repeated && field.resolvedType instanceof protobuf.Type) {
        const index = seen.get(fieldNumber) ?? 0;
        seen.set(fieldNumber, index + 1);
        here += '/' + index;
      }
    }
    if (fieldNumber === 0) return new Issue(pointer, `field number 0 at byte ${pos}`);
    pos = tag[1];
    let start = pos;
    if (wireType === 0) {
      const value = readVarint(buf, pos, end);
      if (value === undefined) return new Issue(here, 'truncated varint');
      pos = value[1];
    } else if (wireType === 1 || wireType === 5) {
      pos += wireType === 1 ? 8 : 4;
      if (pos > end) return new Issue(here, `truncated ${wireType === 1 ? 64 : 32}-bit value`);
    } else if (wireType === 2) {
      const length = readVarint(buf, pos, end);
      if (length === undefined) return new Issue(here, 'truncated length prefix');
      start = length[1];
      pos = start + length[0];
      if (pos > end) {
        // Point at the innermost message the cut runs through, not just the outermost.
        const inner = field?.resolvedType instanceof protobuf.Type ? scan(buf, start, end, field.resolvedType, here, depthOf(field, anyDepth)) : undefined;
        return inner ?? new Issue(here, `length prefix ${length[0]} exceeds the ${end - start} bytes left`);
      }
    } else {
      return new Issue(here, `wire type ${wireType} (groups or invalid) is not used by OTLP`);
    }
    if (field === undefined) continue;
    const expected = wireTypeOf(field);
    const packed = field.repeated && wireType === 2 && expected !== 2;
    if (wireType !== expected && !packed) {
      return new Issue(here, `wire type ${wireType} does not fit ${field.type} field ${field.name} (wire type ${expected})`);
    }
    if (packed && expected !== 0 && (pos - start) % (expected === 1 ? 8 : 4) !== 0) {
      return new Issue(here, `packed ${field.type} length ${pos - start} is not a multiple of ${expected === 1 ? 8 : 4}`);
    }
    for (let p = start; packed && expected === 0 && p < pos;) {
      const value = readVarint(buf, p, pos);
      if (value === undefined) return new Issue(here, 'truncated varint in packed field');
      p = value[1];
    }
    if (field.type === 'string' && !isUtf8(buf.subarray(start, pos))) return new Issue(here, 'string is not valid UTF-8');
    if (field.resolvedType instanceof protobuf.Type) {
      const depth = depthOf(field, anyDepth);
      if (depth > MAX_ANY_VALUE_DEPTH) return new Issue(here, `AnyValue nested deeper than ${MAX_ANY_VALUE_DEPTH} levels`);
      const inner = scan(buf, start, pos, field.resolvedType, here, depth);
      if (inner !== undefined) return inner;
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------
// OTLP/JSON
// ---------------------------------------------------------------------------------------

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Parse an OTLP/JSON body into message objects of `messageType`, as protobufjs would have
 * decoded the equivalent protobuf, except that trace and span ids stay lowercase hex
 * strings. Follows the OTLP/JSON rules: lowerCamelCase keys (snake_case accepted),
 * hex ids, enums as integers (names accepted), 64-bit integers as decimal strings or
 * numbers, `bytesValue` as base64, unknown keys ignored, `null` as unset.
 * @throws CollectorError `TALLY_OTLP_DECODE` with a JSON pointer into the body.
 * @see https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding
 */
export function readJson<M>(body: Uint8Array, messageType: protobuf.Type): M {
  let document: unknown;
  try {
    document = JSON.parse(utf8.decode(body));
  } catch (error) {
    throw toDecodeError(new Issue('', `not UTF-8 JSON: ${(error as Error).message}`), 'json', error);
  }
  try {
    if (!isObject(document)) throw new Issue('', `expected a JSON object, got ${jsonTypeOf(document)}`);
    return fromJson(document, messageType, 0) as M;
  } catch (error) {
    throw toDecodeError(error, 'json');
  }
}

const fieldsByKey = new WeakMap<protobuf.Type, Map<string, protobuf.Field>>();

function keysOf(messageType: protobuf.Type): Map<string, protobuf.Field> {
  let keys = fieldsByKey.get(messageType);
  if (keys === undefined) {
    keys = new Map();
    for (const field of messageType.fieldsArray) {
      keys.set(field.protoName, field).set(field.jsonName, field).set(field.name, field);
    }
    fieldsByKey.set(messageType, keys);
  }
  return keys;
}

function fromJson(json: Record<string, unknown>, messageType: protobuf.Type, anyDepth: number): object {
  const message = new messageType.ctor() as unknown as Record<string, unknown>;
  const keys = keysOf(messageType);
  for (const key in json) {
    const field = keys.get(key);
    const value = json[key];
    if (field === undefined || value === null) continue;
    try {
      const oneof = field.partOf;
      if (oneof !== null) {
        const set = message[oneof.name];
        if (set !== undefined && set !== field.name) throw new Issue('', `${set} is already set; only one member of oneof ${oneof.name} may be`);
        message[oneof.name] = field.name;
      }
      message[field.name] = field.repeated ? jsonList(value, field, anyDepth) : jsonValue(value, field, anyDepth);
    } catch (error) {
      throw at(error, '/' + key.replaceAll('~', '~0').replaceAll('/', '~1'));
    }
  }
  return message;
}

function jsonList(value: unknown, field: protobuf.Field, anyDepth: number): unknown[] {
  if (!Array.isArray(value)) throw new Issue('', `expected an array for ${field.name}, got ${jsonTypeOf(value)}`);
  const out = new Array<unknown>(value.length);
  for (let i = 0; i < value.length; i++) {
    try {
      out[i] = jsonValue(value[i], field, anyDepth);
    } catch (error) {
      throw at(error, '/' + i);
    }
  }
  return out;
}

// OTLP/JSON spells these bytes fields as hex rather than base64; the value is the byte length.
const HEX_ID_BYTES: Record<string, number> = { traceId: 16, spanId: 8, parentSpanId: 8 };

function jsonValue(value: unknown, field: protobuf.Field, anyDepth: number): unknown {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) {
    if (!isObject(value)) throw new Issue('', `expected an object (${resolved.name}), got ${jsonTypeOf(value)}`);
    const depth = resolved === ANY_VALUE ? anyDepth + 1 : anyDepth;
    if (depth > MAX_ANY_VALUE_DEPTH) throw new Issue('', `AnyValue nested deeper than ${MAX_ANY_VALUE_DEPTH} levels`);
    return fromJson(value, resolved, depth);
  }
  if (resolved instanceof protobuf.Enum) {
    if (typeof value === 'string' && Object.hasOwn(resolved.values, value)) return resolved.values[value];
    return jsonInteger(value, -(2 ** 31), 2 ** 31 - 1, `an integer or a ${resolved.name} name`);
  }
  switch (field.type) {
    case 'string':
      if (typeof value !== 'string') throw new Issue('', `expected a string, got ${jsonTypeOf(value)}`);
      return value;
    case 'bool':
      if (typeof value !== 'boolean') throw new Issue('', `expected true or false, got ${jsonTypeOf(value)}`);
      return value;
    case 'double':
    case 'float':
      return jsonDouble(value);
    case 'uint32':
    case 'fixed32':
      return jsonInteger(value, 0, 2 ** 32 - 1, 'an unsigned 32-bit integer');
    case 'int32':
    case 'sint32':
    case 'sfixed32':
      return jsonInteger(value, -(2 ** 31), 2 ** 31 - 1, 'a signed 32-bit integer');
    case 'uint64':
    case 'fixed64':
      return jsonLong(value, false);
    case 'int64':
    case 'sint64':
    case 'sfixed64':
      return jsonLong(value, true);
    case 'bytes':
      return Object.hasOwn(HEX_ID_BYTES, field.name) ? jsonHexId(value, HEX_ID_BYTES[field.name]) : jsonBase64(value);
  }
  throw new Issue('', `field type ${field.type} is not supported`);
}

function jsonInteger(value: unknown, min: number, max: number, expected: string): number {
  const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new Issue('', `expected ${expected}, got ${jsonTypeOf(value)} ${truncate(value)}`);
  }
  return n;
}

function jsonDouble(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    if (value === 'NaN') return NaN;
    if (value === 'Infinity') return Infinity;
    if (value === '-Infinity') return -Infinity;
    const n = Number(value);
    if (value.trim() !== '' && Number.isFinite(n)) return n;
  }
  throw new Issue('', `expected a number, "NaN", "Infinity" or "-Infinity", got ${jsonTypeOf(value)} ${truncate(value)}`);
}

const U64_MAX = 2n ** 64n - 1n;
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

// Timestamps repeat across the points of one export; two slots cover start and end.
const longCache: { text: string; signed: boolean; long: Long }[] = [
  { text: '', signed: false, long: { low: 0, high: 0 } },
  { text: '', signed: false, long: { low: 0, high: 0 } },
];
let longCacheNext = 0;

function jsonLong(value: unknown, signed: boolean): Long {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) {
    return { low: value % 4294967296 | 0, high: Math.floor(value / 4294967296) | 0 };
  }
  if (typeof value === 'string') {
    for (const slot of longCache) if (slot.text === value && slot.signed === signed) return slot.long;
  }
  let n: bigint | undefined;
  if (typeof value === 'string' && (signed ? /^-?\d{1,20}$/ : /^\d{1,20}$/).test(value)) n = BigInt(value);
  else if (typeof value === 'number' && Number.isInteger(value)) n = BigInt(value);
  if (n === undefined || (signed ? n < I64_MIN || n > I64_MAX : n < 0n || n > U64_MAX)) {
    throw new Issue('', `expected ${signed ? 'a signed' : 'an unsigned'} 64-bit integer (decimal string or number), got ${jsonTypeOf(value)} ${truncate(value)}`);
  }
  const long = { low: Number(BigInt.asIntN(32, n)), high: Number(BigInt.asIntN(32, n >> 32n)) };
  if (typeof value === 'string') {
    longCache[longCacheNext] = { text: value, signed, long };
    longCacheNext ^= 1;
  }
  return long;
}

function jsonHexId(value: unknown, sizeBytes: number): string {
  if (typeof value !== 'string' || (value.length !== 0 && (value.length !== sizeBytes * 2 || !/^[0-9a-fA-F]+$/.test(value)))) {
    throw new Issue('', `expected ${sizeBytes * 2} hex characters (or ""), got ${jsonTypeOf(value)} ${truncate(value)}`);
  }
  return value.toLowerCase();
}

function jsonBase64(value: unknown): Uint8Array {
  // proto3 JSON accepts standard and URL-safe base64, padded or not.
  if (typeof value !== 'string' || value.length % 4 === 1 || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(value)) {
    throw new Issue('', `expected base64, got ${jsonTypeOf(value)} ${truncate(value)}`);
  }
  return new Uint8Array(Buffer.from(value, 'base64'));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function jsonTypeOf(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

function truncate(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 40 ? text.slice(0, 40) + '…' : text;
}
