/**
 * Span-by-span comparison of an expected trace with the trace Tempo returned.
 *
 * Pure. Every difference is a finding (data), never an exception. Findings are JSON-safe:
 * values are rendered as short strings (`int 15`, `"GET"`, `double 0.5`) because 64-bit
 * integers and bytes do not survive `JSON.stringify`.
 */
import type { ExpectedSpan, ExpectedTrace } from './expected.ts';
import type { AttributeValue, Attributes, TempoSpan, TempoTrace } from './types.ts';

/** Kinds of trace findings. */
export type TraceFindingKind =
  /** Tempo answered 404 for the id (or a trace with no spans). */
  | 'missing_trace'
  /** The trace is there but an expected span is not. */
  | 'missing_span'
  /** A span that was not sent. */
  | 'unexpected_span'
  /** The same span id more than once. */
  | 'duplicate_span'
  /** A span is there with a field that differs; `field` names it (`name`, `attributes.http.route`, …). */
  | 'wrong_content'
  /** The read itself failed (timeout, server error, undecodable body); the trace counts as unchecked. */
  | 'query_failed';

/** One finding. */
export interface TraceFinding {
  kind: TraceFindingKind;
  seq: number;
  /** 32 lowercase hex characters. */
  traceId: string;
  /** 16 lowercase hex characters, for span-level findings. */
  spanId?: string;
  /** For `wrong_content`: the field, e.g. `parentSpanId`, `attributes.tally.seq`, `resource.service.name`. */
  field?: string;
  /** Rendered expected value; `(absent)` when it should not be there. */
  expected?: string;
  /** Rendered observed value; `(absent)` when it is missing. */
  observed?: string;
  /** For `query_failed`: why (`timeout`, `server_error`, `TALLY_COLLECTOR_BAD_REPLY`, …). */
  reason?: string;
}

const ABSENT = '(absent)';

/**
 * Compare one trace span by span.
 * @param expected what was sent.
 * @param observed what Tempo returned (non-empty).
 * @returns findings in expected-span order, then unexpected spans in body order.
 */
export function compareTrace(expected: ExpectedTrace, observed: TempoTrace): TraceFinding[] {
  const findings: TraceFinding[] = [];
  const base = { seq: expected.seq, traceId: expected.traceId };
  const byId = new Map<string, TempoSpan[]>();
  for (const span of observed.spans) {
    const list = byId.get(span.spanId);
    if (list === undefined) byId.set(span.spanId, [span]);
    else list.push(span);
  }
  const expectedIds = new Set(expected.spans.map((span) => span.spanId));
  for (const want of expected.spans) {
    const got = byId.get(want.spanId);
    if (got === undefined) {
      findings.push({ ...base, kind: 'missing_span', spanId: want.spanId });
      continue;
    }
    if (got.length > 1) findings.push({ ...base, kind: 'duplicate_span', spanId: want.spanId, observed: `${got.length} copies` });
    for (const diff of spanDiffs(want, got[0], expected.traceId)) findings.push({ ...base, kind: 'wrong_content', spanId: want.spanId, ...diff });
  }
  for (const [spanId, spans] of byId) {
    if (!expectedIds.has(spanId)) findings.push({ ...base, kind: 'unexpected_span', spanId, observed: spans[0].name });
  }
  return findings;
}

type Diff = { field: string; expected: string; observed: string };

function spanDiffs(want: ExpectedSpan, got: TempoSpan, traceId: string): Diff[] {
  const diffs: Diff[] = [];
  const check = (field: string, expected: string, observed: string): void => {
    if (expected !== observed) diffs.push({ field, expected, observed });
  };
  check('traceId', traceId, got.traceId);
  check('parentSpanId', want.parentSpanId ?? ABSENT, got.parentSpanId ?? ABSENT);
  check('name', want.name, got.name);
  check('kind', want.kind, got.kind);
  check('startTimeUnixNano', String(want.startTimeUnixNano), String(got.startTimeUnixNano));
  check('endTimeUnixNano', String(want.endTimeUnixNano), String(got.endTimeUnixNano));
  check('status', want.status, got.status.code);
  diffs.push(...attributeDiffs('attributes', want.attributes, got.attributes, true));
  // Resource attributes are a subset check: collectors and SDKs add their own (host, telemetry.sdk.*).
  diffs.push(...attributeDiffs('resource', want.resourceAttributes, got.resourceAttributes, false));
  return diffs;
}

function attributeDiffs(prefix: string, want: Attributes, got: Attributes, exact: boolean): Diff[] {
  const diffs: Diff[] = [];
  for (const [key, value] of Object.entries(want)) {
    const observed = Object.hasOwn(got, key) ? got[key] : undefined;
    if (observed === undefined) diffs.push({ field: `${prefix}.${key}`, expected: render(value), observed: ABSENT });
    else if (!sameValue(value, observed)) diffs.push({ field: `${prefix}.${key}`, expected: render(value), observed: render(observed) });
  }
  if (exact) {
    for (const key of Object.keys(got)) {
      if (!Object.hasOwn(want, key)) diffs.push({ field: `${prefix}.${key}`, expected: ABSENT, observed: render(got[key]) });
    }
  }
  return diffs;
}

/**
 * Typed equality of attribute values: an int (`bigint`) never equals a double (`number`),
 * NaN equals NaN, bytes compare by content, arrays and key-value lists deeply.
 */
export function sameValue(a: AttributeValue, b: AttributeValue): boolean {
  if (typeof a !== typeof b) return false;
  if (typeof a === 'number') return Object.is(a, b) || a === b;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    return a instanceof Uint8Array && b instanceof Uint8Array && Buffer.from(a).equals(Buffer.from(b));
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => sameValue(item, b[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((key) => Object.hasOwn(b, key) && sameValue(a[key], b[key]));
}

/** Render a value for a finding: `"text"`, `int 15`, `double 0.5`, `bool true`, `bytes 0a0b`, `empty`. */
export function render(value: AttributeValue): string {
  if (value === null) return 'empty';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `int ${value}`;
  if (typeof value === 'number') return `double ${value}`;
  if (typeof value === 'boolean') return `bool ${value}`;
  if (value instanceof Uint8Array) return `bytes ${Buffer.from(value).toString('hex')}`;
  if (Array.isArray(value)) return `[${value.map(render).join(', ')}]`;
  return `{${Object.entries(value).map(([k, v]) => `${k}: ${render(v)}`).join(', ')}}`;
}
