/**
 * The OTLP exporter: takes already-encoded export requests, queues them, and ships them
 * over OTLP/gRPC or OTLP/HTTP (protobuf or JSON) with retries, shaped like the
 * OpenTelemetry Collector's exporterhelper:
 *
 * - `sending_queue`: a bounded queue of batches (`queueSize` requests) drained by
 *   `numConsumers` senders; when full, `drop` refuses the batch (final state `dropped`)
 *   and `block` makes the producer's `submit` wait for space (the wait is measured).
 * - `retry_on_failure`: a consumer holds its batch through its retries; delays are the
 *   seeded exponential backoff or the server's hint, whichever is longer, until
 *   `maxElapsedTimeMs` (see otlp-exporter-retry.ts for the rules and their sources).
 * - Each batch settles exactly once, in one final state: acknowledged (with its
 *   partial_success rejected count), failed (last reason), dropped, or unsettled (the
 *   exporter was shut down before it settled). Retries never count an item twice.
 *
 * @see https://github.com/open-telemetry/opentelemetry-collector/blob/main/exporter/exporterhelper/README.md
 * @see https://opentelemetry.io/docs/specs/otlp/
 */
import { performance } from 'node:perf_hooks';
import type { ExportFinalState, ExportOutcome } from '../core/messages.ts';
import { GrpcTransport } from './grpc-transport.ts';
import { HttpTransport } from './otlp-exporter-http.ts';
import { ExporterMetrics, type ExporterInterval } from './otlp-exporter-metrics.ts';
import { Backoff, retryDelayMs } from './otlp-exporter-retry.ts';
import { attemptWithDeadline, closeWithin, DrainDeadline } from './otlp-exporter-deadline.ts';
import { timerMs } from '../core/timers.ts';
import { headerSecrets, redactSecrets } from '../core/header-secrets.ts';
import type { AttemptResult, ExportBatch, ExporterConfig, ExportSettlement, ExportTransport } from './otlp-exporter-types.ts';

export type * from './otlp-exporter-types.ts';
export type { ExporterInterval } from './otlp-exporter-metrics.ts';

interface Entry<K> {
  batch: ExportBatch<K>;
  payload: Uint8Array;
  sequence: number;
}

/** What `submit` did with a batch. */
export type SubmitResult = 'enqueued' | 'dropped' | 'unsettled';

/**
 * Build the transport a config names.
 * @throws ConfigError for a bad endpoint or unreadable TLS files.
 */
export function createTransport(config: ExporterConfig): ExportTransport {
  return config.protocol === 'grpc' ? new GrpcTransport(config) : new HttpTransport(config);
}

/** A running exporter; `K` is the caller's opaque batch key. */
export class OtlpExporter<K> {
  readonly #config: ExporterConfig;
  readonly #transport: ExportTransport;
  readonly #metrics = new ExporterMetrics();
  readonly #stop = new AbortController();
  #queue: Entry<K>[] = [];
  #head = 0;
  #sequence = 0;
  #active = 0;
  #closed = false;
  #spaceWaiters: (() => void)[] = [];
  #idleWaiters: (() => void)[] = [];
  #settlements: ExportSettlement<K>[] = [];
  #drain: DrainDeadline | undefined;
  /** Header values never to be quoted in a settlement's message (a peer may echo them). */
  readonly #secrets: string[];
  #shutdown: Promise<void> | undefined;
  /**
   * When set, each settlement is handed here as it happens instead of being kept for
   * {@link takeSettlements} (a caller that awaits each batch's fate, e.g. the trace sender).
   */
  onSettle: ((settlement: ExportSettlement<K>) => void) | undefined;

  /**
   * @param transport injected for tests; default from `config.protocol`.
   * @throws ConfigError as {@link createTransport}.
   */
  constructor(config: ExporterConfig, transport: ExportTransport = createTransport(config)) {
    this.#config = config;
    this.#transport = transport;
    this.#secrets = headerSecrets(config.headers);
  }

  /** Batches waiting in the queue (not in flight). */
  get queueDepth(): number {
    return this.#queue.length - this.#head;
  }

  /**
   * Hand a batch to the exporter. With `block`, waits for queue space; with `drop`, a
   * full queue settles the batch `dropped` at once. After `shutdown()` began, batches
   * settle `unsettled`.
   */
  async submit(batch: ExportBatch<K>): Promise<SubmitResult> {
    if (this.#closed) return this.#settleUnsent(batch, 0, 'exporter shut down before the batch was queued');
    if (this.queueDepth >= this.#config.queue.queueSize && this.#config.queue.whenFull === 'drop') {
      // Dropped before compression: its size is the encoded body's.
      this.#settle({ key: batch.key, signal: batch.signal, items: batch.items, finalState: 'dropped', rejectedItems: 0, attempts: 0, reason: 'sending queue is full', durationUs: 0, sizeBytes: batch.body.byteLength });
      return 'dropped';
    }
    const payload = this.#transport.prepare(batch.body);
    if (this.queueDepth >= this.#config.queue.queueSize) {
      const t0 = performance.now();
      while (this.queueDepth >= this.#config.queue.queueSize && !this.#closed) {
        await new Promise<void>((resolve) => this.#spaceWaiters.push(resolve));
      }
      this.#metrics.blocked(Math.round((performance.now() - t0) * 1000));
      if (this.#closed) return this.#settleUnsent(batch, payload.byteLength, 'exporter shut down while the producer waited for queue space');
    }
    this.#queue.push({ batch, payload, sequence: this.#sequence++ });
    this.#metrics.enqueued(this.queueDepth);
    this.#pump();
    return 'enqueued';
  }

  /**
   * Count time a producer that holds batches back itself (a trace shard under `block`)
   * spent waiting for this exporter's queue, as {@link submit} counts its own waits.
   * @param us microseconds waited.
   */
  noteProducerBlocked(us: number): void {
    this.#metrics.blocked(Math.max(0, Math.round(us)));
  }

  /** Settlements since the last call, each batch exactly once. */
  takeSettlements(): ExportSettlement<K>[] {
    const out = this.#settlements;
    this.#settlements = [];
    return out;
  }

  /** This interval's counters and encoded histograms; starts a new interval. */
  takeInterval(): ExporterInterval {
    this.#metrics.depth(this.queueDepth);
    return this.#metrics.take();
  }

  /**
   * Stop taking batches, let the queue drain for up to `graceMs`, then cancel what is
   * left (queued, backing off, in flight, or producers waiting for space): those settle
   * `unsettled`. Closes the transport. Resolves when every batch has settled, at most
   * `graceMs` plus the deadline grace of otlp-exporter-deadline.ts, whatever the transport does.
   *
   * Called again while shutting down (a stop during the end-of-run drain), a shorter
   * `graceMs` brings the end forward; the same promise is returned.
   */
  shutdown(graceMs: number): Promise<void> {
    this.#drain ??= new DrainDeadline();
    this.#drain.shorten(graceMs);
    this.#shutdown ??= this.#shutdownNow(this.#drain);
    return this.#shutdown;
  }

  async #shutdownNow(drain: DrainDeadline): Promise<void> {
    this.#closed = true;
    for (const wake of this.#spaceWaiters.splice(0)) wake();
    if (this.#active > 0 || this.queueDepth > 0) {
      this.#idleWaiters.push(() => drain.done());
      await drain.wait();
    }
    drain.done();
    this.#stop.abort();
    while (this.queueDepth > 0) {
      const e = this.#queue[this.#head++];
      this.#settleUnsent(e.batch, e.payload.byteLength, 'exporter shut down while the batch was queued');
    }
    this.#queue = [];
    this.#head = 0;
    // Each attempt in flight ends within the abort grace (attemptWithDeadline), so this wait is bounded.
    if (this.#active > 0) await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    await closeWithin(this.#transport);
    this.#metrics.depth(0);
  }

  /** Free the histograms (after the last `takeInterval`). */
  destroy(): void {
    this.#metrics.destroy();
  }

  #pump(): void {
    while (this.#active < this.#config.queue.numConsumers && this.queueDepth > 0) {
      this.#active++;
      void this.#consume();
    }
  }

  async #consume(): Promise<void> {
    for (;;) {
      if (this.queueDepth === 0 || this.#stop.signal.aborted) break;
      const entry = this.#queue[this.#head];
      this.#queue[this.#head++] = undefined as unknown as Entry<K>;
      if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head);
        this.#head = 0;
      }
      this.#metrics.depth(this.queueDepth);
      this.#spaceWaiters.shift()?.();
      await this.#export(entry);
    }
    this.#active--;
    if (this.#active === 0 && (this.queueDepth === 0 || this.#stop.signal.aborted)) for (const wake of this.#idleWaiters.splice(0)) wake();
  }

  async #export(entry: Entry<K>): Promise<void> {
    const { batch, payload } = entry;
    const policy = this.#config.retry;
    const startMs = performance.now();
    let backoff: Backoff | undefined;
    let attempts = 0;
    let last: AttemptResult | undefined;
    const settle = (finalState: ExportFinalState, reason?: string): void =>
      this.#settle({
        key: batch.key,
        signal: batch.signal,
        items: batch.items,
        finalState,
        rejectedItems: finalState === 'acknowledged' ? Math.min(last?.rejectedItems ?? 0, batch.items) : 0,
        attempts,
        last,
        reason,
        durationUs: attempts === 0 ? 0 : Math.round((performance.now() - startMs) * 1000),
        sizeBytes: payload.byteLength,
      });
    for (;;) {
      if (this.#stop.signal.aborted) return settle('unsettled', attempts === 0 ? 'exporter shut down while the batch was queued' : `exporter shut down while backing off after: ${describe(last)}`);
      attempts++;
      last = await attemptWithDeadline(this.#transport, batch.signal, payload, this.#stop.signal, this.#config.timeoutMs);
      if (this.#stop.signal.aborted && last.errorCode === 'ABORTED') return settle('unsettled', 'exporter shut down while the batch was in flight');
      this.#metrics.attempt(last.class, last.durationUs, attempts > 1);
      if (last.class === 'success' || last.class === 'partial_success') return settle('acknowledged');
      if (!last.retryable) return settle('failed', `not retryable: ${describe(last)}`);
      if (!policy.enabled) return settle('failed', `retry disabled: ${describe(last)}`);
      backoff ??= new Backoff(policy, this.#config.seed, entry.sequence);
      const delayMs = retryDelayMs(policy, performance.now() - startMs, backoff.nextMs(), last.retryAfterMs);
      if (delayMs === undefined) return settle('failed', `no more retries left after ${attempts} attempts: ${describe(last)}`);
      await sleep(delayMs, this.#stop.signal);
    }
  }

  #settleUnsent(batch: ExportBatch<K>, sizeBytes: number, reason: string): 'unsettled' {
    this.#settle({ key: batch.key, signal: batch.signal, items: batch.items, finalState: 'unsettled', rejectedItems: 0, attempts: 0, reason, durationUs: 0, sizeBytes });
    return 'unsettled';
  }

  #settle(s: ExportSettlement<K>): void {
    if (this.#secrets.length > 0) {
      if (s.reason !== undefined) s.reason = redactSecrets(s.reason, this.#secrets);
      if (s.last?.message !== undefined) s.last = { ...s.last, message: redactSecrets(s.last.message, this.#secrets) };
    }
    if (this.onSettle !== undefined) this.onSettle(s);
    else this.#settlements.push(s);
    this.#metrics.settled(s.finalState, s.items, s.rejectedItems, s.durationUs);
  }
}

/**
 * The receiver's message of a settlement's last attempt when that attempt got an error
 * answer (HTTP ≥ 400, or a gRPC status other than OK); undefined otherwise.
 */
export function answerMessageOf(s: Pick<ExportSettlement<unknown>, 'finalState' | 'last'>): string | undefined {
  const last = s.last;
  if (s.finalState === 'acknowledged' || last === undefined) return undefined;
  const answered = last.httpStatus >= 400 || (last.grpcCode !== undefined && last.grpcCode !== 0);
  return answered ? (last.message ?? '') : undefined;
}

function describe(r: AttemptResult | undefined): string {
  if (r === undefined) return 'no attempt';
  const what = r.grpcCode !== undefined ? `gRPC ${r.errorCode ?? r.grpcCode}` : r.httpStatus !== 0 ? `HTTP ${r.httpStatus}` : (r.errorCode ?? r.class);
  return r.message ? `${what}: ${r.message}` : what;
}

function sleep(ms: number, abort: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (abort.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      abort.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, timerMs(ms));
    abort.addEventListener('abort', done, { once: true });
  });
}

/** Ledger key of one metrics batch: a contiguous run of series of one metric at one tick. */
export interface MetricsBatchKey {
  metricIndex: number;
  seriesStart: number;
  seriesEnd: number;
  tick: number;
}

/** Map a metrics settlement to the ledger's {@link ExportOutcome}. */
export function metricsOutcome(s: ExportSettlement<MetricsBatchKey>): ExportOutcome {
  const o: ExportOutcome = {
    metricIndex: s.key.metricIndex,
    seriesStart: s.key.seriesStart,
    seriesEnd: s.key.seriesEnd,
    tick: s.key.tick,
    dataPoints: s.items,
    status: s.last?.httpStatus ?? 0,
    rejectedDataPoints: s.rejectedItems,
    durationUs: s.durationUs,
    sizeBytes: s.sizeBytes,
    finalState: s.finalState,
    attempts: s.attempts,
  };
  const message = s.finalState === 'acknowledged' ? s.last?.message : (s.reason ?? s.last?.message);
  if (message) o.message = message;
  const answer = answerMessageOf(s);
  if (answer !== undefined) o.answerMessage = answer;
  if (s.last?.grpcCode !== undefined) o.grpcCode = s.last.grpcCode;
  if (s.last?.errorCode !== undefined && s.finalState !== 'acknowledged') o.errorCode = s.last.errorCode;
  if (s.last?.retryAfterMs !== undefined) o.retryAfterMs = s.last.retryAfterMs;
  return o;
}
