/**
 * The remote-write sender: posts snappy-compressed `WriteRequest` bodies (wire/remote-write.ts
 * encodes them) over one keep-alive undici Pool, and classifies each answer as the
 * specification says. A refused batch is a finding about the receiver, not an exception.
 *
 * @see https://prometheus.io/docs/specs/prw/remote_write_spec/
 */
import { Pool } from 'undici';
import { systemClock, type Clock } from '../core/clock.ts';
import { InternalError } from '../core/errors.ts';
import { transportErrorCode } from '../core/transport-errors.ts';
import { USER_AGENT } from '../core/version.ts';
import { classifyRejection, encodeRemoteWriteBody, REMOTE_WRITE_HEADERS, type NameValidation, type RemoteWriteRejection, type RemoteWriteSeries } from '../wire/remote-write.ts';

/** What happened to one post. */
export interface RemoteWriteOutcome {
  /** HTTP status; 0 when no response arrived. */
  status: number;
  /** 2xx. */
  ok: boolean;
  /** Whether the specification lets the sender retry: 5xx, 429, or no response. */
  retryable: boolean;
  /** A 4xx other than 429 (the receiver refused the data): the refusal, classified from the body text. */
  rejection?: RemoteWriteRejection;
  /** Non-2xx: the body, trimmed, at most 1 KiB; no response: the transport error's message. */
  errorMessage?: string;
  /** No response: the errno or undici code (`ECONNREFUSED`, `ECONNRESET`, `UND_ERR_HEADERS_TIMEOUT`, …). */
  errno?: string;
  /** From just before the request to the end of the response (or the failure), in µs. */
  durationUs: number;
}

/** Options for {@link RemoteWriteSender}. */
export interface RemoteWriteSenderOptions {
  /** Receiver URL, e.g. `http://127.0.0.1:9090/api/v1/write`. */
  url: string;
  /** Default `tally/<version>`. */
  userAgent?: string;
  /** Extra request headers (auth, tenant); the specification's own headers win over them. */
  headers?: Readonly<Record<string, string>>;
  /** Keep-alive connections in the pool (default 4). */
  connections?: number;
  /** Headers and body timeout, in ms (default 30000). */
  timeoutMs?: number;
  /** Connect timeout, in ms (default 10000). */
  connectTimeoutMs?: number;
  /** Idle keep-alive, in ms (default 30000). */
  keepAliveTimeoutMs?: number;
  /** Monotonic time source for `durationUs`; default the process clock. */
  clock?: Clock;
}

const ERROR_TEXT_BYTES = 1024;
// Past this much error body, closing the connection is cheaper than reading on.
const DRAIN_LIMIT_BYTES = 64 * 1024;

async function readErrorText(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  let kept = 0;
  let seen = 0;
  for await (const chunk of body) {
    seen += chunk.length;
    if (kept < ERROR_TEXT_BYTES) {
      const part = chunk.subarray(0, ERROR_TEXT_BYTES - kept);
      kept += part.length;
      // stream: true holds back a multi-byte character cut at the 1 KiB edge.
      text += decoder.decode(part, { stream: true });
    }
    if (seen > DRAIN_LIMIT_BYTES) {
      body.destroy();
      break;
    }
  }
  return text.trim();
}

function errnoOf(error: unknown): string {
  return transportErrorCode(error) || 'UNKNOWN';
}

/**
 * Posts remote-write batches over one keep-alive undici Pool.
 * @see https://prometheus.io/docs/specs/prw/remote_write_spec/#retries--backoff
 */
export class RemoteWriteSender {
  readonly #pool: Pool;
  readonly #path: string;
  readonly #headers: Record<string, string>;
  readonly #clock: Clock;
  #closed = false;

  /** @throws InternalError `TALLY_INTERNAL` when `url` is not an http(s) URL. */
  constructor(options: RemoteWriteSenderOptions) {
    const url = new URL(options.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InternalError(`remote write URL must be http(s): ${options.url}`);
    this.#path = `${url.pathname}${url.search}`;
    const extra: Record<string, string> = {};
    for (const [name, value] of Object.entries(options.headers ?? {})) extra[name.toLowerCase()] = value;
    this.#headers = { ...extra, ...REMOTE_WRITE_HEADERS, 'user-agent': options.userAgent ?? USER_AGENT };
    this.#clock = options.clock ?? systemClock;
    const timeoutMs = options.timeoutMs ?? 30_000;
    this.#pool = new Pool(url.origin, {
      connections: options.connections ?? 4,
      pipelining: 1,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      connectTimeout: options.connectTimeoutMs ?? 10_000,
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
    });
  }

  /**
   * Encode, compress and post a batch. Encoding is not part of `durationUs`.
   * @throws InternalError `TALLY_INTERNAL` for an invalid series (see {@link encodeWriteRequest}) or after `close()`.
   */
  async send(series: readonly RemoteWriteSeries[], validation: NameValidation = 'legacy'): Promise<RemoteWriteOutcome> {
    return this.sendEncoded(encodeRemoteWriteBody(series, validation).body);
  }

  /**
   * Post an already compressed body and classify the answer.
   * 2xx: ok. 429 and 5xx: retryable. Other 4xx: refused for good, with the body text.
   * No response: retryable, with the errno.
   * @param body snappy-compressed `WriteRequest`, e.g. from {@link encodeRemoteWriteBody}.
   * @param signal aborts the request (a run stop); the outcome then has errno `ABORTED`.
   * @throws InternalError `TALLY_INTERNAL` after `close()`.
   */
  async sendEncoded(body: Uint8Array, signal?: AbortSignal): Promise<RemoteWriteOutcome> {
    if (this.#closed) throw new InternalError('remote write sender used after close()');
    const startMs = this.#clock.monotonicMs();
    const elapsedUs = () => Math.round((this.#clock.monotonicMs() - startMs) * 1000);
    try {
      const response = await this.#pool.request({ path: this.#path, method: 'POST', headers: this.#headers, body, signal });
      const status = response.statusCode;
      if (status >= 200 && status < 300) {
        // The specification reserves the success body; read it only to keep the connection.
        await response.body.dump({ limit: DRAIN_LIMIT_BYTES });
        return { status, ok: true, retryable: false, durationUs: elapsedUs() };
      }
      const errorMessage = await readErrorText(response.body);
      const retryable = status === 429 || status >= 500;
      // Only a 4xx (other than 429) refuses the data; a 5xx is the receiver failing and a 429 throttling: no refusal.
      const outcome: RemoteWriteOutcome = { status, ok: false, retryable, errorMessage, durationUs: elapsedUs() };
      if (!retryable) outcome.rejection = classifyRejection(errorMessage);
      return outcome;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return { status: 0, ok: false, retryable: true, errno: signal?.aborted ? 'ABORTED' : errnoOf(error), errorMessage: message.slice(0, ERROR_TEXT_BYTES), durationUs: elapsedUs() };
    }
  }

  /** Close the pool's connections once in-flight requests finish; `now`: drop them (a run stop). */
  async close(now = false): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await (now ? this.#pool.destroy() : this.#pool.close());
  }
}
