/**
 * Normalise OTLP-shaped `ResourceSpans` (from Tempo JSON, or from protobuf decoded to plain
 * objects) into {@link TempoSpan}s.
 *
 * The two sources differ only in leaf spellings, so one walker handles both:
 * ids are base64/hex strings (JSON) or bytes (protobuf); 64-bit integers are decimal
 * strings; enums are names (`SPAN_KIND_SERVER`, JSON) or numbers (protobuf).
 */
import { CollectorError } from '../../core/errors.ts';
import { jsonIdToHex, protoIdToHex, SPAN_ID_BYTES, TRACE_ID_BYTES } from './ids.ts';
import type { AttributeValue, Attributes, SpanKindName, StatusCodeName, TempoSpan } from './types.ts';

type Obj = Record<string, unknown>;

const KINDS: SpanKindName[] = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
const STATUS_CODES: StatusCodeName[] = ['unset', 'ok', 'error'];

/**
 * Walk `ResourceSpans` objects into spans.
 * Accepts `scopeSpans`/`scope` and the pre-1.0 OTLP `instrumentationLibrarySpans`/`instrumentationLibrary`
 * (Tempo 1.x bodies).
 * @param batches the value of `batches` (v1) or `trace.resourceSpans` (v2).
 * @param where a description of the body, for errors (e.g. `GET /api/traces/… JSON`).
 * @throws CollectorError `TALLY_COLLECTOR_BAD_REPLY` naming the path of the first malformed field.
 * @see https://github.com/open-telemetry/opentelemetry-proto/blob/main/opentelemetry/proto/trace/v1/trace.proto
 */
export function spansFromResourceSpans(batches: unknown, where: string): TempoSpan[] {
  const spans: TempoSpan[] = [];
  asArray(batches, 'batches', where).forEach((batch, b) => {
    const path = `batches[${b}]`;
    const batchObj = asObject(batch, path, where);
    const resource = batchObj.resource === undefined ? {} : asObject(batchObj.resource, `${path}.resource`, where);
    const resourceAttributes = attributesFrom(resource.attributes, `${path}.resource.attributes`, where);
    const scopeKey = batchObj.scopeSpans !== undefined ? 'scopeSpans' : 'instrumentationLibrarySpans';
    asArray(batchObj[scopeKey] ?? [], `${path}.${scopeKey}`, where).forEach((scopeSpans, s) => {
      const scopePath = `${path}.${scopeKey}[${s}]`;
      const scopeObj = asObject(scopeSpans, scopePath, where);
      const scopeRaw = scopeObj.scope ?? scopeObj.instrumentationLibrary ?? {};
      const scopeInfo = asObject(scopeRaw, `${scopePath}.scope`, where);
      const scope = { name: stringOr(scopeInfo.name, ''), version: stringOr(scopeInfo.version, '') };
      asArray(scopeObj.spans ?? [], `${scopePath}.spans`, where).forEach((span, i) => {
        spans.push(spanFrom(span, `${scopePath}.spans[${i}]`, where, resourceAttributes, scope));
      });
    });
  });
  return spans;
}

function spanFrom(raw: unknown, path: string, where: string, resourceAttributes: Attributes, scope: TempoSpan['scope']): TempoSpan {
  const span = asObject(raw, path, where);
  const traceId = idFrom(span.traceId, TRACE_ID_BYTES, `${path}.traceId`, where);
  const spanId = idFrom(span.spanId, SPAN_ID_BYTES, `${path}.spanId`, where);
  if (traceId === null || spanId === null) throw bad(where, `${path}: a span without traceId or spanId`, 'non-empty ids');
  const status = span.status === undefined ? {} : asObject(span.status, `${path}.status`, where);
  return {
    traceId,
    spanId,
    parentSpanId: idFrom(span.parentSpanId, SPAN_ID_BYTES, `${path}.parentSpanId`, where),
    name: stringOr(span.name, ''),
    kind: enumFrom(span.kind, KINDS, 'SPAN_KIND_', `${path}.kind`, where),
    startTimeUnixNano: uint64From(span.startTimeUnixNano, `${path}.startTimeUnixNano`, where),
    endTimeUnixNano: uint64From(span.endTimeUnixNano, `${path}.endTimeUnixNano`, where),
    attributes: attributesFrom(span.attributes, `${path}.attributes`, where),
    status: {
      code: enumFrom(status.code, STATUS_CODES, 'STATUS_CODE_', `${path}.status.code`, where),
      message: stringOr(status.message, ''),
    },
    resourceAttributes,
    scope,
    eventCount: Array.isArray(span.events) ? span.events.length : 0,
    linkCount: Array.isArray(span.links) ? span.links.length : 0,
  };
}

/**
 * Convert OTLP `KeyValue[]` to an attribute record.
 * @throws CollectorError `TALLY_COLLECTOR_BAD_REPLY` when an entry is malformed.
 */
export function attributesFrom(raw: unknown, path: string, where: string): Attributes {
  const out: Attributes = {};
  if (raw === undefined || raw === null) return out;
  asArray(raw, path, where).forEach((kv, i) => {
    const entry = asObject(kv, `${path}[${i}]`, where);
    if (typeof entry.key !== 'string') throw bad(where, `${path}[${i}].key is not a string`, 'KeyValue.key string');
    out[entry.key] = anyValueFrom(entry.value, `${path}[${i}].value`, where);
  });
  return out;
}

function anyValueFrom(raw: unknown, path: string, where: string): AttributeValue {
  if (raw === undefined || raw === null) return null;
  const v = asObject(raw, path, where);
  if ('stringValue' in v) return stringOr(v.stringValue, '');
  if ('boolValue' in v) return v.boolValue === true;
  if ('intValue' in v) return int64From(v.intValue, `${path}.intValue`, where);
  if ('doubleValue' in v) return doubleFrom(v.doubleValue, `${path}.doubleValue`, where);
  if ('bytesValue' in v) {
    if (v.bytesValue instanceof Uint8Array) return new Uint8Array(v.bytesValue);
    if (typeof v.bytesValue === 'string') return new Uint8Array(Buffer.from(v.bytesValue, 'base64'));
    throw bad(where, `${path}.bytesValue is neither bytes nor base64`, 'bytes');
  }
  if ('arrayValue' in v) {
    const values = asObject(v.arrayValue ?? {}, `${path}.arrayValue`, where).values ?? [];
    return asArray(values, `${path}.arrayValue.values`, where).map((item, i) => anyValueFrom(item, `${path}.arrayValue.values[${i}]`, where));
  }
  if ('kvlistValue' in v) {
    return attributesFrom(asObject(v.kvlistValue ?? {}, `${path}.kvlistValue`, where).values, `${path}.kvlistValue.values`, where);
  }
  return null;
}

function idFrom(raw: unknown, byteLength: number, path: string, where: string): string | null {
  try {
    return raw instanceof Uint8Array ? protoIdToHex(raw, byteLength) : jsonIdToHex(raw, byteLength);
  } catch (error) {
    throw bad(where, `${path}: ${(error as Error).message}`, `${byteLength}-byte id`);
  }
}

function enumFrom<T extends string>(raw: unknown, names: T[], prefix: string, path: string, where: string): T {
  if (raw === undefined || raw === null) return names[0];
  if (typeof raw === 'number' && Number.isInteger(raw) && raw >= 0 && raw < names.length) return names[raw];
  if (typeof raw === 'string' && raw.startsWith(prefix)) {
    const name = raw.slice(prefix.length).toLowerCase() as T;
    if (names.includes(name)) return name;
  }
  throw bad(where, `${path} is ${JSON.stringify(raw)}`, `${prefix}* name or 0..${names.length - 1}`);
}

function uint64From(raw: unknown, path: string, where: string): bigint {
  const value = int64From(raw ?? '0', path, where);
  if (value < 0n) throw bad(where, `${path} is negative`, 'unsigned 64-bit integer');
  return value;
}

function int64From(raw: unknown, path: string, where: string): bigint {
  if (typeof raw === 'string' && /^-?\d+$/.test(raw)) return BigInt(raw);
  if (typeof raw === 'number' && Number.isSafeInteger(raw)) return BigInt(raw);
  throw bad(where, `${path} is ${JSON.stringify(raw)}`, '64-bit integer as a decimal string');
}

function doubleFrom(raw: unknown, path: string, where: string): number {
  if (typeof raw === 'number') return raw;
  // proto3 JSON spells non-finite doubles as strings.
  if (raw === 'NaN') return Number.NaN;
  if (raw === 'Infinity') return Number.POSITIVE_INFINITY;
  if (raw === '-Infinity') return Number.NEGATIVE_INFINITY;
  if (typeof raw === 'string' && raw.trim() !== '' && Number.isFinite(Number(raw))) return Number(raw);
  throw bad(where, `${path} is ${JSON.stringify(raw)}`, 'a double');
}

function stringOr(raw: unknown, fallback: string): string {
  return typeof raw === 'string' ? raw : fallback;
}

function asObject(raw: unknown, path: string, where: string): Obj {
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) return raw as Obj;
  throw bad(where, `${path} is not an object`, 'an object');
}

function asArray(raw: unknown, path: string, where: string): unknown[] {
  if (Array.isArray(raw)) return raw;
  throw bad(where, `${path} is not an array`, 'an array');
}

/**
 * A `TALLY_COLLECTOR_BAD_REPLY` error for a body that does not have the expected shape.
 * @param where the body, e.g. `GET /api/traces/… JSON`.
 * @param problem what is wrong, with the field path.
 * @param expected what was expected there.
 */
export function bad(where: string, problem: string, expected: string): CollectorError {
  return new CollectorError(`Tempo ${where}: ${problem}; expected ${expected}`, {
    code: 'TALLY_COLLECTOR_BAD_REPLY',
    details: { endpoint: where, expected, problem },
  });
}
