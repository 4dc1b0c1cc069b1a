/**
 * Which OTLP answers may be retried, and when: the OTLP specification's failure tables
 * and the OpenTelemetry Collector's retry behaviour. Pure.
 *
 * - OTLP/HTTP: 429, 502, 503, 504 are retryable, every other non-2xx is not; Retry-After
 *   (delay-seconds or HTTP-date) is honoured on 429 and 503.
 * - OTLP/gRPC: CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE and
 *   DATA_LOSS are retryable; RESOURCE_EXHAUSTED only when the status carries a
 *   google.rpc.RetryInfo; every other code is not.
 * - A partial_success is a success: it is never retried.
 * - Delay: exporterhelper's retry sender takes `max(backoff, server hint)`, and gives up
 *   ("no more retries left") when that delay would start the next attempt later than
 *   `max_elapsed_time` after the first.
 *
 * @see https://opentelemetry.io/docs/specs/otlp/#failures (OTLP/gRPC)
 * @see https://opentelemetry.io/docs/specs/otlp/#failures-1 (OTLP/HTTP)
 * @see https://github.com/open-telemetry/opentelemetry-collector/blob/main/exporter/exporterhelper/internal/retry_sender.go
 * @see https://github.com/cenkalti/backoff/blob/v4/exponential.go (randomised interval)
 */
import { unitFloat } from '../core/rng.ts';
import type { ExportAttemptClass } from '../core/messages.ts';
import type { RetryPolicy } from './otlp-exporter-types.ts';

/** gRPC status codes used here. @see https://grpc.github.io/grpc/core/md_doc_statuscodes.html */
export const GRPC = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  RESOURCE_EXHAUSTED: 8,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
} as const;

const RETRYABLE_HTTP = new Set([429, 502, 503, 504]);
const RETRYABLE_GRPC: ReadonlySet<number> = new Set([GRPC.CANCELLED, GRPC.DEADLINE_EXCEEDED, GRPC.ABORTED, GRPC.OUT_OF_RANGE, GRPC.UNAVAILABLE, GRPC.DATA_LOSS]);

/** Class and retryability of a non-2xx OTLP/HTTP status. */
export function classifyHttpStatus(status: number, retryAfterMs: number | undefined): { class: ExportAttemptClass; retryable: boolean } {
  if (!RETRYABLE_HTTP.has(status)) return { class: 'non_retryable_status', retryable: false };
  return { class: (status === 429 || status === 503) && retryAfterMs !== undefined ? 'throttled' : 'retryable_status', retryable: true };
}

/** Class and retryability of a non-OK OTLP/gRPC status; `hasRetryInfo`: the status carried a google.rpc.RetryInfo. */
export function classifyGrpcStatus(code: number, hasRetryInfo: boolean): { class: ExportAttemptClass; retryable: boolean } {
  if (code === GRPC.DEADLINE_EXCEEDED) return { class: 'timeout', retryable: true };
  if (code === GRPC.RESOURCE_EXHAUSTED) return hasRetryInfo ? { class: 'throttled', retryable: true } : { class: 'non_retryable_status', retryable: false };
  if (RETRYABLE_GRPC.has(code)) return { class: hasRetryInfo ? 'throttled' : 'retryable_status', retryable: true };
  return { class: 'non_retryable_status', retryable: false };
}

/**
 * Parse a Retry-After value: delay-seconds (a non-negative integer) or an HTTP-date.
 * @param nowMs epoch ms the date is measured from.
 * @returns ms to wait (≥ 0), or undefined when absent or unreadable.
 * @see https://www.rfc-editor.org/rfc/rfc9110#field.retry-after
 */
export function parseRetryAfterMs(value: string | string[] | undefined, nowMs: number): number | undefined {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (v === undefined || v === '') return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // An HTTP-date names a weekday and month; anything else (a negative or fractional number) is not one.
  if (!/[A-Za-z]/.test(v)) return undefined;
  const date = Date.parse(v);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

const JITTER_SALT = 0x8e7a11;

/**
 * The backoff of one batch: interval i (0-based) is `min(initial · multiplierⁱ, max)`,
 * randomised uniformly by ±`randomizationFactor`, with the draw seeded by
 * (seed, batch sequence, attempt) so delays are the same whatever the interleaving.
 */
export class Backoff {
  readonly #policy: RetryPolicy;
  readonly #seed: number;
  readonly #sequence: number;
  #currentMs: number;
  #draws = 0;

  constructor(policy: RetryPolicy, seed: number, sequence: number) {
    this.#policy = policy;
    this.#seed = seed;
    this.#sequence = sequence;
    this.#currentMs = policy.initialIntervalMs;
  }

  /** The next randomised interval (ms); advances the current interval. */
  nextMs(): number {
    const p = this.#policy;
    const delta = p.randomizationFactor * this.#currentMs;
    const u = unitFloat(this.#seed, JITTER_SALT, this.#sequence, this.#draws++);
    const next = this.#currentMs - delta + u * 2 * delta;
    this.#currentMs = this.#currentMs >= p.maxIntervalMs / p.multiplier ? p.maxIntervalMs : this.#currentMs * p.multiplier;
    return next;
  }
}

/**
 * The delay before the next attempt, or undefined to give up (exporterhelper's rule).
 * @param elapsedMs time since the first attempt started.
 * @param backoffMs this step's randomised backoff.
 * @param hintMs the server's Retry-After / RetryInfo delay, if any.
 */
export function retryDelayMs(policy: RetryPolicy, elapsedMs: number, backoffMs: number, hintMs: number | undefined): number | undefined {
  const delay = hintMs === undefined ? backoffMs : Math.max(backoffMs, hintMs);
  if (policy.maxElapsedTimeMs > 0 && elapsedMs + delay > policy.maxElapsedTimeMs) return undefined;
  return delay;
}
