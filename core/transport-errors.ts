/**
 * One classifier for the errors a request fails with before any answer arrives (errno codes
 * from node:net and node:dns, undici's `UND_ERR_*` codes, `AbortSignal.timeout`'s
 * `TimeoutError`), shared by every HTTP client tally has: the OTLP exporter, the
 * remote-write sender, and the Prometheus, Tempo and `/metrics` readers. Pure.
 *
 * @see https://nodejs.org/api/errors.html#common-system-errors
 * @see https://undici.nodejs.org/#/docs/api/Errors
 */

/** Why no answer came. */
export type TransportFailureReason = 'connection_refused' | 'connection_reset' | 'timeout' | 'dns_failed' | 'transport';

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN']);

/**
 * The most telling string code of a failed request: an errno on the error itself
 * (`ECONNREFUSED`), else its cause's code (fetch wraps the socket error), else the error's
 * own code (`UND_ERR_HEADERS_TIMEOUT`); `''` when there is none. A DOMException's numeric
 * legacy `code` is not an errno and is ignored.
 */
export function transportErrorCode(error: unknown): string {
  const e = error as { code?: unknown; cause?: { code?: unknown } } | null | undefined;
  const own = typeof e?.code === 'string' ? e.code : '';
  const cause = typeof e?.cause?.code === 'string' ? e.cause.code : '';
  if (/^E[A-Z]/.test(own)) return own;
  return cause !== '' ? cause : own;
}

/**
 * Classify a failed request.
 * @returns the reason and the code it was read from (`''` when none; then the error's name, e.g. `TimeoutError`, is given).
 */
export function classifyTransportError(error: unknown): { reason: TransportFailureReason; code: string } {
  const code = transportErrorCode(error);
  const name = (error as { name?: unknown } | null | undefined)?.name;
  let reason: TransportFailureReason = 'transport';
  if (code === 'ECONNREFUSED') reason = 'connection_refused';
  else if (TIMEOUT_CODES.has(code) || name === 'TimeoutError') reason = 'timeout';
  else if (RESET_CODES.has(code)) reason = 'connection_reset';
  else if (DNS_CODES.has(code)) reason = 'dns_failed';
  return { reason, code: code !== '' ? code : typeof name === 'string' ? name : '' };
}
