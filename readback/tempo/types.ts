/**
 * Value types shared by the Tempo read-back adapter: normalised traces, search hits,
 * and the result envelope every query returns.
 *
 * A Tempo answer about the system under test (trace not found, query rejected, server
 * error, not ready) is a {@link TempoFailure} value. Only tally's own trouble reaching or
 * reading Tempo (connection refused, timeout, undecodable body) is thrown, as a
 * `CollectorError`.
 */

/** An OTLP attribute value after normalisation. OTLP `intValue` becomes `bigint` so 64-bit values survive. */
export type AttributeValue =
  | string
  | boolean
  | bigint
  | number
  | Uint8Array
  | null
  | AttributeValue[]
  | { readonly [key: string]: AttributeValue };

/** Attributes by key. OTLP allows duplicate keys; the last one wins here. */
export type Attributes = Record<string, AttributeValue>;

/** OTLP span kind, in the spec's lowercase terms. */
export type SpanKindName = 'unspecified' | 'internal' | 'server' | 'client' | 'producer' | 'consumer';

/** OTLP span status code. */
export type StatusCodeName = 'unset' | 'ok' | 'error';

/** One span as read back, with ids as lowercase hex. */
export interface TempoSpan {
  /** 32 lowercase hex characters. */
  traceId: string;
  /** 16 lowercase hex characters. */
  spanId: string;
  /** 16 lowercase hex characters, or `null` for a root span. */
  parentSpanId: string | null;
  name: string;
  kind: SpanKindName;
  /** Unix epoch nanoseconds. */
  startTimeUnixNano: bigint;
  /** Unix epoch nanoseconds. */
  endTimeUnixNano: bigint;
  attributes: Attributes;
  status: { code: StatusCodeName; message: string };
  /** Resource attributes of the batch the span came in (shared object across its batch). */
  resourceAttributes: Attributes;
  /** Instrumentation scope of the span. */
  scope: { name: string; version: string };
  /** Number of span events (their content is not normalised). */
  eventCount: number;
  /** Number of span links (their content is not normalised). */
  linkCount: number;
}

/** A trace as read back by id. */
export interface TempoTrace {
  /** 32 lowercase hex characters: the id that was asked for. */
  traceId: string;
  /** Spans in body order. */
  spans: TempoSpan[];
  /** `'partial'` when a v2 response says so (some blocks could not be read). */
  completeness: 'complete' | 'partial';
  /** Which endpoint and encoding produced it. */
  source: { api: 'v1' | 'v2'; encoding: 'json' | 'protobuf' };
}

/** A span inside a search hit's span set. Only the attributes the query referenced are present. */
export interface SearchSpan {
  /** 16 lowercase hex characters. */
  spanId: string;
  /** Span name, when the server includes it (2.0.1 does not). */
  name: string | null;
  /** Unix epoch nanoseconds. */
  startTimeUnixNano: bigint;
  /** Nanoseconds. */
  durationNanos: bigint;
  attributes: Attributes;
}

/** One trace in a search answer. */
export interface TraceSearchHit {
  /** 32 lowercase hex characters, restored from Tempo's zero-trimmed form. */
  traceId: string;
  rootServiceName: string;
  rootTraceName: string;
  /** Unix epoch nanoseconds. */
  startTimeUnixNano: bigint;
  /** Milliseconds. */
  durationMs: number;
  /** TraceQL span sets (empty for tag search). Merges 2.0's `spanSet` and later `spanSets`. */
  spanSets: { spans: SearchSpan[]; matched: number }[];
}

/** A search answer. */
export interface TraceSearchResult {
  traces: TraceSearchHit[];
  /** Tempo's inspection counters; keys missing from the body read as 0. */
  metrics: { inspectedTraces: number; inspectedBytes: bigint; inspectedBlocks: number };
  /** True when as many traces came back as the limit allowed: the count is then a lower bound. */
  limitReached: boolean;
}

/** A tag value; `type` is `null` from the v1 endpoint, which does not say. */
export interface TagValue {
  type: string | null;
  value: string;
}

/** One series from a TraceQL metrics range query. */
export interface MetricsSeries {
  labels: Attributes;
  /** Samples in time order; `timestampMs` is the start of the step, unix epoch milliseconds. */
  samples: { timestampMs: number; value: number }[];
}

/** Why a Tempo query did not give an answer. These are findings, not tally errors. */
export type TempoFailureReason =
  /** 404 from a route that exists: the trace is not there. */
  | 'not_found'
  /** The endpoint does not exist on this server (probed or answered `404 page not found`). */
  | 'unsupported'
  /** 400: bad trace id, invalid TraceQL, bad parameters. `bodyText` has Tempo's words. */
  | 'bad_request'
  /** 401 or 403. */
  | 'unauthorized'
  /** 429. */
  | 'rate_limited'
  /** Any other 4xx. */
  | 'client_error'
  /** 503 from `/ready`, or a 503 whose body says the server is starting. */
  | 'not_ready'
  /** 5xx. */
  | 'server_error';

/** A query Tempo answered without the thing asked for. */
export interface TempoFailure {
  ok: false;
  reason: TempoFailureReason;
  /** `METHOD /path?query` that was asked (never credentials). */
  endpoint: string;
  /** HTTP status, or `null` when no request was sent (`unsupported` by capability). */
  status: number | null;
  /** Tempo's body text, at most 1 KiB, with credentials redacted. */
  bodyText: string;
}

/** A query that gave an answer. */
export interface TempoSuccess<T> {
  ok: true;
  value: T;
  /** `METHOD /path?query` that was asked (never credentials). */
  endpoint: string;
}

/** The result of every Tempo query. */
export type TempoResult<T> = TempoSuccess<T> | TempoFailure;
