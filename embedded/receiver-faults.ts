/**
 * Seeded, deterministic fault injection for the embedded OTLP receiver. Every decision
 * hashes the seed with the identity of what it is about: a request by its first placed
 * data point (metric, series, tick) or first span (trace id, span id), a point by its own
 * (metric, series, tick). The same scenario therefore faults the same requests and points
 * whatever the arrival order, and a retry of a request meets the same decision (unless
 * `faultAttempts` lets it through after its first arrivals).
 *
 * Request faults, in precedence order: `failRequestRatio` (HTTP 503 / gRPC UNAVAILABLE),
 * `throttleRequestRatio` (HTTP 429 / gRPC RESOURCE_EXHAUSTED), both with Retry-After /
 * google.rpc.RetryInfo unless `retryHint` is false; `dropRequestRatio` (200, then
 * discarded: "lost after ack"). Point faults: `rejectDataPointRatio` (partial_success),
 * `dropDataPointRatio` (acknowledged, discarded). `latency` delays the answer.
 * `rejectDeltaTemporality` refuses a whole request holding any delta metric.
 *
 * @see https://opentelemetry.io/docs/specs/otlp/#failures-1
 */
import { hash32, unitFloat } from '../core/rng.ts';
import type { FaultSpec } from '../scenarios/types.ts';

/** Added latency: fixed, uniform in [min, max], or exponential with a mean (capped at max), in ms. */
export type { LatencyFault } from '../scenarios/types.ts';

/**
 * Fault injection of the embedded receiver (normalised: ratios 0..1, durations ms): the
 * scenario's `embedded.receiver.faults` as the loader normalises it.
 */
export type ReceiverFaults = FaultSpec;

/** What a request fault decided. */
export type RequestFault = 'unavailable' | 'throttled' | 'drop' | undefined;

const SALT_FAIL = 0x503;
const SALT_THROTTLE = 0x429;
const SALT_DROP_REQUEST = 0xd209;
const SALT_LATENCY = 0x1a7e;
const SALT_LATENCY_DRAW = 0x1a7f;
const SALT_REJECT_POINT = 0x7e1ec7;
const SALT_DROP_POINT = 0xd20f;

/** True when the seeded draw for this key falls under `ratio`. */
function draw(ratio: number | undefined, ...key: number[]): boolean {
  return ratio !== undefined && ratio > 0 && hash32(...key) / 0x1_0000_0000 < ratio;
}

/** Identity of a request: three unsigned 32-bit numbers (first point's metric, series, tick; or a span's id words). */
export type RequestKey = readonly [number, number, number];

/** Request key of a span: the first 32 bits of its trace id and the two words of its span id. */
export function spanKey(traceIdHex: string, spanIdHex: string): RequestKey {
  const word = (hex: string, at: number): number => Number.parseInt(hex.slice(at, at + 8) || '0', 16) >>> 0;
  return [word(traceIdHex, 0), word(spanIdHex, 0), word(spanIdHex, 8)];
}

/** The decisions of one receiver: pure functions of (seed, key), plus the arrival count per faulted request. */
export class FaultPlan {
  readonly faults: ReceiverFaults;
  readonly #seed: number;
  /** Arrivals per faulted request key, only when `faultAttempts` > 0. */
  readonly #arrivals = new Map<string, number>();

  constructor(seed: number, faults: ReceiverFaults) {
    this.#seed = seed;
    this.faults = faults;
  }

  /** The request-level fault of a request with this key (undefined: none). Counts the arrival. */
  requestFault(key: RequestKey | undefined): RequestFault {
    if (key === undefined) return undefined;
    const f = this.faults;
    const s = this.#seed;
    let fault: RequestFault;
    if (draw(f.failRequestRatio, s, SALT_FAIL, ...key)) fault = 'unavailable';
    else if (draw(f.throttleRequestRatio, s, SALT_THROTTLE, ...key)) fault = 'throttled';
    else if (draw(f.dropRequestRatio, s, SALT_DROP_REQUEST, ...key)) return 'drop';
    if (fault === undefined || !f.faultAttempts) return fault;
    const id = key.join(':');
    const n = (this.#arrivals.get(id) ?? 0) + 1;
    this.#arrivals.set(id, n);
    return n <= f.faultAttempts ? fault : undefined;
  }

  /** Added latency of a request (ms; 0 when none). */
  latencyMs(key: RequestKey | undefined): number {
    const l = this.faults.latency;
    if (l === undefined) return 0;
    const k = key ?? [0, 0, 0];
    if (!draw(this.faults.latencyRequestRatio ?? 1, this.#seed, SALT_LATENCY, ...k)) return 0;
    const u = unitFloat(this.#seed, SALT_LATENCY_DRAW, ...k);
    switch (l.distribution) {
      case 'fixed':
        return l.ms;
      case 'uniform':
        return l.minMs + u * (l.maxMs - l.minMs);
      case 'exponential':
        return Math.min(l.maxMs, -Math.log(1 - u) * l.meanMs);
    }
  }

  /** True when this data point is rejected through partial_success. */
  rejectPoint(metricIndex: number, series: number, tick: number): boolean {
    return draw(this.faults.rejectDataPointRatio, this.#seed, SALT_REJECT_POINT, metricIndex, series, tick);
  }

  /** True when this data point is acknowledged and then discarded. */
  dropPoint(metricIndex: number, series: number, tick: number): boolean {
    return draw(this.faults.dropDataPointRatio, this.#seed, SALT_DROP_POINT, metricIndex, series, tick);
  }

  /** The Retry-After header value for a fault answer, or undefined when hints are off. */
  retryAfterHeader(nowMs: number): string | undefined {
    if (this.faults.retryHint === false) return undefined;
    const seconds = Math.max(1, Math.ceil(this.faults.retryAfterMs / 1000));
    // An HTTP-date has 1 s resolution: round up, so the date never asks for less than `seconds`.
    return this.faults.retryAfterFormat === 'http-date' ? new Date(Math.ceil(nowMs / 1000 + seconds) * 1000).toUTCString() : String(seconds);
  }

  /** The RetryInfo delay for a gRPC fault answer (ms), or undefined when hints are off. */
  retryInfoMs(): number | undefined {
    return this.faults.retryHint === false ? undefined : this.faults.retryAfterMs;
  }
}
