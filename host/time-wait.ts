/**
 * TIME_WAIT sockets of this network namespace (`/proc/net/sockstat`, `TCP: … tw N`), and a
 * wait until they drain below a bound: a capacity sweep starts each step with the table as
 * empty as the previous step left it drained, because a crowded TIME_WAIT table slows
 * connect()'s port search and would penalise the later steps (see bench/churn.ts, which
 * does the same between peers). Linux holds a socket in TIME_WAIT for 60 s.
 *
 * @see https://man7.org/linux/man-pages/man5/proc.5.html (/proc/net/sockstat)
 */
import { readFileSync } from 'node:fs';
import { parseSockstat } from './sockstat.ts';

/** TIME_WAIT sockets now (IPv4 and IPv6 together, as sockstat counts them); 0 when the file cannot be read. */
export function timeWaitSockets(): number {
  try {
    return parseSockstat(readFileSync('/proc/net/sockstat', 'utf8')).TCP?.tw ?? 0;
  } catch {
    return 0;
  }
}

/** How a drain went. */
export interface TimeWaitDrain {
  /** Sockets in TIME_WAIT when the wait began. */
  atStart: number;
  /** Sockets left when it ended. */
  left: number;
  /** Seconds waited (0.1 s resolution). */
  waitedS: number;
  /** True when fewer than the bound were left. */
  drained: boolean;
}

/**
 * Wait (polling every `pollMs`) until fewer than `below` sockets are in TIME_WAIT, at most
 * `maxWaitMs`, or until `signal` aborts.
 * @param read the counter (default {@link timeWaitSockets}; tests inject one).
 */
export async function drainTimeWait(below: number, maxWaitMs: number, options: { signal?: AbortSignal; pollMs?: number; read?: () => number } = {}): Promise<TimeWaitDrain> {
  const read = options.read ?? timeWaitSockets;
  const pollMs = options.pollMs ?? 1000;
  const startMs = performance.now();
  const atStart = read();
  let left = atStart;
  while (left >= below && performance.now() - startMs < maxWaitMs && options.signal?.aborted !== true) {
    await new Promise<void>((resolve) => {
      const signal = options.signal;
      // Each wait removes its own abort listener: the sweep's signal lives across many waits.
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.min(pollMs, Math.max(0, maxWaitMs - (performance.now() - startMs))));
      signal?.addEventListener('abort', done, { once: true });
    });
    left = read();
  }
  return { atStart, left, waitedS: Math.round((performance.now() - startMs) / 100) / 10, drained: left < below };
}
