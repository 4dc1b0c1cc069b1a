/**
 * The per-iteration client a load shard calls. This first version supports
 * `protocol: http1` with `reuse: never` only, on top of {@link churnOnce}.
 */
import { ConfigError } from '../core/errors.ts';
import type { ErrorClass } from '../core/messages.ts';
import { churnOnce, type ChurnOptions } from './http-churn.ts';

/** Timings (µs) and outcome of one request. */
export interface RequestResult {
  status: number;
  errorClass: ErrorClass | undefined;
  dnsUs: number;
  connectUs: number;
  ttfbUs: number;
  totalUs: number;
  newConnection: boolean;
  backend: string | undefined;
}

/** Runs iterations. */
export interface LoadClient {
  iterate(onRequest: (r: RequestResult) => void, onDone: () => void): void;
  close(): Promise<void>;
}

/** Options of {@link createLoadClient}. */
export interface LoadClientOptions {
  protocol: 'http1' | 'tcp-crr';
  host: string;
  port: number;
  request: Buffer;
  isHead: boolean;
  reuse: 'never' | 'per-iteration' | 'keep-alive' | { requestsPerConnection: number };
  close: 'fin' | 'rst';
  requestsPerIteration: number;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  tcpCrr?: { requestBytes: number; responseBytes: number };
  dns?: { mode: 'per-connection' | 'cached'; ttlMs: number };
  localAddresses?: string[];
  maxConnections?: number;
}

/** Create a client. @throws ConfigError for modes this version lacks. */
export function createLoadClient(options: LoadClientOptions): LoadClient {
  if (options.protocol !== 'http1' || options.reuse !== 'never') throw new ConfigError('only http1 with reuse: never is supported', [{ pointer: '/load/connection/reuse', message: 'must be never' }]);
  const churn: ChurnOptions = { ...options };
  return {
    iterate(onRequest, onDone) {
      let left = options.requestsPerIteration;
      const next = (): void => {
        churnOnce(churn, (r) => {
          onRequest({ ...r, dnsUs: -1, newConnection: true, backend: undefined });
          if (--left > 0) next();
          else onDone();
        });
      };
      next();
    },
    close: async () => {},
  };
}
