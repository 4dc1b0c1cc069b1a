/**
 * Stopping a run early: the first reason wins (`SIGTERM`, `SIGINT`, or a caller's own), an
 * AbortSignal that every waiting stage can race, and listeners (the shards' ports) told at
 * once. What was measured is kept; results.json then says `complete: false` with the reason.
 */

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
   * Stop on SIGTERM and SIGINT (the reason is the signal's name).
   * @returns a function that removes the handlers.
   */
  handleProcessSignals(): () => void {
    const onSigterm = (): void => this.stop('SIGTERM');
    const onSigint = (): void => this.stop('SIGINT');
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
    }, ms);
    const remove = stop.onStop(() => {
      clearTimeout(timer);
      remove();
      resolve(false);
    });
  });
}
