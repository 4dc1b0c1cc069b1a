/**
 * One churn iteration: a new TCP connection, one minimal HTTP/1.1 request, the response
 * read to its end, then the client closes first with FIN or RST. A raw socket (a libuv
 * handle, tcp-handle.ts) because connection-setup rate is the workload.
 *
 * Since the load client (workers/load-client.ts) this is a thin wrapper over its raw
 * connection ({@link RawConnection}), kept for callers that want one request per
 * connection and the result after the socket closed.
 *
 * Callback style on purpose: this is the hot path, run thousands of times a second per
 * worker, and promise allocation shows in the profile.
 */
import { performance } from 'node:perf_hooks';
import type { ErrorClass } from '../core/messages.ts';
import type { RequestResult } from './load-client.ts';
import { RawConnection, type ConnConfig, type ConnOwner } from './raw-connection.ts';
import { sharedWheel } from './timeout-wheel.ts';
import { tcpTransport } from './tcp-handle.ts';

export { classifyError } from './client-errors.ts';
export { parseHead } from './http1-head.ts';

/** What the iteration needs to know; built once per shard. */
export interface ChurnOptions {
  /** IP literal (no lookup is done here; see load-client.ts for names). */
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

const configs = new WeakMap<ChurnOptions, ConnConfig>();
function configFor(options: ChurnOptions): ConnConfig {
  let config = configs.get(options);
  if (config === undefined) {
    config = {
      request: options.request,
      isHead: options.isHead,
      close: options.close,
      connectTimeoutMs: options.connectTimeoutMs,
      requestTimeoutMs: options.requestTimeoutMs,
      crrResponseBytes: undefined,
      wheel: sharedWheel(),
      transport: tcpTransport(),
    };
    configs.set(options, config);
  }
  return config;
}

/** Holds the result until the socket has closed. */
class ChurnOwner implements ConnOwner {
  readonly #done: (result: ChurnResult) => void;
  #result: RequestResult | undefined;
  constructor(done: (result: ChurnResult) => void) {
    this.#done = done;
  }
  onSettled(conn: RawConnection, result: RequestResult): void {
    this.#result = result;
    conn.close();
  }
  onClosed(): void {
    const r = this.#result as RequestResult;
    this.#done({ status: r.status, errorClass: r.errorClass, connectUs: r.connectUs, ttfbUs: r.ttfbUs, totalUs: r.totalUs });
  }
}

/**
 * Run one iteration and call `done` exactly once, after the socket has closed.
 * @param options shard-wide options (keep the same object across calls: its derived config is cached).
 * @param done receives the result.
 */
export function churnOnce(options: ChurnOptions, done: (result: ChurnResult) => void): void {
  new RawConnection(configFor(options), new ChurnOwner(done), options.host, options.port, undefined, performance.now(), -1);
}
