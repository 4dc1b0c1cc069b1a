/**
 * The embedded target's capacity model: the queue is a pure state machine (paced arrivals
 * below capacity never wait, above it each answer comes a service time after the one before,
 * a full queue refuses), and on real sockets answers come when their service ends and a
 * request finding the queue full is answered 503.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import fc from 'fast-check';
import { CapacityQueue, capacityPerSecond } from '../../embedded/target-capacity.ts';
import { startEmbeddedTarget } from '../../embedded/target.ts';
import { parseScenario } from '../../scenarios/load.ts';

test('capacity is servers ÷ service time', () => {
  assert.equal(capacityPerSecond({ serviceTimeMs: 2, servers: 1, queueLimit: 0 }), 500);
  assert.equal(capacityPerSecond({ serviceTimeMs: 4, servers: 3, queueLimit: 0 }), 750);
});

test('paced arrivals below capacity never wait; above it answers fall behind by the excess', () => {
  const below = new CapacityQueue({ serviceTimeMs: 2, servers: 1, queueLimit: 100 });
  for (let i = 0; i < 100; i++) assert.equal(below.admit(i * 2.1), i * 2.1 + 2);
  const above = new CapacityQueue({ serviceTimeMs: 2, servers: 1, queueLimit: 1000 });
  const dues = Array.from({ length: 100 }, (_, i) => above.admit(i * 1.5)!);
  // Every answer is one service time after the previous one: the server never idles.
  for (let i = 1; i < dues.length; i++) assert.equal(dues[i] - dues[i - 1], 2);
  assert.equal(above.waiting(99 * 1.5), 99 - Math.floor((99 * 1.5 - 0) / 2));
});

test('property: no more than `servers` requests are in service at once, FCFS, and a full queue refuses', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 20 }), fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 200 }), (servers, queueLimit, gaps) => {
      const q = new CapacityQueue({ serviceTimeMs: 3, servers, queueLimit });
      let now = 0;
      const admitted: { at: number; due: number }[] = [];
      for (const gap of gaps) {
        now += gap;
        const waitingBefore = q.waiting(now);
        const busy = admitted.filter((a) => a.due > now).length;
        const due = q.admit(now);
        if (due === undefined) {
          assert.ok(waitingBefore >= queueLimit && busy >= servers, 'refused only when every server is busy and the queue is full');
          continue;
        }
        assert.ok(due >= now + 3);
        admitted.push({ at: now, due });
      }
      // In service at any instant: at most `servers` (service intervals [due - 3, due)).
      for (const a of admitted) {
        const overlapping = admitted.filter((b) => b.due - 3 <= a.due - 3 && a.due - 3 < b.due).length;
        assert.ok(overlapping <= servers);
      }
      // FCFS: service starts never decrease in arrival order.
      for (let i = 1; i < admitted.length; i++) assert.ok(admitted[i].due >= admitted[i - 1].due);
    }),
  );
});

/** One request on a new connection, half-closed at once; the status and how long the answer took. */
function request(port: number): Promise<{ status: number; elapsedMs: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    let reply = '';
    const s = connect({ host: '127.0.0.1', port }, () => s.end('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    s.on('data', (b: Buffer) => (reply += b.toString('latin1')));
    s.on('end', () => resolve({ status: Number(reply.slice(9, 12)), elapsedMs: performance.now() - started }));
    s.on('error', reject);
  });
}

test('on real sockets: 8 requests at once to one 20 ms server are answered one after another, and a full queue answers 503', async () => {
  const target = await startEmbeddedTarget({ responseBytes: 2, capacity: { serviceTimeMs: 20, servers: 1, queueLimit: 5 } });
  try {
    const answers = await Promise.all(Array.from({ length: 8 }, () => request(target.port)));
    const ok = answers.filter((a) => a.status === 200).sort((a, b) => a.elapsedMs - b.elapsedMs);
    const refused = answers.filter((a) => a.status === 503);
    // One in service and 5 waiting: 6 served, 2 refused (arrivals within the first service time).
    assert.equal(ok.length, 6);
    assert.equal(refused.length, 2);
    assert.ok(ok[5].elapsedMs >= 6 * 20 - 1, `the last answer came after six service times (${ok[5].elapsedMs} ms)`);
    assert.ok(refused.every((r) => r.elapsedMs < ok[1].elapsedMs), 'refusals are answered at once');
  } finally {
    await target.close();
  }
});

test('the scenario: capacity is normalised, refused beside latency, warned about when nothing meets it', () => {
  const base = 'name: c\nduration: 2s\n';
  const { scenario } = parseScenario(`${base}load: { executor: constant-arrival-rate, rate: 10 }\nembedded: { target: { capacity: { serviceTime: 2ms } } }\n`);
  assert.deepEqual(scenario.embedded.target.capacity, { serviceTimeMs: 2, servers: 1, queueLimit: 10_000 });
  assert.throws(
    () => parseScenario(`${base}load: { executor: constant-arrival-rate, rate: 10 }\nembedded: { target: { capacity: { serviceTime: 2ms }, latency: { distribution: fixed, value: 1ms } } }\n`),
    (e: { code: string; problems: { pointer: string }[] }) => e.code === 'TALLY_CONFIG_INVALID' && e.problems.some((p) => p.pointer === '/embedded/target/capacity'),
  );
  assert.throws(() => parseScenario(`${base}load: { executor: constant-arrival-rate, rate: 10 }\nembedded: { target: { capacity: { serviceTime: 10us } } }\n`), (e: { problems: { pointer: string }[] }) => e.problems.some((p) => p.pointer === '/embedded/target/capacity/serviceTime'));
  const { warnings } = parseScenario(`${base}load: { executor: constant-arrival-rate, rate: 10, target: 'http://127.0.0.1:9/' }\nembedded: { target: { capacity: { serviceTime: 2ms } } }\n`);
  assert.ok(warnings.some((w) => w.pointer === '/embedded/target/capacity'));
});
