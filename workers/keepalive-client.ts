/**
 * Reuse mode `keep-alive`: an undici `Pool` of persistent HTTP/1.1 connections
 * (`connections: maxConnections`, no pipelining), driven through `Pool#dispatch` with a
 * handler object (no promise per request).
 *
 * Timings of new connections come from tally's own connector (the Pool's `connect`
 * option): it resolves the host with {@link HostResolver}, binds the next local address,
 * times the TCP connect, and stamps dnsUs/connectUs on the socket. Which socket carried a
 * request is learnt from the `undici:client:sendHeaders` diagnostics channel, published in
 * the same synchronous call that starts the request's handler (`onRequestStart`), so the
 * first request on each socket reports `newConnection: true` with its socket's dnsUs and
 * connectUs; later requests report -1 for both.
 *
 * `totalUs` runs from dispatch, so it includes any wait for a free pool connection.
 * `close` (fin/rst) does not apply: undici closes its sockets itself (FIN).
 *
 * @see https://undici.nodejs.org/#/docs/api/Dispatcher?id=dispatcherdispatchoptions-handler
 * @see https://undici.nodejs.org/#/docs/api/DiagnosticsChannel?id=undiciclientsendheaders
 * @see https://undici.nodejs.org/#/docs/api/Client?id=parameter-connectoptions
 */
import { subscribe } from 'node:diagnostics_channel';
import { connect as netConnect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Pool, type buildConnector, type Dispatcher } from 'undici';
import type { ErrorClass } from '../core/messages.ts';
import { classifyError } from './client-errors.ts';
import type { HostResolver } from './dns-cache.ts';
import { BACKEND_HEADER } from './http1-head.ts';
import { MAX_RESPONSE_BODY_BYTES } from './raw-connection.ts';
import type { LoadClient, LoadClientOptions, RequestResult } from './load-client.ts';

interface TimedSocket extends Socket {
  tallyDnsUs?: number;
  tallyConnectUs?: number;
  tallyUsed?: boolean;
}

/** The handler whose onRequestStart ran last; sendHeaders follows it synchronously. */
let starting: RequestHandler | undefined;
let subscribed = false;
function onSendHeaders(message: unknown): void {
  if (starting !== undefined) starting.socket = (message as { socket: TimedSocket }).socket;
  starting = undefined;
}

/** llhttp's reasons for bytes that do not begin an HTTP/1.x response (its status line). */
const NOT_A_RESPONSE = /Expected HTTP\/|Invalid constant|Invalid (HTTP )?version|Invalid status/i;

/**
 * undici error codes mapped onto errno classes. undici's HTTPParserError carries no code
 * (its llhttp code lookup yields undefined), so it is told apart by its name and llhttp's
 * reason: a status line that is not one is an `invalid_response`, any other parse error a
 * `protocol_error`.
 */
function classifyUndici(err: Error & { code?: string }): ErrorClass {
  switch (err.code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return 'ETIMEDOUT';
    case 'UND_ERR_SOCKET':
      return 'ECONNRESET';
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
    case 'UND_ERR_HEADERS_OVERFLOW':
      return 'protocol_error';
    case 'UND_ERR_RES_EXCEEDED_MAX_SIZE':
      return 'response_too_large';
    default:
      if (err.name === 'HTTPParserError') return NOT_A_RESPONSE.test(err.message) ? 'invalid_response' : 'protocol_error';
      return classifyError(err as NodeJS.ErrnoException);
  }
}

class RequestHandler implements Dispatcher.DispatchHandler {
  readonly #iteration: KeepAliveIteration;
  readonly #t0 = performance.now();
  socket: TimedSocket | undefined;
  #writtenAt = -1;
  #firstByteAt = -1;
  #status = 0;
  #backend: string | undefined;

  constructor(iteration: KeepAliveIteration) {
    this.#iteration = iteration;
  }

  onRequestStart(): void {
    starting = this;
    this.#writtenAt = performance.now();
  }

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (this.#firstByteAt === -1) this.#firstByteAt = performance.now();
    this.#status = statusCode;
    const b = headers[BACKEND_HEADER];
    this.#backend = Array.isArray(b) ? b[0] : b;
  }

  onResponseData(): void {}

  onResponseEnd(): void {
    this.#settle(undefined);
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    this.#settle(classifyUndici(err));
  }

  #settle(errorClass: ErrorClass | undefined): void {
    const endAt = performance.now();
    const socket = this.socket;
    const first = socket !== undefined && socket.tallyUsed !== true;
    if (socket !== undefined) socket.tallyUsed = true;
    this.#iteration.settled({
      status: errorClass === undefined ? this.#status : 0,
      errorClass,
      dnsUs: first ? (socket.tallyDnsUs ?? -1) : -1,
      connectUs: first ? (socket.tallyConnectUs ?? -1) : -1,
      connectCallUs: -1,
      ttfbUs: this.#firstByteAt === -1 || this.#writtenAt === -1 ? -1 : (this.#firstByteAt - this.#writtenAt) * 1000,
      totalUs: (endAt - this.#t0) * 1000,
      newConnection: first,
      backend: this.#backend,
    });
  }
}

class KeepAliveIteration {
  readonly #client: KeepAliveClient;
  readonly #onRequest: (r: RequestResult) => void;
  readonly #onDone: () => void;
  #remaining: number;

  constructor(client: KeepAliveClient, onRequest: (r: RequestResult) => void, onDone: () => void) {
    this.#client = client;
    this.#onRequest = onRequest;
    this.#onDone = onDone;
    this.#remaining = client.requestsPerIteration;
  }

  next = (): void => {
    if (this.#remaining === 0) return this.#onDone();
    this.#remaining--;
    this.#client.pool.dispatch(this.#client.dispatchOptions, new RequestHandler(this));
  };

  settled(result: RequestResult): void {
    this.#onRequest(result);
    // Dispatch the next request once undici has finished with this one.
    queueMicrotask(this.next);
  }
}

/** Parse the raw request into undici dispatch options (method, path, headers minus connection-specific ones). */
export function dispatchOptionsFromRaw(request: Buffer): Dispatcher.DispatchOptions {
  const text = request.toString('latin1');
  const headEnd = text.indexOf('\r\n\r\n');
  const lines = text.slice(0, headEnd === -1 ? text.length : headEnd).split('\r\n');
  const [method, path] = (lines[0] ?? '').split(' ');
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (name === 'connection' || name === 'keep-alive' || name === 'transfer-encoding' || name === 'upgrade') continue;
    headers[name] = line.slice(colon + 1).trim();
  }
  return { method: (method ?? 'GET') as Dispatcher.HttpMethod, path: path ?? '/', headers, body: null };
}

class KeepAliveClient {
  readonly pool: Pool;
  readonly dispatchOptions: Dispatcher.DispatchOptions;
  readonly requestsPerIteration: number;
  #nextLocal = 0;

  constructor(options: LoadClientOptions, resolver: HostResolver) {
    if (!subscribed) {
      subscribe('undici:client:sendHeaders', onSendHeaders);
      subscribed = true;
    }
    this.requestsPerIteration = options.requestsPerIteration;
    this.dispatchOptions = dispatchOptionsFromRaw(options.request);
    const locals = options.localAddresses ?? [];
    const hostForUrl = resolver.literal && resolver.host.includes(':') ? `[${resolver.host}]` : resolver.host;
    const connect: buildConnector.connector = (_opts, cb) => {
      resolver.resolve((err, address, dnsUs) => {
        if (err !== null) return cb(err, null);
        const localAddress = locals.length > 0 ? locals[this.#nextLocal++ % locals.length] : undefined;
        const startedAt = performance.now();
        const socket: TimedSocket = netConnect({ host: address, port: options.port, localAddress, noDelay: true });
        const timer = setTimeout(() => socket.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })), options.connectTimeoutMs);
        const onFail = (e: Error): void => {
          clearTimeout(timer);
          cb(e, null);
        };
        socket.once('error', onFail);
        socket.once('connect', () => {
          clearTimeout(timer);
          socket.off('error', onFail);
          socket.tallyDnsUs = dnsUs;
          socket.tallyConnectUs = (performance.now() - startedAt) * 1000;
          cb(null, socket);
        });
      });
    };
    this.pool = new Pool(`http://${hostForUrl}:${options.port}`, {
      connections: options.maxConnections ?? 64,
      pipelining: 1,
      headersTimeout: options.requestTimeoutMs,
      bodyTimeout: options.requestTimeoutMs,
      maxResponseSize: MAX_RESPONSE_BODY_BYTES,
      connect,
    });
  }
}

/**
 * Create a keep-alive client on an undici Pool.
 * @param options validated client options (reuse `keep-alive`, protocol http1).
 * @param resolver resolves `options.host` for each new connection.
 */
export function createKeepAliveClient(options: LoadClientOptions, resolver: HostResolver): LoadClient {
  const client = new KeepAliveClient(options, resolver);
  return {
    iterate(onRequest, onDone) {
      new KeepAliveIteration(client, onRequest, onDone).next();
    },
    close: () => client.pool.close(),
  };
}
