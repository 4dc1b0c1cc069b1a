/**
 * The arrival clock's thread (see arrival-clock.ts): it sleeps in `Atomics.wait` until the
 * due time the load thread set (a futex with a timeout, precise to tens of µs, where
 * libuv's timers round to whole milliseconds), then posts one message to wake the load
 * thread. It never writes the shared state, so it cannot lose an update.
 *
 * Shared memory (`workerData.state`, 16 bytes): Int32 [0] the arm sequence (bumped on every
 * arm and cancel), Int32 [1] stop; Float64 [1] the due time, in ms of `process.hrtime`
 * (monotonic and the same in every thread of the process), Infinity when disarmed.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { raiseThreadPriority } from './thread-priority.ts';

raiseThreadPriority(); // a clock must wake first to be on time

const ctl = new Int32Array(workerData.state as SharedArrayBuffer, 0, 2);
const due = new Float64Array(workerData.state as SharedArrayBuffer, 8, 1);
const hrNowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

parentPort!.postMessage(-1); // keeping time
let firedSeq = -1;
for (;;) {
  if (Atomics.load(ctl, 1) !== 0) break;
  const seq = Atomics.load(ctl, 0);
  const dueMs = due[0];
  if (seq === firedSeq || !Number.isFinite(dueMs)) {
    Atomics.wait(ctl, 0, seq); // until re-armed (or stopped)
    continue;
  }
  const waitMs = dueMs - hrNowMs();
  if (waitMs > 0) {
    Atomics.wait(ctl, 0, seq, waitMs); // until due, or re-armed meanwhile
    continue;
  }
  firedSeq = seq;
  parentPort!.postMessage(seq);
}
