/**
 * Deadlines of the OTLP exporter that do not depend on the transport settling. A
 * transport's attempt is supposed to end by its own timeout or by the abort signal, but
 * one that never settles (an undici request that neither answers nor rejects; a peer that
 * holds the connection open) must not hold a batch, a drain or a run:
 *
 * - an attempt ends at `timeoutMs` + {@link ATTEMPT_GRACE_MS} whatever the transport does
 *   (class `timeout`, retryable, as the exporterhelper's own timeout);
 * - after the exporter is shut down, an attempt still in flight ends within
 *   {@link ABORT_GRACE_MS} (errorCode `ABORTED`: the batch settles `unsettled`);
 * - closing the transport is waited for at most {@link CLOSE_GRACE_MS}.
 *
 * @see https://github.com/open-telemetry/opentelemetry-collector/blob/main/exporter/exporterhelper/README.md (timeout)
 */
import { performance } from 'node:perf_hooks';
import { timerMs } from '../core/timers.ts';
import type { AttemptResult, ExportTransport, OtlpSignal } from './otlp-exporter-types.ts';

/** Beyond an attempt's own timeout, how long the transport may take to say so (ms). */
export const ATTEMPT_GRACE_MS = 1000;
/** After a shutdown aborts an attempt, how long the transport may take to give it up (ms). */
export const ABORT_GRACE_MS = 250;
/** How long closing a transport is waited for (ms). */
export const CLOSE_GRACE_MS = 500;

/**
 * One attempt through `transport`, ended by the transport or by a deadline of its own.
 * @param timeoutMs the attempt's timeout (the transport's own); the hard deadline is this plus {@link ATTEMPT_GRACE_MS}.
 * @param abort the exporter's shutdown signal.
 * @returns the transport's result, or a `timeout` / `ABORTED` result when it did not settle in time. Never rejects.
 */
export function attemptWithDeadline(transport: ExportTransport, signal: OtlpSignal, payload: Uint8Array, abort: AbortSignal, timeoutMs: number): Promise<AttemptResult> {
  const t0 = performance.now();
  const elapsedUs = (): number => Math.round((performance.now() - t0) * 1000);
  return new Promise<AttemptResult>((resolve) => {
    let abortTimer: NodeJS.Timeout | undefined;
    const finish = (result: AttemptResult): void => {
      clearTimeout(deadline);
      clearTimeout(abortTimer);
      abort.removeEventListener('abort', onAbort);
      resolve(result);
    };
    const hardMs = timeoutMs + ATTEMPT_GRACE_MS;
    const deadline = setTimeout(() => finish({
      class: 'timeout', retryable: true, httpStatus: 0, rejectedItems: 0, errorCode: 'ETIMEDOUT',
      message: `no answer within ${hardMs} ms, and the transport did not give up by itself`, durationUs: elapsedUs(),
    }), timerMs(hardMs));
    const onAbort = (): void => {
      abortTimer = setTimeout(() => finish({
        class: 'transport_error', retryable: true, httpStatus: 0, rejectedItems: 0, errorCode: 'ABORTED',
        message: 'exporter shut down; the transport did not give the attempt up', durationUs: elapsedUs(),
      }), ABORT_GRACE_MS);
    };
    if (abort.aborted) onAbort();
    else abort.addEventListener('abort', onAbort, { once: true });
    transport.send(signal, payload, abort).then(finish, (error: unknown) => finish({
      class: 'transport_error', retryable: true, httpStatus: 0, rejectedItems: 0, errorCode: abort.aborted ? 'ABORTED' : 'other',
      message: error instanceof Error ? error.message : String(error), durationUs: elapsedUs(),
    }));
  });
}

/** Close a transport, waiting at most {@link CLOSE_GRACE_MS}. */
export async function closeWithin(transport: ExportTransport): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    transport.close().catch(() => {}),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_GRACE_MS))),
  ]);
  clearTimeout(timer);
}

/**
 * A drain deadline that a later, shorter grace can bring forward (a stop during the
 * end-of-run drain): `wait()` resolves at the earliest deadline set, or when `done()` is called.
 */
export class DrainDeadline {
  #endsAtMs = Number.POSITIVE_INFINITY;
  #timer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;
  readonly #waiting: Promise<void>;

  constructor() {
    this.#waiting = new Promise<void>((resolve) => (this.#wake = resolve));
  }

  /** End the wait `graceMs` from now, unless it already ends sooner. */
  shorten(graceMs: number): void {
    const nowMs = performance.now();
    const endsAtMs = nowMs + Math.max(0, graceMs);
    if (endsAtMs >= this.#endsAtMs) return;
    this.#endsAtMs = endsAtMs;
    clearTimeout(this.#timer);
    // Whole milliseconds, as the attempts' own timeouts: a drain as long as an attempt's
    // timeout, started after it, must end after it (Node orders equal timers by creation).
    this.#timer = setTimeout(() => this.done(), timerMs(Math.ceil(endsAtMs - nowMs)));
  }

  /** End the wait now. */
  done(): void {
    clearTimeout(this.#timer);
    this.#wake?.();
  }

  /** Resolves when the deadline passes or {@link done} is called. */
  wait(): Promise<void> {
    return this.#waiting;
  }
}
