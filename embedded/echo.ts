/**
 * The embedded tcp-crr target (netperf/neper TCP_CRR's server side): for every
 * `requestBytes` received on a connection it writes `responseBytes` back, and leaves
 * closing to the client, so the client's close mode (FIN or RST) decides who holds
 * TIME_WAIT — as the embedded HTTP target does.
 *
 * With a `name`, each response begins with `NAME\n` (when the response is long enough to
 * hold it) and is padded with `x`; the load client records that first line as the backend
 * (workers/tcp-crr.ts). Without a name the response is all `x`.
 *
 * @see https://github.com/google/neper (tcp_crr)
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { CollectorError } from '../core/errors.ts';

/** Options of {@link startEmbeddedEcho}. */
export interface EchoOptions {
  /** Bytes that make one request. */
  requestBytes: number;
  /** Bytes written back per request. */
  responseBytes: number;
  /** Backend name written at the start of each response, `[A-Za-z0-9._-]{1,63}`. */
  name?: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (a free port). */
  port?: number;
}

/** A running echo target. */
export interface EmbeddedEcho {
  host: string;
  port: number;
  /** Requests (complete `requestBytes` units) answered so far. */
  requestsServed(): number;
  /** Connections accepted so far. */
  connectionsAccepted(): number;
  /** Request bytes received so far. */
  bytesReceived(): number;
  /** Stop listening and drop every open connection. */
  close(): Promise<void>;
}

/** The response payload: `NAME\n` (when it fits) padded with `x` to `responseBytes`. */
export function echoResponse(responseBytes: number, name: string | undefined): Buffer {
  const out = Buffer.alloc(responseBytes, 0x78);
  if (name !== undefined && name.length + 1 <= responseBytes) out.write(`${name}\n`, 0, 'latin1');
  return out;
}

/**
 * Start the echo target.
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` when it cannot listen.
 */
export async function startEmbeddedEcho(options: EchoOptions): Promise<EmbeddedEcho> {
  const host = options.host ?? '127.0.0.1';
  if (!Number.isInteger(options.requestBytes) || options.requestBytes < 1) throw new CollectorError('echo target: requestBytes must be an integer ≥ 1');
  const response = echoResponse(options.responseBytes, options.name);
  let served = 0;
  let accepted = 0;
  let received = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer({ noDelay: true }, (socket) => {
    accepted++;
    sockets.add(socket);
    let pending = 0; // bytes of the current request received so far
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.length;
      received += chunk.length;
      while (pending >= options.requestBytes) {
        pending -= options.requestBytes;
        served++;
        socket.write(response);
      }
    });
    socket.on('end', () => socket.end());
    // A churn client may reset at any time; that is the client's choice, not a target fault.
    socket.on('error', () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (cause) => reject(new CollectorError(`echo target cannot listen on ${host}: ${cause.message}`, { details: { host, port: options.port ?? 0 }, cause })));
    server.listen({ host, port: options.port ?? 0, backlog: 4096 }, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    host,
    port,
    requestsServed: () => served,
    connectionsAccepted: () => accepted,
    bytesReceived: () => received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
