/**
 * One HTTP GET of a Prometheus `/metrics` endpoint (the OpenTelemetry Collector's :8888,
 * Prometheus's or Tempo's own), with a deadline, a body cap and classified failures.
 * An edge: the only I/O of the self-metrics readers.
 */
import { Agent } from 'undici';
import { CollectorError, ConfigError } from '../../core/errors.ts';
import { classifyTransportError } from '../../core/transport-errors.ts';

/** Options for {@link scrapeText}. */
export interface ScrapeOptions {
  /** Connect timeout, milliseconds. Default 2000. */
  connectTimeoutMs?: number;
  /** Whole-request deadline, headers and body, milliseconds. Default 10000. */
  requestTimeoutMs?: number;
  /** Largest body accepted, bytes. Default 16 MiB. */
  maxBodyBytes?: number;
  /** Name of the scraped thing for errors, e.g. `otelcol`. Default `scrape`. */
  what?: string;
  /** Extra request headers (e.g. authorization); never part of an error. */
  headers?: Readonly<Record<string, string>>;
}

/** Why a scrape got no usable answer, in `CollectorError.details.reason`. */
export type ScrapeFailureReason = 'connection_refused' | 'connection_reset' | 'timeout' | 'dns_failed' | 'http_status' | 'body_too_large' | 'transport';

/** Text format 0.0.4 first: OpenMetrics and protobuf bodies are not what the parser reads best. */
const ACCEPT = 'text/plain;version=0.0.4;q=1,*/*;q=0.1';

/**
 * GET a metrics endpoint and return its body as text.
 * @param url e.g. `http://127.0.0.1:8888/metrics`.
 * @returns the body, UTF-8 decoded.
 * @throws ConfigError `TALLY_CONFIG_INVALID` when `url` is not an http(s) URL.
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` (details.reason a {@link ScrapeFailureReason})
 *   when no answer came; `TALLY_COLLECTOR_BAD_REPLY` for a non-200 status or a body over the cap.
 */
export async function scrapeText(url: string, options: ScrapeOptions = {}): Promise<string> {
  const what = options.what ?? 'scrape';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`${what} URL is not a URL: ${url}`, [{ pointer: '/url', message: 'expected e.g. http://127.0.0.1:8888/metrics' }]);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError(`${what} URL must be http or https, got ${parsed.protocol}`, [{ pointer: '/url', message: 'expected an http:// or https:// URL' }]);
  }
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
  const maxBodyBytes = options.maxBodyBytes ?? 16 * 1024 * 1024;
  const endpoint = `${parsed.origin}${parsed.pathname}`;
  const agent = new Agent({ connect: { timeout: options.connectTimeoutMs ?? 2000 }, headersTimeout: requestTimeoutMs, bodyTimeout: requestTimeoutMs });
  try {
    const res = await agent.request({
      origin: parsed.origin,
      path: `${parsed.pathname}${parsed.search}`,
      method: 'GET',
      headers: { ...options.headers, accept: ACCEPT, 'user-agent': 'tally' },
      signal: AbortSignal.timeout(requestTimeoutMs),
    });
    if (res.statusCode !== 200) {
      await res.body.dump({ limit: 64 * 1024 });
      throw failure(what, endpoint, 'http_status', `HTTP ${res.statusCode}`, 'TALLY_COLLECTOR_BAD_REPLY', { status: res.statusCode });
    }
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of res.body) {
      total += chunk.length;
      if (total > maxBodyBytes) {
        res.body.destroy();
        throw failure(what, endpoint, 'body_too_large', `body over ${maxBodyBytes} bytes`, 'TALLY_COLLECTOR_BAD_REPLY', { maxBodyBytes });
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } catch (error) {
    if (error instanceof CollectorError) throw error;
    throw transportFailure(what, endpoint, error);
  } finally {
    await agent.close();
  }
}

function failure(
  what: string,
  endpoint: string,
  reason: ScrapeFailureReason,
  problem: string,
  code: 'TALLY_COLLECTOR_FAILED' | 'TALLY_COLLECTOR_BAD_REPLY',
  extra: Record<string, unknown> = {},
): CollectorError {
  return new CollectorError(`${what} GET ${endpoint}: ${problem}`, { code, details: { reason, endpoint, ...extra } });
}

function transportFailure(what: string, endpoint: string, error: unknown): CollectorError {
  const { reason, code } = classifyTransportError(error);
  const message = (error as { message?: string } | null)?.message ?? String(error);
  return failure(what, endpoint, reason, `${reason.replace('_', ' ')} (${code || 'error'}: ${message})`, 'TALLY_COLLECTOR_FAILED', { errorCode: code || null });
}
