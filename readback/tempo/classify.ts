/**
 * Classification of Tempo's HTTP answers into findings.
 *
 * Tempo's query errors are plain text, not JSON: 400 for a bad id or bad TraceQL, 404
 * `trace not found`, 404 `404 page not found` for a route the server does not have (Go's
 * `http.NotFound`, written by the router before any handler runs), 500 for handler
 * failures, 503 while starting. Recorded from Tempo 2.0.1; see the fixtures README.
 */
import type { HttpReply } from './http.ts';
import type { TempoFailure, TempoFailureReason } from './types.ts';

/** Longest body text kept in a failure, characters. */
export const MAX_BODY_TEXT_CHARS = 1024;

/** Go's `http.NotFound` body: the router has no such route. */
const ROUTE_ABSENT_BODY = '404 page not found';
const STARTING = /not ready|starting|waiting for|shutting down/i;

/** True when the reply says the route itself does not exist (not that a trace is missing). */
export function isRouteAbsent(reply: Pick<HttpReply, 'status' | 'body'>): boolean {
  return reply.status === 404 && reply.body.toString('utf8').trim() === ROUTE_ABSENT_BODY;
}

/**
 * Whether a probe reply proves that a route exists.
 * `present`: the router matched it (any 2xx–4xx other than `404 page not found`, or a 500 from its handler).
 * `absent`: `404 page not found`. `unknown`: anything else (502/503/504 from a proxy or a starting server).
 */
export function routePresence(reply: Pick<HttpReply, 'status' | 'body'>): 'present' | 'absent' | 'unknown' {
  if (isRouteAbsent(reply)) return 'absent';
  if ((reply.status >= 200 && reply.status < 500) || reply.status === 500) return 'present';
  return 'unknown';
}

/**
 * Turn a non-success reply into a failure finding.
 * @param reply the HTTP answer (status ≥ 300).
 * @param redact removes credentials from the body text.
 * @param readiness true for `/ready`, where any 503 means "not ready".
 * @returns `{ ok: false, reason, status, endpoint, bodyText }`; `bodyText` at most {@link MAX_BODY_TEXT_CHARS}.
 * @see https://grafana.com/docs/tempo/latest/api_docs/
 */
export function classifyFailure(reply: HttpReply, redact: (text: string) => string, readiness = false): TempoFailure {
  const bodyText = redact(reply.body.toString('utf8').slice(0, MAX_BODY_TEXT_CHARS).trim());
  return { ok: false, reason: reasonFor(reply, bodyText, readiness), endpoint: reply.endpoint, status: reply.status, bodyText };
}

function reasonFor(reply: HttpReply, bodyText: string, readiness: boolean): TempoFailureReason {
  const { status } = reply;
  if (isRouteAbsent(reply)) return 'unsupported';
  if (status === 404) return 'not_found';
  if (status === 400) return 'bad_request';
  if (status === 401 || status === 403) return 'unauthorized';
  if (status === 429) return 'rate_limited';
  if (status === 503 && (readiness || STARTING.test(bodyText))) return 'not_ready';
  if (status >= 500) return 'server_error';
  return 'client_error';
}

/** A failure for a capability known to be absent; no request was sent. */
export function unsupported(endpoint: string, why: string): TempoFailure {
  return { ok: false, reason: 'unsupported', endpoint, status: null, bodyText: why };
}
