/**
 * The churn bench's parts: wrk and stub_status parsing, the generated tally scenario (it
 * must validate), flags, the bench registry, and a real nginx from bench/nginx.ts (started,
 * counted, stopped). The full bench (`npm run bench -- churn`) is not run here: it takes
 * minutes and measures the machine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { childCpuSeconds, median, parseChurnFlags, roundOrder } from '../../bench/churn.ts';
import { parseStubStatus, startNginx } from '../../bench/nginx.ts';
import { parseWrk, tallyLoad, tallyScenario } from '../../bench/peers.ts';
import { BENCHES, runBench } from '../../bench/run.ts';
import { parseScenario } from '../../scenarios/load.ts';

const WRK_SAMPLE = `Running 10s test @ http://127.0.0.1:8080/
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.10ms  512.00us  10.00ms   70.00%
    Req/Sec     9.90k   500.00    11.00k    75.00%
  197000 requests in 10.00s, 27.00MB read
  Socket errors: connect 1, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 4
Requests/sec:  19700.12
Transfer/sec:      2.70MB
`;

test('parseWrk reads Requests/sec, totals and errors; no summary is a bad reply', () => {
  assert.deepEqual(parseWrk(WRK_SAMPLE), { requestsPerSecond: 19700.12, requests: 197000, socketErrors: 6, non2xx: 4 });
  assert.throws(() => parseWrk('unable to connect'), (e: { code: string }) => e.code === 'TALLY_COLLECTOR_BAD_REPLY');
});

test('parseStubStatus reads accepts and requests', () => {
  const text = 'Active connections: 1 \nserver accepts handled requests\n 12 12 30 \nReading: 0 Writing: 1 Waiting: 0 \n';
  assert.deepEqual(parseStubStatus(text), { accepts: 12, requests: 30 });
  assert.throws(() => parseStubStatus('nope'), (e: { code: string }) => e.code === 'TALLY_COLLECTOR_BAD_REPLY');
});

test('the generated tally scenario validates against the scenario schema', () => {
  const text = tallyScenario(tallyLoad('http://127.0.0.1:8080/', 64, 2), 10);
  const { scenario } = parseScenario(text, 'bench-churn.yaml');
  assert.deepEqual(scenario.load?.executor, { executor: 'constant-vus', vus: 64 });
  assert.equal(scenario.load?.connection.reuse, 'never');
});

test('flags: defaults, and bad values are TALLY_USAGE', () => {
  assert.deepEqual(parseChurnFlags([]), { durationS: 10, settleS: 75, connections: 64, threads: 2, nginxWorkers: 1, rounds: 2, drainedBelow: 200, netns: 'auto' });
  assert.equal(parseChurnFlags(['--netns', 'off']).netns, 'off');
  assert.throws(() => parseChurnFlags(['--netns', 'maybe']), (e: { code: string }) => e.code === 'TALLY_USAGE');
  assert.equal(parseChurnFlags(['--duration', '3']).durationS, 3);
  assert.throws(() => parseChurnFlags(['--rounds', '1']), (e: { code: string }) => e.code === 'TALLY_USAGE');
  assert.throws(() => parseChurnFlags(['--duration', '0']), (e: { code: string }) => e.code === 'TALLY_USAGE');
  assert.throws(() => parseChurnFlags(['--bogus']), (e: { code: string }) => e.code === 'TALLY_USAGE');
});

test('the registry lists churn and refuses unknown names', async () => {
  for (const name of ['churn', 'encode', 'reconcile']) assert.ok(Object.hasOwn(BENCHES, name), name);
  await assert.rejects(runBench(['nope'], { write: () => 0 }), (e: { code: string }) => e.code === 'TALLY_USAGE');
  let text = '';
  assert.equal(await runBench([], { write: (t: string) => (text += t) }), 2);
  assert.match(text, /churn/);
});

test('fairness: the order alternates between rounds, figures are medians', () => {
  assert.deepEqual(roundOrder(0), ['wrk', 'autocannon', 'tally']);
  assert.deepEqual(roundOrder(1), ['tally', 'autocannon', 'wrk']);
  assert.deepEqual(roundOrder(2), roundOrder(0));
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([]), undefined);
});

test('children\'s CPU comes from /proc/self/stat cutime + cstime, past a command name with spaces', () => {
  // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime …
  const stat = '4242 (node my (bench)) S 1 4242 4242 0 -1 4194560 100 0 0 0 50 20 310 90 20 0 11 0 1000 0 0\n';
  assert.equal(childCpuSeconds(stat, 100), 4);
});

test('bench nginx: answers 200, closes after each response, counts accepts, stops', async () => {
  const nginx = await startNginx(1);
  try {
    const before = await nginx.counters();
    for (let i = 0; i < 3; i++) {
      // keepalive_timeout 0: nginx answers and closes, even though HTTP/1.1 would persist.
      const reply = await new Promise<string>((resolve, reject) => {
        let text = '';
        const s = connect({ host: '127.0.0.1', port: nginx.port }, () => s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
        s.setTimeout(2000, () => s.destroy(new Error('nginx did not close')));
        s.on('data', (b: Buffer) => (text += b.toString('latin1')));
        s.on('end', () => resolve(text));
        s.on('error', reject);
      });
      assert.match(reply, /^HTTP\/1\.1 200 /);
      assert.match(reply, /\r\n\r\nok\n$/);
    }
    const after = await nginx.counters();
    assert.equal(after.accepts - before.accepts, 3 + 1); // + the stub_status request itself
  } finally {
    await nginx.stop();
  }
  await assert.rejects(nginx.counters());
});
