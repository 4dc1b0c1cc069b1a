/**
 * The TIME_WAIT connect cliff, detected live: each interval's mean connect-call time (the
 * kernel's port search in connect(2)) against the lowest interval mean seen so far. Once
 * TIME_WAIT sockets hold the half of the port range connect() searches first, the call
 * goes from about 12–30 µs to milliseconds (3.6–5.2 ms measured on Linux 6.18 at ~32,000
 * TIME_WAIT), and the start rate falls with it. Pure: fed the interval lines as they are
 * written.
 *
 * @see scenarios/port-budget.ts (the forecast of the same cliff)
 */
import type { IntervalLine } from './aggregate.ts';

/** A mean connect call at least this long (µs) can be the cliff… */
export const CLIFF_MIN_MEAN_US = 200;
/** …when it is also this many times the lowest interval mean of the run. */
export const CLIFF_FACTOR = 20;

/** What the watch saw. */
export interface ConnectCliff {
  /** Intervals whose mean connect call was over the cliff threshold. */
  intervals: number;
  /** The first such interval: its end (ms since the run start), mean connect call (µs), and TIME_WAIT sockets then (null when not read in the sockets' namespace). */
  firstEndMs: number;
  firstMeanUs: number;
  firstTimeWait: number | null;
  /** The lowest interval mean before it (µs). */
  baselineUs: number;
  /** The highest interval mean (µs). */
  worstMeanUs: number;
}

/** Watches interval lines for the connect cliff. */
export class ConnectCliffWatch {
  readonly #timeWaitKnown: boolean;
  #baselineUs = Number.POSITIVE_INFINITY;
  #cliff: ConnectCliff | undefined;

  /** @param timeWaitKnown whether `line.datapath['sockstat.TCP.tw']` counts the sockets' own namespace. */
  constructor(timeWaitKnown: boolean) {
    this.#timeWaitKnown = timeWaitKnown;
  }

  /** Take one interval line. */
  observe(line: IntervalLine): void {
    const mean = line.load?.connectCallUs?.mean;
    if (mean === undefined) return;
    const over = mean >= CLIFF_MIN_MEAN_US && mean >= CLIFF_FACTOR * this.#baselineUs;
    if (!over) {
      if (mean < this.#baselineUs) this.#baselineUs = mean;
      return;
    }
    const c = this.#cliff;
    if (c === undefined) {
      const tw = this.#timeWaitKnown ? line.datapath?.['sockstat.TCP.tw'] : undefined;
      this.#cliff = { intervals: 1, firstEndMs: line.endMs, firstMeanUs: mean, firstTimeWait: tw ?? null, baselineUs: this.#baselineUs, worstMeanUs: mean };
    } else {
      c.intervals++;
      if (mean > c.worstMeanUs) c.worstMeanUs = mean;
    }
  }

  /** The cliff, if the run met it. */
  get cliff(): ConnectCliff | undefined {
    return this.#cliff === undefined ? undefined : { ...this.#cliff };
  }
}

/**
 * The finding a cliff makes.
 * @returns kind `time_wait_connect_cliff`, counted in intervals over the threshold.
 */
export function connectCliffFinding(c: ConnectCliff): { kind: string; count: number; detail: string } {
  const tw = c.firstTimeWait === null ? 'TIME_WAIT not read in the sockets\' namespace' : `${c.firstTimeWait.toLocaleString('en-US')} TIME_WAIT sockets`;
  return {
    kind: 'time_wait_connect_cliff',
    count: c.intervals,
    detail: `connect() took ${Math.round(c.firstMeanUs)} µs on average from ${(c.firstEndMs / 1000).toFixed(0)} s (lowest before: ${Math.round(c.baselineUs)} µs; worst ${Math.round(c.worstMeanUs)} µs) with ${tw}: TIME_WAIT holds the half of the port range connect() searches first, so every connect scans it; tcp_tw_reuse, close: rst, more source addresses or a lower rate avoid it`,
  };
}
