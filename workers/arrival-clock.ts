/**
 * When the next open-model arrival is due, wake the load thread on time.
 *
 * libuv's timers count whole milliseconds from a loop time taken at the start of each loop
 * turn, so `setTimeout` fires 0–2 ms after the time it was asked for: at 500–2,000
 * arrivals/s that was a scheduler lag of p50 0.5–0.8 ms and p99 3.6–4.7 ms. The clock
 * here is a small thread of its own (arrival-clock-thread.ts) that sleeps in
 * `Atomics.wait` with a sub-millisecond timeout and posts a message at the due time; the
 * message wakes the load thread's event loop at once (a libuv async handle). It costs one
 * message per wake (a few µs) and a thread that sleeps.
 *
 * One clock per load thread, started when the thread warms up and kept (unref'd) for the
 * shards it runs; a thread that cannot start it falls back to `setTimeout`.
 */
import { Worker } from 'node:worker_threads';

const hrNowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** Wakes its owner at a due time. */
export interface ArrivalClock {
  /** `precise` (the clock thread) or `timer` (setTimeout, the fallback). */
  readonly kind: 'precise' | 'timer';
  /**
   * Call `onWake` once, `inMs` from now (ms, fractional); replaces any earlier request.
   * @param inMs ≤ 0 wakes on the next turn.
   */
  wakeIn(inMs: number, onWake: () => void): void;
  /** Forget the pending request. */
  cancel(): void;
  /** Resolves once the clock can keep time (its thread has started). */
  readonly ready: Promise<void>;
}

class TimerClock implements ArrivalClock {
  readonly kind = 'timer';
  readonly ready = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;

  wakeIn(inMs: number, onWake: () => void): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(onWake, inMs > 1 ? Math.floor(inMs) : 0);
  }

  cancel(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

class PreciseClock implements ArrivalClock {
  readonly kind = 'precise';
  readonly #worker: Worker;
  readonly #ctl: Int32Array;
  readonly #due: Float64Array;
  #armedSeq = -1;
  #onWake: (() => void) | undefined;
  #fallback: TimerClock | undefined;
  #stopping = false;
  readonly ready: Promise<void>;

  constructor() {
    const state = new SharedArrayBuffer(16);
    this.#ctl = new Int32Array(state, 0, 2);
    this.#due = new Float64Array(state, 8, 1);
    this.#due[0] = Number.POSITIVE_INFINITY;
    this.#worker = new Worker(new URL('./arrival-clock-thread.ts', import.meta.url), { workerData: { state } });
    // A clock thread that dies (an error, or an exit nobody asked for) leaves its owner on
    // setTimeout: late wakes, never missed ones.
    const fallBack = (): void => {
      if (this.#fallback !== undefined || this.#stopping) return;
      this.#fallback = new TimerClock();
      if (this.#onWake !== undefined) this.#fallback.wakeIn(Math.max(0, this.#due[0] - hrNowMs()), this.#onWake);
    };
    this.#worker.on('error', fallBack);
    this.#worker.on('exit', fallBack);
    // The thread says -1 once it keeps time; until then it holds the loop open, then lets go.
    this.ready = new Promise<void>((resolve) => {
      const started = (seq: number): void => {
        if (seq !== -1) return;
        this.#worker.off('message', started);
        this.#worker.unref();
        resolve();
      };
      this.#worker.on('message', started);
      this.#worker.once('error', () => resolve());
      this.#worker.once('exit', () => resolve());
    });
    this.#worker.on('message', (seq: number) => {
      if (seq !== this.#armedSeq || this.#onWake === undefined) return; // re-armed or cancelled meanwhile
      const f = this.#onWake;
      this.#onWake = undefined;
      f();
    });
  }

  wakeIn(inMs: number, onWake: () => void): void {
    if (this.#fallback !== undefined) return this.#fallback.wakeIn(inMs, onWake);
    this.#onWake = onWake;
    this.#due[0] = hrNowMs() + inMs;
    this.#armedSeq = Atomics.add(this.#ctl, 0, 1) + 1;
    Atomics.notify(this.#ctl, 0);
  }

  cancel(): void {
    this.#fallback?.cancel();
    this.#onWake = undefined;
    this.#due[0] = Number.POSITIVE_INFINITY;
    Atomics.add(this.#ctl, 0, 1);
    Atomics.notify(this.#ctl, 0);
  }

  /** Stop the thread (tests; a load thread keeps its clock). */
  stop(): Promise<number> {
    this.#stopping = true;
    Atomics.store(this.#ctl, 1, 1);
    Atomics.notify(this.#ctl, 0);
    return this.#worker.terminate();
  }
}

let shared: ArrivalClock | undefined;

/** The thread's arrival clock (started on first use). `TALLY_ARRIVAL_CLOCK=timer` forces the setTimeout fallback. */
export function arrivalClock(): ArrivalClock {
  if (shared === undefined) {
    try {
      shared = process.env.TALLY_ARRIVAL_CLOCK === 'timer' ? new TimerClock() : new PreciseClock();
    } catch {
      shared = new TimerClock();
    }
  }
  return shared;
}

/** A new clock of a kind, for tests (stop a precise one with `stop()`). */
export function newArrivalClock(kind: 'precise' | 'timer'): ArrivalClock & { stop?: () => Promise<number> } {
  return kind === 'precise' ? new PreciseClock() : new TimerClock();
}
