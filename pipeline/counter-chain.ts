/**
 * A source of counters (the collector's self-metrics, Prometheus's, Tempo's or Jaeger's own
 * `/metrics`) read periodically while the run goes, with the deltas between consecutive
 * readings chained into one run-window delta, as PromQL's `increase()` does: a counter that
 * goes down between two readings was reset (a restart), and its value after the reset is
 * that interval's increase. Read only at the start and the end, a restart mid-run would
 * lose everything counted before it (a live Tempo 2.0.1 restarted mid-run reported 5,978
 * spans received where it had received 7,500).
 *
 * What is still lost: the counts between the last reading before a restart and the restart
 * itself (at most one interval's), and an interval whose counter ends above where it
 * started although it was reset in between. A reading that fails (the backend is down) is
 * skipped: the next one is chained to the last that succeeded.
 */
import type { CounterFlag } from '../readback/otelcol/counter-delta.ts';
import type { WaterfallCounterReadings } from '../reconcile/waterfall.ts';

/** How one source's counters were read (results.json `waterfalls[].counters`). */
export type CounterReadings = WaterfallCounterReadings;

/** What a chain needs of a source. */
export interface CounterSource<S, D> {
  /** The name in {@link CounterReadings.source}. */
  name: string;
  /** Read the counters once. @throws anything: a failed reading, skipped. */
  read(): Promise<S>;
  /** The delta between two readings (resets handled per series, flagged). */
  delta(before: S, after: S): D;
  /** Sum consecutive deltas into one. */
  sum(deltas: readonly D[]): D;
  /** The reset and vanish flags of a delta. */
  flags(delta: D): readonly CounterFlag[];
  /**
   * Whether the source's process restarted between two readings (its start time changed).
   * Then every counter of the second reading counted from zero since the restart, whatever
   * the first said: the delta is taken from {@link empty}.
   */
  restarted?(before: S, after: S): boolean;
  /** A reading with no counters (what a process has at its start). */
  empty?(): S;
}

/** One source's readings over the run, chained. */
export class CounterChain<S, D> {
  readonly #source: CounterSource<S, D>;
  readonly #intervalMs: number;
  readonly #onProblem: (error: unknown) => void;
  readonly #deltas: D[] = [];
  #last: S | undefined;
  #readings = 0;
  #failed = 0;
  #restarts = 0;
  #timer: NodeJS.Timeout | undefined;
  #pending: Promise<void> = Promise.resolve();

  /**
   * @param intervalMs time between readings while polling.
   * @param onProblem called with the error of the first failed reading (the others are counted).
   */
  constructor(source: CounterSource<S, D>, intervalMs: number, onProblem: (error: unknown) => void) {
    this.#source = source;
    this.#intervalMs = intervalMs;
    this.#onProblem = onProblem;
  }

  /** Whether the first reading succeeded (a chain without it has no window to report). */
  get started(): boolean {
    return this.#readings > 0;
  }

  /** Take a reading now (the first one before any export). */
  async read(): Promise<void> {
    await this.#read();
  }

  /** Read every `intervalMs` until {@link finish}. */
  startPolling(): void {
    if (this.#timer !== undefined || !this.started) return;
    this.#timer = setInterval(() => {
      this.#pending = this.#pending.then(() => this.#read());
    }, this.#intervalMs);
    this.#timer.unref();
  }

  /**
   * The last reading, and the chained delta since the first.
   * @returns undefined when the first reading failed, or no reading after it succeeded.
   */
  async finish(): Promise<{ delta: D; readings: CounterReadings } | undefined> {
    this.stop();
    await this.#pending;
    if (!this.started) return undefined;
    await this.#read();
    if (this.#deltas.length === 0) return undefined;
    const delta = this.#source.sum(this.#deltas);
    // A series that went down, or vanished (a restarted process exposes a counter again only at its first increment).
    const resets = this.#source.flags(delta).filter((f) => f.kind === 'reset' || f.kind === 'vanished').length;
    return { delta, readings: { source: this.#source.name, readings: this.#readings, failedReadings: this.#failed, resets, restarts: this.#restarts, intervalMs: this.#intervalMs } };
  }

  /** Stop polling (idempotent). */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #read(): Promise<void> {
    let reading: S;
    try {
      reading = await this.#source.read();
    } catch (error) {
      if (this.#failed === 0) this.#onProblem(error);
      this.#failed++;
      return;
    }
    if (this.#last !== undefined) {
      const restarted = this.#source.restarted?.(this.#last, reading) === true && this.#source.empty !== undefined;
      if (restarted) this.#restarts++;
      this.#deltas.push(this.#source.delta(restarted ? this.#source.empty!() : this.#last, reading));
    }
    this.#last = reading;
    this.#readings++;
  }
}
