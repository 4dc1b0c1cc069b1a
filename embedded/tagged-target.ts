/**
 * A lab backend: an HTTP target like the embedded one (fixed body with Content-Length,
 * closing left to the client) that also names itself in an `x-tally-backend` response
 * header, so every request can record which Service endpoint served it. Imports nothing
 * from workers/.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CollectorError } from '../core/errors.ts';

/** Response header carrying the backend's name. */
export const BACKEND_HEADER = 'x-tally-backend';

/** Options of {@link startTaggedTarget}. */
export interface TaggedTargetOptions {
  /** Address to listen on, e.g. `10.203.0.10` or `127.0.0.1`. */
  host: string;
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Value of the {@link BACKEND_HEADER} header, `[A-Za-z0-9._-]{1,63}`. */
  name: string;
  /** Body size of every response in bytes. */
  responseBytes: number;
}

/** A running tagged target. */
export interface TaggedTarget {
  host: string;
  port: number;
  name: string;
  /** Requests answered so far. */
  requestsServed(): number;
  /** Stop listening and drop every open connection. */
  close(): Promise<void>;
}

/**
 * Start a tagged target.
 * @param options host, port, name and body size (bytes).
 * @returns the running target with its bound port.
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` when it cannot listen (address not in this
 *   namespace, port taken).
 * @see https://nodejs.org/api/http.html#httpcreateserveroptions-requestlistener
 */
export async function startTaggedTarget(options: TaggedTargetOptions): Promise<TaggedTarget> {
  const { host, name, responseBytes } = options;
  const body = Buffer.alloc(responseBytes, 0x6f);
  body.fill('ok', 0, Math.min(2, responseBytes));
  const headers = { 'content-type': 'text/plain', 'content-length': String(responseBytes), [BACKEND_HEADER]: name };
  let served = 0;
  const server = createServer((req, res) => {
    served++;
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  server.keepAliveTimeout = 5000;
  // A churn client may reset before the response is flushed; that is the client's choice, not a target fault.
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', (cause) =>
      reject(new CollectorError(`target ${name} cannot listen on ${host}:${options.port}: ${cause.message}`, { details: { host, port: options.port }, cause })),
    );
    server.listen({ host, port: options.port, backlog: 4096 }, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    host,
    port,
    name,
    requestsServed: () => served,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
