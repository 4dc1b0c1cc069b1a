/**
 * OTLP/HTTP transport (protobuf or JSON) over an undici Pool with keep-alive: POST to
 * `<endpoint>/v1/metrics` or `/v1/traces`, optional gzip (`Content-Encoding: gzip`),
 * TLS with a CA bundle, client certificate and `insecureSkipVerify`, and a per-attempt
 * timeout covering the whole exchange. Each attempt's answer is classified by the OTLP
 * spec's failure table; it never throws. A reply body over {@link MAX_OTLP_REPLY_BYTES}
 * is not read further: the attempt is `bad_response` (`RESPONSE_TOO_LARGE`), not retried.
 *
 * @see https://opentelemetry.io/docs/specs/otlp/#otlphttp
 * @see https://undici.nodejs.org/#/docs/api/Pool
 */
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { Pool } from 'undici';
import { ConfigError } from '../core/errors.ts';
import { classifyTransportError } from '../core/transport-errors.ts';
import { readTlsFiles } from '../host/tls-files.ts';
import { classifyHttpStatus, parseRetryAfterMs } from './otlp-exporter-retry.ts';
import { errorBodyMessage, readPartialSuccess } from './otlp-exporter-response.ts';
import type { AttemptResult, ExporterConfig, ExportTransport, OtlpSignal } from './otlp-exporter-types.ts';
import { MAX_OTLP_REPLY_BYTES, readCappedBody } from './reply-body.ts';


/** The OTLP/HTTP transport. */
export class HttpTransport implements ExportTransport {
  readonly #pool: Pool;
  readonly #paths: Record<OtlpSignal, string>;
  readonly #json: boolean;
  readonly #gzip: boolean;
  readonly #timeoutMs: number;
  readonly #headers: Record<string, string>;

  /** @throws ConfigError for an endpoint that is not an http(s) URL, or unreadable TLS files. */
  constructor(config: ExporterConfig) {
    let url: URL;
    try {
      url = new URL(config.endpoint);
    } catch {
      url = new URL('invalid:');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new ConfigError(`telemetry.endpoint must be an http(s) URL, got ${config.endpoint}`, [{ pointer: '/telemetry/endpoint', message: 'expected http:// or https:// URL' }]);
    }
    const base = url.pathname.replace(/\/+$/, '');
    this.#paths = { metrics: `${base}/v1/metrics`, traces: `${base}/v1/traces` };
    this.#json = config.protocol === 'http/json';
    this.#gzip = config.compression === 'gzip';
    this.#timeoutMs = config.timeoutMs;
    this.#headers = {
      ...config.headers,
      'content-type': this.#json ? 'application/json' : 'application/x-protobuf',
      ...(this.#gzip ? { 'content-encoding': 'gzip' } : {}),
    };
    const files = readTlsFiles(config.tls);
    this.#pool = new Pool(url.origin, {
      connections: Math.max(1, config.queue.numConsumers),
      pipelining: 1,
      connect:
        url.protocol === 'https:'
          ? { ca: files.ca, cert: files.cert, key: files.key, rejectUnauthorized: !(config.tls?.insecureSkipVerify ?? false), servername: config.tls?.serverName }
          : undefined,
    });
  }

  prepare(body: Uint8Array): Uint8Array {
    return this.#gzip ? gzipSync(body) : body;
  }

  async send(signal: OtlpSignal, payload: Uint8Array, abort: AbortSignal): Promise<AttemptResult> {
    const t0 = performance.now();
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const elapsedUs = (): number => Math.round((performance.now() - t0) * 1000);
    try {
      const res = await this.#pool.request({
        path: this.#paths[signal],
        method: 'POST',
        headers: this.#headers,
        body: payload,
        signal: AbortSignal.any([timeout, abort]),
      });
      const reply = await readCappedBody(res.body, MAX_OTLP_REPLY_BYTES);
      if (reply.tooLarge) {
        // The peer's answer cannot be read: the batch's fate is unknown, and is not retried.
        return { class: 'bad_response', retryable: false, httpStatus: res.statusCode, rejectedItems: 0, message: `reply body over ${MAX_OTLP_REPLY_BYTES} bytes (HTTP ${res.statusCode}); not read further`, errorCode: 'RESPONSE_TOO_LARGE', durationUs: elapsedUs() };
      }
      const bytes = reply.bytes;
      if (res.statusCode >= 200 && res.statusCode < 300) {
        const read = readPartialSuccess(signal, this.#json, bytes);
        if ('error' in read) return { class: 'bad_response', retryable: false, httpStatus: res.statusCode, rejectedItems: 0, message: read.error, errorCode: 'BAD_RESPONSE', durationUs: elapsedUs() };
        return {
          class: read.rejectedItems > 0 ? 'partial_success' : 'success',
          retryable: false,
          httpStatus: res.statusCode,
          rejectedItems: read.rejectedItems,
          message: read.message,
          durationUs: elapsedUs(),
        };
      }
      const contentType = res.headers['content-type'];
      const retryAfterMs = parseRetryAfterMs(res.headers['retry-after'], Date.now());
      const c = classifyHttpStatus(res.statusCode, retryAfterMs);
      return {
        class: c.class,
        retryable: c.retryable,
        httpStatus: res.statusCode,
        rejectedItems: 0,
        message: errorBodyMessage(bytes, Array.isArray(contentType) ? contentType[0] : contentType),
        retryAfterMs: res.statusCode === 429 || res.statusCode === 503 ? retryAfterMs : undefined,
        durationUs: elapsedUs(),
      };
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const failed = classifyTransportError(err);
      if (timeout.aborted || failed.reason === 'timeout') {
        return { class: 'timeout', retryable: true, httpStatus: 0, rejectedItems: 0, message: `no answer within ${this.#timeoutMs} ms`, errorCode: 'ETIMEDOUT', durationUs: elapsedUs() };
      }
      // Transport errors (refused, reset, TLS) are retryable, as the collector's otlphttp exporter treats them.
      return { class: 'transport_error', retryable: true, httpStatus: 0, rejectedItems: 0, message: e.message, errorCode: abort.aborted ? 'ABORTED' : failed.code || 'other', durationUs: elapsedUs() };
    }
  }

  close(): Promise<void> {
    return this.#pool.destroy();
  }
}
