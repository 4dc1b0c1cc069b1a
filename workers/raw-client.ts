/**
 * The raw-socket load client: reuse modes `never`, `per-iteration` and
 * `{ requestsPerConnection: N }` over {@link RawConnection}, for HTTP/1.1 and tcp-crr.
 *
 * - `never`: each request opens a connection and closes it after the response; the next
 *   request of the iteration starts once the socket has closed.
 * - `per-iteration`: the iteration's requests share one connection, closed at its end (a
 *   connection that fails or that the server closes is replaced for the remaining requests).
 * - `requestsPerConnection`: a per-client pool of idle connections; an iteration takes one
 *   (or opens one), and a connection is closed once it has carried N requests. At most
 *   `maxConnections` idle connections are kept; more are closed.
 */
import { performance } from 'node:perf_hooks';
import { classifyError } from './client-errors.ts';
import { HostResolver } from './dns-cache.ts';
import type { LoadClient, LoadClientOptions, RequestResult } from './load-client.ts';
import { RawConnection, type ConnConfig, type ConnOwner } from './raw-connection.ts';

/** Shared state of one raw client. */
class RawClientCore implements ConnOwner {
  readonly config: ConnConfig;
  readonly port: number;
  readonly resolver: HostResolver;
  readonly localAddresses: readonly string[] | undefined;
  readonly requestsPerIteration: number;
  /** 0: never; 1: per-iteration; N > 1… : requests per pooled connection. */
  readonly mode: 'never' | 'per-iteration' | 'pool';
  readonly requestsPerConnection: number;
  readonly maxIdle: number;
  readonly idle: RawConnection[] = [];
  readonly open = new Set<RawConnection>();
  #nextLocal = 0;
  #closing: (() => void) | undefined;

  constructor(options: LoadClientOptions, config: ConnConfig, resolver: HostResolver) {
    this.config = config;
    this.port = options.port;
    this.resolver = resolver;
    this.localAddresses = options.localAddresses !== undefined && options.localAddresses.length > 0 ? options.localAddresses : undefined;
    this.requestsPerIteration = options.requestsPerIteration;
    const reuse = options.reuse;
    this.mode = reuse === 'never' ? 'never' : reuse === 'per-iteration' ? 'per-iteration' : 'pool';
    this.requestsPerConnection = typeof reuse === 'object' ? reuse.requestsPerConnection : Number.POSITIVE_INFINITY;
    this.maxIdle = options.maxConnections ?? 64;
  }

  /** Open a connection for `owner`'s next request, which started at `t0`; a DNS failure settles through `owner.onResolveFailed`. */
  connect(owner: Iteration, t0: number): void {
    const local = this.localAddresses === undefined ? undefined : this.localAddresses[this.#nextLocal++ % this.localAddresses.length];
    if (this.resolver.literal) {
      this.open.add(new RawConnection(this.config, owner, this.resolver.host, this.port, local, t0, -1));
      return;
    }
    this.resolver.resolve((err, address, dnsUs) => {
      if (err !== null) {
        const endAt = performance.now();
        owner.onResolveFailed({ status: 0, errorClass: classifyError(err), dnsUs, connectUs: -1, connectCallUs: -1, ttfbUs: -1, totalUs: (endAt - t0) * 1000, newConnection: false, backend: undefined });
        return;
      }
      this.open.add(new RawConnection(this.config, owner, address, this.port, local, t0, dnsUs));
    });
  }

  // As owner of idle pooled connections: one that settles or closes while idle leaves the pool.
  onSettled(): void {}
  onClosed(conn: RawConnection): void {
    this.forget(conn);
  }

  forget(conn: RawConnection): void {
    this.open.delete(conn);
    const i = this.idle.indexOf(conn);
    if (i !== -1) this.idle.splice(i, 1);
    if (this.#closing !== undefined && this.open.size === 0) this.#closing();
  }

  release(conn: RawConnection): void {
    if (conn.idle && conn.requests < this.requestsPerConnection && this.idle.length < this.maxIdle && this.#closing === undefined) {
      conn.owner = this;
      this.idle.push(conn);
    } else {
      conn.owner = this;
      conn.close();
    }
  }

  takeIdle(): RawConnection | undefined {
    while (this.idle.length > 0) {
      const conn = this.idle.pop() as RawConnection;
      if (conn.idle) return conn;
    }
    return undefined;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#closing = resolve;
      for (const conn of this.idle.splice(0)) conn.close();
      if (this.open.size === 0) resolve();
    });
  }
}

/** One iteration: its requests in sequence, then onDone. */
class Iteration implements ConnOwner {
  readonly #core: RawClientCore;
  readonly #onRequest: (r: RequestResult) => void;
  readonly #onDone: () => void;
  #remaining: number;
  #conn: RawConnection | undefined;

  constructor(core: RawClientCore, onRequest: (r: RequestResult) => void, onDone: () => void) {
    this.#core = core;
    this.#onRequest = onRequest;
    this.#onDone = onDone;
    this.#remaining = core.requestsPerIteration;
  }

  start(): void {
    this.#next();
  }

  #next(): void {
    if (this.#remaining === 0) {
      this.#onDone();
      return;
    }
    this.#remaining--;
    const t0 = performance.now();
    const core = this.#core;
    const conn = this.#conn;
    if (conn !== undefined && conn.idle) return conn.send(t0);
    if (core.mode === 'pool') {
      const pooled = core.takeIdle();
      if (pooled !== undefined) {
        this.#conn = pooled;
        pooled.owner = this;
        return pooled.send(t0);
      }
    }
    this.#conn = undefined;
    core.connect(this, t0);
  }

  /** The host could not be resolved: the request failed without a connection. */
  onResolveFailed(result: RequestResult): void {
    this.#onRequest(result);
    this.#next();
  }

  onSettled(conn: RawConnection, result: RequestResult): void {
    this.#conn = conn;
    this.#onRequest(result);
    const core = this.#core;
    if (!conn.reusable) {
      conn.close(); // no-op when it is already closing; the iteration goes on at onClosed
      return;
    }
    if (core.mode === 'never' || (core.mode === 'per-iteration' && this.#remaining === 0) || conn.requests >= core.requestsPerConnection) {
      conn.close();
      return;
    }
    if (this.#remaining > 0) return this.#next();
    // Pool mode, iteration over: the connection goes back to the pool.
    this.#conn = undefined;
    core.release(conn);
    this.#onDone();
  }

  onClosed(conn: RawConnection): void {
    this.#core.forget(conn);
    if (this.#conn === conn) this.#conn = undefined;
    this.#next();
  }
}

/**
 * Create a raw-socket client (reuse `never`, `per-iteration` or `{ requestsPerConnection }`).
 * @param options validated client options.
 * @param config connection config built from them.
 * @param resolver resolves `options.host`.
 */
export function createRawClient(options: LoadClientOptions, config: ConnConfig, resolver: HostResolver): LoadClient {
  const core = new RawClientCore(options, config, resolver);
  return {
    iterate(onRequest, onDone) {
      new Iteration(core, onRequest, onDone).start();
    },
    close: () => core.close(),
  };
}
