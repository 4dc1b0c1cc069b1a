/**
 * HTTP/1.1 response-head parsing on raw bytes, for the churn hot path: no string is made
 * except the value of the one header tally records (`x-tally-backend`), and the head is
 * scanned once.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9112#section-4 (status line)
 * @see https://www.rfc-editor.org/rfc/rfc9112#section-6.3 (message body length)
 */

/** Response header that names the lab backend that answered (embedded/tagged-target.ts BACKEND_HEADER). */
export const BACKEND_HEADER = 'x-tally-backend';

/** What a response head says about its status and framing; filled in place to avoid an allocation per response. */
export interface ResponseHead {
  /** Status code; 0 when the status line is unreadable. */
  status: number;
  /** Body length in bytes; -1 when the body is delimited by the connection closing. */
  contentLength: number;
  chunked: boolean;
  /** The server said `Connection: close` (the connection cannot carry another request). */
  connectionClose: boolean;
  /** Value of `x-tally-backend`, when present. */
  backend: string | undefined;
  /** The framing is broken: a Content-Length that is not a number, or two that differ (RFC 9112 §6.3 item 5). */
  framingError: boolean;
}

/** A zeroed {@link ResponseHead}. */
export function emptyHead(): ResponseHead {
  return { status: 0, contentLength: -1, chunked: false, connectionClose: false, backend: undefined, framingError: false };
}

const lower = (s: string): number[] => Array.from(s, (c) => c.charCodeAt(0));
const CONTENT_LENGTH = lower('content-length');
const TRANSFER_ENCODING = lower('transfer-encoding');
const CONNECTION = lower('connection');
const BACKEND = lower(BACKEND_HEADER);

/**
 * Index of the CRLFCRLF that ends a head within `buf[from, to)`, or -1.
 * A JS loop, not `Buffer#indexOf`, because the shared read buffer is longer than the bytes read.
 */
export function findHeadEnd(buf: Uint8Array, from: number, to: number): number {
  for (let i = from + 3; i < to; i++) {
    if (buf[i] === 10 && buf[i - 1] === 13 && buf[i - 2] === 10 && buf[i - 3] === 13) return i - 3;
  }
  return -1;
}

/** Does the header line at `p` (before `end`) have the (lower-case) name `name` followed by `:`? ASCII case-insensitive. */
function nameIs(buf: Uint8Array, p: number, end: number, name: number[]): boolean {
  const n = name.length;
  if (p + n >= end || buf[p + n] !== 58 /* : */) return false;
  // OR 0x20 lower-cases letters and leaves '-' and digits as they are.
  for (let i = 0; i < n; i++) if ((buf[p + i] | 0x20) !== name[i]) return false;
  return true;
}

function skipSpace(buf: Uint8Array, p: number, end: number): number {
  while (p < end && (buf[p] === 32 || buf[p] === 9)) p++;
  return p;
}

function trimEnd(buf: Uint8Array, from: number, to: number): number {
  while (to > from && (buf[to - 1] === 32 || buf[to - 1] === 9)) to--;
  return to;
}

function latin1(buf: Uint8Array, from: number, to: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + from, to - from).toString('latin1');
}

/**
 * Parse a response head `buf[start, end)` (`end` is the index of its closing CRLFCRLF) into `out`.
 * @param isHead the request was HEAD: no body whatever Content-Length says.
 * @see https://www.rfc-editor.org/rfc/rfc9112#section-6.3
 */
export function parseHeadInto(buf: Uint8Array, start: number, end: number, isHead: boolean, out: ResponseHead): void {
  out.contentLength = -1;
  out.chunked = false;
  out.connectionClose = false;
  out.backend = undefined;
  out.framingError = false;
  let lengthSeen = false;
  // "HTTP/1.x NNN": the status code is at offsets 9..11.
  let status = 0;
  if (end - start >= 12 && buf[start] === 72 && buf[start + 4] === 47 && buf[start + 8] === 32) {
    for (let i = start + 9; i < start + 12; i++) {
      const d = buf[i] - 48;
      if (d < 0 || d > 9) {
        status = 0;
        break;
      }
      status = status * 10 + d;
    }
  }
  out.status = status;
  let p = start;
  while (p < end) {
    // Next line start: after the next LF.
    while (p < end && buf[p] !== 10) p++;
    p++;
    if (p >= end) break;
    let eol = p;
    while (eol < end && buf[eol] !== 13) eol++;
    const first = buf[p] | 0x20;
    if (first === 99 /* c */ && nameIs(buf, p, eol, CONTENT_LENGTH)) {
      const v = skipSpace(buf, p + CONTENT_LENGTH.length + 1, eol);
      const ve = trimEnd(buf, v, eol);
      let n = ve > v ? 0 : -1;
      for (let i = v; i < ve && n >= 0; i++) {
        const d = buf[i] - 48;
        n = d >= 0 && d <= 9 ? n * 10 + d : -1;
      }
      // An unreadable length, or a second one that differs, leaves the message's end unknown: a framing error, not "until close".
      if (!Number.isSafeInteger(n) || n < 0 || (lengthSeen && n !== out.contentLength)) out.framingError = true;
      lengthSeen = true;
      out.contentLength = Number.isSafeInteger(n) && n >= 0 ? n : -1;
    } else if (first === 99 && nameIs(buf, p, eol, CONNECTION)) {
      out.connectionClose = latin1(buf, p + CONNECTION.length + 1, eol).toLowerCase().includes('close');
    } else if (first === 116 /* t */ && nameIs(buf, p, eol, TRANSFER_ENCODING)) {
      out.chunked = latin1(buf, p + TRANSFER_ENCODING.length + 1, eol).toLowerCase().includes('chunked');
    } else if (first === 120 /* x */ && nameIs(buf, p, eol, BACKEND)) {
      const v = skipSpace(buf, p + BACKEND.length + 1, eol);
      out.backend = latin1(buf, v, trimEnd(buf, v, eol));
    }
    p = eol;
  }
  if (out.chunked) {
    out.contentLength = -1;
    // Transfer-Encoding overrides Content-Length (RFC 9112 §6.3 item 3).
    out.framingError = false;
  }
  // 1xx, 204 and 304 and HEAD responses have no body (RFC 9112 §6.3).
  if (isHead || status === 204 || status === 304 || (status >= 100 && status < 200)) {
    out.contentLength = 0;
    out.chunked = false;
    out.framingError = false;
  }
}

/**
 * Parse status and body framing from a response head given as text (latin1, cut before its CRLFCRLF).
 * Convenience over {@link parseHeadInto} for tests and cold paths.
 * @returns status (0 when unreadable), contentLength (-1: delimited by close), chunked.
 */
export function parseHead(head: string, isHead: boolean): { status: number; contentLength: number; chunked: boolean } {
  const bytes = Buffer.from(`${head}\r\n\r\n`, 'latin1');
  const out = emptyHead();
  parseHeadInto(bytes, 0, bytes.length - 4, isHead, out);
  return { status: out.status, contentLength: out.contentLength, chunked: out.chunked };
}

const HTTP_PREFIX = [72, 84, 84, 80, 47]; // "HTTP/"

/**
 * Whether `buf[from, to)`, the first bytes of a response, can still be the start of an
 * HTTP/1.x status line: they must begin `HTTP/`. Random bytes are told apart at once,
 * without waiting for a CRLFCRLF that may never come.
 */
export function startsLikeHttp(buf: Uint8Array, from: number, to: number): boolean {
  const n = Math.min(to - from, HTTP_PREFIX.length);
  for (let i = 0; i < n; i++) if (buf[from + i] !== HTTP_PREFIX[i]) return false;
  return true;
}
