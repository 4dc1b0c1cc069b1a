/**
 * One raw `node:net` client connection that carries sequential requests (HTTP/1.1, or
 * tcp-crr fixed-size exchanges) and reports each as a {@link RequestResult}.
 *
 * Hot-path choices, each measured with `--cpu-prof` against nginx:
 * - the socket is a libuv TCP handle without net.Socket's stream machinery (tcp-handle.ts;
 *   net.Socket where the handle cannot be had);
 * - reads land in one thread-wide buffer, so no Buffer is allocated per read;
 * - callbacks are methods the handle calls, so opening a connection allocates no closures;
 * - timeouts are deadlines on the shared {@link TimeoutWheel}, not timers per socket;
 * - the response head is parsed on bytes (http1-head.ts).
 */
import { performance } from 'node:perf_hooks';
import type { ErrorClass } from '../core/messages.ts';
import { classifyError } from './client-errors.ts';
import { emptyHead, findHeadEnd, parseHeadInto, startsLikeHttp, type ResponseHead } from './http1-head.ts';
import type { RequestResult } from './load-client.ts';
import type { Deadline, TimeoutWheel } from './timeout-wheel.ts';
import { crrBackend } from './tcp-crr.ts';
import type { ClientHandle, HandleOwner, TcpTransport } from './tcp-handle.ts';

/** What every connection of one client shares; built once. */
export interface ConnConfig {
  /** http1: the full request; tcp-crr: the request payload. */
  request: Buffer;
  isHead: boolean;
  close: 'fin' | 'rst';
  connectTimeoutMs: number;
  /** From the request write to the response complete. */
  requestTimeoutMs: number;
  /** tcp-crr: bytes to read back per exchange; undefined for HTTP/1.1. */
  crrResponseBytes: number | undefined;
  wheel: TimeoutWheel;
  /** Opens the sockets (tcp-handle.ts `tcpTransport()`). */
  transport: TcpTransport;
}

/** Who hears about a connection's requests. Methods, not callbacks, so that nothing is allocated per request. */
export interface ConnOwner {
  /** The request in flight settled (completed or failed). A failed connection is already closing. */
  onSettled(conn: RawConnection, result: RequestResult): void;
  /** The socket closed; called once, after any onSettled. */
  onClosed(conn: RawConnection): void;
}

/** Largest response head accepted (bytes); a longer one is a `protocol_error`. */
const MAX_HEAD_BYTES = 64 * 1024;
/**
 * Largest response body read (bytes): a body announced or found to be longer fails the
 * request as `response_too_large` at once, instead of reading a hostile target's gigabyte.
 * The embedded target answers at most 1 MiB.
 */
export const MAX_RESPONSE_BODY_BYTES = 16 * 1024 * 1024;
const CHUNKED_END = [48, 13, 10, 13, 10]; // "0\r\n\r\n"
/**
 * A connect deadline handled this much later than the wheel's tick allows, or a scan this
 * much later than the previous one plus a tick (ms), means the event loop was stalled: a
 * connect completed by then is the generator's stall, not a timeout.
 */
const STALL_MS = 20;

const STATE_CONNECTING = 0;
const STATE_BUSY = 1;
const STATE_IDLE = 2;
const STATE_CLOSED = 3;
const PHASE_HEAD = 0;
const PHASE_LENGTH = 1;
const PHASE_CHUNKED = 2;
const PHASE_UNTIL_CLOSE = 3;
const PHASE_CRR = 4;

/** One turn after a connect deadline: the poll phase has delivered a completed connect, if any. */
function afterConnectDeadline(conn: RawConnection): void {
  conn.connectDeadlineTurnEnded();
}

/** A client connection. */
export class RawConnection implements Deadline, HandleOwner {
  readonly config: ConnConfig;
  owner: ConnOwner;
  readonly handle: ClientHandle;
  /** Requests settled on this connection. */
  requests = 0;
  /** Set false once the connection cannot carry another request (failed, closing, server said close). */
  reusable = true;
  deadlineMs = 0;
  /** The connect call's duration (µs), set by the transport; -1 until it ran. */
  connectCallUs = -1;
  #state = STATE_CONNECTING;
  #settled = true;
  // Per request (µs fields are results, *At fields are performance.now() ms).
  #t0 = 0;
  #dnsUs = -1;
  #connectStartAt = 0;
  #connectedAt = -1;
  #writtenAt = -1;
  #firstByteAt = -1;
  #newConnection = true;
  /** How late (ms) the connect deadline was handled; -1 while it has not passed. */
  #connectDeadlineStallMs = -1;
  #errorClass: ErrorClass | undefined;
  // Response parsing.
  #phase = PHASE_HEAD;
  #head: ResponseHead = emptyHead();
  #headBuf: Buffer | undefined;
  #bodyRemaining = 0;
  #chunkMatch = 0;
  /** Body bytes read so far (chunked and until-close bodies, checked against the cap). */
  #bodyRead = 0;
  #backend: string | undefined;

  constructor(config: ConnConfig, owner: ConnOwner, address: string, port: number, localAddress: string | undefined, t0: number, dnsUs: number) {
    this.config = config;
    this.owner = owner;
    this.#begin(t0);
    this.#dnsUs = dnsUs;
    this.#connectStartAt = performance.now();
    this.deadlineMs = this.#connectStartAt + config.connectTimeoutMs;
    config.wheel.arm(this);
    this.handle = config.transport.open(this, address, port, localAddress, this);
  }

  /** Connected and free for {@link RawConnection.send}. */
  get idle(): boolean {
    return this.#state === STATE_IDLE && this.reusable;
  }

  #begin(t0: number): void {
    this.#settled = false;
    this.#t0 = t0;
    this.#writtenAt = -1;
    this.#firstByteAt = -1;
    this.#errorClass = undefined;
    this.#phase = this.config.crrResponseBytes === undefined ? PHASE_HEAD : PHASE_CRR;
    this.#bodyRemaining = this.config.crrResponseBytes ?? 0;
    this.#headBuf = undefined;
    this.#chunkMatch = 0;
    this.#bodyRead = 0;
    this.#backend = undefined;
  }

  #write(): void {
    this.#state = STATE_BUSY;
    // Stamped before the write, as wrk does: a pause after the send (GC, a busy loop) would
    // otherwise shorten TTFB, even below the physical floor.
    this.#writtenAt = performance.now();
    this.deadlineMs = this.#writtenAt + this.config.requestTimeoutMs;
    const failed = this.handle.write(this.config.request);
    if (failed !== undefined) this.#fail(classifyError({ code: failed } as NodeJS.ErrnoException));
  }

  /** Send the next request on an idle connection. @param t0 the request's actual start (performance.now() ms). */
  send(t0: number): void {
    this.#begin(t0);
    this.#newConnection = false;
    this.#dnsUs = -1;
    this.config.wheel.arm(this);
    this.#write();
  }

  /** Close (FIN or RST per config). The owner hears onClosed. */
  close(): void {
    if (this.#state === STATE_CLOSED) return;
    this.#state = STATE_CLOSED;
    this.reusable = false;
    this.config.wheel.disarm(this);
    // FIN: close(2) with nothing unread, so the client holds TIME_WAIT; RST: SO_LINGER 0, none.
    this.handle.close(this.config.close === 'rst');
  }

  /** The transport's connect outcome. */
  handleConnected(errorCode: string | undefined): void {
    if (errorCode !== undefined) return this.handleFailed(errorCode);
    this.#connected();
  }

  #connected(): void {
    if (this.#connectDeadlineStallMs >= 0) {
      // The connect completed, but its deadline was handled first, in the same loop turn: the
      // request was never written. Handled late means the generator stalled past the deadline.
      this.#fail(this.#connectDeadlineStallMs > STALL_MS ? 'generator_stall' : 'ETIMEDOUT');
      return;
    }
    this.#connectedAt = performance.now();
    this.#write();
  }

  /** Bytes arrived (in the thread's shared buffer). */
  handleRead(buf: Buffer, n: number): void {
    if (this.#settled) {
      // Bytes nobody asked for: the connection is out of step; drop it.
      this.reusable = false;
      this.close();
      return;
    }
    if (this.#firstByteAt === -1) this.#firstByteAt = performance.now();
    switch (this.#phase) {
      case PHASE_CRR:
        if (this.#backend === undefined && this.#bodyRemaining === this.config.crrResponseBytes) this.#backend = crrBackend(buf, n);
        this.#bodyRemaining -= n;
        if (this.#bodyRemaining <= 0) this.#complete();
        return;
      case PHASE_HEAD:
        this.#readHead(buf, n);
        return;
      case PHASE_LENGTH:
        this.#bodyRemaining -= n;
        if (this.#bodyRemaining <= 0) this.#complete();
        return;
      case PHASE_CHUNKED:
        if (this.#overCap(n)) return;
        if (this.#scanChunked(buf, 0, n)) this.#complete();
        return;
      default: // PHASE_UNTIL_CLOSE: complete on 'end'
        this.#overCap(n);
        return;
    }
  }

  #readHead(chunk: Buffer, n: number): void {
    let buf: Buffer = chunk;
    let len = n;
    let from = 0;
    if (this.#headBuf !== undefined) {
      from = Math.max(0, this.#headBuf.length - 3);
      buf = Buffer.concat([this.#headBuf, chunk.subarray(0, n)]);
      len = buf.length;
    }
    // Bytes that cannot begin an HTTP response are not one, whatever follows.
    if (from === 0 && !startsLikeHttp(buf, 0, len)) return this.#fail('invalid_response');
    const end = findHeadEnd(buf, from, len);
    if (end === -1) {
      if (len > MAX_HEAD_BYTES) return this.#fail('protocol_error');
      // The shared read buffer is reused by the next read: keep a copy.
      this.#headBuf = this.#headBuf === undefined ? Buffer.from(chunk.subarray(0, n)) : buf;
      return;
    }
    this.#headBuf = undefined;
    const head = this.#head;
    parseHeadInto(buf, 0, end, this.config.isHead, head);
    if (head.status === 0) return this.#fail('invalid_response');
    if (head.framingError) return this.#fail('protocol_error');
    if (head.contentLength > MAX_RESPONSE_BODY_BYTES) return this.#fail('response_too_large');
    this.#backend = head.backend;
    if (head.connectionClose) this.reusable = false;
    const bodyStart = end + 4;
    if (head.chunked) {
      this.#phase = PHASE_CHUNKED;
      if (this.#overCap(len - bodyStart)) return;
      if (this.#scanChunked(buf, bodyStart, len)) this.#complete();
    } else if (head.contentLength < 0) {
      this.#phase = PHASE_UNTIL_CLOSE;
      this.reusable = false;
      this.#overCap(len - bodyStart);
    } else {
      this.#phase = PHASE_LENGTH;
      this.#bodyRemaining = head.contentLength - (len - bodyStart);
      if (this.#bodyRemaining <= 0) this.#complete();
    }
  }

  /** Count body bytes of a body without a length; past the cap, fail the request. @returns whether it failed. */
  #overCap(n: number): boolean {
    this.#bodyRead += n;
    if (this.#bodyRead <= MAX_RESPONSE_BODY_BYTES) return false;
    this.#fail('response_too_large');
    return true;
  }

  /** Track whether the bytes read so far end in the last-chunk marker `0\r\n\r\n` (as the previous client did; trailers are not supported). */
  #scanChunked(buf: Uint8Array, from: number, to: number): boolean {
    let m = this.#chunkMatch;
    for (let i = from; i < to; i++) {
      const b = buf[i];
      m = b === CHUNKED_END[m] ? m + 1 : b === 48 ? 1 : 0;
      if (m === 5 && i === to - 1) {
        this.#chunkMatch = 0;
        return true;
      }
      if (m === 5) m = 0;
    }
    this.#chunkMatch = m;
    return false;
  }

  /** The server closed its side. */
  handleEnded(): void {
    if (this.#state === STATE_CLOSED) return;
    this.reusable = false;
    // The server closed first: a body delimited by close is complete; a head cut short is a
    // broken response; anything else (no answer, a body cut short) is a reset.
    if (!this.#settled && this.#phase === PHASE_UNTIL_CLOSE) this.#complete();
    else if (!this.#settled && this.#phase === PHASE_HEAD && this.#headBuf !== undefined) this.#fail('protocol_error');
    else if (!this.#settled) this.#fail(this.#connectedAt === -1 ? 'other' : 'ECONNRESET');
    else this.close();
  }

  /** A connect, read or write failed. */
  handleFailed(code: string): void {
    if (!this.#settled) this.#fail(classifyError({ code } as NodeJS.ErrnoException));
    else this.close();
  }

  onDeadline(): void {
    if (this.#settled) return;
    if (this.#state !== STATE_CONNECTING) return this.#fail('ETIMEDOUT');
    // Timers run before I/O in a loop turn: after a stall, a connect the kernel completed is
    // still undelivered. Decide after this turn's poll phase, which delivers it.
    // How long the loop was stalled beyond the wheel's own lateness: the deadline handled
    // late, or the scan that handled it long after the previous one (a stall that ended just
    // after the deadline leaves little lateness, and its connect completed long before).
    const tickMs = this.config.wheel.tickMs;
    this.#connectDeadlineStallMs = Math.max(0, performance.now() - this.deadlineMs - tickMs, this.config.wheel.scanGapMs - tickMs);
    setImmediate(afterConnectDeadline, this);
  }

  /** The turn in which the connect deadline passed has ended: a connect still pending timed out. */
  connectDeadlineTurnEnded(): void {
    if (!this.#settled && this.#state === STATE_CONNECTING) this.#fail('ETIMEDOUT');
  }

  /** The socket closed. */
  handleClosed(): void {
    this.config.wheel.disarm(this);
    if (!this.#settled) this.#settle(this.#errorClass ?? 'other', performance.now());
    this.#state = STATE_CLOSED;
    this.owner.onClosed(this);
  }

  #complete(): void {
    this.config.wheel.disarm(this);
    this.#state = STATE_IDLE;
    this.#settle(undefined, performance.now());
  }

  #fail(cls: ErrorClass): void {
    this.#errorClass = cls;
    this.reusable = false;
    const at = performance.now();
    this.close();
    this.#settle(cls, at);
  }

  #settle(errorClass: ErrorClass | undefined, endAt: number): void {
    if (this.#settled) return;
    this.#settled = true;
    this.requests++;
    const first = this.#newConnection;
    const result: RequestResult = {
      status: errorClass === undefined ? (this.#phase === PHASE_CRR ? 200 : this.#head.status) : 0,
      errorClass,
      dnsUs: this.#dnsUs,
      connectUs: first && this.#connectedAt !== -1 ? (this.#connectedAt - this.#connectStartAt) * 1000 : -1,
      connectCallUs: first ? this.connectCallUs : -1,
      ttfbUs: this.#firstByteAt === -1 || this.#writtenAt === -1 ? -1 : (this.#firstByteAt - this.#writtenAt) * 1000,
      totalUs: (endAt - this.#t0) * 1000,
      newConnection: first,
      backend: this.#backend,
    };
    this.owner.onSettled(this, result);
  }
}
