/**
 * The load part of a shard: a `constant-arrival-rate` open-model loop. Arrivals are
 * paced evenly in time across the whole run (arrival j of the run is due at
 * `start + j / rate`); shard s of n takes arrivals j ≡ s (mod n), so shards interleave
 * rather than bunch.
 *
 * Latency is recorded from the intended start (coordinated-omission corrected) and
 * service time from the actual start. A due arrival that finds the shard at
 * `maxInFlight` is dropped and counted (k6's dropped_iterations); one that starts later
 * than `lateStartThresholdMs` after its intended start is counted as a late start.
 */
import { performance } from 'node:perf_hooks';
import { emptyLoadCounts, LOAD_HISTOGRAMS, STATUS_CLASSES, type LoadHistogramName, type LoadIntervalCounts, type ShardLoadTask } from '../core/messages.ts';
import { createHistogramUs, encodeHistogram, recordUs, type Histogram } from '../core/histogram.ts';
import { churnOnce, type ChurnOptions, type ChurnResult } from './http-churn.ts';

/** Epoch milliseconds (fractional) from this thread's monotonic clock. */
export function epochNowMs(): number {
  return performance.timeOrigin + performance.now();
}


/** Arrivals launched back to back before yielding to I/O, when the loop has fallen behind. */
const MAX_LAUNCHES_PER_TURN = 64;

/** A running load shard. */
export class LoadShard {
  readonly #task: ShardLoadTask;
  readonly #churn: ChurnOptions;
  readonly #startEpochMs: number;
  readonly #endEpochMs: number;
  readonly #shardCount: number;
  readonly #intervalMs: number;
  #next: number;
  #inFlight = 0;
  #stopped = false;
  #counts = emptyLoadCounts();
  #histograms: Record<LoadHistogramName, Histogram>;
  #timer: NodeJS.Timeout | undefined;
  #finish: (() => void) | undefined;

  constructor(task: ShardLoadTask, shard: number, shardCount: number, startEpochMs: number, durationMs: number) {
    this.#task = task;
    this.#shardCount = shardCount;
    this.#startEpochMs = startEpochMs;
    this.#endEpochMs = startEpochMs + durationMs;
    this.#intervalMs = 1000 / task.ratePerSecond;
    this.#next = shard;
    this.#churn = {
      host: task.host,
      port: task.port,
      request: Buffer.from(task.requestText, 'latin1'),
      isHead: task.requestText.startsWith('HEAD '),
      close: task.close,
      connectTimeoutMs: task.connectTimeoutMs,
      requestTimeoutMs: task.requestTimeoutMs,
    };
    this.#histograms = Object.fromEntries(LOAD_HISTOGRAMS.map((n) => [n, createHistogramUs()])) as Record<LoadHistogramName, Histogram>;
  }

  /** Intended start (epoch ms) of global arrival j. */
  #intended(j: number): number {
    return this.#startEpochMs + j * this.#intervalMs;
  }

  /** Run until the schedule ends (or `stop()`), then until in-flight iterations finish. */
  run(): Promise<void> {
    return new Promise((resolve) => {
      this.#finish = resolve;
      this.#turn();
    });
  }

  /** Stop scheduling; in-flight iterations still finish. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#maybeFinish();
  }

  #scheduleDone(): boolean {
    return this.#stopped || this.#intended(this.#next) >= this.#endEpochMs;
  }

  #maybeFinish(): void {
    if (this.#scheduleDone() && this.#inFlight === 0 && this.#finish !== undefined) {
      const f = this.#finish;
      this.#finish = undefined;
      f();
    }
  }

  #turn = (): void => {
    this.#timer = undefined;
    let launched = 0;
    const now = epochNowMs();
    while (!this.#scheduleDone()) {
      const intendedMs = this.#intended(this.#next);
      if (intendedMs > now) break;
      if (launched === MAX_LAUNCHES_PER_TURN) {
        this.#timer = setTimeout(this.#turn, 0);
        return;
      }
      this.#next += this.#shardCount;
      launched++;
      if (this.#inFlight >= this.#task.maxInFlight) {
        this.#counts.droppedIterations++;
        continue;
      }
      if (now - intendedMs > this.#task.lateStartThresholdMs) this.#counts.lateStarts++;
      this.#launch(intendedMs, now);
    }
    if (this.#scheduleDone()) {
      this.#maybeFinish();
      return;
    }
    const waitMs = this.#intended(this.#next) - epochNowMs();
    this.#timer = setTimeout(this.#turn, waitMs > 1 ? Math.floor(waitMs) : 0);
  };

  #launch(intendedMs: number, startedMs: number): void {
    this.#counts.started++;
    this.#inFlight++;
    if (this.#inFlight > this.#counts.maxInFlight) this.#counts.maxInFlight = this.#inFlight;
    churnOnce(this.#churn, (r) => this.#onDone(r, intendedMs, startedMs));
  }

  #onDone(r: ChurnResult, intendedMs: number, startedMs: number): void {
    this.#inFlight--;
    const c = this.#counts;
    const h = this.#histograms;
    c.completed++;
    if (r.errorClass !== undefined) {
      c.errors[r.errorClass]++;
    } else {
      const cls = Math.floor(r.status / 100);
      if (cls >= 1 && cls <= 5) c.statusClasses[STATUS_CLASSES[cls - 1]]++;
      if (cls === 2 || cls === 3) c.ok++;
      // Latency from the intended start: the actual start lagged it by (startedMs - intendedMs).
      recordUs(h.latencyUs, r.totalUs + (startedMs - intendedMs) * 1000);
      recordUs(h.serviceUs, r.totalUs);
      if (r.ttfbUs >= 0) recordUs(h.ttfbUs, r.ttfbUs);
    }
    if (r.connectUs >= 0) recordUs(h.connectUs, r.connectUs);
    this.#maybeFinish();
  }

  /** Take this interval's counters and encoded histograms, and start a new interval. */
  takeInterval(): { counts: LoadIntervalCounts; histograms: Record<LoadHistogramName, string> } {
    const counts = this.#counts;
    this.#counts = emptyLoadCounts();
    this.#counts.maxInFlight = this.#inFlight;
    const histograms = {} as Record<LoadHistogramName, string>;
    for (const name of LOAD_HISTOGRAMS) {
      histograms[name] = encodeHistogram(this.#histograms[name]);
      this.#histograms[name].reset();
    }
    return { counts, histograms };
  }

  /** Free the WebAssembly histograms. */
  destroy(): void {
    for (const name of LOAD_HISTOGRAMS) this.#histograms[name].destroy();
  }
}
