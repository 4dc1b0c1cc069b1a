import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { churnOnce, classifyError, parseHead, type ChurnOptions, type ChurnResult } from '../../workers/http-churn.ts';

test('parseHead reads status and framing wherever Content-Length stands', () => {
  assert.deepEqual(parseHead('HTTP/1.1 200 OK\r\ncontent-length: 2', false), { status: 200, contentLength: 2, chunked: false });
  assert.deepEqual(parseHead('HTTP/1.1 404 Not Found\r\nContent-Length: 10\r\nX-A: b', false), { status: 404, contentLength: 10, chunked: false });
  assert.deepEqual(parseHead('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked', false), { status: 200, contentLength: -1, chunked: true });
  assert.deepEqual(parseHead('HTTP/1.1 200 OK\r\nServer: x', false), { status: 200, contentLength: -1, chunked: false });
  assert.deepEqual(parseHead('HTTP/1.1 204 No Content\r\nContent-Length: 5', false).contentLength, 0);
  assert.deepEqual(parseHead('HTTP/1.1 200 OK\r\nContent-Length: 5', true).contentLength, 0);
  assert.equal(parseHead('HTTP/1.1 200 OK\r\nContent-Length: banana', false).contentLength, -1);
  assert.equal(parseHead('garbage', false).status, 0);
});

test('classifyError maps errno codes and falls back to other', () => {
  assert.equal(classifyError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })), 'ECONNREFUSED');
  assert.equal(classifyError(Object.assign(new Error('x'), { code: 'EXDEV' })), 'other');
  assert.equal(classifyError(undefined), 'other');
});

/** A raw server that answers each connection with `reply` (split in two writes), then acts per `after`. */
async function server(reply: string, after: 'keep' | 'close' | 'reset' | 'silent' = 'keep'): Promise<{ port: number; srv: Server }> {
  const srv = createServer((s) => {
    s.on('error', () => {});
    s.once('data', () => {
      if (after === 'silent') return;
      if (after === 'reset') return void s.resetAndDestroy();
      s.write(reply.slice(0, 10));
      setTimeout(() => {
        s.write(reply.slice(10));
        if (after === 'close') s.end();
      }, 5);
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { port: (srv.address() as AddressInfo).port, srv };
}

function once(port: number, extra: Partial<ChurnOptions> = {}): Promise<ChurnResult> {
  const options: ChurnOptions = {
    host: '127.0.0.1',
    port,
    request: Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
    isHead: false,
    close: 'fin',
    connectTimeoutMs: 1000,
    requestTimeoutMs: 300,
    ...extra,
  };
  return new Promise((resolve) => churnOnce(options, resolve));
}

test('a response split across packets, with Content-Length last, completes with timings', async () => {
  const { port, srv } = await server('HTTP/1.1 201 Created\r\nX-A: 1\r\nContent-Length: 4\r\n\r\nabcd');
  const r = await once(port);
  srv.close();
  assert.equal(r.errorClass, undefined);
  assert.equal(r.status, 201);
  assert.ok(r.connectUs > 0 && r.ttfbUs > 0 && r.totalUs >= r.connectUs);
});

test('chunked and close-delimited bodies complete', async () => {
  const chunked = await server('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
  assert.equal((await once(chunked.port)).status, 200);
  chunked.srv.close();
  const closeDelimited = await server('HTTP/1.1 200 OK\r\nServer: t\r\n\r\nhello', 'close');
  const r = await once(closeDelimited.port);
  closeDelimited.srv.close();
  assert.equal(r.errorClass, undefined);
  assert.equal(r.status, 200);
});

test('errors are classified: refused, reset, timeout, cut short', async () => {
  const dead = await server('', 'keep');
  const deadPort = dead.port;
  await new Promise<void>((r) => dead.srv.close(() => r()));
  assert.equal((await once(deadPort)).errorClass, 'ECONNREFUSED');
  const reset = await server('', 'reset');
  assert.equal((await once(reset.port)).errorClass, 'ECONNRESET');
  reset.srv.close();
  const silent = await server('', 'silent');
  const t = await once(silent.port);
  silent.srv.close();
  assert.equal(t.errorClass, 'ETIMEDOUT');
  assert.equal(t.status, 0);
  const cut = await server('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort', 'close');
  assert.equal((await once(cut.port)).errorClass, 'ECONNRESET');
  cut.srv.close();
});

test('close: rst completes the iteration and the server sees a reset, not a FIN', async () => {
  let serverSaw: 'end' | 'reset' | undefined;
  const srv = createServer((s) => {
    s.once('data', () => s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
    s.on('end', () => (serverSaw ??= 'end'));
    s.on('error', (e: NodeJS.ErrnoException) => (serverSaw ??= e.code === 'ECONNRESET' ? 'reset' : undefined));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  const r = await once(port, { close: 'rst' });
  await new Promise((res) => setTimeout(res, 50));
  srv.close();
  assert.equal(r.errorClass, undefined);
  assert.equal(r.status, 200);
  assert.equal(serverSaw, 'reset');
});
