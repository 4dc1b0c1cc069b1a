/**
 * A client for the Prometheus HTTP API (and the compatible query APIs of Thanos, Mimir
 * and Cortex): instant and range queries, series, TSDB status and build information,
 * over one keep-alive undici Pool.
 *
 * - Queries and series lookups are POSTed as `application/x-www-form-urlencoded`, which
 *   the API accepts for exactly these endpoints, so long selectors never hit URL length
 *   limits, and no HTTP cache reuses a POST response (RFC 9111 §2: only GET/HEAD by default).
 * - Read-back must never see a cached answer. Every query carries `Cache-Control: no-store`
 *   (configurable): Cortex's query-frontend (and Thanos's, which reuses Cortex's
 *   `queryrange` code) disables its results cache for a request carrying it. Thanos's
 *   query-frontend caches only `query_range`, never `/api/v1/query`; Mimir caches only
 *   step-aligned range queries by default; Cortex-style results caches never keep
 *   extents newer than `max_cache_freshness` (1 m by default). tally's read-back uses
 *   instant queries with range selectors evaluated at a caller-chosen `time=`, which
 *   none of them cache.
 * - 429, 502, 503 and 504 (Prometheus answers 503 when a query times out or is aborted)
 *   and connection failures are retried a bounded number of times, honouring
 *   `Retry-After` up to a cap; anything else fails at once.
 * - Credentials never appear in an error: every message, detail and reply text passes
 *   through the {@link Redactor} of the configured secrets.
 *
 * @see https://prometheus.io/docs/prometheus/latest/querying/api/
 * @see https://thanos.io/tip/components/query-frontend.md/ ("only range queries … are split and cached")
 * @see https://grafana.com/docs/mimir/latest/query/ ("Understand how range queries are cached")
 * @see https://github.com/cortexproject/cortex/pull/1974 and /pull/3054, https://github.com/thanos-io/thanos/pull/3109 (Cache-Control)
 */
import { Pool } from 'undici';
import { setTimeout as sleep } from 'node:timers/promises';
import { CollectorError, ConfigError, TallyError } from '../../core/errors.ts';
import { Credentials, type PrometheusAuth } from './api-auth.ts';
import {
  parseBuildInfo,
  parseEnvelope,
  parseExemplarData,
  parseQueryData,
  parseSeriesData,
  parseTsdbStatus,
  type ApiResult,
  type BuildInfo,
  type ExemplarSeries,
  type QueryData,
  type TsdbStatus,
} from './api-replies.ts';
import { USER_AGENT } from '../../core/version.ts';
import { transportErrorCode } from '../../core/transport-errors.ts';

export type { PrometheusAuth } from './api-auth.ts';
export { parseSampleValue, type ApiResult, type ApiSample, type BuildInfo, type MatrixSeries, type QueryData, type TsdbStatus, type VectorElement } from './api-replies.ts';

/** Options for {@link PrometheusApi}. */
export interface PrometheusApiOptions {
  /** Base URL, API paths are appended to it: `http://127.0.0.1:9090`, `https://mimir.example/prometheus`. No user:password@. */
  url: string;
  auth?: PrometheusAuth;
  /** JSON pointer of `auth` in the scenario, for credential errors (default `/backends/prometheus/auth`). */
  authPointer?: string;
  /** Per attempt: the whole exchange, headers and body, in ms (default 60000); the wait ends a second later whatever the transport does. */
  timeoutMs?: number;
  /** Connect timeout, in ms (default 10000). */
  connectTimeoutMs?: number;
  /** Retries after the first attempt, for 429/502/503/504 and connection failures (default 3). */
  maxRetries?: number;
  /** First backoff, doubled per retry, in ms (default 250). */
  retryBaseMs?: number;
  /** Cap on an honoured `Retry-After`, in ms (default 10000). */
  maxRetryAfterMs?: number;
  /** Largest reply body read, in bytes (default 128 MiB); larger is a failure, not a truncation. */
  maxReplyBytes?: number;
  /** Keep-alive connections (default 4). */
  connections?: number;
  /** `Cache-Control` request header value; `null` sends none (default `no-store`). */
  cacheControl?: string | null;
}

/** Per-call options. */
export interface CallOptions {
  signal?: AbortSignal;
  /** Retries after the first attempt for this call (default: the client's `maxRetries`). */
  maxRetries?: number;
}

const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);
/** Beyond an attempt's timeout, how long the transport may take to give it up before the wait ends anyway (ms). */
const HARD_DEADLINE_GRACE_MS = 1000;
/** How long `close()` waits for requests in flight before dropping them (ms). */
const CLOSE_GRACE_MS = 1000;
const ERROR_TEXT_CHARS = 512;

function errnoOf(error: unknown): string {
  return transportErrorCode(error) || 'UNKNOWN';
}

/** `Retry-After` (delta-seconds or HTTP-date, RFC 9110 §10.2.3) in ms; undefined when absent or unreadable. */
function retryAfterMs(value: string | string[] | undefined, nowMs: number): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined) return undefined;
  if (/^\d+$/.test(text.trim())) return Number(text.trim()) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** Unix seconds with millisecond precision, as the API's `time`/`start`/`end` take them. */
export function apiSeconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

/**
 * Prometheus HTTP API client. Counts its requests (`requests`, including retries) and
 * retries so read-back can report how many queries it made.
 */
export class PrometheusApi {
  readonly #pool: Pool;
  readonly #prefix: string;
  readonly #origin: string;
  readonly #credentials: Credentials;
  readonly #options: Required<Omit<PrometheusApiOptions, 'auth' | 'authPointer' | 'url' | 'cacheControl'>> & { cacheControl: string | null };
  readonly #userAgent = USER_AGENT;
  /** HTTP requests sent, retries included. */
  requests = 0;
  /** Of `requests`, how many were retries. */
  retries = 0;
  #closed = false;

  /**
   * @throws ConfigError `TALLY_CONFIG_INVALID` for a URL that is not http(s), carries
   * credentials, or invalid `auth` (see {@link Credentials}).
   */
  constructor(options: PrometheusApiOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new ConfigError('invalid Prometheus URL', [{ pointer: '/backends/prometheus/url', message: 'an absolute http(s) URL is expected' }]);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new ConfigError('invalid Prometheus URL', [{ pointer: '/backends/prometheus/url', message: 'an http or https URL is expected' }]);
    }
    if (url.username !== '' || url.password !== '') {
      // Never echo the URL: it holds the password.
      throw new ConfigError('Prometheus URL carries credentials', [{ pointer: '/backends/prometheus/url', message: 'put credentials in auth.basic, not in the URL' }]);
    }
    this.#origin = url.origin;
    this.#prefix = url.pathname.replace(/\/+$/, '');
    this.#credentials = new Credentials(options.auth, options.authPointer);
    this.#options = {
      timeoutMs: options.timeoutMs ?? 60_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      maxRetries: options.maxRetries ?? 3,
      retryBaseMs: options.retryBaseMs ?? 250,
      maxRetryAfterMs: options.maxRetryAfterMs ?? 10_000,
      maxReplyBytes: options.maxReplyBytes ?? 128 * 1024 * 1024,
      connections: options.connections ?? 4,
      cacheControl: options.cacheControl === undefined ? 'no-store' : options.cacheControl,
    };
    this.#pool = new Pool(url.origin, {
      connections: this.#options.connections,
      headersTimeout: this.#options.timeoutMs,
      bodyTimeout: this.#options.timeoutMs,
      connectTimeout: this.#options.connectTimeoutMs,
    });
  }

  /** Text with every configured secret replaced by `[REDACTED]`, for callers that log replies. */
  redact(text: string): string {
    return this.#credentials.redactor.redact(text);
  }

  /**
   * Instant query, evaluated at `timeMs`.
   * @param expr PromQL.
   * @param timeMs evaluation time, ms since the epoch.
   * @throws CollectorError `TALLY_COLLECTOR_FAILED` (details `{ path, httpStatus, errorType?, error? }`)
   * when the API refuses or fails after retries; `TALLY_COLLECTOR_BAD_REPLY` (details
   * `{ pointer, expected }`) for a malformed reply; ConfigError for unreadable credentials.
   * @see https://prometheus.io/docs/prometheus/latest/querying/api/#instant-queries
   */
  async query(expr: string, timeMs: number, options: CallOptions & { timeoutSeconds?: number } = {}): Promise<ApiResult<QueryData>> {
    const form = new URLSearchParams({ query: expr, time: apiSeconds(timeMs) });
    if (options.timeoutSeconds !== undefined) form.set('timeout', `${options.timeoutSeconds}s`);
    const result = await this.#call('/api/v1/query', form, options.signal);
    return { ...result, data: parseQueryData(result.data) };
  }

  /**
   * Range query over [startMs, endMs] at `stepMs`: the value at each step is the latest
   * sample within the lookback window (5 m by default) before it, not a raw sample.
   * @throws as {@link PrometheusApi.query}.
   * @see https://prometheus.io/docs/prometheus/latest/querying/api/#range-queries
   */
  async queryRange(expr: string, startMs: number, endMs: number, stepMs: number, options: CallOptions = {}): Promise<ApiResult<QueryData>> {
    const form = new URLSearchParams({ query: expr, start: apiSeconds(startMs), end: apiSeconds(endMs), step: `${stepMs / 1000}` });
    const result = await this.#call('/api/v1/query_range', form, options.signal);
    return { ...result, data: parseQueryData(result.data) };
  }

  /**
   * Exemplars of the series a selector matches, stored in [startMs, endMs] (Prometheus
   * keeps them with `--enable-feature=exemplar-storage`, in a bounded circular buffer).
   * @throws as {@link PrometheusApi.query}.
   * @see https://prometheus.io/docs/prometheus/latest/querying/api/#querying-exemplars
   */
  async queryExemplars(expr: string, startMs: number, endMs: number, options: CallOptions = {}): Promise<ApiResult<ExemplarSeries[]>> {
    const form = new URLSearchParams({ query: expr, start: apiSeconds(startMs), end: apiSeconds(endMs) });
    const result = await this.#call('/api/v1/query_exemplars', form, options.signal);
    return { ...result, data: parseExemplarData(result.data) };
  }

  /**
   * Series matching any of the selectors, optionally within [startMs, endMs].
   * @param matchers `match[]` selectors, at least one, e.g. `tally_requests_total{run="r1"}`.
   * @throws as {@link PrometheusApi.query}.
   * @see https://prometheus.io/docs/prometheus/latest/querying/api/#finding-series-by-label-matchers
   */
  async series(matchers: readonly string[], options: CallOptions & { startMs?: number; endMs?: number; limit?: number } = {}): Promise<ApiResult<Record<string, string>[]>> {
    const form = new URLSearchParams();
    for (const m of matchers) form.append('match[]', m);
    if (options.startMs !== undefined) form.set('start', apiSeconds(options.startMs));
    if (options.endMs !== undefined) form.set('end', apiSeconds(options.endMs));
    if (options.limit !== undefined) form.set('limit', String(options.limit));
    const result = await this.#call('/api/v1/series', form, options.signal);
    return { ...result, data: parseSeriesData(result.data) };
  }

  /**
   * Head block statistics and cardinality top lists (Prometheus ≥ 2.14).
   * @throws as {@link PrometheusApi.query}.
   * @see https://prometheus.io/docs/prometheus/latest/querying/api/#tsdb-stats
   */
  async tsdbStatus(options: CallOptions = {}): Promise<ApiResult<TsdbStatus>> {
    const result = await this.#call('/api/v1/status/tsdb', null, options.signal);
    return { ...result, data: parseTsdbStatus(result.data) };
  }

  /**
   * Version and build information.
   * @throws as {@link PrometheusApi.query}.
   * @see https://prometheus.io/docs/prometheus/latest/querying/api/#build-information
   */
  async buildInfo(options: CallOptions = {}): Promise<ApiResult<BuildInfo>> {
    const result = await this.#call('/api/v1/status/buildinfo', null, options.signal, options.maxRetries);
    return { ...result, data: parseBuildInfo(result.data) };
  }

  /** Close the pool once in-flight requests finish, or drop them after {@link CLOSE_GRACE_MS}. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const closing = this.#pool.close().catch(() => {});
    const gaveUp = await Promise.race([closing.then(() => false), sleep(CLOSE_GRACE_MS).then(() => true)]);
    if (gaveUp) await this.#pool.destroy().catch(() => {});
  }

  #fail(message: string, details: Record<string, unknown>, cause?: unknown): CollectorError {
    const redacted: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(details)) redacted[k] = typeof v === 'string' ? this.redact(v) : v;
    // The cause (an undici error) is kept only as its code: its message could quote headers.
    return new CollectorError(this.redact(message), { details: redacted, cause: cause === undefined ? undefined : { code: errnoOf(cause) } });
  }

  /** One API call with bounded retries; returns the checked envelope. */
  async #call(path: string, form: URLSearchParams | null, signal: AbortSignal | undefined, maxRetries = this.#options.maxRetries): Promise<ApiResult<unknown>> {
    if (this.#closed) throw new CollectorError('Prometheus API client used after close()');
    const fullPath = `${this.#prefix}${path}`;
    const body = form === null ? undefined : form.toString();
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { ...(await this.#credentials.headers()), accept: 'application/json', 'user-agent': this.#userAgent };
      if (this.#options.cacheControl !== null) headers['cache-control'] = this.#options.cacheControl;
      if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
      this.requests++;
      if (attempt > 0) this.retries++;
      let status: number;
      let text: string;
      let retryAfter: number | undefined;
      // One deadline for the whole attempt (a body can drip slower than any per-chunk timeout),
      // and a timer that ends the wait even if the transport never settles.
      const deadline = AbortSignal.timeout(this.#options.timeoutMs);
      const attemptSignal = signal === undefined ? deadline : AbortSignal.any([signal, deadline]);
      let timer: NodeJS.Timeout | undefined;
      try {
        const exchange = (async () => {
          const response = await this.#pool.request({ path: fullPath, method: body === undefined ? 'GET' : 'POST', headers, body, signal: attemptSignal });
          return { status: response.statusCode, retryAfter: retryAfterMs(response.headers['retry-after'], Date.now()), text: await this.#readBody(response.body, fullPath) };
        })();
        exchange.catch(() => {});
        const hung = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(Object.assign(new Error(`no answer within ${this.#options.timeoutMs} ms`), { code: 'ETIMEDOUT' })), this.#options.timeoutMs + HARD_DEADLINE_GRACE_MS);
        });
        ({ status, retryAfter, text } = await Promise.race([exchange, hung]));
      } catch (error) {
        if (error instanceof TallyError) throw error;
        if (signal?.aborted) throw this.#fail(`Prometheus API ${fullPath}: aborted`, { path: fullPath, httpStatus: 0, errno: 'ABORTED' }, error);
        if (deadline.aborted) error = Object.assign(new Error(`no answer within ${this.#options.timeoutMs} ms`), { code: 'ETIMEDOUT' });
        if (attempt < maxRetries) {
          await sleep(this.#backoffMs(attempt, undefined), undefined, { signal });
          continue;
        }
        const errno = errnoOf(error);
        throw this.#fail(`Prometheus API ${this.#origin}${fullPath}: no response (${errno}) after ${attempt + 1} attempts`, { path: fullPath, httpStatus: 0, errno }, error);
      } finally {
        clearTimeout(timer);
      }
      if (RETRYABLE_STATUS.has(status) && attempt < maxRetries) {
        await sleep(this.#backoffMs(attempt, retryAfter), undefined, { signal });
        continue;
      }
      return this.#interpret(fullPath, status, text, attempt + 1);
    }
  }

  #backoffMs(attempt: number, retryAfter: number | undefined): number {
    if (retryAfter !== undefined) return Math.min(retryAfter, this.#options.maxRetryAfterMs);
    return Math.min(this.#options.retryBaseMs * 2 ** attempt, this.#options.maxRetryAfterMs);
  }

  async #readBody(stream: AsyncIterable<Buffer> & { destroy(): unknown }, path: string): Promise<string> {
    const chunks: Buffer[] = [];
    let bytes = 0;
    for await (const chunk of stream) {
      bytes += chunk.length;
      if (bytes > this.#options.maxReplyBytes) {
        stream.destroy();
        throw this.#fail(`Prometheus API ${path}: reply larger than ${this.#options.maxReplyBytes} bytes; query a smaller chunk`, {
          path,
          maxReplyBytes: this.#options.maxReplyBytes,
        });
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks, bytes).toString('utf8');
  }

  #interpret(path: string, status: number, text: string, attempts: number): ApiResult<unknown> {
    let json: unknown;
    let parsed = true;
    try {
      json = JSON.parse(text);
    } catch {
      parsed = false;
    }
    if (status >= 200 && status < 300) {
      if (!parsed) {
        throw new CollectorError(`Prometheus API ${path}: reply is not JSON`, { code: 'TALLY_COLLECTOR_BAD_REPLY', details: { pointer: '', expected: 'a JSON object envelope' } });
      }
      const envelope = parseEnvelope(json);
      if (envelope.ok) return envelope.result;
      throw this.#fail(`Prometheus API ${path}: ${envelope.reply.errorType}: ${envelope.reply.error}`, { path, httpStatus: status, ...envelope.reply });
    }
    const why = status === 401 ? ' (unauthorized: check the credentials)' : status === 403 ? ' (forbidden)' : '';
    if (parsed) {
      try {
        const envelope = parseEnvelope(json);
        if (!envelope.ok) {
          throw this.#fail(`Prometheus API ${path}: HTTP ${status}${why} after ${attempts} attempt(s): ${envelope.reply.errorType}: ${envelope.reply.error}`, {
            path,
            httpStatus: status,
            ...envelope.reply,
          });
        }
      } catch (error) {
        if (error instanceof CollectorError && error.code === 'TALLY_COLLECTOR_FAILED') throw error;
        // Not an API envelope: report the body text below.
      }
    }
    const excerpt = text.trim().slice(0, ERROR_TEXT_CHARS);
    throw this.#fail(`Prometheus API ${path}: HTTP ${status}${why} after ${attempts} attempt(s): ${excerpt}`, { path, httpStatus: status, body: excerpt });
  }
}
