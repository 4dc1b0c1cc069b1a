/**
 * One churn iteration: a new TCP connection, one minimal HTTP/1.1 request, the response
 * read to its end, then the client closes first with FIN or RST. Raw `node:net` because
 * connection-setup rate is the workload (about 4x undici's new-connection rate here).
 *
 * Callback style on purpose: this is the hot path, run thousands of times a second per
 * worker, and promise allocation shows in the profile.
 */
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { ERROR_CLASSES, type ErrorClass } from '../core/messages.ts';

/** What the iteration needs to know; built once per shard. */
export interface ChurnOptions {
  host: string;
  port: number;
  /** The full request, `Connection` header included. */
  request: Buffer;
  /** HEAD responses carry no body whatever Content-Length says. */
  isHead: boolean;
  close: 'fin' | 'rst';
  connectTimeoutMs: number;
  requestTimeoutMs: number;
}

/** Timings (µs, from the actual start) and outcome of one iteration. */
export interface ChurnResult {
  /** HTTP status, 0 when no complete status line arrived. */
  status: number;
  errorClass: ErrorClass | undefined;
  /** Actual start (performance.now() ms) → connected; -1 when never connected. */
  connectUs: number;
  /** Request written → first response byte; -1 when none. */
  ttfbUs: number;
  /** Actual start → response complete (or failure). */
  totalUs: number;
}

const KNOWN = new Set<string>(ERROR_CLASSES);
/** Map a Node error to its errno class; unknown codes are `other`. */
export function classifyError(err: NodeJS.ErrnoException | undefined): ErrorClass {
  const code = err?.code;
  return code !== undefined && KNOWN.has(code) ? (code as ErrorClass) : 'other';
}

const CRLFCRLF = Buffer.from('\r\n\r\n');
const CHUNKED_END = Buffer.from('0\r\n\r\n');

/**
 * Parse status and body framing from a response head (latin1, cut before its CRLFCRLF).
 * @returns status (0 when unreadable), contentLength (-1: delimited by close), chunked.
 * @see https://www.rfc-editor.org/rfc/rfc9112#section-6.3
 */
export function parseHead(head: string, isHead: boolean): { status: number; contentLength: number; chunked: boolean } {
  const status = Number(head.slice(9, 12));
  let contentLength = -1;
  let chunked = false;
  // The head ends without its last CRLF (it was cut at CRLFCRLF); restore it so every header line ends in one.
  const lower = `${head.toLowerCase()}\r\n`;
  const cl = lower.indexOf('\r\ncontent-length:');
  if (cl !== -1) {
    const n = Number.parseInt(lower.slice(cl + 17, lower.indexOf('\r\n', cl + 2)).trim(), 10);
    if (Number.isInteger(n) && n >= 0) contentLength = n;
  }
  if (lower.includes('\r\ntransfer-encoding:') && /\r\ntransfer-encoding:[^\r]*chunked/.test(lower)) chunked = true;
  // 1xx, 204 and 304 and HEAD responses have no body (RFC 9112 §6.3).
  if (isHead || status === 204 || status === 304 || (status >= 100 && status < 200)) {
    contentLength = 0;
    chunked = false;
  }
  return { status: Number.isInteger(status) ? status : 0, contentLength, chunked };
}

/**
 * Run one iteration and call `done` exactly once, after the socket has closed.
 * @param options shard-wide options.
 * @param done receives the result.
 */
export function churnOnce(options: ChurnOptions, done: (result: ChurnResult) => void): void {
  const t0 = performance.now();
  let connectedAt = -1;
  let writtenAt = -1;
  let firstByteAt = -1;
  let completeAt = -1;
  let status = 0;
  let errorClass: ErrorClass | undefined;
  let headerBuf: Buffer | undefined;
  let bodyRemaining = -1; // -1: headers not parsed yet; -2: read until close
  let chunked = false;
  let tail: Buffer | undefined; // last bytes, for the chunked terminator
  let finished = false;

  const socket: Socket = connect({ host: options.host, port: options.port, noDelay: true });
  socket.setTimeout(options.connectTimeoutMs);

  const complete = (): void => {
    if (completeAt !== -1) return;
    completeAt = performance.now();
    if (options.close === 'rst') socket.resetAndDestroy();
    else socket.destroy(); // close(2) with nothing unread sends FIN: the client holds TIME_WAIT
  };

  const fail = (cls: ErrorClass): void => {
    if (errorClass === undefined && completeAt === -1) errorClass = cls;
    socket.destroy();
  };

  socket.once('connect', () => {
    connectedAt = performance.now();
    socket.setTimeout(options.requestTimeoutMs);
    socket.write(options.request);
    writtenAt = performance.now();
  });

  socket.on('data', (chunk: Buffer) => {
    if (firstByteAt === -1) firstByteAt = performance.now();
    if (bodyRemaining === -1) {
      headerBuf = headerBuf === undefined ? chunk : Buffer.concat([headerBuf, chunk]);
      const end = headerBuf.indexOf(CRLFCRLF);
      if (end === -1) {
        if (headerBuf.length > 65_536) fail('other');
        return;
      }
      const head = parseHead(headerBuf.toString('latin1', 0, end), options.isHead);
      status = head.status;
      chunked = head.chunked;
      const body = headerBuf.subarray(end + 4);
      headerBuf = undefined;
      if (chunked) {
        bodyRemaining = 0;
        tail = body;
        if (tail.length >= 5 && tail.subarray(tail.length - 5).equals(CHUNKED_END)) complete();
        return;
      }
      if (head.contentLength < 0) {
        bodyRemaining = -2;
        return;
      }
      bodyRemaining = head.contentLength - body.length;
      if (bodyRemaining <= 0) complete();
      return;
    }
    if (chunked) {
      tail = tail !== undefined && tail.length < 5 ? Buffer.concat([tail, chunk]) : chunk;
      if (tail.length >= 5 && tail.subarray(tail.length - 5).equals(CHUNKED_END)) complete();
      return;
    }
    if (bodyRemaining > 0) {
      bodyRemaining -= chunk.length;
      if (bodyRemaining <= 0) complete();
    }
  });

  socket.once('end', () => {
    // The server closed first: a body delimited by close is complete; anything else is cut short.
    if (bodyRemaining === -2) complete();
    else if (completeAt === -1) fail(connectedAt === -1 ? 'other' : 'ECONNRESET');
  });

  socket.once('timeout', () => fail('ETIMEDOUT'));

  socket.once('error', (err: NodeJS.ErrnoException) => {
    fail(classifyError(err));
  });

  socket.once('close', () => {
    if (finished) return;
    finished = true;
    const endAt = completeAt !== -1 ? completeAt : performance.now();
    if (completeAt === -1 && errorClass === undefined) errorClass = 'other';
    done({
      status: completeAt !== -1 ? status : 0,
      errorClass: completeAt !== -1 ? undefined : errorClass,
      connectUs: connectedAt === -1 ? -1 : (connectedAt - t0) * 1000,
      ttfbUs: firstByteAt === -1 || writtenAt === -1 ? -1 : (firstByteAt - writtenAt) * 1000,
      totalUs: (endAt - t0) * 1000,
    });
  });
}
