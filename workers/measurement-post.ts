/**
 * One POST of a measurement output's request body, over an undici Pool, with a deadline
 * for the whole attempt and an abort signal; the answer classified as both the remote-write
 * specification and OTLP/HTTP say: 2xx delivered; 429, 502, 503, 504 (OTLP) or any 5xx
 * (remote write) and no answer retryable; any other status refused for good.
 *
 * @see https://prometheus.io/docs/specs/prw/remote_write_spec/#retries--backoff
 * @see https://opentelemetry.io/docs/specs/otlp/#retryable-response-codes
 */
import { Pool } from 'undici';
import { transportErrorCode } from '../core/transport-errors.ts';
import type { MeasurementOutputKind } from '../core/measurement-output.ts';

/** The outcome of one attempt. */
export interface PostOutcome {
  /** 0 when no response arrived. */
  status: number;
  ok: boolean;
  retryable: boolean;
  /** No response: the errno or undici code. */
  errno?: string;
  /** Non-2xx: the body's first 200 characters; no response: the error's message. */
  message?: string;
}

const MESSAGE_CHARS = 200;
const OTLP_RETRYABLE = new Set([429, 502, 503, 504]);

/** Whether a status may be retried, for this kind of endpoint. */
export function retryableStatus(kind: MeasurementOutputKind, status: number): boolean {
  if (kind === 'otlp') return OTLP_RETRYABLE.has(status);
  return status === 429 || status >= 500;
}

/** A keep-alive pool for one output's origin. */
export function outputPool(url: string, timeoutMs: number): Pool {
  return new Pool(new URL(url).origin, { connections: 2, pipelining: 1, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, connectTimeout: Math.min(timeoutMs, 10_000) });
}

/**
 * POST `body` to `path` and classify the answer; never throws.
 * @param timeoutMs deadline of the whole attempt, to the end of the response.
 * @param signal aborts the attempt (the output's drain deadline).
 */
export async function postOnce(kind: MeasurementOutputKind, pool: Pool, path: string, headers: Record<string, string>, body: Uint8Array, timeoutMs: number, signal: AbortSignal): Promise<PostOutcome> {
  try {
    const response = await pool.request({ path, method: 'POST', headers, body, signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) });
    const status = response.statusCode;
    if (status >= 200 && status < 300) {
      await response.body.dump({ limit: 64 * 1024 });
      return { status, ok: true, retryable: false };
    }
    const text = (await response.body.text()).trim().slice(0, MESSAGE_CHARS);
    return { status, ok: false, retryable: retryableStatus(kind, status), message: text };
  } catch (error) {
    const errno = transportErrorCode(error) || (error instanceof Error && error.name === 'TimeoutError' ? 'ETIMEDOUT' : error instanceof Error && error.name === 'AbortError' ? 'ABORTED' : 'UNKNOWN');
    return { status: 0, ok: false, retryable: true, errno, message: (error instanceof Error ? error.message : String(error)).slice(0, MESSAGE_CHARS) };
  }
}
