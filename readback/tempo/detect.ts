/**
 * Capability detection for a Tempo server: one cheap request per endpoint, each read
 * for what it proves about the route, not for its data.
 *
 * Probe design:
 * - trace by id (v1, v2): any id; `200` or `404 trace not found` both prove the route.
 * - TraceQL: a deliberately unparsable query. A `400` naming TraceQL proves the parser
 *   and costs no scan; a `200` means `q` was ignored (search without TraceQL).
 * - tag values v2: a scoped name (an unscoped one gives 500 in 2.0.1).
 * - TraceQL metrics: a `count_over_time()` range query over a short window.
 */
import { MAX_BODY_TEXT_CHARS, routePresence } from './classify.ts';
import { encodeQuery } from './search.ts';
import {
  inferGeneration, parseBuildInfoJson, parseStatusVersionText,
  type BuildInfo, type EndpointProbe, type Readiness, type TempoCapabilities, type TempoEndpointName,
} from './version.ts';
import type { HttpReply, HttpTransport } from './http.ts';
import { CollectorError } from '../../core/errors.ts';

/** Requests `detect()` sends; defaults in {@link defaultProbes}. */
export interface DetectProbes {
  /** Trace id for the trace-by-id probes (32 hex); it need not exist. */
  traceIdHex: string;
  /** An unparsable TraceQL query. */
  invalidTraceQL: string;
  /** `limit` sent with the TraceQL probe. */
  searchLimit: number;
  /** Unscoped tag name for the v1 tag-values probe. */
  tagName: string;
  /** Scoped tag name for the v2 tag-values probe. */
  scopedTagName: string;
  /** Metrics range-query probe: query, window (unix epoch seconds) and step (milliseconds). */
  metrics: { query: string; startUnixS: number; endUnixS: number; stepMs: number };
}

/**
 * Default probes. The metrics window is the five minutes before `nowMs`.
 * @param nowMs wall clock, unix epoch milliseconds.
 */
export function defaultProbes(nowMs: number): DetectProbes {
  const endUnixS = Math.floor(nowMs / 1000);
  return {
    traceIdHex: '00000000000000000000000000000001',
    invalidTraceQL: '{ span.tally.probe = }',
    searchLimit: 1,
    tagName: 'service.name',
    scopedTagName: 'resource.service.name',
    metrics: { query: '{ } | count_over_time()', startUnixS: endUnixS - 300, endUnixS, stepMs: 60_000 },
  };
}

/** Format a step for Tempo (`15s`, `250ms`). */
export function stepParam(stepMs: number): string {
  return stepMs % 1000 === 0 ? `${stepMs / 1000}s` : `${stepMs}ms`;
}

/**
 * Probe every endpoint and decide what the server supports.
 * Transport failures (refused, timeout) on a probe make that endpoint `unknown`; a server
 * that refuses every probe throws.
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` (details.reason) when no probe got any HTTP answer.
 * @see https://grafana.com/docs/tempo/latest/api_docs/
 */
export async function detectCapabilities(transport: HttpTransport, probes: DetectProbes): Promise<TempoCapabilities> {
  const errors: CollectorError[] = [];
  let sent = 0;
  const get = async (path: string, accept = 'application/json'): Promise<HttpReply | EndpointProbe> => {
    sent += 1;
    try {
      return await transport.get(path, accept);
    } catch (error) {
      if (!(error instanceof CollectorError)) throw error;
      errors.push(error);
      const reason = (error.details as { reason?: string } | undefined)?.reason ?? error.code;
      return { presence: 'unknown', endpoint: `GET ${path}`, status: null, note: `no answer: ${reason}` };
    }
  };
  const m = probes.metrics;
  const metricsPath = `/api/metrics/query_range${encodeQuery([
    ['q', m.query], ['start', String(m.startUnixS)], ['end', String(m.endUnixS)], ['step', stepParam(m.stepMs)],
  ])}`;
  const [ready, echo, buildInfo, v1, v2, traceql, tagNames, tagValuesV1, tagValuesV2, metrics] = await Promise.all([
    get('/ready', 'text/plain'),
    get('/api/echo', 'text/plain'),
    get('/api/status/buildinfo'),
    get(`/api/traces/${probes.traceIdHex}`),
    get(`/api/v2/traces/${probes.traceIdHex}`),
    get(`/api/search${encodeQuery([['q', probes.invalidTraceQL], ['limit', String(probes.searchLimit)]])}`),
    get('/api/search/tags'),
    get(`/api/search/tag/${encodeURIComponent(probes.tagName)}/values`),
    get(`/api/v2/search/tag/${encodeURIComponent(probes.scopedTagName)}/values`),
    get(metricsPath),
  ]);
  const version = await readVersion(buildInfo, get);
  if (errors.length === sent) throw errors[0];
  const search = traceqlProbe(traceql);
  const endpoints: Record<TempoEndpointName, EndpointProbe> = {
    echo: routeProbe(echo),
    buildInfo: version.buildInfoProbe,
    statusVersion: version.statusVersion,
    traceByIdV1: routeProbe(v1),
    traceByIdV2: routeProbe(v2),
    search: search.search,
    traceql: search.traceql,
    tagNamesV1: routeProbe(tagNames),
    tagValuesV1: routeProbe(tagValuesV1),
    tagValuesV2: routeProbe(tagValuesV2),
    metricsQueryRange: routeProbe(metrics),
  };
  return { buildInfo: version.info, readiness: readinessFrom(ready, transport.redact), endpoints, generation: inferGeneration(endpoints) };
}

function isReply(value: HttpReply | EndpointProbe): value is HttpReply {
  return 'body' in value;
}

function routeProbe(reply: HttpReply | EndpointProbe): EndpointProbe {
  if (!isReply(reply)) return reply;
  const presence = routePresence(reply);
  const note = presence === 'absent' ? '404 page not found: route not in this server'
    : presence === 'present' ? `${reply.status}: route answered` : `${reply.status}: proves neither`;
  return { presence, endpoint: reply.endpoint, status: reply.status, note };
}

function traceqlProbe(reply: HttpReply | EndpointProbe): { search: EndpointProbe; traceql: EndpointProbe } {
  if (!isReply(reply)) return { search: reply, traceql: reply };
  const base = { endpoint: reply.endpoint, status: reply.status };
  const text = reply.body.toString('utf8');
  if (reply.status === 400 && /traceql|parse error|syntax error/i.test(text)) {
    const present: EndpointProbe = { ...base, presence: 'present', note: '400 names a TraceQL parse error: parser present' };
    return { search: present, traceql: present };
  }
  if (reply.status === 200) {
    return {
      search: { ...base, presence: 'present', note: '200: search answered' },
      traceql: { ...base, presence: 'absent', note: '200 to an unparsable query: q ignored, no TraceQL' },
    };
  }
  const route = routeProbe(reply);
  return { search: route, traceql: { ...route, presence: route.presence === 'absent' ? 'absent' : 'unknown' } };
}

async function readVersion(
  buildInfo: HttpReply | EndpointProbe,
  get: (path: string, accept?: string) => Promise<HttpReply | EndpointProbe>,
): Promise<{ info: BuildInfo | null; buildInfoProbe: EndpointProbe; statusVersion: EndpointProbe }> {
  let buildInfoProbe = routeProbe(buildInfo);
  if (isReply(buildInfo) && buildInfo.status === 200) {
    try {
      const info = parseBuildInfoJson(buildInfo.body.toString('utf8'), buildInfo.endpoint);
      return { info, buildInfoProbe, statusVersion: { presence: 'unknown', endpoint: 'GET /status/version', status: null, note: 'not needed' } };
    } catch (error) {
      if (!(error instanceof CollectorError)) throw error;
      // A gateway that answers 200 with an HTML page for every path proves nothing about the route.
      buildInfoProbe = { ...buildInfoProbe, presence: 'unknown', note: '200 but not build info JSON' };
    }
  }
  // /api/status/buildinfo is missing before some 2.x release (404 in 2.0.1); /status/version is older.
  const fallback = await get('/status/version', 'text/plain');
  const statusVersion = routeProbe(fallback);
  const info = isReply(fallback) && fallback.status === 200 ? parseStatusVersionText(fallback.body.toString('utf8')) : null;
  return { info, buildInfoProbe, statusVersion };
}

function readinessFrom(reply: HttpReply | EndpointProbe, redact: (text: string) => string): Readiness {
  if (!isReply(reply)) return { state: 'unknown', status: null, bodyText: reply.note };
  const bodyText = redact(reply.body.toString('utf8').slice(0, MAX_BODY_TEXT_CHARS).trim());
  const state = reply.status === 200 ? 'ready' : reply.status === 503 ? 'not_ready' : 'unknown';
  return { state, status: reply.status, bodyText };
}
