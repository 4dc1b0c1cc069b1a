/**
 * The Jaeger read-back adapter: trace by id and trace search over the Jaeger query
 * service's HTTP API, normalised into the values the Tempo adapter returns (hex ids, OTLP
 * kinds, attributes), so one verifier checks both.
 *
 * Endpoints, as Jaeger v2 (1.75, the all-in-one on the OpenTelemetry Collector) answers them:
 * - `GET /api/v3/traces/<trace id hex>`: `{"result":{"resourceSpans":[…]}}`, OTLP/JSON with
 *   hex ids and numeric enums (served as `text/plain`); 404
 *   `{"error":{"httpCode":404,"message":"No traces found"}}` for an unknown id; 400 for a
 *   malformed one.
 * - `GET /api/traces?service=<name>&tags=<JSON>&start=<µs>&end=<µs>&limit=<n>`: the Jaeger UI
 *   search, `{"data":[{"traceID":…,"spans":[…],"processes":{…}}],"errors":null}`; tags match
 *   span and process (resource) tags. The memory store refuses (500) a `limit` that is not
 *   below its `max_traces`.
 *
 * Answers about the system under test are values ({@link TempoFailure}); only failing to
 * reach or read Jaeger throws.
 *
 * @see https://www.jaegertracing.io/docs/latest/apis/#query-service
 */
import { classifyFailure } from '../tempo/classify.ts';
import { createHttpTransport, type HttpReply, type HttpTransport, type HttpTransportOptions } from '../tempo/http.ts';
import { padIdHex, TRACE_ID_BYTES } from '../tempo/ids.ts';
import { encodeQuery } from '../tempo/search.ts';
import { parseJsonObject } from '../tempo/trace-body.ts';
import { bad, spansFromResourceSpans } from '../tempo/trace-normalize.ts';
import type { TempoFailure, TempoResult, TempoTrace } from '../tempo/types.ts';

/** A trace search: the service, tags that must match, a window and a limit. */
export interface JaegerSearchRequest {
  /** `service.name` of the traces (Jaeger requires one). */
  service: string;
  /** Span or resource attributes that must match, e.g. `{ "tally.run.id": "…" }`. */
  tags?: Record<string, string>;
  /** Window start, unix epoch microseconds. */
  startUs: number;
  /** Window end, unix epoch microseconds. */
  endUs: number;
  /** Most traces returned; below the memory store's `max_traces`. */
  limit: number;
}

/** The trace ids a search returned. */
export interface JaegerSearchResult {
  /** 32 lowercase hex characters each, in answer order. */
  traceIds: string[];
  /** True when as many traces came back as the limit allowed: the count is then a lower bound. */
  limitReached: boolean;
}

/** A Jaeger query-API client. */
export interface JaegerClient {
  /**
   * Read a trace by id from the v3 API. 404 → `not_found`; 400 → `bad_request` with Jaeger's text.
   * @param traceIdHex 1–32 hex digits (padded to 32).
   * @throws CollectorError `TALLY_COLLECTOR_FAILED` (unreachable, timeout) or `TALLY_COLLECTOR_BAD_REPLY` (undecodable body).
   */
  traceById(traceIdHex: string): Promise<TempoResult<TempoTrace>>;
  /**
   * Search traces (the UI's `/api/traces`) and return their ids.
   * @throws CollectorError `TALLY_COLLECTOR_FAILED` or `TALLY_COLLECTOR_BAD_REPLY`.
   */
  search(request: JaegerSearchRequest): Promise<TempoResult<JaegerSearchResult>>;
  /** Close connections. */
  close(): Promise<void>;
}

/**
 * Create a Jaeger client for the query service's HTTP base (e.g. `http://127.0.0.1:16686`).
 * No request is sent until a method is called.
 * @throws ConfigError `TALLY_CONFIG_INVALID` when the base URL is not http(s).
 */
export function createJaegerClient(options: HttpTransportOptions): JaegerClient {
  const transport = createHttpTransport({ backendName: 'Jaeger', ...options });
  return {
    traceById: (traceIdHex) => traceById(transport, traceIdHex),
    search: (request) => search(transport, request),
    close: () => transport.close(),
  };
}

async function traceById(transport: HttpTransport, traceIdHex: string): Promise<TempoResult<TempoTrace>> {
  const id = /^[0-9a-fA-F]{1,32}$/.test(traceIdHex) ? padIdHex(traceIdHex, TRACE_ID_BYTES) : traceIdHex;
  const reply = await transport.get(`/api/v3/traces/${encodeURIComponent(id)}`, 'application/json');
  if (reply.status !== 200) return failure(reply, transport);
  const where = `${reply.endpoint} (OTLP JSON)`;
  const body = parseJsonObject(reply.body, where, '{"result":{"resourceSpans":[…]}}');
  const result = body.result ?? {};
  if (typeof result !== 'object' || result === null || Array.isArray(result)) throw bad(where, '"result" is not an object', '{"result":{"resourceSpans":[…]}}');
  const spans = spansFromResourceSpans((result as Record<string, unknown>).resourceSpans ?? [], where);
  return { ok: true, value: { traceId: id, spans, completeness: 'complete', source: { api: 'v1', encoding: 'json' } }, endpoint: reply.endpoint };
}

async function search(transport: HttpTransport, request: JaegerSearchRequest): Promise<TempoResult<JaegerSearchResult>> {
  const params: [string, string][] = [['service', request.service]];
  if (request.tags !== undefined && Object.keys(request.tags).length > 0) params.push(['tags', JSON.stringify(request.tags)]);
  params.push(['start', String(Math.floor(request.startUs))], ['end', String(Math.ceil(request.endUs))], ['limit', String(request.limit)]);
  const reply = await transport.get(`/api/traces${encodeQuery(params)}`, 'application/json');
  if (reply.status !== 200) return failure(reply, transport);
  const where = `${reply.endpoint} (JSON)`;
  const body = parseJsonObject(reply.body, where, '{"data":[{"traceID":…}]}');
  const data = body.data ?? [];
  if (!Array.isArray(data)) throw bad(where, '"data" is not an array', '{"data":[{"traceID":…}]}');
  const traceIds: string[] = [];
  data.forEach((trace, i) => {
    const traceID = (trace as { traceID?: unknown } | null)?.traceID;
    if (typeof traceID !== 'string' || !/^[0-9a-fA-F]{1,32}$/.test(traceID)) throw bad(where, `data[${i}].traceID is ${JSON.stringify(traceID)}`, 'a hex trace id');
    traceIds.push(padIdHex(traceID, TRACE_ID_BYTES));
  });
  return { ok: true, value: { traceIds, limitReached: traceIds.length >= request.limit }, endpoint: reply.endpoint };
}

/** A non-200 answer as a failure; Jaeger's JSON error bodies are classified by status as Tempo's are. */
function failure(reply: HttpReply, transport: HttpTransport): TempoFailure {
  return classifyFailure(reply, transport.redact);
}
