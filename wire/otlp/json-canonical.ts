/**
 * OTLP/JSON as the proto3 JSON mapping writes it, from the objects the official
 * @opentelemetry/otlp-transformer JSON serializers produce. Pure.
 *
 * The official serializers write every field, default or not (`droppedAttributesCount: 0`,
 * `events: []`, `status: { code: 0 }`, `isMonotonic: false`, data-point `flags: 0`) and
 * 64-bit integers in attributes as JSON numbers (`intValue: 0`). The proto3 JSON mapping
 * omits fields that hold their default value, and writes int64, fixed64 and uint64 as
 * decimal strings. Receivers built on older protos refuse fields they do not know (Tempo
 * 2.0.1 answers 400 `unknown field "flags" in v1.Span`), so sending only what the mapping
 * writes is also the most compatible.
 *
 * Kept whatever their value: members of a oneof (`AnyValue`'s `*Value`, a data point's or
 * exemplar's `asDouble`/`asInt`) and `optional` fields (histogram `sum`, `min`, `max`), which
 * have explicit presence; set messages, even empty (`status: {}`).
 *
 * Span `flags`: tally's trace model has no W3C trace flags and no remote parents, so its
 * spans' flags are 0 (unknown, which the OTLP field allows) and the JSON omits them; the
 * official serializer would write 257 (sampled, parent-not-remote known). The protobuf path
 * keeps the official serializer's bytes (flags included), which every protobuf decoder skips
 * when it does not know the field.
 *
 * @see https://protobuf.dev/programming-guides/json/
 * @see https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding
 */

/** Members of a oneof: present means set, even at the default value. */
const ONEOF_KEYS = new Set(['stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue', 'asDouble', 'asInt']);
/** `optional` scalars with explicit presence (HistogramDataPoint and ExponentialHistogramDataPoint `sum`, `min`, `max`). */
const OPTIONAL_SCALARS = new Set(['sum', 'min', 'max']);
/** int64 / fixed64 / uint64 fields (and repeated ones), written as decimal strings. */
const INT64_KEYS = new Set(['timeUnixNano', 'startTimeUnixNano', 'endTimeUnixNano', 'observedTimeUnixNano', 'count', 'zeroCount', 'intValue', 'asInt', 'bucketCounts']);

/** What to do beyond the mapping. */
export interface CanonicalOptions {
  /** Leave out `flags` of spans (see the module note). Default false. */
  omitSpanFlags?: boolean;
}

/**
 * The canonical proto3 JSON form of an OTLP/JSON request object.
 * @param value a parsed `Export*ServiceRequest` as the official serializers write it.
 * @returns a new object; the input is not changed.
 */
export function canonicalOtlpJson(value: unknown, options: CanonicalOptions = {}): unknown {
  return canonical(value, '', options);
}

/**
 * Re-encode an OTLP/JSON request body in its canonical form.
 * @param body UTF-8 JSON as the official serializers write it.
 */
export function canonicalOtlpJsonBody(body: Uint8Array, options: CanonicalOptions = {}): Uint8Array {
  const parsed: unknown = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  return Buffer.from(JSON.stringify(canonicalOtlpJson(parsed, options)), 'utf8');
}

function canonical(value: unknown, key: string, options: CanonicalOptions): unknown {
  if (Array.isArray(value)) return value.map((item) => canonical(item, key, options));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    const isSpan = 'spanId' in value && 'traceId' in value && 'name' in value;
    for (const [k, v] of Object.entries(value)) {
      if (options.omitSpanFlags === true && isSpan && k === 'flags') continue;
      if (!ONEOF_KEYS.has(k) && !OPTIONAL_SCALARS.has(k) && isDefault(k, v)) continue;
      out[k] = canonical(v, k, options);
    }
    return out;
  }
  if (INT64_KEYS.has(key) && typeof value === 'number' && Number.isInteger(value)) return String(value);
  if (INT64_KEYS.has(key) && typeof value === 'bigint') return value.toString();
  return value;
}

/** A proto3 default: 0 (`'0'` for a 64-bit field), '', false, an empty repeated field, or an unset field. */
function isDefault(key: string, v: unknown): boolean {
  return v === undefined || v === null || v === 0 || v === '' || v === false || (v === '0' && INT64_KEYS.has(key)) || (Array.isArray(v) && v.length === 0);
}
