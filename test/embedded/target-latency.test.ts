/**
 * The embedded target's seeded latency: the draws are a pure function of (seed, request
 * number) within the distribution's bounds, and on real sockets each answer waits its
 * delay, pipelined answers keep their order, and a client that half-closes right after its
 * request still gets the answer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { latencyMsOf, targetDelays } from '../../embedded/target-latency.ts';
import { startEmbeddedTarget } from '../../embedded/target.ts';

test('draws: the same seed gives the same delays; uniform within bounds; exponential near its mean and capped', () => {
  const a = targetDelays(7, { distribution: 'uniform', minMs: 4, maxMs: 6 });
  const b = targetDelays(7, { distribution: 'uniform', minMs: 4, maxMs: 6 });
  const xs = Array.from({ length: 2000 }, () => a());
  assert.deepEqual(xs, Array.from({ length: 2000 }, () => b()));
  assert.ok(xs.every((x) => x >= 4 && x < 6));
  assert.ok(Math.abs(xs.reduce((s, x) => s + x, 0) / xs.length - 5) < 0.1);
  const other = targetDelays(8, { distribution: 'uniform', minMs: 4, maxMs: 6 });
  assert.notDeepEqual(Array.from({ length: 10 }, () => other()), xs.slice(0, 10));
  const e = targetDelays(1, { distribution: 'exponential', meanMs: 2, maxMs: 50 });
  const es = Array.from({ length: 5000 }, () => e());
  assert.ok(es.every((x) => x >= 0 && x <= 50));
  assert.ok(Math.abs(es.reduce((s, x) => s + x, 0) / es.length - 2) < 0.15);
  assert.equal(latencyMsOf({ distribution: 'fixed', ms: 3 }, 0.99), 3);
});

/** Send `text` on a new connection and half-close at once; collect the reply until the server ends. */
function exchange(port: number, text: string): Promise<{ reply: string; elapsedMs: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    let reply = '';
    const s = connect({ host: '127.0.0.1', port }, () => s.end(text));
    s.on('data', (b: Buffer) => (reply += b.toString('latin1')));
    s.on('end', () => resolve({ reply, elapsedMs: performance.now() - started }));
    s.on('error', reject);
  });
}

test('on real sockets: each answer waits its delay, pipelined answers keep their order, a half-close still gets its answer', async () => {
  const delays = [40, 5];
  let k = 0;
  const target = await startEmbeddedTarget({ responseBytes: 2, delayMs: () => delays[k++ % 2] });
  try {
    const one = await exchange(target.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(one.reply, /^HTTP\/1\.1 200 /);
    assert.ok(one.elapsedMs >= 39, `answered after ${one.elapsedMs} ms`);
    // Two pipelined requests: the first waits 40 ms, the second only 5 ms, but answers stay in order.
    k = 0;
    const two = await exchange(target.port, 'GET /a HTTP/1.1\r\nHost: x\r\n\r\nHEAD /b HTTP/1.1\r\nHost: x\r\n\r\n');
    const heads = two.reply.split('HTTP/1.1 ').slice(1);
    assert.equal(heads.length, 2);
    assert.ok(heads[0].endsWith('ok'), 'the GET (with a body) is answered first');
    assert.ok(two.elapsedMs >= 39);
    assert.equal(target.requestsServed(), 3);
  } finally {
    await target.close();
  }
});
