/**
 * A measuring thread raises its own priority (its nice value, by its task id), not the
 * process's: with CAP_SYS_NICE (root, as CI runs) it reads back −10 while the main thread
 * stays at its nice; without it, the call reports that nothing changed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { getPriority } from 'node:os';
import { Worker } from 'node:worker_threads';

test('raiseThreadPriority sets the calling thread\'s nice, not the process\'s', async () => {
  const mainBefore = getPriority(0);
  const worker = new Worker(
    `const { readlinkSync } = require('node:fs');
     const { getPriority } = require('node:os');
     import(${JSON.stringify(new URL('../../workers/thread-priority.ts', import.meta.url).href)}).then(({ raiseThreadPriority, MEASURING_THREAD_NICE }) => {
       const set = raiseThreadPriority();
       const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
       require('node:worker_threads').parentPort.postMessage({ set, nice: getPriority(tid), wanted: MEASURING_THREAD_NICE });
     });`,
    { eval: true },
  );
  const [{ set, nice, wanted }] = (await once(worker, 'message')) as [{ set: number | undefined; nice: number; wanted: number }];
  await worker.terminate();
  if (process.geteuid?.() === 0 && process.env.TALLY_THREAD_NICE !== 'off') {
    assert.equal(set, wanted);
    assert.equal(nice, wanted);
  } else {
    assert.equal(set, undefined, 'without CAP_SYS_NICE (or turned off) nothing is set');
  }
  assert.equal(getPriority(0), mainBefore, 'the main thread keeps its own nice');
  assert.notEqual(getPriority(0), wanted);
});
