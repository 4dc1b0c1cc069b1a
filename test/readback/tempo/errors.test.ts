/**
 * Failure classification. Recorded answers are used where the fixtures have them
 * (404, 400, 500, 503); transport failures and undecodable bodies come from small
 * SYNTHETIC servers on 127.0.0.1, because Tempo never produced them for the recording.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import type { AddressInfo } from 'node:net';
import { createTempoClient } from '../../../readback/tempo/client.ts';
import { CollectorError, ConfigError } from '../../../core/errors.ts';
import { startReplayServer, type ReplayReply } from './replay-server.ts';

const TRACE_1 = '7a117a11000000010000000000000001';

async function synthetic(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; close(): Promise<void> }> {
  const server = createHttpServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

async function closedPortUrl(): Promise<string> {
  const s = await synthetic(() => {});
  await s.close();
  return s.url;
}

function reasonOf(error: unknown): string | undefined {
  return error instanceof CollectorError ? (error.details as { reason?: string }).reason : undefined;
}

test('connection refused → CollectorError TALLY_COLLECTOR_FAILED, reason connection_refused', async () => {
  const client = createTempoClient({ baseUrl: await closedPortUrl() });
  try {
    await assert.rejects(client.traceById(TRACE_1), (e: unknown) =>
      e instanceof CollectorError && e.code === 'TALLY_COLLECTOR_FAILED' && reasonOf(e) === 'connection_refused'
      && (e.details as { endpoint: string }).endpoint === `GET /api/traces/${TRACE_1}`);
  } finally {
    await client.close();
  }
});

test('no answer within the deadline → reason timeout', async () => {
  const sockets: Socket[] = [];
  const silent = createTcpServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const { port } = silent.address() as AddressInfo;
  const client = createTempoClient({ baseUrl: `http://127.0.0.1:${port}`, requestTimeoutMs: 150 });
  try {
    await assert.rejects(client.search({ tags: { a: 'b' } }), (e: unknown) => e instanceof CollectorError && reasonOf(e) === 'timeout');
  } finally {
    await client.close();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  }
});

test('a body that stalls after the headers → reason timeout', async () => {
  const stall = await synthetic((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"traces":[');
  });
  const client = createTempoClient({ baseUrl: stall.url, requestTimeoutMs: 150 });
  try {
    await assert.rejects(client.search({ tags: { a: 'b' } }), (e: unknown) => e instanceof CollectorError && reasonOf(e) === 'timeout');
  } finally {
    await client.close();
    await stall.close();
  }
});

test('undecodable bodies → TALLY_COLLECTOR_BAD_REPLY saying what was expected', async () => {
  const bodies: Record<string, ReplayReply> = {
    [`/api/traces/${TRACE_1.replace(/1$/, '2')}`]: { status: 200, contentType: 'application/json', body: Buffer.from('<html>proxy error</html>') },
    [`/api/traces/${TRACE_1.replace(/1$/, '3')}`]: { status: 200, contentType: 'application/protobuf', body: Buffer.from('not protobuf at all') },
    [`/api/traces/${TRACE_1.replace(/1$/, '4')}`]: { status: 200, contentType: 'text/html', body: Buffer.from('<html></html>') },
    [`/api/traces/${TRACE_1.replace(/1$/, '5')}`]: { status: 200, contentType: 'application/json', body: Buffer.from('{"batches":[{"scopeSpans":[{"spans":[{"traceId":"nothex","spanId":"x"}]}]}]}') },
    '/api/search': { status: 200, contentType: 'application/json', body: Buffer.from('{"traces":5}') },
  };
  const server = await startReplayServer({ phases: [], extraRoutes: (req) => bodies[req.pathname] });
  const client = createTempoClient({ baseUrl: server.url });
  const expectBad = (pattern: RegExp) => (e: unknown) =>
    e instanceof CollectorError && e.code === 'TALLY_COLLECTOR_BAD_REPLY' && pattern.test((e.details as { expected: string }).expected);
  try {
    await assert.rejects(client.traceById(TRACE_1.replace(/1$/, '2'), { encoding: 'json' }), expectBad(/batches/));
    await assert.rejects(client.traceById(TRACE_1.replace(/1$/, '3')), expectBad(/tempopb\.Trace/));
    await assert.rejects(client.traceById(TRACE_1.replace(/1$/, '4')), expectBad(/application\/json or application\/protobuf/));
    await assert.rejects(client.traceById(TRACE_1.replace(/1$/, '5'), { encoding: 'json' }), expectBad(/16-byte id/));
    await assert.rejects(client.search({ tags: { a: 'b' } }), expectBad(/traces/));
  } finally {
    await client.close();
    await server.close();
  }
});

test('a body over the size cap is a bad reply, not an out-of-memory', async () => {
  const big = await synthetic((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(Buffer.alloc(64 * 1024, 0x20));
  });
  const client = createTempoClient({ baseUrl: big.url, maxBodyBytes: 1024 });
  try {
    await assert.rejects(client.search({ tags: { a: 'b' } }), (e: unknown) => e instanceof CollectorError && e.code === 'TALLY_COLLECTOR_BAD_REPLY');
  } finally {
    await client.close();
    await big.close();
  }
});

test('HTTP statuses classify: 401 unauthorized, 429 rate_limited, 502 server_error, 503 "not ready" not_ready', async () => {
  const answers: Record<string, [number, string]> = {
    a: [401, 'no'], b: [429, 'slow down'], c: [502, 'bad gateway'], d: [503, 'Ingester not ready: waiting for 15s after being ready'],
  };
  const server = await synthetic((req, res) => {
    const tag = new URL(req.url ?? '/', 'http://x').searchParams.get('tags')?.slice(-1) ?? 'a';
    const [status, text] = answers[tag];
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(text);
  });
  const client = createTempoClient({ baseUrl: server.url });
  try {
    const reasons: string[] = [];
    for (const tag of Object.keys(answers)) {
      const result = await client.search({ tags: { k: tag } });
      assert.ok(!result.ok);
      reasons.push(result.reason);
    }
    assert.deepEqual(reasons, ['unauthorized', 'rate_limited', 'server_error', 'not_ready']);
  } finally {
    await client.close();
    await server.close();
  }
});

test('credentials never appear in results or errors: bearer token file, basic auth, userinfo, secret headers', async () => {
  const token = 'tok-3f9a1c77e2b4';
  const password = 'pw-b81d0e6a';
  const dir = mkdtempSync(join(tmpdir(), 'tally-tempo-'));
  writeFileSync(join(dir, 'token'), `${token}\n`);
  const seen: string[] = [];
  // A hostile or buggy gateway that echoes request headers into its error body.
  const echo = await synthetic((req, res) => {
    seen.push(String(req.headers.authorization));
    res.writeHead(400, { 'content-type': 'text/plain' });
    res.end(`rejected: authorization=${req.headers.authorization} key=${req.headers['x-api-key']}`);
  });
  const bearer = createTempoClient({ baseUrl: echo.url, auth: { kind: 'bearer_file', tokenPath: join(dir, 'token') }, headers: { 'X-Api-Key': 'key-5521aa90' } });
  const basic = createTempoClient({ baseUrl: echo.url.replace('http://', `http://alice:${password}@`) });
  try {
    const a = await bearer.search({ tags: { k: 'v' } });
    const b = await basic.search({ tags: { k: 'v' } });
    assert.deepEqual(seen, [`Bearer ${token}`, `Basic ${Buffer.from(`alice:${password}`).toString('base64')}`]);
    const text = JSON.stringify([a, b]);
    for (const secret of [token, password, 'key-5521aa90', Buffer.from(`alice:${password}`).toString('base64')]) {
      assert.ok(!text.includes(secret), `result leaks ${secret}`);
    }
    assert.match(text, /\[redacted\]/);
  } finally {
    await bearer.close();
    await basic.close();
    await echo.close();
  }
  const refused = createTempoClient({ baseUrl: (await closedPortUrl()).replace('http://', `http://alice:${password}@`) });
  try {
    const error = await refused.traceById(TRACE_1).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof CollectorError);
    const rendered = `${inspect(error, { depth: 10 })} ${JSON.stringify(error.toJSON())} ${error.message}`;
    assert.ok(!rendered.includes(password));
  } finally {
    await refused.close();
  }
});

test('a rotated bearer token is re-read once after a 401', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tally-tempo-'));
  const tokenPath = join(dir, 'token');
  writeFileSync(tokenPath, 'old-token-1234');
  const server = await synthetic((req, res) => {
    const good = req.headers.authorization === 'Bearer new-token-5678';
    res.writeHead(good ? 200 : 401, { 'content-type': good ? 'application/json' : 'text/plain' });
    res.end(good ? '{"traces":[]}' : 'unauthorized');
  });
  const client = createTempoClient({ baseUrl: server.url, auth: { kind: 'bearer_file', tokenPath } });
  try {
    const first = await client.search({ tags: { k: 'v' } });
    assert.ok(!first.ok && first.reason === 'unauthorized');
    writeFileSync(tokenPath, 'new-token-5678\n');
    const second = await client.search({ tags: { k: 'v' } });
    assert.equal(second.ok, true);
  } finally {
    await client.close();
    await server.close();
  }
});

test('unreadable token file and non-http base URL are config errors', async () => {
  const client = createTempoClient({ baseUrl: 'http://127.0.0.1:9', auth: { kind: 'bearer_file', tokenPath: '/nonexistent/tally/token' } });
  try {
    await assert.rejects(client.ready(), (e: unknown) => e instanceof ConfigError && e.code === 'TALLY_CONFIG_UNREADABLE');
  } finally {
    await client.close();
  }
  assert.throws(() => createTempoClient({ baseUrl: 'ftp://127.0.0.1/' }), (e: unknown) => e instanceof ConfigError && e.code === 'TALLY_CONFIG_INVALID');
});
