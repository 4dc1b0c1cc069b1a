/**
 * The per-iteration load client a load shard calls: one iteration is
 * `requestsPerIteration` sequential requests under a connection-reuse mode, over HTTP/1.1
 * or tcp-crr, each reported as a {@link RequestResult}.
 *
 * | reuse | transport | new connections |
 * |---|---|---|
 * | `never` | raw node:net | one per request (connection churn) |
 * | `per-iteration` | raw node:net | one per iteration |
 * | `{ requestsPerConnection: N }` | raw node:net, per-client pool | one per N requests |
 * | `keep-alive` | undici Pool | at most `maxConnections` |
 *
 * Requests carry no `Connection` header in any mode (see {@link buildRequestText}): HTTP/1.1
 * connections persist by default and the client decides when to close, so its close mode
 * (`fin` or `rst`) decides who holds TIME_WAIT. A server that answers `Connection: close`
 * (or frames a body by closing) is honoured: that connection carries no further request.
 *
 * Result conventions:
 * - `dnsUs` is -1 when no lookup was done for the request: IP literal, a request on a reused
 *   connection, or a `cached` hit (workers/dns-cache.ts).
 * - tcp-crr reports status 200 for a complete exchange and 0 for a failed one.
 * - DNS failures are their own error classes (`ENOTFOUND`, `EAI_AGAIN`).
 */
export { buildRequestText } from '../core/http-request.ts';
import { ConfigError, type InputProblem } from '../core/errors.ts';
import type { ErrorClass } from '../core/messages.ts';
import { HostResolver, type LookupFunction } from './dns-cache.ts';
import { createKeepAliveClient } from './keepalive-client.ts';
import { createRawClient } from './raw-client.ts';
import type { ConnConfig } from './raw-connection.ts';
import { crrRequestPayload } from './tcp-crr.ts';
import { sharedWheel, type TimeoutWheel } from './timeout-wheel.ts';
import { tcpTransport, type TcpTransport } from './tcp-handle.ts';

export { classifyError, GENERATOR_SIDE_ERRORS } from './client-errors.ts';

/** Outcome and timings (µs) of one request. */
export interface RequestResult {
  /** HTTP status; 0 when no complete response. tcp-crr: 200 for a complete exchange, 0 on failure. */
  status: number;
  /** errno class of a failure; undefined on success. */
  errorClass: ErrorClass | undefined;
  /** Name lookup time; -1 when no lookup was done for this request (IP literal, reused connection, cache hit). */
  dnsUs: number;
  /** TCP connect time (after DNS); -1 when the request reused a connection or never connected. */
  connectUs: number;
  /**
   * How long the connect call itself took (the kernel's port search in connect(2)); -1 when
   * no connect was called. About 12–30 µs normally; ms once TIME_WAIT crowds the port range.
   */
  connectCallUs: number;
  /** Request written → first response byte; -1 when none. */
  ttfbUs: number;
  /** The request's actual start (before DNS) → response complete or failure. */
  totalUs: number;
  /** The request opened its connection. */
  newConnection: boolean;
  /** `x-tally-backend` response header (tcp-crr: the response's leading `NAME\n` line), when present. */
  backend: string | undefined;
}

/** A load client (one per worker). */
export interface LoadClient {
  /**
   * Run one iteration: `requestsPerIteration` sequential requests under the reuse mode.
   * `onRequest` once per request, then `onDone` exactly once after the last request settled
   * (and, for reuse `never`/`per-iteration`, after its socket closed).
   */
  iterate(onRequest: (r: RequestResult) => void, onDone: () => void): void;
  /** Close pooled/kept-alive connections. Connections of running iterations close when those end. */
  close(): Promise<void>;
}

/** Connection reuse mode. */
export type ReuseMode = 'never' | 'per-iteration' | 'keep-alive' | { requestsPerConnection: number };

/** What a load client is built from (once per worker). */
export interface LoadClientOptions {
  protocol: 'http1' | 'tcp-crr';
  /** Host name or IP literal. */
  host: string;
  port: number;
  /** http1: the full raw request (build it with {@link buildRequestText}); ignored by tcp-crr. */
  request: Buffer;
  isHead: boolean;
  reuse: ReuseMode;
  /** How the client closes a raw connection: FIN (`destroy`) or RST (`resetAndDestroy`). Not applied by keep-alive (undici closes). */
  close: 'fin' | 'rst';
  requestsPerIteration: number;
  connectTimeoutMs: number;
  /** From the request write to the response complete. */
  requestTimeoutMs: number;
  /** Payload sizes (bytes) for tcp-crr. */
  tcpCrr?: { requestBytes: number; responseBytes: number };
  /** How `host` is resolved when it is a name; default per connection. */
  dns?: { mode: 'per-connection' | 'cached'; ttlMs: number };
  /** Source IPs rotated round robin across new connections (`net.connect({ localAddress })`). */
  localAddresses?: string[];
  /** keep-alive: pool size; requestsPerConnection: most idle connections kept. Default 64. */
  maxConnections?: number;
}

/** Test and embedding hooks. */
export interface LoadClientHooks {
  /** Replaces node:dns `lookup` (e.g. to count lookups). */
  lookup?: LookupFunction;
  /** Replaces the thread's shared timeout wheel. */
  wheel?: TimeoutWheel;
  /** Replaces the socket transport (tests hold the net.Socket fallback to the same contract). */
  transport?: TcpTransport;
}

function validate(o: LoadClientOptions): InputProblem[] {
  const problems: InputProblem[] = [];
  const positiveInt = (v: number, pointer: string, max: number): void => {
    if (!Number.isInteger(v) || v < 1 || v > max) problems.push({ pointer, message: `must be an integer in 1…${max}` });
  };
  positiveInt(o.requestsPerIteration, '/requestsPerIteration', 1_000_000);
  positiveInt(o.connectTimeoutMs, '/connectTimeoutMs', 3_600_000);
  positiveInt(o.requestTimeoutMs, '/requestTimeoutMs', 3_600_000);
  if (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535) problems.push({ pointer: '/port', message: 'must be a TCP port, 1…65535' });
  if (typeof o.reuse === 'object') positiveInt(o.reuse.requestsPerConnection, '/reuse/requestsPerConnection', 1_000_000);
  if (o.maxConnections !== undefined) positiveInt(o.maxConnections, '/maxConnections', 1_000_000);
  if (o.protocol === 'tcp-crr') {
    if (o.tcpCrr === undefined) problems.push({ pointer: '/tcpCrr', message: 'is required for protocol tcp-crr' });
    else {
      positiveInt(o.tcpCrr.requestBytes, '/tcpCrr/requestBytes', 16 * 1024 * 1024);
      positiveInt(o.tcpCrr.responseBytes, '/tcpCrr/responseBytes', 16 * 1024 * 1024);
    }
    if (o.reuse === 'keep-alive') problems.push({ pointer: '/reuse', message: 'keep-alive is HTTP only; tcp-crr takes never, per-iteration or requestsPerConnection' });
  }
  if (o.dns !== undefined && (!Number.isFinite(o.dns.ttlMs) || o.dns.ttlMs < 0)) problems.push({ pointer: '/dns/ttlMs', message: 'must be ≥ 0 (ms)' });
  return problems;
}

/**
 * Build a load client.
 * @param options see {@link LoadClientOptions}.
 * @param hooks optional injected lookup and timeout wheel.
 * @throws ConfigError `TALLY_CONFIG_INVALID` naming each bad option by JSON pointer.
 */
export function createLoadClient(options: LoadClientOptions, hooks: LoadClientHooks = {}): LoadClient {
  const problems = validate(options);
  if (problems.length > 0) throw new ConfigError(`bad load client options: ${problems.map((p) => `${p.pointer} ${p.message}`).join('; ')}`, problems);
  const resolver = new HostResolver(options.host, options.dns ?? { mode: 'per-connection', ttlMs: 0 }, hooks.lookup);
  if (options.reuse === 'keep-alive') return createKeepAliveClient(options, resolver);
  const crr = options.protocol === 'tcp-crr' ? options.tcpCrr : undefined;
  const config: ConnConfig = {
    request: crr !== undefined ? crrRequestPayload(crr.requestBytes) : options.request,
    isHead: crr === undefined && options.isHead,
    close: options.close,
    connectTimeoutMs: options.connectTimeoutMs,
    requestTimeoutMs: options.requestTimeoutMs,
    crrResponseBytes: crr?.responseBytes,
    wheel: hooks.wheel ?? sharedWheel(),
    transport: hooks.transport ?? tcpTransport(),
  };
  return createRawClient(options, config, resolver);
}
