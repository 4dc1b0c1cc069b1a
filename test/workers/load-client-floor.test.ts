/**
 * No phase reads below a floor the test knows: the server answers each request only after
 * FLOOR_MS, so a request's TTFB (request written → first byte) and its total cannot be
 * shorter. The generator is paused right after each send (as a GC pause or a busy event
 * loop would pause it): a write time stamped after `write()` returned would make TTFB
 * read short by the pause. The server runs on a thread of its own, so the pause does not
 * hold it. Real sockets on loopback.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { httpOptions, withClient } from './load-client-helpers.ts';

const FLOOR_MS = 40;
const PAUSE_MS = 25;
/** Timers may fire up to a millisecond early against a stale loop time: the floor is checked with this margin. */
const TIMER_SLACK_MS = 1.5;

function busyWait(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

/** Every request the client writes on a TCP handle (net.Socket and raw handles both end there) pauses the thread right after it; the server's answers do not. */
function pauseAfterEveryWrite(): () => void {
  const { TCP } = (process as unknown as { binding(name: string): { TCP: { prototype: Record<string, unknown> } } }).binding('tcp_wrap');
  const proto = TCP.prototype;
  const restore: (() => void)[] = [];
  for (const name of ['writeBuffer', 'writeLatin1String', 'writeUtf8String', 'writeAsciiString', 'writev']) {
    const original = proto[name] as (...args: unknown[]) => unknown;
    if (typeof original !== 'function') continue;
    proto[name] = function (this: unknown, ...args: unknown[]) {
      const r = original.apply(this, args);
      const data = args[1];
      if (Buffer.isBuffer(data) ? data.toString('latin1', 0, 4) === 'GET ' : typeof data === 'string' && data.startsWith('GET ')) busyWait(PAUSE_MS);
      return r;
    };
    restore.push(() => {
      delete proto[name];
      if (proto[name] !== original) proto[name] = original;
    });
  }
  return () => restore.forEach((r) => r());
}

for (const reuse of ['never', 'keep-alive'] as const) test(`reuse ${reuse}: TTFB and total never read below the server's ${FLOOR_MS} ms floor, even with a pause right after the send`, async () => {
  const server = new Worker(
    `const { createServer } = require('node:net');
     const { parentPort } = require('node:worker_threads');
     const server = createServer((socket) => {
       socket.once('data', () => setTimeout(() => socket.end('HTTP/1.1 200 OK\\r\\ncontent-length: 2\\r\\n\\r\\nok'), ${FLOOR_MS}));
       socket.on('error', () => {});
     });
     server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
     parentPort.on('message', () => server.close(() => process.exit(0)));`,
    { eval: true },
  );
  const [port] = (await once(server, 'message')) as [number];
  const restore = pauseAfterEveryWrite();
  try {
    const results = await withClient(httpOptions(port, { reuse }), 6);
    const floorUs = (FLOOR_MS - TIMER_SLACK_MS) * 1000;
    for (const r of results) {
      assert.equal(r.errorClass, undefined);
      assert.ok(r.ttfbUs >= floorUs, `ttfbUs ${Math.round(r.ttfbUs)} < floor ${floorUs}`);
      assert.ok(r.totalUs >= floorUs, `totalUs ${Math.round(r.totalUs)} < floor ${floorUs}`);
      assert.ok(r.totalUs >= Math.max(0, r.connectUs) + r.ttfbUs, `phases ${Math.round(r.connectUs)} + ${Math.round(r.ttfbUs)} > total ${Math.round(r.totalUs)}`);
    }
  } finally {
    restore();
    server.postMessage('close');
    await once(server, 'exit');
  }
});
