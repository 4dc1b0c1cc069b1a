/**
 * The embedded target's capacity model (`embedded.target.capacity`): `servers` servers, each
 * taking exactly `serviceTimeMs` per request, fed from one first-come-first-served queue (an
 * M/D/c queue when arrivals are random, D/D/c when they are paced). Its capacity is known
 * exactly, `servers × 1000 / serviceTimeMs` requests per second, which is what a capacity
 * sweep over `load.rate` must find (the calibration of `tally sweep`).
 *
 * Below capacity a request is answered one service time after it arrived (paced arrivals
 * never wait). Above it the queue grows and every answer comes later than the one before;
 * when `queueLimit` requests already wait, a new one is refused at once (HTTP 503), as a
 * server with a bounded accept queue sheds load.
 *
 * Time is the target thread's monotonic clock in ms (`performance.now()`), passed in, so the
 * model itself is a pure state machine.
 *
 * @see https://en.wikipedia.org/wiki/M/D/c_queue
 */
import type { TargetCapacity } from '../scenarios/types.ts';

/** A capacity model, normalised (ms): the scenario's `embedded.target.capacity`. */
export type CapacityModel = TargetCapacity;

/** The capacity of a model in requests per second: servers ÷ service time. */
export function capacityPerSecond(model: CapacityModel): number {
  return (model.servers * 1000) / model.serviceTimeMs;
}

/**
 * The queue of one target: {@link CapacityQueue.admit} decides, for a request arriving at
 * `nowMs`, when its answer is due, or that it is refused.
 */
export class CapacityQueue {
  readonly model: CapacityModel;
  /** When each server is next free (ms). */
  readonly #freeAtMs: Float64Array;
  /** Service start times of the requests admitted and still waiting (a ring; FCFS starts never decrease). */
  readonly #starts: Float64Array;
  #head = 0;
  #length = 0;
  /** Requests refused because the queue was full. */
  refused = 0;

  constructor(model: CapacityModel) {
    this.model = model;
    this.#freeAtMs = new Float64Array(model.servers);
    this.#starts = new Float64Array(model.queueLimit + 1);
  }

  /** Requests waiting for a server at `nowMs`. */
  waiting(nowMs: number): number {
    while (this.#length > 0 && this.#starts[this.#head] <= nowMs) {
      this.#head = (this.#head + 1) % this.#starts.length;
      this.#length--;
    }
    return this.#length;
  }

  /**
   * Admit a request arriving at `nowMs`.
   * @returns when its answer is due (ms, ≥ nowMs + serviceTimeMs), or undefined when the queue is full (refuse it now).
   */
  admit(nowMs: number): number | undefined {
    const server = this.#earliestFree();
    // A full queue: only a request that finds a server free at once is served.
    if (server.atMs > nowMs && this.waiting(nowMs) >= this.model.queueLimit) {
      this.refused++;
      return undefined;
    }
    const startMs = Math.max(nowMs, server.atMs);
    const dueMs = startMs + this.model.serviceTimeMs;
    this.#freeAtMs[server.index] = dueMs;
    if (startMs > nowMs) {
      this.#starts[(this.#head + this.#length) % this.#starts.length] = startMs;
      this.#length++;
    }
    return dueMs;
  }

  #earliestFree(): { index: number; atMs: number } {
    let index = 0;
    for (let s = 1; s < this.#freeAtMs.length; s++) if (this.#freeAtMs[s] < this.#freeAtMs[index]) index = s;
    return { index, atMs: this.#freeAtMs[index] };
  }
}
