/**
 * The trace part of a shard: an open-model schedule of traces, every span derived from
 * (seed, shard, sequence) by core/trace-model.ts and sent in batches of at most
 * `maxBatchSpans` spans. OTLP/protobuf bodies (HTTP and gRPC) come from the fast encoder
 * (otlp-fast-traces.ts, byte-identical to the official serializer); OTLP/HTTP JSON bodies
 * from the official @opentelemetry/otlp-transformer JSON serializer. Every batch's
 * outcome (status, partial_success rejected_spans, failure) is kept for the span ledger.
 *
 * Trace j of the run is due at `start + j / ratePerSecond + spanDuration` (when its root
 * span ends; its timestamps stay anchored at the intended start); shard s of n sends the
 * traces with j ≡ s (mod n). A batch is sent when it is full or when its first span has
 * waited `batchDelayMs`, as the SDK's BatchSpanProcessor does. A trace may straddle two
 * batches. Through an exporter (every real run), its sending queue governs: under
 * `whenFull: drop` a batch that finds it full settles dropped (`TALLY_QUEUE_FULL`);
 * under `whenFull: block` the generator stops while a batch waits for space and resumes
 * when a request settles, so traces go out late rather than being dropped, and the wait
 * is counted in the exporter's `blockedUs`. With the plain sender (tests), at most
 * `maxInFlightRequests` requests are in flight, up to `maxQueuedBatches` more wait, and a
 * batch beyond that is recorded as dropped.
 *
 * @see https://opentelemetry.io/docs/specs/otlp/#otlphttp
 * @see https://opentelemetry.io/docs/specs/otel/trace/sdk/#batching-processor
 */
import type { TallyErrorCode } from '../core/errors.ts';
import { performance } from 'node:perf_hooks';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ExporterInterval, ShardTraceTask, TraceExportSettlement } from '../core/messages.ts';
import { createExporterTraceSender, type ExporterTraceSender } from './otlp-trace-exporter.ts';
import { epochNowMs } from './load-shard.ts';
import { OfficialSpanBatches, type SpanBatchSource } from './otlp-trace-spans.ts';
import { FastSpanBatches } from './otlp-fast-traces.ts';
import { createHttpTraceSender, type TraceSender, type TraceSendOutcome } from './otlp-trace-sender.ts';

export type { ShardTraceTask } from '../core/messages.ts';
export { createHttpTraceSender, type HttpTraceSenderOptions, type TraceSender, type TraceSendOutcome } from './otlp-trace-sender.ts';

/** Traces generated back to back before yielding to I/O, when the loop has fallen behind. */
const MAX_TRACES_PER_TURN = 256;

interface PendingBatch {
  body: Uint8Array;
  outcome: TraceExportSettlement;
}

/** How long an exporter-backed shard lets its queue settle after a stop (ms). */
const STOP_GRACE_MS = 1000;

/** A running trace shard. */
export class TraceShard {
  readonly #task: ShardTraceTask;
  readonly #shard: number;
  readonly #startEpochMs: number;
  readonly #sender: TraceSender;
  readonly #exporterSender: ExporterTraceSender | undefined;
  readonly #ownsSender: boolean;
  readonly #builder: SpanBatchSource;
  readonly #now: () => number;
  readonly #maxInFlight: number;
  readonly #maxQueued: number;
  /** Next sequence of this shard to generate. */
  #next: number;
  /** Step between this shard's sequences. */
  readonly #step: number;
  /** When the open batch got its first span, epoch ms. */
  #batchOpenedMs = 0;
  #inFlight = 0;
  readonly #queue: PendingBatch[] = [];
  #outcomes: TraceExportSettlement[] = [];
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #finish: (() => void) | undefined;
  #failure: unknown;
  /** `whenFull: block` through an exporter: hold generation while a batch waits. */
  readonly #blockWhenFull: boolean;
  /** Since when the generator has been held back (epoch ms), or undefined. */
  #blockedSinceMs: number | undefined;

  /**
   * @param task what to send; `model.shardCount` is the number of shards.
   * @param shard the shard in this sender's trace ids (its sequences are ≡ shard mod `model.shardCount`).
   * @param startEpochMs epoch ms of trace 0's intended start (the run start).
   * @param options.sender where to send bodies; default an undici OTLP/HTTP sender to `task.tracesUrl`.
   * @param options.now epoch-ms clock; default this thread's monotonic epoch clock.
   */
  constructor(task: ShardTraceTask, shard: number, startEpochMs: number, options: { sender?: TraceSender; now?: () => number } = {}) {
    this.#task = task;
    this.#shard = shard;
    this.#startEpochMs = startEpochMs;
    this.#ownsSender = options.sender === undefined;
    if (options.sender === undefined && task.exporter !== undefined) {
      this.#exporterSender = createExporterTraceSender(task.exporter, task.drainMs ?? 10_000);
      this.#sender = this.#exporterSender;
    } else {
      const protocol = task.protocol === 'http/json' ? 'http/json' : 'http/protobuf';
      this.#sender = options.sender ?? createHttpTraceSender({ url: task.tracesUrl, protocol, headers: task.headers, timeoutMs: task.timeoutMs });
    }
    this.#builder = task.protocol === 'http/json'
      ? new OfficialSpanBatches(task.model, shard, task.maxBatchSpans, JsonTraceSerializer, true)
      : new FastSpanBatches(task.model, shard, task.maxBatchSpans);
    this.#now = options.now ?? epochNowMs;
    this.#maxInFlight = task.maxInFlightRequests ?? (task.exporter && this.#exporterSender ? task.exporter.queue.queueSize + task.exporter.queue.numConsumers : 4);
    this.#maxQueued = task.maxQueuedBatches ?? 64;
    this.#blockWhenFull = this.#exporterSender !== undefined && this.#exporterSender.whenFull === 'block';
    this.#next = task.firstSeq ?? shard;
    this.#step = task.seqStride ?? task.model.shardCount;
  }

  /** Epoch ms at which trace `seq` is due: its intended start plus the root span's duration. */
  dueEpochMs(seq: number): number {
    return this.#startEpochMs + (seq * 1000) / this.#task.model.ratePerSecond + this.#task.model.spanDurationNs / 1e6;
  }

  /**
   * Send every trace of this shard on schedule (or until {@link stop}); resolves when every
   * batch has an outcome.
   * @throws the first error the span builder or serializer threw (a bug: batches are data).
   */
  async run(): Promise<void> {
    try {
      await new Promise<void>((resolve) => {
        this.#finish = resolve;
        this.#turn();
      });
      if (this.#failure !== undefined) throw this.#failure;
    } finally {
      if (this.#ownsSender) await this.#sender.close();
    }
  }

  /** Stop generating; the open batch is sent and requests in flight finish. */
  stop(): void {
    this.#stopped = true;
    if (this.#blockedSinceMs !== undefined) {
      this.#exporterSender?.noteBlocked((this.#now() - this.#blockedSinceMs) * 1000);
      this.#blockedSinceMs = undefined;
    }
    this.#exporterSender?.stop(STOP_GRACE_MS);
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#turn();
  }

  /** Take the outcomes recorded since the last call. */
  takeOutcomes(): TraceExportSettlement[] {
    const out = this.#outcomes;
    this.#outcomes = [];
    return out;
  }

  /** The exporter's interval measurements, when shipping through one. */
  takeExporterInterval(): ExporterInterval | undefined {
    return this.#exporterSender?.takeInterval();
  }

  /** Free the exporter's histograms (after the last {@link takeExporterInterval}). */
  destroy(): void {
    this.#exporterSender?.destroy();
  }

  #turn(): void {
    this.#timer = undefined;
    try {
      this.#generateDue();
      if ((this.#stopped || this.#next >= this.#task.traceCount) && this.#builder.size > 0) this.#flush();
    } catch (error) {
      this.#failure ??= error;
      this.#stopped = true;
      this.#builder.release();
    }
    if (this.#stopped || this.#next >= this.#task.traceCount) {
      this.#maybeFinish();
      return;
    }
    // Held back: the next settlement resumes generation (see #send).
    if (this.#blockedSinceMs !== undefined) return;
    const now = this.#now();
    let wakeMs = this.dueEpochMs(this.#next);
    if (this.#builder.size > 0) wakeMs = Math.min(wakeMs, this.#batchOpenedMs + this.#task.batchDelayMs);
    this.#timer = setTimeout(() => this.#turn(), Math.max(0, wakeMs - now));
  }

  #generateDue(): void {
    const now = this.#now();
    const step = this.#step;
    for (let n = 0; n < MAX_TRACES_PER_TURN && !this.#stopped && this.#next < this.#task.traceCount; n++) {
      if (this.dueEpochMs(this.#next) > now) break;
      if (this.#blockWhenFull && this.#queue.length > 0) {
        this.#blockedSinceMs = now;
        return;
      }
      const seq = this.#next;
      this.#builder.beginTrace(seq);
      while (!this.#builder.traceDone) {
        if (this.#builder.size === 0) this.#batchOpenedMs = now;
        this.#builder.addSpans();
        if (this.#builder.full) this.#flush();
      }
      this.#next = seq + step;
    }
    if (this.#builder.size > 0 && now - this.#batchOpenedMs >= this.#task.batchDelayMs) this.#flush();
  }

  #flush(): void {
    const { body, range, spans } = this.#builder.takeBody();
    const outcome: TraceExportSettlement = {
      shard: this.#shard, ...range, spans, status: 0, rejectedSpans: 0, durationUs: 0, sizeBytes: body.byteLength,
    };
    if (this.#step !== this.#task.model.shardCount) outcome.seqStride = this.#step;
    // An exporter under `drop` decides itself: a full queue settles the batch dropped, counted in its own metrics.
    if (this.#inFlight < this.#maxInFlight || (this.#exporterSender !== undefined && !this.#blockWhenFull)) this.#send({ body, outcome });
    else if (this.#blockWhenFull || this.#queue.length < this.#maxQueued) this.#queue.push({ body, outcome });
    else {
      outcome.errorCode = 'TALLY_QUEUE_FULL' satisfies TallyErrorCode;
      outcome.finalState = 'dropped';
      outcome.message = `dropped: ${this.#maxInFlight} requests in flight and ${this.#maxQueued} batches queued`;
      this.#outcomes.push(outcome);
    }
  }

  #send(batch: PendingBatch): void {
    this.#inFlight++;
    const t0 = performance.now();
    this.#sender.send(batch.body, batch.outcome.spans)
      .catch((error: unknown): TraceSendOutcome => ({ status: 0, rejectedSpans: 0, errorCode: 'other', message: (error as Error).message }))
      .then((sent) => {
        const outcome = batch.outcome;
        outcome.status = sent.status;
        outcome.rejectedSpans = sent.rejectedSpans;
        if (sent.message !== undefined) outcome.message = sent.message;
        if (sent.answerMessage !== undefined) outcome.answerMessage = sent.answerMessage;
        if (sent.errorCode !== undefined) outcome.errorCode = sent.errorCode;
        if (sent.retryAfterMs !== undefined) outcome.retryAfterMs = sent.retryAfterMs;
        const verdict = sent as Partial<Pick<TraceExportSettlement, 'finalState' | 'attempts' | 'grpcCode'>>;
        if (verdict.finalState !== undefined) outcome.finalState = verdict.finalState;
        if (verdict.attempts !== undefined) outcome.attempts = verdict.attempts;
        if (verdict.grpcCode !== undefined) outcome.grpcCode = verdict.grpcCode;
        outcome.durationUs = Math.round((performance.now() - t0) * 1000);
        this.#outcomes.push(outcome);
        this.#inFlight--;
        const queued = this.#queue.shift();
        if (queued !== undefined) this.#send(queued);
        if (this.#blockedSinceMs !== undefined && this.#queue.length === 0) this.#resume();
        this.#maybeFinish();
      });
  }

  /** Space again after a `block` wait: count the wait and generate what fell due. */
  #resume(): void {
    this.#exporterSender?.noteBlocked((this.#now() - this.#blockedSinceMs!) * 1000);
    this.#blockedSinceMs = undefined;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#stopped) setImmediate(() => this.#turn());
  }

  #maybeFinish(): void {
    const done = this.#stopped || this.#next >= this.#task.traceCount;
    if (done && this.#builder.size === 0 && this.#inFlight === 0 && this.#queue.length === 0) {
      const finish = this.#finish;
      this.#finish = undefined;
      finish?.();
    }
  }
}
