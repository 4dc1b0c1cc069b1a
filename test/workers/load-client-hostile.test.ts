/**
 * Target responses a careless or hostile target sends, on real loopback sockets, through
 * every HTTP/1.1 reuse mode: an unreadable `Content-Length` is a `protocol_error` (never a
 * successful 200), bytes that are not an HTTP response are an `invalid_response` (never
 * ECONNRESET), and a body over the cap is `response_too_large`, found without reading it.
 * A table of cases, asserting error classes, never message text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { MAX_RESPONSE_BODY_BYTES } from '../../workers/raw-connection.ts';
import { httpOptions, withClient } from './load-client-helpers.ts';
import type { ReuseMode } from '../../workers/load-client.ts';

/** Seeded random bytes that do not begin like an HTTP response. */
function noise(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  out[0] = 0x9c;
  return out;
}

interface Case {
  name: string;
  /** What the target does with each request's connection. */
  answer(socket: Socket): void;
  errorClass: string | undefined;
}

const CHUNK = Buffer.alloc(64 * 1024, 0x61);

/** Stream `bytes` of body after `head`, stopping when the client goes away. */
function stream(socket: Socket, head: string, bytes: number, chunked: boolean): void {
  socket.write(head);
  let left = bytes;
  const pump = (): void => {
    while (left > 0 && !socket.destroyed) {
      left -= CHUNK.length;
      // Each chunk whole (size line, data, CRLF); the last write says whether to wait for 'drain'.
      if (chunked) socket.write(`${CHUNK.length.toString(16)}\r\n`);
      let ok = socket.write(CHUNK);
      if (chunked) ok = socket.write('\r\n');
      if (!ok) return void socket.once('drain', pump);
    }
  };
  pump();
}

const CASES: Case[] = [
  { name: 'a well-formed 200', answer: (s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'), errorClass: undefined },
  { name: 'Content-Length: zz', answer: (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: zz\r\n\r\nok'), errorClass: 'protocol_error' },
  { name: 'two different Content-Lengths', answer: (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok'), errorClass: 'protocol_error' },
  { name: 'random bytes, then close', answer: (s) => s.end(noise(300, 7)), errorClass: 'invalid_response' },
  { name: 'random bytes, connection kept open', answer: (s) => s.write(noise(300, 8)), errorClass: 'invalid_response' },
  { name: 'a 1 GiB body announced by Content-Length', answer: (s) => stream(s, 'HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\n', 1024 ** 3, false), errorClass: 'response_too_large' },
  { name: 'an endless chunked body', answer: (s) => stream(s, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', 1024 ** 3, true), errorClass: 'response_too_large' },
];

async function hostileTarget(answer: (socket: Socket) => void): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    let answered = false;
    socket.on('data', () => {
      if (answered) return;
      answered = true;
      answer(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const MODES: ReuseMode[] = ['never', 'per-iteration', 'keep-alive'];

for (const mode of MODES) {
  for (const c of CASES) {
    test(`reuse ${mode}: ${c.name} → ${c.errorClass ?? 'ok'}`, { timeout: 20_000 }, async () => {
      const target = await hostileTarget(c.answer);
      try {
        const started = performance.now();
        const [result] = await withClient(httpOptions(target.port, { reuse: mode, requestTimeoutMs: 10_000 }), 1);
        assert.equal(result.errorClass, c.errorClass);
        if (c.errorClass === undefined) assert.equal(result.status, 200);
        else assert.equal(result.status, 0, 'a failed request has no status');
        // Found at once, not after the request timeout or reading a gigabyte.
        assert.ok(performance.now() - started < 5000, `${Math.round(performance.now() - started)} ms`);
      } finally {
        await target.close();
      }
    });
  }
}

test('the response cap is far above what the embedded target can be asked to send (1 MiB)', () => {
  assert.ok(MAX_RESPONSE_BODY_BYTES >= 16 * 1024 * 1024);
});
