/**
 * One measurement output: a bounded queue of snapshots and one sender that takes them in
 * order, up to `maxSnapshotsPerRequest` per request, with retries (exponential backoff,
 * doubled per retry, capped; given up after `maxElapsedTime`) and a deadline per attempt.
 * One request at a time, so samples reach the endpoint in timestamp order.
 *
 * The queue holds `queueSnapshots`; a full queue drops its oldest snapshot (never the final
 * one): snapshots are cumulative, so a lost one costs resolution, not totals. A request
 * refused for good (4xx) or out of retries is counted and the next one goes on. At the end,
 * {@link MeasurementSink.finish} waits at most `drainTimeoutMs` for the queue (the final
 * snapshot last) and then aborts what is left.
 *
 * Runs in the output thread (workers/measurement-output.ts): nothing here can slow the
 * load's worker threads or the main thread.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool } from 'undici';
import { USER_AGENT } from '../core/version.ts';
import type { MeasurementIdentity, MeasurementOutputConfig, MeasurementOutputStats, MeasurementSnapshot } from '../core/measurement-output.ts';
import { encodeOtlpMeasurements, remoteWriteSeriesOf } from '../wire/measurement-encode.ts';
import { encodeRemoteWriteBody, REMOTE_WRITE_HEADERS } from '../wire/remote-write.ts';
import { outputPool, postOnce, type PostOutcome } from './measurement-post.ts';

/** How a sink posts a body; injected by tests, default {@link postOnce} over a pool. */
export type Poster = (body: Uint8Array, signal: AbortSignal) => Promise<PostOutcome>;

/** The URL without credentials or query, for reports. */
export function displayUrl(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}

/** The path an output posts to: remote write as given; OTLP `<base>/v1/metrics`. */
export function outputTarget(config: MeasurementOutputConfig): { url: string; path: string } {
  const u = new URL(config.url);
  if (config.kind === 'otlp') {
    const base = u.pathname.replace(/\/+$/, '');
    return { url: `${u.origin}${base}/v1/metrics`, path: `${base}/v1/metrics${u.search}` };
  }
  return { url: `${u.origin}${u.pathname}`, path: `${u.pathname}${u.search}` };
}

/** Request headers: the caller's, then the protocol's own (which win). */
export function outputHeaders(config: MeasurementOutputConfig): Record<string, string> {
  const extra: Record<string, string> = {};
  for (const [k, v] of Object.entries(config.headers)) extra[k.toLowerCase()] = v;
  const own = config.kind === 'otlp' ? { 'content-type': 'application/x-protobuf' } : REMOTE_WRITE_HEADERS;
  return { ...extra, ...own, 'user-agent': USER_AGENT };
}

/** A bounded queue and one in-order sender for one output. */
export class MeasurementSink {
  readonly #config: MeasurementOutputConfig;
  readonly #identity: MeasurementIdentity;
  readonly #post: Poster;
  readonly #pool: Pool | undefined;
  readonly #abort = new AbortController();
  readonly #queue: MeasurementSnapshot[] = [];
  #inFlight: MeasurementSnapshot[] = [];
  #running: Promise<void> | undefined;
  readonly stats: MeasurementOutputStats;

  constructor(config: MeasurementOutputConfig, identity: MeasurementIdentity, post?: Poster) {
    this.#config = config;
    this.#identity = identity;
    if (post === undefined) {
      const pool = outputPool(config.url, config.timeoutMs);
      const { path } = outputTarget(config);
      const headers = outputHeaders(config);
      this.#pool = pool;
      this.#post = (body, signal) => postOnce(config.kind, pool, path, headers, body, config.timeoutMs, signal);
    } else this.#post = post;
    this.stats = {
      kind: config.kind, url: displayUrl(outputTarget(config).url), snapshots: 0, snapshotsDelivered: 0, snapshotsDropped: 0, snapshotsFailed: 0,
      snapshotsUnsent: 0, requests: 0, retries: 0, finalDelivered: false, statuses: {},
    };
  }

  /** Queue a snapshot (dropping the oldest non-final one when full) and make sure the sender runs. */
  enqueue(snapshot: MeasurementSnapshot): void {
    if (this.#abort.signal.aborted) return;
    this.stats.snapshots++;
    if (this.#queue.length >= this.#config.queueSnapshots) {
      const oldest = this.#queue.findIndex((s) => !s.final);
      if (oldest >= 0) {
        this.#queue.splice(oldest, 1);
        this.stats.snapshotsDropped++;
      }
    }
    this.#queue.push(snapshot);
    this.#running ??= this.#drain().finally(() => {
      this.#running = undefined;
    });
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0 && !this.#abort.signal.aborted) {
      this.#inFlight = this.#queue.splice(0, this.#config.maxSnapshotsPerRequest);
      await this.#deliver(this.#inFlight);
      this.#inFlight = [];
    }
  }

  #encode(batch: readonly MeasurementSnapshot[]): Uint8Array {
    return this.#config.kind === 'otlp' ? encodeOtlpMeasurements(batch, this.#identity) : encodeRemoteWriteBody(remoteWriteSeriesOf(batch, this.#identity), 'legacy').body;
  }

  #settle(batch: readonly MeasurementSnapshot[], delivered: boolean, failure?: PostOutcome): void {
    if (delivered) {
      this.stats.snapshotsDelivered += batch.length;
      if (batch.some((s) => s.final)) this.stats.finalDelivered = true;
      return;
    }
    this.stats.snapshotsFailed += batch.length;
    if (failure !== undefined) this.stats.lastError = { status: failure.status, ...(failure.errno ? { errno: failure.errno } : {}), message: failure.message ?? '' };
  }

  /** Send one batch through its retries; settles it exactly once (or leaves it to {@link finish} when aborted). */
  async #deliver(batch: readonly MeasurementSnapshot[]): Promise<void> {
    let body: Uint8Array;
    try {
      body = this.#encode(batch);
    } catch (error) {
      this.#settle(batch, false, { status: 0, ok: false, retryable: false, errno: 'ENCODE', message: error instanceof Error ? error.message : String(error) });
      return;
    }
    const { initialIntervalMs, maxIntervalMs, maxElapsedTimeMs } = this.#config.retry;
    const startMs = performance.now();
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) this.stats.retries++;
      this.stats.requests++;
      const outcome = await this.#post(body, this.#abort.signal);
      this.stats.statuses[String(outcome.status)] = (this.stats.statuses[String(outcome.status)] ?? 0) + 1;
      if (this.#abort.signal.aborted) return;
      if (outcome.ok) return this.#settle(batch, true);
      if (!outcome.retryable) return this.#settle(batch, false, outcome);
      const delayMs = Math.min(maxIntervalMs, initialIntervalMs * 2 ** attempt);
      if (performance.now() - startMs + delayMs > maxElapsedTimeMs) return this.#settle(batch, false, outcome);
      this.stats.lastError = { status: outcome.status, ...(outcome.errno ? { errno: outcome.errno } : {}), message: outcome.message ?? '' };
      try {
        await sleep(delayMs, undefined, { signal: this.#abort.signal });
      } catch {
        return; // aborted by finish(): counted there as unsent
      }
    }
  }

  /**
   * Wait until everything queued (the final snapshot last) is settled, at most `drainTimeoutMs`;
   * then abort what is left (counted `snapshotsUnsent`) and close the pool.
   * @returns the output's stats.
   */
  async finish(): Promise<MeasurementOutputStats> {
    if (this.#running !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.#config.drainTimeoutMs);
      });
      await Promise.race([this.#running, timedOut]);
      clearTimeout(timer);
    }
    if (this.#running !== undefined || this.#queue.length > 0) {
      this.stats.snapshotsUnsent += this.#queue.length + this.#inFlight.length;
      this.#queue.length = 0;
      this.#abort.abort();
      await this.#running;
    }
    this.#abort.abort();
    await this.#pool?.destroy();
    return this.stats;
  }
}
