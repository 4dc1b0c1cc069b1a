/**
 * The tcp-crr echo target: fixed-size requests answered with a fixed number of bytes,
 * pipelined requests on one connection, the backend line, and `tally target --protocol
 * tcp-crr`. Real sockets on loopback.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { echoResponse, startEmbeddedEcho } from '../../embedded/echo.ts';
import { targetCommand } from '../../embedded/target-process.ts';

/** Write `payload` then read until `expectBytes` arrived or `waitMs` passed; returns what arrived. */
function exchange(port: number, payload: Buffer, expectBytes: number, waitMs = 2000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const s = connect({ host: '127.0.0.1', port }, () => s.write(payload));
    const timer = setTimeout(() => finish(), waitMs);
    const finish = (): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(Buffer.concat(chunks));
    };
    s.on('data', (c: Buffer) => {
      chunks.push(c);
      got += c.length;
      if (got >= expectBytes) setTimeout(finish, 30); // linger briefly: extra bytes would show
    });
    s.on('error', reject);
  });
}

test('echoResponse: NAME line when it fits, x padding, exact size', () => {
  assert.equal(echoResponse(8, 'be-1').toString('latin1'), 'be-1\nxxx');
  assert.equal(echoResponse(4, 'be-1').toString('latin1'), 'xxxx');
  assert.equal(echoResponse(3, undefined).toString('latin1'), 'xxx');
});

test('echo target: one response per complete request, requests split or pipelined', async () => {
  const echo = await startEmbeddedEcho({ requestBytes: 4, responseBytes: 6, name: 'e1' });
  try {
    assert.equal((await exchange(echo.port, Buffer.from('abc'), 1, 200)).length, 0); // incomplete request: no answer
    const two = await exchange(echo.port, Buffer.from('abcdefgh'), 12);
    assert.equal(two.toString('latin1'), 'e1\nxxxe1\nxxx');
    assert.equal(echo.requestsServed(), 2);
    assert.equal(echo.connectionsAccepted(), 2);
    assert.equal(echo.bytesReceived(), 11);
  } finally {
    await echo.close();
  }
});

test('tally target --protocol tcp-crr serves the echo protocol and names itself', async () => {
  const lines: string[] = [];
  const ac = new AbortController();
  const running = targetCommand(['--host', '127.0.0.1', '--port', '0', '--name', 'be9', '--protocol', 'tcp-crr', '--request-bytes', '2', '--response-bytes', '10'], {
    write: (t: string) => lines.push(...t.trim().split('\n')),
  }, ac.signal);
  for (let i = 0; i < 100 && lines.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  const listening = JSON.parse(lines[0]) as { event: string; port: number; protocol: string };
  assert.equal(listening.protocol, 'tcp-crr');
  assert.equal((await exchange(listening.port, Buffer.from('hi'), 10)).toString('latin1'), 'be9\nxxxxxx');
  ac.abort();
  assert.equal(await running, 0);
  assert.deepEqual(JSON.parse(lines[1]), { event: 'closed', name: 'be9', requestsServed: 1 });
  await assert.rejects(targetCommand(['--host', '127.0.0.1', '--port', '0', '--name', 'x', '--protocol', 'udp'], { write: () => 0 }), (e: { code: string }) => e.code === 'TALLY_USAGE');
});
