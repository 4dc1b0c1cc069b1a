/**
 * The metrics part of a shard when the transport is Prometheus remote write 1.0: every
 * export interval (tick), one sample per series of its slice, with the Prometheus name and
 * labels the main thread computed (wire/prometheus-translate.ts, plus the run label),
 * stamped at the tick's time in whole ms, encoded and posted by RemoteWriteSender. Each
 * request's outcome goes to the ledger as an ExportOutcome:
 * - 2xx (Prometheus answers 204): acknowledged;
 * - 400 and other 4xx: the whole request refused (Prometheus 2.42 rolls the request back
 *   when one sample is bad), failed, with the refusal classified (`out_of_order`, `duplicate`…);
 * - 5xx, 429 and no answer: failed. Each request is sent once: no retries.
 *
 * Ticks keep their schedule whatever the receiver does: tick k's requests go out at its
 * time, with up to {@link REMOTE_WRITE_MAX_IN_FLIGHT} requests in flight at once (as
 * Prometheus's remote-write queue runs up to `max_shards` shards, one request each); a
 * request beyond that waits for a slot, not yet encoded (its body is made when it gets
 * one, so a slow receiver costs no memory beyond the slots). Each outcome carries its actual send time, so a
 * sender that falls behind shows (and visibility lag is measured from the real send).
 *
 * Faults (seeded, per request, even ticks only): `outOfOrderRequestRatio` adds to the request's first series
 * the sample of tick k−2 (already stored: out of order); `duplicateRequestRatio` adds the
 * sample at tick k−1's timestamp with a different value (a conflicting duplicate). Either
 * makes Prometheus refuse the whole request (HTTP 400), so its tick-k points are failed.
 *
 * This worker module imports the sender from wire/remote-write.ts: the
 * transport is shared with the read-back benchmarks.
 *
 * @see https://prometheus.io/docs/specs/prw/remote_write_spec/
 */
import { performance } from 'node:perf_hooks';
import { unitFloat } from '../core/rng.ts';
import { seriesAttributes } from '../core/series.ts';
import { cumulativeSampleValue } from '../core/sample-value.ts';
import type { ExportOutcome, RemoteWriteMetricTask, ShardRemoteWriteTask } from '../core/messages.ts';
import { encodeRemoteWriteBody, type RemoteWriteSeries } from '../wire/remote-write.ts';
import { RemoteWriteTemplate } from '../wire/remote-write-template.ts';
import { RemoteWriteSender, type RemoteWriteOutcome } from '../workers/remote-write-sender.ts';
import { ABORT_GRACE_MS, ATTEMPT_GRACE_MS } from './otlp-exporter-deadline.ts';
import { timerMs } from '../core/timers.ts';
import { headerSecrets, redactSecrets } from '../core/header-secrets.ts';

/** How long requests in flight may take after a stop before they settle `unsettled` (ms). */
const STOP_GRACE_MS = 1000;
/**
 * Most requests in flight at once: Prometheus's remote-write queue default `max_shards`
 * (50), each shard one request at a time.
 * @see https://prometheus.io/docs/prometheus/latest/configuration/configuration/#remote_write (queue_config.max_shards)
 */
export const REMOTE_WRITE_MAX_IN_FLIGHT = 50;
import { epochNowMs } from './load-shard.ts';

export type { RemoteWriteFaults, RemoteWriteMetricTask, ShardRemoteWriteTask } from '../core/messages.ts';

/**
 * A request's worth of series of one metric: its request encoded once (wire/remote-write-template.ts),
 * only the samples' values and timestamps rewritten each tick; the labels are not kept.
 */
export interface Batch {
  metric: RemoteWriteMetricTask;
  seriesStart: number;
  seriesEnd: number;
  template: RemoteWriteTemplate;
}

const FAULT_SALT = 0x7e11;

function labelsOf(metric: RemoteWriteMetricTask, index: number): Record<string, string> {
  const attributes = seriesAttributes({ keys: metric.keys, counts: metric.counts, seriesCount: 0 }, index);
  const labels: Record<string, string> = { ...metric.commonLabels };
  for (let j = 0; j < metric.keys.length; j++) labels[metric.labelNames[j]] = attributes[metric.keys[j]];
  return labels;
}

/** The series of [seriesStart, seriesEnd) of a metric, as a request lists them. */
export function batchSeries(metric: RemoteWriteMetricTask, seriesStart: number, seriesEnd: number): { name: string; labels: Record<string, string> }[] {
  const series = [];
  for (let i = seriesStart; i < seriesEnd; i++) series.push({ name: metric.name, labels: labelsOf(metric, i) });
  return series;
}

/**
 * The shard's requests: each metric's slice in batches of `maxBatchDataPoints` series, each
 * encoded once as a template stamped like the run's ticks.
 * @param timestampMs a tick's timestamp (it sets the width of the timestamp varint).
 */
export function planBatches(task: ShardRemoteWriteTask, timestampMs: number): Batch[] {
  const batches: Batch[] = [];
  for (const metric of task.metrics) {
    for (let s = metric.seriesStart; s < metric.seriesEnd; s += task.maxBatchDataPoints) {
      const end = Math.min(metric.seriesEnd, s + task.maxBatchDataPoints);
      batches.push({ metric, seriesStart: s, seriesEnd: end, template: new RemoteWriteTemplate(batchSeries(metric, s, end), timestampMs, { keepSeries: false }) });
    }
  }
  return batches;
}

/** The body of a batch at a tick without faults: its template with the tick's values and timestamp, snappy-compressed. */
export function batchBody(task: Pick<ShardRemoteWriteTask, 'seed'>, batch: Batch, tick: number, timestampMs: number): Buffer {
  const { metric, seriesStart } = batch;
  return batch.template.body((i) => cumulativeSampleValue(task.seed, metric.metricIndex, metric.instrument, seriesStart + i, tick), timestampMs);
}

/**
 * The fault a request carries, if any: decided by (seed, metric, first series, tick), on
 * even ticks only, so a faulted request's previous tick was sent unfaulted and its
 * refused sample always conflicts with a stored one.
 * @returns `out_of_order` (tick ≥ 4), `duplicate` (tick ≥ 2) or null.
 */
export function requestFault(task: Pick<ShardRemoteWriteTask, 'seed' | 'faults'>, metricIndex: number, seriesStart: number, tick: number): 'out_of_order' | 'duplicate' | null {
  const { outOfOrderRequestRatio, duplicateRequestRatio } = task.faults;
  if ((outOfOrderRequestRatio === 0 && duplicateRequestRatio === 0) || tick % 2 !== 0) return null;
  const u = unitFloat(task.seed, FAULT_SALT, metricIndex, seriesStart, tick);
  if (tick >= 3 && u < outOfOrderRequestRatio) return 'out_of_order';
  if (tick >= 2 && u >= 1 - duplicateRequestRatio) return 'duplicate';
  return null;
}

/** A running remote-write shard. */
export class RemoteWriteShard {
  readonly #task: ShardRemoteWriteTask;
  readonly #startEpochMs: number;
  readonly #sender: RemoteWriteSender;
  readonly #batches: Batch[];
  #outcomes: ExportOutcome[] = [];
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;
  /** Aborts requests in flight {@link STOP_GRACE_MS} after a stop. */
  readonly #abort = new AbortController();
  #inFlight = 0;
  /** Requests encoded at their tick's time, waiting for a slot, in order. */
  readonly #waiting: (() => void)[] = [];

  /**
   * @param startEpochMs the run start (epoch ms, whole).
   * @throws InternalError `TALLY_INTERNAL` when the URL is not http(s).
   */
  constructor(task: ShardRemoteWriteTask, startEpochMs: number) {
    this.#task = task;
    this.#startEpochMs = startEpochMs;
    this.#sender = new RemoteWriteSender({ url: task.url, headers: task.headers, timeoutMs: task.timeoutMs, connections: REMOTE_WRITE_MAX_IN_FLIGHT });
    this.#batches = planBatches(task, startEpochMs + task.exportIntervalMs);
  }

  /** Send ticks 1..ticks on schedule, never waiting for earlier answers; resolves when every request has an outcome. */
  async run(): Promise<void> {
    const requests: Promise<void>[] = [];
    try {
      for (let tick = 1; tick <= this.#task.ticks && !this.#stopped; tick++) {
        await this.#sleepUntil(this.#tickMs(tick));
        if (this.#stopped) break;
        for (const b of this.#batches) requests.push(this.#send(b, tick));
      }
      await Promise.all(requests);
    } finally {
      await this.#sender.close(this.#stopped);
    }
  }

  /** Wait for a request slot (at most {@link REMOTE_WRITE_MAX_IN_FLIGHT} in flight). */
  #acquire(): Promise<void> | undefined {
    if (this.#inFlight < REMOTE_WRITE_MAX_IN_FLIGHT) {
      this.#inFlight++;
      return undefined;
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next !== undefined) next(); // the slot passes on
    else this.#inFlight--;
  }

  /** Stop before the next tick; requests in flight get {@link STOP_GRACE_MS}, then settle `unsettled`. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#wake?.();
    setTimeout(() => this.#abort.abort(), STOP_GRACE_MS);
  }

  /** Take the outcomes recorded since the last call. */
  takeOutcomes(): ExportOutcome[] {
    const out = this.#outcomes;
    this.#outcomes = [];
    return out;
  }

  #tickMs(tick: number): number {
    return this.#startEpochMs + tick * this.#task.exportIntervalMs;
  }

  #sleepUntil(epochMs: number): Promise<void> {
    const waitMs = epochMs - epochNowMs();
    if (waitMs <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#timer = setTimeout(resolve, waitMs);
    });
  }

  /** The request body of a batch at a tick, with its fault sample if any (a faulted request is encoded whole, from its labels). */
  #encode(batch: Batch, tick: number): { body: Buffer; fault: string | null } {
    const { metric } = batch;
    const timestampMs = this.#tickMs(tick);
    const fault = requestFault(this.#task, metric.metricIndex, batch.seriesStart, tick);
    if (fault === null) return { body: batchBody(this.#task, batch, tick, timestampMs), fault };
    const seed = this.#task.seed;
    const s0 = batch.seriesStart;
    const series: RemoteWriteSeries[] = batchSeries(metric, batch.seriesStart, batch.seriesEnd).map((x, j) => ({ ...x, samples: [{ value: cumulativeSampleValue(seed, metric.metricIndex, metric.instrument, s0 + j, tick), timestampMs }] }));
    const bad = fault === 'out_of_order'
      ? { value: cumulativeSampleValue(seed, metric.metricIndex, metric.instrument, s0, tick - 2), timestampMs: this.#tickMs(tick - 2) }
      : { value: cumulativeSampleValue(seed, metric.metricIndex, metric.instrument, s0, tick - 1) + 0.5, timestampMs: this.#tickMs(tick - 1) };
    // The bad sample goes after the good one: the request is still refused whole.
    series[0] = { ...series[0], samples: [series[0].samples[0], bad] };
    return { body: encodeRemoteWriteBody(series).body, fault };
  }

  /** One request, ended by its answer, the run's stop, or a deadline that does not wait for the transport. */
  #sendWithin(body: Uint8Array): Promise<RemoteWriteOutcome> {
    const hardMs = this.#task.timeoutMs + ATTEMPT_GRACE_MS;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const deadline = new Promise<RemoteWriteOutcome>((resolve) => {
      timer = setTimeout(() => resolve({ status: 0, ok: false, retryable: true, errno: 'ETIMEDOUT', errorMessage: `no answer within ${hardMs} ms`, durationUs: hardMs * 1000 }), timerMs(hardMs));
      onAbort = () => setTimeout(() => resolve({ status: 0, ok: false, retryable: true, errno: 'ABORTED', errorMessage: 'run stopped', durationUs: 0 }), ABORT_GRACE_MS);
      this.#abort.signal.addEventListener('abort', onAbort, { once: true });
    });
    return Promise.race([this.#sender.sendEncoded(body, this.#abort.signal), deadline]).finally(() => {
      clearTimeout(timer);
      if (onAbort !== undefined) this.#abort.signal.removeEventListener('abort', onAbort);
    });
  }

  async #send(batch: Batch, tick: number): Promise<void> {
    // Encoded once it has a slot: the body is a pure function of the tick, so requests
    // waiting for a slot hold no body (memory stays bounded by the slots, however slow
    // the receiver), and the send time is the real one.
    await this.#acquire();
    let body: Buffer | undefined;
    let sentAtMs = Date.now();
    let t0 = performance.now();
    let r: RemoteWriteOutcome;
    try {
      // A request still waiting for a slot when the run stops is never sent.
      if (this.#stopped) r = { status: 0, ok: false, retryable: true, errno: 'ABORTED', errorMessage: 'run stopped', durationUs: 0 };
      else {
        body = this.#encode(batch, tick).body;
        sentAtMs = Date.now();
        t0 = performance.now();
        r = await this.#sendWithin(body);
      }
    } finally {
      this.#release();
    }
    const outcome: ExportOutcome = {
      metricIndex: batch.metric.metricIndex,
      seriesStart: batch.seriesStart,
      seriesEnd: batch.seriesEnd,
      tick,
      dataPoints: batch.seriesEnd - batch.seriesStart,
      status: r.status,
      rejectedDataPoints: 0,
      durationUs: Math.round((performance.now() - t0) * 1000),
      sizeBytes: body?.byteLength ?? 0,
      finalState: r.ok ? 'acknowledged' : r.errno === 'ABORTED' ? 'unsettled' : 'failed',
      attempts: 1,
      sentAtMs,
    };
    if (!r.ok) {
      // The receiver's answer may echo the request's headers: their values are not kept.
      if (r.errorMessage !== undefined) outcome.message = redactSecrets(r.errorMessage, headerSecrets(this.#task.headers)).slice(0, 512);
      if (r.errno !== undefined) outcome.errorCode = r.errno;
      if (r.rejection !== undefined) outcome.rejection = r.rejection;
    }
    this.#outcomes.push(outcome);
  }
}
