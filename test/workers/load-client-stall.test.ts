/**
 * A timeout after the connect completed, with the request never written, is the
 * generator's own stall, not the target's: the client's event loop is blocked right after
 * it started connecting, for longer than the connect timeout; the kernel completes the
 * connect meanwhile (loopback), and when the loop runs again the deadline and the
 * completed connect are both due. A connect that never completes stays a target-side
 * ETIMEDOUT. Real sockets on loopback.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import { GENERATOR_SIDE_ERRORS as REPORTED_GENERATOR_SIDE } from '../../reports/load-results.ts';
import { createLoadClient, GENERATOR_SIDE_ERRORS, type RequestResult } from '../../workers/load-client.ts';
import { TimeoutWheel } from '../../workers/timeout-wheel.ts';
import { httpOptions } from './load-client-helpers.ts';

function busyWait(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

/** One iteration whose thread stalls `stallMs` right after the connect starts. */
async function stalledIteration(port: number, stallMs: number): Promise<RequestResult> {
  const client = createLoadClient(httpOptions(port, { connectTimeoutMs: 50 }), { wheel: new TimeoutWheel(5) });
  try {
    return await new Promise<RequestResult>((resolve) => {
      // Started in the loop's check phase, so that after the stall the timers phase (the
      // wheel's scan) runs before the poll phase delivers the completed connect, whatever
      // phase the test was called from.
      setImmediate(() => {
        let result: RequestResult | undefined;
        client.iterate((r) => (result = r), () => resolve(result as RequestResult));
        // After the connect call (queued on the tick queue when it is deferred), before any I/O is handled.
        if (stallMs > 0) process.nextTick(() => busyWait(stallMs));
      });
    });
  } finally {
    await client.close();
  }
}

test('a connect timeout whose connect had completed, the request never written, is generator_stall (generator side)', async () => {
  let requests = 0;
  const server = createServer((socket) => {
    socket.on('data', () => requests++);
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const r = await stalledIteration((server.address() as AddressInfo).port, 200);
    assert.equal(r.errorClass, 'generator_stall');
    assert.equal(r.connectUs, -1, 'the connect is not timed: the generator never saw it in time');
    assert.ok(GENERATOR_SIDE_ERRORS.has('generator_stall'));
    assert.ok((REPORTED_GENERATOR_SIDE as readonly string[]).includes('generator_stall'));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(requests, 0, 'the request was never written');
  } finally {
    await new Promise((r) => server.close(r));
  }
});

test('a stall that ends just after the connect deadline is still generator_stall: the scan came long after the previous one', async () => {
  const server = createServer((socket) => socket.on('error', () => {}).resume());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    // Deadline at 50 ms, stall until about 56 ms: the deadline is handled only ~6 ms late (within
    // the 5 ms tick + 20 ms), but the wheel's scan comes ~56 ms after the one before it.
    const r = await stalledIteration((server.address() as AddressInfo).port, 56);
    assert.equal(r.errorClass, 'generator_stall');
  } finally {
    await new Promise((r) => server.close(r));
  }
});

test('the wheel tells how long since its previous scan', async () => {
  const wheel = new TimeoutWheel(5);
  const gaps: number[] = [];
  const start = performance.now();
  wheel.arm({ deadlineMs: start + 1, onDeadline: () => gaps.push(wheel.scanGapMs) });
  busyWait(60);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(gaps.length, 1);
  assert.ok(gaps[0] >= 60, `gap ${gaps[0]} ms after a 60 ms stall`);
});

/** A listener whose accept queue is full and whose thread never accepts: further SYNs are dropped, so a connect never completes. */
async function fullListener(): Promise<{ port: number; close(): Promise<void> }> {
  const release = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(
    `const { createServer } = require('node:net');
     const { parentPort, workerData } = require('node:worker_threads');
     const server = createServer(() => {});
     server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
       parentPort.postMessage(server.address().port);
       Atomics.wait(workerData, 0, 0); // never accepts until released
       process.exit(0);
     });`,
    { eval: true, workerData: release },
  );
  const [port] = (await once(worker, 'message')) as [number];
  // Fill the accept queue (backlog + 1 completed connections); later SYNs are dropped.
  const fillers = Array.from({ length: 3 }, () => connect(port, '127.0.0.1').on('error', () => {}));
  await new Promise((r) => setTimeout(r, 100));
  return {
    port,
    close: async () => {
      Atomics.store(release, 0, 1);
      Atomics.notify(release, 0);
      await once(worker, 'exit');
      for (const f of fillers) f.destroy();
    },
  };
}

for (const stallMs of [0, 200]) {
  test(`a connect that never completes is still ETIMEDOUT (target side), stall ${stallMs} ms`, async () => {
    const listener = await fullListener();
    try {
      const r = await stalledIteration(listener.port, stallMs);
      assert.equal(r.errorClass, 'ETIMEDOUT');
      assert.ok(!GENERATOR_SIDE_ERRORS.has('ETIMEDOUT'));
    } finally {
      await listener.close();
    }
  });
}
