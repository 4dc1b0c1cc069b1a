/**
 * The embedded HTTP target: used when a scenario names no `load.target`. A minimal
 * HTTP/1.1 responder on raw `node:net` (Node's `http` module costs about twice as much
 * CPU per new connection, and the target shares the generator's cores): it answers every
 * request with a fixed body and `Content-Length`, keeps the connection open, and leaves
 * closing to the client, so the client's close mode (FIN or RST) decides who holds
 * TIME_WAIT.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9112 (message framing)
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { CollectorError } from '../core/errors.ts';
import { CapacityQueue, type CapacityModel } from './target-capacity.ts';

/** A running embedded target. */
export interface EmbeddedTarget {
  host: string;
  port: number;
  /** Requests answered so far. */
  requestsServed(): number;
  /** TCP connections accepted so far. */
  connectionsAccepted(): number;
  close(): Promise<void>;
}

/** Largest request head accepted before the connection is closed with 431. */
const MAX_HEAD_BYTES = 16 * 1024;
const CRLFCRLF = Buffer.from('\r\n\r\n');

/** Options of {@link startEmbeddedTarget}. */
export interface TargetOptions {
  /** Body size of every response. */
  responseBytes: number;
  host?: string;
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Extra response headers (for example which backend answered). */
  headers?: Record<string, string>;
  /**
   * Delay before each answer (ms), drawn once per request in arrival order (embedded/
   * target-latency.ts); answers on one connection keep their order. Undefined: answer at once.
   */
  delayMs?: () => number;
  /**
   * A capacity model (embedded/target-capacity.ts): servers with a fixed service time and a
   * bounded queue, shared by every connection; answers are due when their request's service
   * ends, and a request finding the queue full is answered 503 at once. Takes the place of `delayMs`.
   */
  capacity?: CapacityModel;
}

function responseFor(status: string, body: Buffer, headers: Record<string, string>, withBody: boolean): Buffer {
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  const head = `HTTP/1.1 ${status}\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\n${extra}\r\n`;
  return withBody ? Buffer.concat([Buffer.from(head, 'latin1'), body]) : Buffer.from(head, 'latin1');
}

/** When an answer is due (monotonic ms), given when its request arrived; undefined refuses it at once (503). */
type DueAt = (nowMs: number) => number | undefined;

/**
 * Answers written when due, in order on the connection (an answer waits for the
 * one before it: one timer at a time walks the queue), and the connection's end deferred
 * until the last answer is out. The timer dies with the socket.
 */
function delayedWriter(socket: Socket, dueAt: DueAt, refusal: Buffer): (response: Buffer) => void {
  const queue: { dueMs: number; response: Buffer }[] = [];
  let timer: NodeJS.Timeout | undefined;
  let ended = false;
  const next = (): void => {
    timer = undefined;
    while (queue.length > 0 && queue[0].dueMs <= performance.now()) {
      const { response } = queue.shift()!;
      if (!socket.destroyed) socket.write(response);
    }
    if (queue.length > 0) timer = setTimeout(next, Math.max(0, queue[0].dueMs - performance.now()));
    else if (ended && !socket.destroyed) socket.end();
  };
  socket.on('end', () => {
    ended = true;
    if (queue.length === 0) socket.end();
  });
  socket.on('close', () => clearTimeout(timer));
  return (response) => {
    const nowMs = performance.now();
    const dueMs = dueAt(nowMs);
    queue.push({ dueMs: Math.max(dueMs ?? nowMs, queue.at(-1)?.dueMs ?? 0), response: dueMs === undefined ? refusal : response });
    timer ??= setTimeout(next, Math.max(0, queue[0].dueMs - nowMs));
  };
}

/**
 * Start the embedded target (default 127.0.0.1, free port).
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` when it cannot listen.
 */
export async function startEmbeddedTarget(options: TargetOptions): Promise<EmbeddedTarget> {
  const host = options.host ?? '127.0.0.1';
  const body = Buffer.alloc(options.responseBytes, 0x6f);
  body.fill('ok', 0, Math.min(2, options.responseBytes));
  const headers = options.headers ?? {};
  const getResponse = responseFor('200 OK', body, headers, true);
  const headResponse = responseFor('200 OK', body, headers, false);
  const tooLarge = Buffer.from('HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\nconnection: close\r\n\r\n', 'latin1');
  const busy = Buffer.from('HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n', 'latin1');
  const queue = options.capacity === undefined ? undefined : new CapacityQueue(options.capacity);
  const delayMs = options.delayMs;
  const dueAt: DueAt | undefined = queue !== undefined ? (nowMs) => queue.admit(nowMs) : delayMs !== undefined ? (nowMs) => nowMs + delayMs() : undefined;
  let served = 0;
  let accepted = 0;
  const sockets = new Set<Socket>();

  // allowHalfOpen: a client's FIN ends our side only once its answers are out (delayed ones too).
  const server: Server = createServer({ noDelay: true, allowHalfOpen: true }, (socket) => {
    accepted++;
    sockets.add(socket);
    let pending: Buffer | undefined;
    const answer = dueAt === undefined ? (response: Buffer) => socket.write(response) : delayedWriter(socket, dueAt, busy);
    socket.on('data', (chunk: Buffer) => {
      let buf = pending === undefined ? chunk : Buffer.concat([pending, chunk]);
      // Answer every complete request head in the buffer (pipelined requests included).
      for (let end = buf.indexOf(CRLFCRLF); end !== -1; end = buf.indexOf(CRLFCRLF)) {
        served++;
        answer(buf[0] === 0x48 /* H */ && buf.toString('latin1', 0, 5) === 'HEAD ' ? headResponse : getResponse);
        buf = buf.subarray(end + 4);
      }
      pending = buf.length > 0 ? buf : undefined;
      if (pending !== undefined && pending.length > MAX_HEAD_BYTES) socket.end(tooLarge);
    });
    if (dueAt === undefined) socket.on('end', () => socket.end());
    // A churn client may reset at any time; that is the client's choice, not a target fault.
    socket.on('error', () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (cause) => reject(new CollectorError(`embedded target cannot listen on ${host}: ${cause.message}`, { cause })));
    server.listen({ host, port: options.port ?? 0, backlog: 4096 }, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    host,
    port,
    requestsServed: () => served,
    connectionsAccepted: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
