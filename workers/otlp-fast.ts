/**
 * The fast path for OTLP/protobuf metrics: each batch (metric, series range) is encoded
 * once as a template (otlp-fast-template.ts), and every tick only its fixed-width fields
 * are rewritten in place: time_unix_nano and start_time_unix_nano (fixed64), Sum values
 * (as_int, sfixed64), gauge values (as_double), histogram count (fixed64), sum, min, max
 * (double) and bucket_counts (packed fixed64), exponential zero_count (fixed64) and, for
 * cumulative points, its bucket_counts (uint64 varints written at a fixed width of 5
 * bytes, a valid non-canonical varint decoders read as the same number), and exemplar
 * time, value, trace_id and span_id. No BigInt, string or object per point; times are
 * written as two uint32 words.
 *
 * The template is rebuilt (and counted in {@link FastMetricBatch.rebuilds}) only when its
 * layout changes: at a churn boundary (new identities carry a new `tally.generation`
 * value and start time). Exemplar presence is decided per series identity, so it never
 * changes within an epoch.
 *
 * The returned buffer is reused by the next `encode`: send it (or copy it) before
 * encoding the next tick of the same batch.
 *
 * Equivalence with the official serializer (same values, decoded) is proven in
 * test/workers/otlp-fast.test.ts.
 *
 * @see https://protobuf.dev/programming-guides/encoding/
 * @see opentelemetry/proto/metrics/v1/metrics.proto
 */
import { churnEpoch, exemplarPick, exemplarSequenceHigh, exemplarSequenceLow, exemplarTraceWindow, upDownWobble } from '../core/instruments.ts';
import { traceSpanPrefixOf } from '../core/trace-model.ts';
import type { BatchIdentity, BatchMetric } from './otlp-build.ts';
import { buildTemplate, timeWords, type Template } from './otlp-fast-template.ts';
import { writePaddedVarint } from './otlp-fast-writer.ts';

/** One batch's template and its per-tick patcher. */
export class FastMetricBatch {
  readonly #identity: BatchIdentity;
  readonly #metric: BatchMetric;
  readonly #seriesStart: number;
  readonly #seriesEnd: number;
  #template: Template | undefined;
  #epoch = -1;
  #tick = -1;
  /** Template builds so far (1 + rebuilds at churn boundaries). */
  builds = 0;

  /**
   * @param seriesStart first slot of the batch; seriesEnd one past the last (≤ cardinality).
   */
  constructor(identity: BatchIdentity, metric: BatchMetric, seriesStart: number, seriesEnd: number) {
    this.#identity = identity;
    this.#metric = metric;
    this.#seriesStart = seriesStart;
    this.#seriesEnd = seriesEnd;
  }

  /** Template rebuilds after the first build. */
  get rebuilds(): number {
    return Math.max(0, this.builds - 1);
  }

  /**
   * The ExportMetricsServiceRequest body of tick k (1..ticks), ready to POST as
   * `application/x-protobuf`. Reuses one buffer per batch.
   */
  encode(tick: number): Buffer {
    const model = this.#metric.model;
    const epoch = model.churn === undefined ? 0 : churnEpoch(model.churn, tick);
    if (this.#template === undefined || epoch !== this.#epoch) {
      this.#template = buildTemplate(this.#identity, this.#metric, this.#seriesStart, this.#seriesEnd, tick);
      this.#epoch = epoch;
      this.builds++;
    } else if (tick !== this.#tick) {
      this.#patch(this.#template, tick);
    }
    this.#tick = tick;
    return this.#template.buffer;
  }

  #patch(t: Template, tick: number): void {
    const view = t.view;
    const n = t.bodies.length;
    const bodies = t.bodies;
    const births = t.births;
    const [timeLow, timeHigh] = timeWords(this.#identity, tick);
    const delta = this.#metric.model.temporality === 'delta';
    const [startLow, startHigh] = delta ? timeWords(this.#identity, tick - 1) : [0, 0];
    const timeAt = t.rel.time;
    const startAt = t.rel.start;
    for (let i = 0; i < n; i++) {
      const o = bodies[i];
      view.setUint32(o + timeAt, timeLow, true);
      view.setUint32(o + timeAt + 4, timeHigh, true);
      if (delta) {
        view.setUint32(o + startAt, startLow, true);
        view.setUint32(o + startAt + 4, startHigh, true);
      }
    }
    switch (this.#metric.model.instrument) {
      case 'counter':
        if (!delta) for (let i = 0; i < n; i++) writeInt64(view, bodies[i] + t.rel.value, t.perTick[i] * (tick - births[i]));
        break;
      case 'up-down-counter':
        this.#patchUpDown(t, tick, delta);
        break;
      case 'gauge':
        for (let i = 0; i < n; i++) view.setFloat64(bodies[i] + t.rel.value, (this.#seriesStart + i) * 2 ** 20 + tick, true);
        break;
      case 'histogram':
      case 'exponential-histogram':
        if (!delta) this.#patchHistograms(t, tick);
        break;
    }
    if (t.exemplarAt !== undefined) this.#patchExemplars(t, tick);
  }

  #patchUpDown(t: Template, tick: number, delta: boolean): void {
    const model = this.#metric.model;
    for (let i = 0; i < t.bodies.length; i++) {
      const j = tick - t.births[i];
      const slot = this.#seriesStart + i;
      const g = t.generations[i];
      const now = t.perTick[i] * j + upDownWobble(model, slot, g, j);
      const value = delta ? now - (t.perTick[i] * (j - 1) + upDownWobble(model, slot, g, j - 1)) : now;
      writeInt64(t.view, t.bodies[i] + t.rel.value, value);
    }
  }

  #patchHistograms(t: Template, tick: number): void {
    const view = t.view;
    const buckets = t.bucketCount;
    const exponential = this.#metric.model.instrument === 'exponential-histogram';
    for (let i = 0; i < t.bodies.length; i++) {
      const o = t.bodies[i];
      const j = tick - t.births[i];
      writeUint64(view, o + t.rel.count, t.perTick[i] * j);
      view.setFloat64(o + t.rel.sum, t.perTickSum[i] * j, true);
      const base = i * buckets;
      if (exponential) {
        writeUint64(view, o + t.rel.zeroCount, t.perTickZero[i] * j);
        const at = t.bucketsAt[i];
        for (let b = 0; b < buckets; b++) writePaddedVarint(t.buffer, at + b * 5, t.perTickBuckets[base + b] * j, 5);
      } else {
        const at = o + t.rel.buckets;
        for (let b = 0; b < buckets; b++) writeUint64(view, at + b * 8, t.perTickBuckets[base + b] * j);
      }
    }
  }

  #patchExemplars(t: Template, tick: number): void {
    const view = t.view;
    const model = this.#metric.model;
    const exemplarAt = t.exemplarAt!;
    const [low, high] = timeWords(this.#identity, tick, this.#identity.intervalNs / 2n);
    const run = t.run;
    const link = model.exemplarTraces;
    const window = link === undefined ? undefined : exemplarTraceWindow(link, tick);
    const shardCount = link?.shardCount ?? 1;
    for (let i = 0; i < exemplarAt.length; i++) {
      const e = exemplarAt[i];
      if (e < 0) continue;
      const slot = this.#seriesStart + i;
      view.setUint32(e + 1, low, true);
      view.setUint32(e + 5, high, true);
      if (model.instrument === 'gauge') view.setFloat64(e + 10, slot * 2 ** 20 + tick, true);
      else if (model.instrument === 'up-down-counter') {
        const j = tick - t.births[i];
        const g = t.generations[i];
        view.setFloat64(e + 10, t.perTick[i] + upDownWobble(model, slot, g, j) - upDownWobble(model, slot, g, j - 1), true);
      }
      let shard = 0;
      let seqHigh: number;
      let seqLow: number;
      if (window === undefined) {
        seqHigh = 0x8000 | exemplarSequenceHigh(model, slot, tick);
        seqLow = exemplarSequenceLow(model, slot, tick);
      } else {
        const sequence = window.first + (exemplarPick(model, slot, tick) % window.count);
        shard = sequence % shardCount;
        seqHigh = Math.floor(sequence / 0x1_0000_0000);
        seqLow = sequence >>> 0;
      }
      // Span id: the root span of the trace (prefix · 00000001); trace id: run · shard · sequence.
      view.setUint32(e + 20, traceSpanPrefixOf(run.high, run.low, shard, seqHigh * 0x1_0000_0000 + seqLow));
      view.setUint32(e + 24, 1);
      view.setUint16(e + 38, shard);
      view.setUint16(e + 40, seqHigh);
      view.setUint32(e + 42, seqLow);
    }
  }
}

/** sfixed64 of an integer with |value| < 2^53, as two little-endian words. */
function writeInt64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, value >>> 0, true);
  view.setUint32(offset + 4, Math.floor(value / 0x1_0000_0000) >>> 0, true);
}

/** fixed64 of a non-negative integer below 2^53. */
function writeUint64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, value >>> 0, true);
  view.setUint32(offset + 4, (value / 0x1_0000_0000) >>> 0, true);
}
