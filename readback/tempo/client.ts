/**
 * The Tempo read-back adapter: trace by id, search, tag values and TraceQL metrics over
 * Tempo's HTTP API, choosing endpoints by probed capability.
 *
 * Results are values: Tempo's answers (not found, rejected query, not ready, route absent)
 * come back as {@link TempoFailure}s. Only failures to reach or read Tempo throw.
 */
import { systemClock, type Clock } from '../../core/clock.ts';
import { classifyFailure, isRouteAbsent, unsupported } from './classify.ts';
import { defaultProbes, detectCapabilities, stepParam, type DetectProbes } from './detect.ts';
import { createHttpTransport, type HttpReply, type HttpTransport, type HttpTransportOptions } from './http.ts';
import { padIdHex, TRACE_ID_BYTES } from './ids.ts';
import { decodeMetricsReply, decodeTagValuesReply } from './replies.ts';
import { decodeSearchReply, encodeQuery, searchQueryString, tagSearchParams, type SearchWindow, type TagSearchRequest } from './search.ts';
import { ACCEPT, decodeTraceReply } from './trace-body.ts';
import { unknownCapabilities, type Readiness, type TempoCapabilities, type TempoEndpointName } from './version.ts';
import type { MetricsSeries, TagValue, TempoResult, TempoTrace, TraceSearchResult } from './types.ts';

/** Options for {@link createTempoClient}. */
export interface TempoClientOptions extends HttpTransportOptions {
  /** Encoding asked for trace by id. Default `protobuf` (no base64, smaller). */
  traceEncoding?: 'protobuf' | 'json';
  /** Wall clock for default probe windows. Default the process clock. */
  clock?: Clock;
}

/** Options for one trace-by-id read. */
export interface TraceByIdOptions {
  /** `auto` (default): v2 when probed present, else v1. */
  api?: 'auto' | 'v1' | 'v2';
  encoding?: 'protobuf' | 'json';
  /** Start of the block search, unix epoch seconds; sent only together with `endUnixS`. */
  startUnixS?: number;
  /** End of the block search, unix epoch seconds; sent only together with `startUnixS`. */
  endUnixS?: number;
}

/** A TraceQL search: the window plus spans per span set (`spss`, Tempo default 3). */
export interface TraceQLSearchOptions extends SearchWindow {
  spansPerSpanSet?: number;
}

/** A Tempo read-back client. */
export interface TempoClient {
  /** What the last `detect()` (and later route-absent answers) established. */
  readonly capabilities: TempoCapabilities;
  /**
   * Probe the server: build info (`/api/status/buildinfo`, else `/status/version`), `/ready`, and every query route.
   * @param probes override the probe requests (ids, queries, window).
   * @throws CollectorError `TALLY_COLLECTOR_FAILED` when no probe got an HTTP answer.
   */
  detect(probes?: Partial<DetectProbes>): Promise<TempoCapabilities>;
  /**
   * Read `/ready`: `not_ready` while Tempo is starting (503 `Ingester not ready: … waiting for 15s…`).
   * @throws CollectorError `TALLY_COLLECTOR_FAILED` when Tempo cannot be reached.
   */
  ready(): Promise<Readiness>;
  /**
   * Read a trace by id. 404 → `not_found`; 400 (bad id) → `bad_request` with Tempo's text.
   * @param traceId 1–32 hex digits (padded to 32); anything else is sent verbatim for Tempo to judge.
   * @throws CollectorError `TALLY_COLLECTOR_FAILED` (unreachable, timeout) or `TALLY_COLLECTOR_BAD_REPLY` (undecodable body).
   * @see https://grafana.com/docs/tempo/latest/api_docs/#query
   */
  traceById(traceId: string, options?: TraceByIdOptions): Promise<TempoResult<TempoTrace>>;
  /**
   * Tag search on `/api/search?tags=`. Trace ids come back padded to 32 hex.
   * @throws CollectorError `TALLY_COLLECTOR_FAILED` or `TALLY_COLLECTOR_BAD_REPLY`.
   * @see https://grafana.com/docs/tempo/latest/api_docs/#search
   */
  search(request: TagSearchRequest): Promise<TempoResult<TraceSearchResult>>;
  /**
   * TraceQL search on `/api/search?q=`. Invalid TraceQL → `bad_request` with the parser's text.
   * @throws CollectorError `TALLY_COLLECTOR_FAILED` or `TALLY_COLLECTOR_BAD_REPLY`.
   * @see https://grafana.com/docs/tempo/latest/api_docs/#search
   */
  searchTraceQL(query: string, options?: TraceQLSearchOptions): Promise<TempoResult<TraceSearchResult>>;
  /**
   * Values of a tag. `auto` uses v2 (typed) for scoped names (`resource.x`, `span.x`, `.x`) when present, else v1.
   * Tempo 2.0.1's v2 answers `{}` (no values) until the ingester cuts its head block.
   * @throws CollectorError `TALLY_COLLECTOR_FAILED` or `TALLY_COLLECTOR_BAD_REPLY`.
   * @see https://grafana.com/docs/tempo/latest/api_docs/#search-tag-values-v2
   */
  tagValues(tag: string, options?: { api?: 'auto' | 'v1' | 'v2' } & SearchWindow): Promise<TempoResult<{ api: 'v1' | 'v2'; values: TagValue[] }>>;
  /**
   * `<traceql> | count_over_time()` on `/api/metrics/query_range`. `unsupported` (no request) when probed absent.
   * @param traceql a spanset filter such as `{ name = "root" }`.
   * @param startUnixS window start, unix epoch seconds.
   * @param endUnixS window end, unix epoch seconds.
   * @param stepMs step, milliseconds.
   * @returns series and `total`, the sum of every sample (matching spans in the window).
   * @throws CollectorError `TALLY_COLLECTOR_FAILED` or `TALLY_COLLECTOR_BAD_REPLY`.
   * @see https://grafana.com/docs/tempo/latest/api_docs/#traceql-metrics
   */
  countOverTime(traceql: string, startUnixS: number, endUnixS: number, stepMs: number): Promise<TempoResult<{ series: MetricsSeries[]; total: number }>>;
  /** Close connections. */
  close(): Promise<void>;
}

const SCOPED_TAG = /^(\.|resource\.|span\.|event\.|link\.|instrumentation\.)|^[a-z]+:/;

/**
 * Create a Tempo client. No request is sent until a method is called.
 * @throws ConfigError `TALLY_CONFIG_INVALID` when the base URL is not http(s).
 */
export function createTempoClient(options: TempoClientOptions): TempoClient {
  return new HttpTempoClient(options);
}

class HttpTempoClient implements TempoClient {
  readonly #transport: HttpTransport;
  readonly #clock: Clock;
  readonly #traceEncoding: 'protobuf' | 'json';
  #capabilities: TempoCapabilities = unknownCapabilities();

  constructor(options: TempoClientOptions) {
    this.#transport = createHttpTransport(options);
    this.#clock = options.clock ?? systemClock;
    this.#traceEncoding = options.traceEncoding ?? 'protobuf';
  }

  get capabilities(): TempoCapabilities {
    return this.#capabilities;
  }

  async detect(probes: Partial<DetectProbes> = {}): Promise<TempoCapabilities> {
    this.#capabilities = await detectCapabilities(this.#transport, { ...defaultProbes(this.#clock.nowMs()), ...probes });
    return this.#capabilities;
  }

  async ready(): Promise<Readiness> {
    const reply = await this.#transport.get('/ready', 'text/plain');
    const failure = reply.status === 200 ? null : classifyFailure(reply, this.#transport.redact, true);
    return {
      state: failure === null ? 'ready' : failure.reason === 'not_ready' ? 'not_ready' : 'unknown',
      status: reply.status,
      bodyText: failure?.bodyText ?? this.#transport.redact(reply.body.toString('utf8').trim()),
    };
  }

  async traceById(traceId: string, opts: TraceByIdOptions = {}): Promise<TempoResult<TempoTrace>> {
    // Ids that are not 1–32 hex digits go out verbatim so the report carries Tempo's own verdict on them.
    const id = /^[0-9a-fA-F]{1,32}$/.test(traceId) ? padIdHex(traceId, TRACE_ID_BYTES) : traceId;
    const encoding = opts.encoding ?? this.#traceEncoding;
    const query = opts.startUnixS !== undefined && opts.endUnixS !== undefined
      ? encodeQuery([['start', String(opts.startUnixS)], ['end', String(opts.endUnixS)]]) : '';
    if (opts.api === 'v2' || (opts.api !== 'v1' && this.#has('traceByIdV2'))) {
      const v2Path = `/api/v2/traces/${encodeURIComponent(id)}${query}`;
      if (this.#absent('traceByIdV2')) return unsupported(`GET ${v2Path}`, 'v2 trace by id is not in this server');
      const v2 = await this.#readTrace(v2Path, id, 'v2', encoding);
      if (v2 !== 'route_absent') return v2;
      if (opts.api === 'v2') return unsupported(`GET ${v2Path}`, '404 page not found: v2 trace by id is not in this server');
    }
    const v1Path = `/api/traces/${encodeURIComponent(id)}${query}`;
    const v1 = await this.#readTrace(v1Path, id, 'v1', encoding);
    return v1 === 'route_absent' ? unsupported(`GET ${v1Path}`, '404 page not found: trace by id is not in this server') : v1;
  }

  search(request: TagSearchRequest): Promise<TempoResult<TraceSearchResult>> {
    return this.#search(tagSearchParams(request), request);
  }

  searchTraceQL(query: string, opts: TraceQLSearchOptions = {}): Promise<TempoResult<TraceSearchResult>> {
    const params: [string, string][] = [['q', query]];
    if (opts.spansPerSpanSet !== undefined) params.push(['spss', String(opts.spansPerSpanSet)]);
    return this.#search(params, opts);
  }

  async tagValues(tag: string, opts: { api?: 'auto' | 'v1' | 'v2' } & SearchWindow = {}): Promise<TempoResult<{ api: 'v1' | 'v2'; values: TagValue[] }>> {
    const window: [string, string][] = [];
    if (opts.startUnixS !== undefined) window.push(['start', String(opts.startUnixS)]);
    if (opts.endUnixS !== undefined) window.push(['end', String(opts.endUnixS)]);
    // v2 takes TraceQL identifiers (scoped names); v1 takes bare attribute names. Neither falls back to the other.
    const api = opts.api === 'v2' || ((opts.api ?? 'auto') === 'auto' && SCOPED_TAG.test(tag) && !this.#absent('tagValuesV2')) ? 'v2' : 'v1';
    const path = `/api${api === 'v2' ? '/v2' : ''}/search/tag/${encodeURIComponent(tag)}/values${encodeQuery(window)}`;
    if (api === 'v2' && this.#absent('tagValuesV2')) return unsupported(`GET ${path}`, 'v2 tag values is not in this server');
    const reply = await this.#transport.get(path, ACCEPT.json);
    if (reply.status === 200) return { ok: true, value: { api, values: decodeTagValuesReply(reply, api) }, endpoint: reply.endpoint };
    if (isRouteAbsent(reply)) this.#learnAbsent(api === 'v2' ? 'tagValuesV2' : 'tagValuesV1', reply);
    return classifyFailure(reply, this.#transport.redact);
  }

  async countOverTime(traceql: string, startUnixS: number, endUnixS: number, stepMs: number): Promise<TempoResult<{ series: MetricsSeries[]; total: number }>> {
    const path = `/api/metrics/query_range${encodeQuery([
      ['q', `${traceql} | count_over_time()`], ['start', String(startUnixS)], ['end', String(endUnixS)], ['step', stepParam(stepMs)],
    ])}`;
    if (this.#absent('metricsQueryRange')) return unsupported(`GET ${path}`, 'TraceQL metrics (/api/metrics/query_range) is not in this server');
    const reply = await this.#transport.get(path, ACCEPT.json);
    if (reply.status === 200) return { ok: true, value: decodeMetricsReply(reply), endpoint: reply.endpoint };
    if (isRouteAbsent(reply)) this.#learnAbsent('metricsQueryRange', reply);
    return classifyFailure(reply, this.#transport.redact);
  }

  close(): Promise<void> {
    return this.#transport.close();
  }

  async #readTrace(path: string, id: string, api: 'v1' | 'v2', encoding: 'protobuf' | 'json'): Promise<TempoResult<TempoTrace> | 'route_absent'> {
    const reply = await this.#transport.get(path, ACCEPT[encoding]);
    if (reply.status === 200) return { ok: true, value: decodeTraceReply(reply, id, api), endpoint: reply.endpoint };
    if (isRouteAbsent(reply)) {
      this.#learnAbsent(api === 'v1' ? 'traceByIdV1' : 'traceByIdV2', reply);
      return 'route_absent';
    }
    return classifyFailure(reply, this.#transport.redact);
  }

  async #search(params: [string, string][], window: SearchWindow): Promise<TempoResult<TraceSearchResult>> {
    const reply = await this.#transport.get(`/api/search${searchQueryString(params, window)}`, ACCEPT.json);
    if (reply.status !== 200) return classifyFailure(reply, this.#transport.redact);
    return { ok: true, value: decodeSearchReply(reply.body, reply.endpoint, window.limit), endpoint: reply.endpoint };
  }

  /** Record a route found absent by a query (after `detect()` or without it), so later calls skip it. */
  #learnAbsent(name: TempoEndpointName, reply: HttpReply): void {
    const probe = { presence: 'absent' as const, endpoint: reply.endpoint, status: 404, note: 'learned: 404 page not found' };
    this.#capabilities = { ...this.#capabilities, endpoints: { ...this.#capabilities.endpoints, [name]: probe } };
  }

  #has(name: TempoEndpointName): boolean {
    return this.#capabilities.endpoints[name].presence === 'present';
  }

  #absent(name: TempoEndpointName): boolean {
    return this.#capabilities.endpoints[name].presence === 'absent';
  }
}
