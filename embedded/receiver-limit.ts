/**
 * The embedded receiver's throughput limit (`embedded.receiver.limits`): a token bucket of
 * data points, refilled at `dataPointsPerSecond` and holding at most `burstDataPoints`
 * (default one export interval's worth). A metrics request whose data points exceed the
 * tokens left is refused whole, HTTP 429 / gRPC RESOURCE_EXHAUSTED (with Retry-After /
 * RetryInfo as the faults' `retryAfter` says), as an ingestion rate limit does (Mimir's
 * `ingestion_rate` and `ingestion_burst_size`). Its knee is known exactly: S series exported
 * every T seconds pass while S ≤ N × T (the calibration of a cardinality sweep).
 *
 * Time is passed in (monotonic ms), so the bucket is a pure state machine.
 *
 * @see https://en.wikipedia.org/wiki/Token_bucket
 * @see https://grafana.com/docs/mimir/latest/configure/configuration-parameters/#limits (ingestion_rate, ingestion_burst_size)
 */
import type { ReceiverLimits } from '../scenarios/types.ts';

/** A token bucket of data points. */
export class DataPointBucket {
  readonly ratePerSecond: number;
  readonly burst: number;
  #tokens: number;
  #atMs: number | undefined;

  /**
   * @param limits the normalised limits.
   * @param exportIntervalMs the run's export interval: the default burst is one interval's worth.
   */
  constructor(limits: ReceiverLimits, exportIntervalMs: number) {
    this.ratePerSecond = limits.dataPointsPerSecond;
    this.burst = limits.burstDataPoints ?? Math.max(1, Math.round((limits.dataPointsPerSecond * exportIntervalMs) / 1000));
    this.#tokens = this.burst;
  }

  /** Tokens left at `nowMs` (after refilling). */
  tokens(nowMs: number): number {
    if (this.#atMs !== undefined) this.#tokens = Math.min(this.burst, this.#tokens + ((nowMs - this.#atMs) * this.ratePerSecond) / 1000);
    this.#atMs = nowMs;
    return this.#tokens;
  }

  /** Take `points` tokens at `nowMs`; false (nothing taken) when there are not that many. */
  take(points: number, nowMs: number): boolean {
    // A millionth of a point of slack: refills are sums of products of floats.
    if (this.tokens(nowMs) < points - 1e-6) return false;
    this.#tokens -= points;
    return true;
  }
}
