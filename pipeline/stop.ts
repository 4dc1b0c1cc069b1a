/**
 * Stopping a run early: the first reason wins (`SIGTERM`, `SIGINT`, or a caller's own), an
 * AbortSignal that every waiting stage can race, and listeners (the shards' ports) told at
 * once. What was measured is kept; results.json then says `complete: false` with the reason.
 *
 * A second signal does not wait for the orderly stop: the process exits at once (130 for
 * SIGINT, 143 for SIGTERM), after the caller's synchronous last words (a results.json
 * written synchronously).
 */
import { timerMs } from '../core/timers.ts';

/** Exit code of a process stopped by a signal, as shells report it (128 + the signal's number). */
export const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;

/** Options of {@link StopControl.handleProcessSignals}. */
export interface SignalOptions {
  /** Run synchronously before a second signal exits the process (its errors are ignored). */
  lastWords?: (signal: 'SIGINT' | 'SIGTERM') => void;
}

/** One run's stop switch. */
export class StopControl {
  #reason: string | undefined;
  readonly #controller = new AbortController();
  readonly #listeners = new Set<(reason: string) => void>();

  /** Why the run was stopped, or undefined while it runs. */
  get reason(): string | undefined {
    return this.#reason;
  }

  /** Aborted when the run is stopped. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Stop the run; later calls keep the first reason. */
  stop(reason: string): void {
    if (this.#reason !== undefined) return;
    this.#reason = reason;
    this.#controller.abort(reason);
    for (const listener of this.#listeners) listener(reason);
  }

  /** Call `listener` when the run stops (at once if it already has). @returns a remover. */
  onStop(listener: (reason: string) => void): () => void {
    if (this.#reason !== undefined) listener(this.#reason);
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Stop on SIGTERM and SIGINT (the reason is the signal's name); on a second one, exit
   * at once with {@link SIGNAL_EXIT_CODES} after `options.lastWords`.
   * @returns a function that removes the handlers.
   */
  handleProcessSignals(options: SignalOptions = {}): () => void {
    let signalled = false;
    const on = (signal: 'SIGINT' | 'SIGTERM') => (): void => {
      if (signalled) {
        try {
          options.lastWords?.(signal);
        } catch {
          // Exiting anyway: the user asked twice.
        }
        process.exit(SIGNAL_EXIT_CODES[signal]);
      }
      signalled = true;
      this.stop(signal);
    };
    const onSigterm = on('SIGTERM');
    const onSigint = on('SIGINT');
    process.on('SIGTERM', onSigterm);
    process.on('SIGINT', onSigint);
    return () => {
      process.off('SIGTERM', onSigterm);
      process.off('SIGINT', onSigint);
    };
  }
}

/**
 * Wait `ms`, or less when the run is stopped first.
 * @returns whether the full wait elapsed.
 */
export async function waitUnlessStopped(ms: number, stop: StopControl): Promise<boolean> {
  if (stop.reason !== undefined) return false;
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => {
      remove();
      resolve(true);
    }, timerMs(ms));
    const remove = stop.onStop(() => {
      clearTimeout(timer);
      remove();
      resolve(false);
    });
  });
}

/**
 * Wait for `work`, but no longer than `graceMs` after the run is stopped (and, when given,
 * no longer than `deadlineMs` in all): a phase whose peer never answers must not hold a
 * stopped run. The work goes on in the background when it is given up; its later
 * rejection is swallowed.
 * @returns `{ done: true, value }`, or `{ done: false }` when it was given up.
 * @throws what `work` throws when it settles in time.
 */
export async function raceStop<T>(work: Promise<T>, stop: StopControl, graceMs: number, deadlineMs?: number): Promise<{ done: true; value: T } | { done: false }> {
  let stopTimer: NodeJS.Timeout | undefined;
  let deadlineTimer: NodeJS.Timeout | undefined;
  let removeStop: () => void = () => {};
  const givenUp = new Promise<{ done: false }>((resolve) => {
    removeStop = stop.onStop(() => (stopTimer = setTimeout(() => resolve({ done: false }), timerMs(graceMs))));
    if (deadlineMs !== undefined) deadlineTimer = setTimeout(() => resolve({ done: false }), timerMs(deadlineMs));
  });
  work.catch(() => {});
  try {
    return await Promise.race([work.then((value) => ({ done: true as const, value })), givenUp]);
  } finally {
    removeStop();
    clearTimeout(stopTimer);
    clearTimeout(deadlineTimer);
  }
}

/**
 * Run a stepped computation (a generator that yields between steps), yielding to the event
 * loop between steps so that signals are handled, and giving up `graceMs` after the run is
 * stopped.
 * @returns the computation's result, or undefined when it was given up.
 */
export async function stepUnlessStopped<T>(steps: Generator<void, T, void>, stop: StopControl, graceMs: number): Promise<T | undefined> {
  let stoppedAtMs: number | undefined;
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (stop.reason !== undefined) {
      stoppedAtMs ??= performance.now();
      if (performance.now() - stoppedAtMs >= graceMs) return undefined;
    }
  }
}
