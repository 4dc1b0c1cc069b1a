/**
 * Tempo search: query strings for `/api/search` (tag search and TraceQL) and decoding of
 * the answer into {@link TraceSearchResult}.
 *
 * Recorded facts from Tempo 2.0.1 that shape the decoder (fixtures README):
 * - `traceID` is hex with leading `0` characters trimmed (odd lengths happen); padded back here.
 * - `startTimeUnixNano` and `inspectedBytes` are strings; `durationMs` is a number.
 * - TraceQL hits carry the singular `spanSet` (2.0); later versions add `spanSets`. Both are read.
 * - `metrics` keys come and go by query kind; a missing key means 0.
 */
import { ConfigError } from '../../core/errors.ts';
import { padIdHex, SPAN_ID_BYTES, TRACE_ID_BYTES } from './ids.ts';
import { attributesFrom, bad } from './trace-normalize.ts';
import { parseJsonObject } from './trace-body.ts';
import type { SearchSpan, TraceSearchHit, TraceSearchResult } from './types.ts';

/** Window and size of a search. */
export interface SearchWindow {
  /** Most traces to return; Tempo's default is 20. Which N come back depends on scan order, not recency. */
  limit?: number;
  /** Window start, unix epoch seconds. Without start/end Tempo searches recent (ingester) data only. */
  startUnixS?: number;
  /** Window end, unix epoch seconds. */
  endUnixS?: number;
}

/** A tag search. */
export interface TagSearchRequest extends SearchWindow {
  /** Attribute name → value; Tempo matches values as case-insensitive substrings. */
  tags: Record<string, string>;
  /** Shortest trace, milliseconds. */
  minDurationMs?: number;
  /** Longest trace, milliseconds. */
  maxDurationMs?: number;
}

/**
 * Encode tags as logfmt, the form `/api/search?tags=` takes: `k=v k2="v 2"`.
 * @throws ConfigError `TALLY_CONFIG_INVALID` when a key is empty or contains whitespace, `=` or `"` (logfmt cannot carry it).
 * @see https://grafana.com/docs/tempo/latest/api_docs/#search
 */
export function logfmtTags(tags: Record<string, string>): string {
  return Object.entries(tags).map(([key, value]) => {
    if (key === '' || /[\s="]/.test(key)) {
      throw new ConfigError(`tag name ${JSON.stringify(key)} cannot be written in logfmt`, [
        { pointer: `/tags/${key}`, message: 'expected a tag name without whitespace, "=" or \'"\'' },
      ]);
    }
    const needsQuotes = value === '' || /[\s="\\]/.test(value);
    return needsQuotes ? `${key}="${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : `${key}=${value}`;
  }).join(' ');
}

/**
 * Build the query string for `/api/search`, parameters in the order Tempo's docs list them.
 * @param first `['tags', logfmt]` or `['q', traceql]`, plus optional duration filters.
 * @returns e.g. `?tags=service.name%3Dx&limit=50&start=1&end=2` (percent-encoded with `%20` for spaces).
 */
export function searchQueryString(first: [string, string][], window: SearchWindow): string {
  const params: [string, string][] = [...first];
  if (window.limit !== undefined) params.push(['limit', String(window.limit)]);
  if (window.startUnixS !== undefined) params.push(['start', String(Math.floor(window.startUnixS))]);
  if (window.endUnixS !== undefined) params.push(['end', String(Math.ceil(window.endUnixS))]);
  return encodeQuery(params);
}

/** Percent-encode `[name, value]` pairs as `?a=b&c=d` (RFC 3986 style: spaces as `%20`). */
export function encodeQuery(params: [string, string][]): string {
  return params.length === 0 ? '' : `?${params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`;
}

/** Query-string pairs for a tag search. */
export function tagSearchParams(request: TagSearchRequest): [string, string][] {
  const params: [string, string][] = [['tags', logfmtTags(request.tags)]];
  if (request.minDurationMs !== undefined) params.push(['minDuration', `${request.minDurationMs}ms`]);
  if (request.maxDurationMs !== undefined) params.push(['maxDuration', `${request.maxDurationMs}ms`]);
  return params;
}

/**
 * Decode a `/api/search` 200 body.
 * @param body raw JSON bytes.
 * @param where the request, for errors.
 * @param limit the limit that was sent, to flag a possibly truncated answer.
 * @throws CollectorError `TALLY_COLLECTOR_BAD_REPLY` naming the malformed field.
 * @see https://grafana.com/docs/tempo/latest/api_docs/#search
 */
export function decodeSearchReply(body: Buffer, where: string, limit: number | undefined): TraceSearchResult {
  const json = parseJsonObject(body, where, '{"traces":[…],"metrics":{…}}');
  const rawTraces = json.traces ?? [];
  if (!Array.isArray(rawTraces)) throw bad(where, '"traces" is not an array', '{"traces":[…]}');
  const traces = rawTraces.map((raw, i) => hitFrom(raw, `traces[${i}]`, where));
  const metrics = (typeof json.metrics === 'object' && json.metrics !== null ? json.metrics : {}) as Record<string, unknown>;
  return {
    traces,
    metrics: {
      inspectedTraces: numberOr(metrics.inspectedTraces),
      inspectedBytes: bigintOr(metrics.inspectedBytes),
      // 2.0 names it inspectedBlocks; later versions totalBlocks.
      inspectedBlocks: numberOr(metrics.inspectedBlocks ?? metrics.totalBlocks),
    },
    limitReached: limit !== undefined && traces.length >= limit,
  };
}

function hitFrom(raw: unknown, path: string, where: string): TraceSearchHit {
  const hit = object(raw, path, where);
  if (typeof hit.traceID !== 'string') throw bad(where, `${path}.traceID is missing`, 'a hex traceID');
  const sets: unknown[] = Array.isArray(hit.spanSets) ? hit.spanSets : hit.spanSet !== undefined ? [hit.spanSet] : [];
  return {
    traceId: idOrBad(hit.traceID, TRACE_ID_BYTES, `${path}.traceID`, where),
    rootServiceName: typeof hit.rootServiceName === 'string' ? hit.rootServiceName : '',
    rootTraceName: typeof hit.rootTraceName === 'string' ? hit.rootTraceName : '',
    startTimeUnixNano: bigintField(hit.startTimeUnixNano, `${path}.startTimeUnixNano`, where),
    durationMs: numberOr(hit.durationMs),
    spanSets: sets.map((set, s) => {
      const spanSet = object(set, `${path}.spanSets[${s}]`, where);
      const spans = Array.isArray(spanSet.spans) ? spanSet.spans : [];
      return {
        spans: spans.map((span, k) => spanFrom(span, `${path}.spanSets[${s}].spans[${k}]`, where)),
        matched: numberOr(spanSet.matched),
      };
    }),
  };
}

function spanFrom(raw: unknown, path: string, where: string): SearchSpan {
  const span = object(raw, path, where);
  if (typeof span.spanID !== 'string') throw bad(where, `${path}.spanID is missing`, 'a hex spanID');
  return {
    spanId: idOrBad(span.spanID, SPAN_ID_BYTES, `${path}.spanID`, where),
    name: typeof span.name === 'string' ? span.name : null,
    startTimeUnixNano: bigintField(span.startTimeUnixNano, `${path}.startTimeUnixNano`, where),
    durationNanos: bigintField(span.durationNanos, `${path}.durationNanos`, where),
    attributes: attributesFrom(span.attributes, `${path}.attributes`, where),
  };
}

function idOrBad(hex: string, bytes: number, path: string, where: string): string {
  try {
    return padIdHex(hex, bytes);
  } catch {
    throw bad(where, `${path} is ${JSON.stringify(hex.slice(0, 80))}`, `at most ${bytes * 2} hex digits`);
  }
}

function object(raw: unknown, path: string, where: string): Record<string, unknown> {
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) return raw as Record<string, unknown>;
  throw bad(where, `${path} is not an object`, 'an object');
}

function bigintField(raw: unknown, path: string, where: string): bigint {
  if (raw === undefined) return 0n;
  if (typeof raw === 'string' && /^\d+$/.test(raw)) return BigInt(raw);
  if (typeof raw === 'number' && Number.isSafeInteger(raw) && raw >= 0) return BigInt(raw);
  throw bad(where, `${path} is ${JSON.stringify(raw)}`, 'an unsigned integer (decimal string)');
}

function numberOr(raw: unknown): number {
  return typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : 0;
}

function bigintOr(raw: unknown): bigint {
  return typeof raw === 'string' && /^\d+$/.test(raw) ? BigInt(raw) : typeof raw === 'number' && Number.isSafeInteger(raw) ? BigInt(raw) : 0n;
}
