/**
 * The lab backend's target on loopback: the `x-tally-backend` header, the body, and
 * `tally target` flag handling and shutdown. No root needed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { ConfigError } from '../../core/errors.ts';
import { targetCommand } from '../../embedded/target-process.ts';
import { BACKEND_HEADER, startTaggedTarget } from '../../embedded/tagged-target.ts';

function get(port: number): Promise<{ status: number; backend: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, backend: res.headers[BACKEND_HEADER] as string | undefined, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

test('tagged target names itself in x-tally-backend and counts requests', async () => {
  const target = await startTaggedTarget({ host: '127.0.0.1', port: 0, name: 'be7', responseBytes: 5 });
  try {
    for (let i = 0; i < 3; i++) assert.deepEqual(await get(target.port), { status: 200, backend: 'be7', body: 'okooo' });
    assert.equal(target.requestsServed(), 3);
  } finally {
    await target.close();
  }
});

test('tally target: prints listening/closed JSON lines and stops on abort', async () => {
  const lines: string[] = [];
  const out = { write: (s: string) => lines.push(...s.trim().split('\n')) };
  const stop = new AbortController();
  const running = targetCommand(['--host', '127.0.0.1', '--port', '0', '--name', 'be1'], out, stop.signal);
  for (let i = 0; i < 100 && lines.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  const listening = JSON.parse(lines[0]) as { event: string; port: number; name: string };
  assert.equal(listening.event, 'listening');
  assert.equal((await get(listening.port)).backend, 'be1');
  stop.abort();
  assert.equal(await running, 0);
  assert.deepEqual(JSON.parse(lines[1]), { event: 'closed', name: 'be1', requestsServed: 1 });
});

test('tally target: missing or bad flags are TALLY_USAGE', async () => {
  const out = { write: () => true };
  for (const argv of [[], ['--host', '127.0.0.1', '--port', '0'], ['--host', '127.0.0.1', '--port', 'x', '--name', 'a'], ['--host', '127.0.0.1', '--port', '0', '--name', 'bad name'], ['--nope']]) {
    await assert.rejects(targetCommand(argv, out, AbortSignal.abort()), (e: unknown) => e instanceof ConfigError && e.code === 'TALLY_USAGE', JSON.stringify(argv));
  }
});
