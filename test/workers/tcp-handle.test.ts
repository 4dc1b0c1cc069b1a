/**
 * The churn client's two socket transports held to one contract: the libuv handle (the
 * fast path, which this Node must offer) and the net.Socket fallback. Each: a complete
 * exchange with its connect call timed, a refused connect, a reset by the server, a source
 * address bound, RST close without TIME_WAIT, and FIN with it. Real sockets on loopback.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { NET_TRANSPORT, tcpTransport, type TcpTransport } from '../../workers/tcp-handle.ts';
import { assertAllOk, httpOptions, recordingServer, timeWaitOnPort, withClient } from './load-client-helpers.ts';

test('this Node offers the libuv handle: the fast path is the one that runs', () => {
  assert.equal(process.env.TALLY_TCP_TRANSPORT === 'net' ? 'net' : tcpTransport().kind, process.env.TALLY_TCP_TRANSPORT === 'net' ? 'net' : 'raw');
  assert.equal(NET_TRANSPORT.kind, 'net');
});

async function listen(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

for (const transport of [tcpTransport(), NET_TRANSPORT] as TcpTransport[]) {
  const hooks = { transport };
  test(`${transport.kind}: exchanges complete, the connect call is timed, a bound source address is used`, async () => {
    const srv = await recordingServer();
    try {
      const results = await withClient(httpOptions(srv.port, { reuse: 'per-iteration', requestsPerIteration: 3 }), 4, 2, hooks);
      assertAllOk(results);
      assert.equal(results.filter((r) => r.newConnection).length, 4);
      for (const r of results) {
        if (r.newConnection) assert.ok(r.connectCallUs >= 0 && r.connectCallUs < 1_000_000 && r.connectUs >= 0);
        else assert.equal(r.connectCallUs, -1);
      }
      const bound = await withClient(httpOptions(srv.port, { localAddresses: ['127.0.0.9'] }), 1, 1, hooks);
      assertAllOk(bound);
      assert.equal(srv.remotes.at(-1), '127.0.0.9');
    } finally {
      await srv.close();
    }
  });

  test(`${transport.kind}: a refused connect is ECONNREFUSED, a reset answer ECONNRESET`, async () => {
    const closed = createServer();
    const port = await listen(closed);
    await new Promise((r) => closed.close(r));
    const [refused] = await withClient(httpOptions(port), 1, 1, hooks);
    assert.equal(refused.errorClass, 'ECONNREFUSED');
    assert.equal(refused.connectUs, -1);
    const resetting = createServer((s) => s.once('data', () => s.resetAndDestroy()));
    try {
      const [reset] = await withClient(httpOptions(await listen(resetting)), 1, 1, hooks);
      assert.equal(reset.errorClass, 'ECONNRESET');
    } finally {
      await new Promise((r) => resetting.close(r));
    }
  });

  test(`${transport.kind}: close rst leaves no TIME_WAIT on the client, close fin one per connection`, async () => {
    const srv = await recordingServer();
    try {
      assertAllOk(await withClient(httpOptions(srv.port, { close: 'rst' }), 5, 1, hooks));
      assert.equal(timeWaitOnPort(srv.port), 0);
      assertAllOk(await withClient(httpOptions(srv.port, { close: 'fin' }), 5, 1, hooks));
      // The last close handshake may still be under way (the server's FIN): wait for it, bounded.
      for (let i = 0; i < 50 && timeWaitOnPort(srv.port) < 5; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(timeWaitOnPort(srv.port), 5);
    } finally {
      await srv.close();
    }
  });
}
