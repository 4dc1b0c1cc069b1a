/**
 * The embedded HTTP target: used when a scenario names no `load.target`. It answers every
 * request with a fixed body and `Content-Length`, and leaves closing to the client, so the
 * client's close mode (FIN or RST) decides who holds TIME_WAIT.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CollectorError } from '../core/errors.ts';

/** A running embedded target. */
export interface EmbeddedTarget {
  host: string;
  port: number;
  /** Requests answered so far. */
  requestsServed(): number;
  close(): Promise<void>;
}

/**
 * Start the embedded target on 127.0.0.1 on a free port.
 * @param responseBytes body size of every response.
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` when it cannot listen.
 */
export async function startEmbeddedTarget(responseBytes: number, host = '127.0.0.1'): Promise<EmbeddedTarget> {
  const body = Buffer.alloc(responseBytes, 0x6f);
  body.fill('ok', 0, Math.min(2, responseBytes));
  const headers = { 'content-type': 'text/plain', 'content-length': String(responseBytes) };
  let served = 0;
  const server: Server = createServer((req, res) => {
    served++;
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  server.keepAliveTimeout = 5000;
  // A churn client may reset before the response is flushed; that is the client's choice, not a target fault.
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', (cause) => reject(new CollectorError(`embedded target cannot listen on ${host}: ${cause.message}`, { cause })));
    server.listen({ host, port: 0, backlog: 4096 }, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    host,
    port,
    requestsServed: () => served,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
