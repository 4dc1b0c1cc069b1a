/**
 * One native histogram sample as the remote-write `prometheus.Histogram` message (integer
 * counts: `count_int`, `zero_count_int`, `positive_spans`, `positive_deltas`), for
 * `TimeSeries.histograms` (field 4). Pure; wire/remote-write.ts puts the bytes in place.
 *
 * Proto3 rules as Prometheus's own (gogo) encoder follows them: the oneof members
 * `count_int` and `zero_count_int` are always written, other scalars only when not zero;
 * `positive_deltas` is packed.
 *
 * @see wire/remote-write.proto (Prometheus prompb/types.proto, `Histogram` and `BucketSpan`)
 * @see https://prometheus.io/docs/specs/native_histograms/
 */
import { InternalError } from '../core/errors.ts';

/** A native histogram sample with integer counts; only positive buckets (tally's measurements are never negative). */
export interface RemoteWriteHistogram {
  count: number;
  /** Sum of observations. */
  sum: number;
  /** −4..8. */
  schema: number;
  zeroThreshold: number;
  zeroCount: number;
  /** Spans of consecutive positive buckets: offset to the previous span's end (the first: its index), length. */
  positiveSpans: readonly { offset: number; length: number }[];
  /** Count deltas bucket by bucket (the first against 0). */
  positiveDeltas: readonly number[];
  /** 0 unknown, 1 reset, 2 no reset, 3 gauge histogram. Default 0. */
  resetHint?: 0 | 1 | 2 | 3;
  /** Milliseconds since the Unix epoch; a safe integer. */
  timestampMs: number;
}

/** A growable byte writer for the (small) histogram messages. */
class Bytes {
  buf = new Uint8Array(256);
  at = 0;

  #room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.at + n));
    next.set(this.buf.subarray(0, this.at));
    this.buf = next;
  }

  byte(b: number): void {
    this.#room(1);
    this.buf[this.at++] = b;
  }

  /** Unsigned varint of a non-negative safe integer. */
  varint(n: number): void {
    this.#room(10);
    while (n >= 0x80) {
      this.buf[this.at++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.at++] = n;
  }

  /** ZigZag varint (sint32 / sint64). */
  zigzag(n: number): void {
    this.varint(n >= 0 ? n * 2 : -n * 2 - 1);
  }

  double(x: number): void {
    this.#room(8);
    new DataView(this.buf.buffer).setFloat64(this.at, x, true);
    this.at += 8;
  }

  bytes(b: Uint8Array): void {
    this.#room(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
  }

  done(): Uint8Array {
    return this.buf.slice(0, this.at);
  }
}

function assertCount(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new InternalError(`remote write histogram: ${what} ${n} is not a count`);
}

/**
 * Encode one `prometheus.Histogram` message (without its field tag and length).
 * @throws InternalError `TALLY_INTERNAL` for a count that is not a non-negative safe integer,
 * a timestamp that is not a safe integer, or spans whose lengths do not add up to the deltas.
 */
export function encodeRemoteWriteHistogram(h: RemoteWriteHistogram): Uint8Array {
  assertCount(h.count, 'count');
  assertCount(h.zeroCount, 'zero count');
  if (!Number.isSafeInteger(h.timestampMs)) throw new InternalError(`remote write histogram: timestamp ${h.timestampMs} is not an integer millisecond count`);
  const bucketTotal = h.positiveSpans.reduce((a, s) => a + s.length, 0);
  if (bucketTotal !== h.positiveDeltas.length) throw new InternalError(`remote write histogram: spans cover ${bucketTotal} buckets, ${h.positiveDeltas.length} deltas given`);
  const w = new Bytes();
  w.byte(0x08); // count_int
  w.varint(h.count);
  if (h.sum !== 0) {
    w.byte(0x19); // sum, fixed64
    w.double(h.sum);
  }
  if (h.schema !== 0) {
    w.byte(0x20); // schema, sint32
    w.zigzag(h.schema);
  }
  if (h.zeroThreshold !== 0) {
    w.byte(0x29); // zero_threshold, fixed64
    w.double(h.zeroThreshold);
  }
  w.byte(0x30); // zero_count_int
  w.varint(h.zeroCount);
  for (const span of h.positiveSpans) {
    const s = new Bytes();
    if (span.offset !== 0) {
      s.byte(0x08); // offset, sint32
      s.zigzag(span.offset);
    }
    if (span.length !== 0) {
      s.byte(0x10); // length, uint32
      s.varint(span.length);
    }
    const bytes = s.done();
    w.byte(0x5a); // positive_spans
    w.varint(bytes.length);
    w.bytes(bytes);
  }
  if (h.positiveDeltas.length > 0) {
    const d = new Bytes();
    for (const delta of h.positiveDeltas) d.zigzag(delta);
    const bytes = d.done();
    w.byte(0x62); // positive_deltas, packed
    w.varint(bytes.length);
    w.bytes(bytes);
  }
  if (h.resetHint !== undefined && h.resetHint !== 0) {
    w.byte(0x70); // reset_hint
    w.varint(h.resetHint);
  }
  if (h.timestampMs !== 0) {
    w.byte(0x78); // timestamp, int64
    if (h.timestampMs < 0) throw new InternalError('remote write histogram: negative timestamps are not supported');
    w.varint(h.timestampMs);
  }
  return w.done();
}
