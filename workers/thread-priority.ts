/**
 * A load thread's scheduling priority. A thread that measures must run the moment its
 * socket or timer is ready: on a machine whose cores are busy (the target beside it, other
 * processes), a woken thread waits for a core, and every stamp it takes then is late by
 * that wait. Raising the priority (lowering the nice value) of the measuring threads alone (not the process, not
 * the target) makes the kernel run them first when they wake; they use little CPU, so
 * others lose little. Linux lets a thread's nice be set by its own task id
 * (`/proc/thread-self`); lowering it below 0 needs CAP_SYS_NICE (root), and without it the
 * thread keeps its priority.
 *
 * @see https://man7.org/linux/man-pages/man2/setpriority.2.html (threads: PRIO_PROCESS with a TID)
 * @see https://man7.org/linux/man-pages/man5/proc_pid_task.5.html (/proc/thread-self)
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/** The nice value measuring threads ask for (−20 highest … 19 lowest; 0 is the default). */
export const MEASURING_THREAD_NICE = -10;

/**
 * Raise the calling thread's priority.
 * @returns the nice value now in force, or undefined when it could not be set (no privilege, not Linux).
 */
export function raiseThreadPriority(nice = MEASURING_THREAD_NICE): number | undefined {
  if (process.env.TALLY_THREAD_NICE === 'off') return undefined;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return undefined;
    setPriority(tid, nice);
    return nice;
  } catch {
    return undefined;
  }
}
