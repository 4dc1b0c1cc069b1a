/**
 * A remote-write request encoded once and patched per tick: the `prometheus.WriteRequest`
 * of a batch of series with one float sample each is written by {@link encodeWriteRequest}
 * (labels sorted, names validated, exactly as a one-off request), and every tick only each
 * sample's value (a fixed64 double) and timestamp (a varint, whose width does not change
 * between ticks of a run: it is re-encoded when it would) are rewritten in place. A sender
 * of a million series then holds bytes, not label objects, and spends its CPU on snappy.
 *
 * The value is always written, also when it is 0 (a one-off request leaves a 0 out, as
 * proto3 does): the bytes differ from {@link encodeWriteRequest}'s only there, and decode to
 * the same message. test/wire/remote-write-template.test.ts proves both.
 *
 * @see https://prometheus.io/docs/specs/prw/remote_write_spec/
 * @see https://protobuf.dev/programming-guides/encoding/
 */
import { compressSync } from 'snappy';
import { InternalError } from '../core/errors.ts';
import { encodeWriteRequest, SNAPPY_OUTPUT, type NameValidation } from './remote-write.ts';

/** One series of a template: its name and labels (as {@link encodeWriteRequest} takes them). */
export interface TemplateSeries {
  name: string;
  labels: Readonly<Record<string, string>>;
}

function varintWidth(n: number): number {
  let width = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    width++;
  }
  return width;
}

function readVarint(buf: Uint8Array, at: number): { value: number; next: number } {
  let value = 0;
  let scale = 1;
  for (let i = at; i < buf.length; i++) {
    value += (buf[i] & 0x7f) * scale;
    if ((buf[i] & 0x80) === 0) return { value, next: i + 1 };
    scale *= 0x80;
  }
  throw new InternalError('remote write template: a varint runs past the end');
}

/** Write `n` as a varint of exactly `width` bytes (the width it needs; callers check). */
function writeVarintAt(buf: Uint8Array, at: number, n: number, width: number): void {
  for (let i = 0; i < width - 1; i++) {
    buf[at + i] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  buf[at + width - 1] = n;
}

/** Offsets of each series' sample value (8 bytes) and timestamp varint, found by walking the encoded request. */
function sampleOffsets(buf: Uint8Array, count: number): { values: Int32Array; times: Int32Array } {
  const values = new Int32Array(count);
  const times = new Int32Array(count);
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (buf[at] !== 0x0a) throw new InternalError(`remote write template: series ${i} is not a WriteRequest.timeseries field`);
    const series = readVarint(buf, at + 1);
    const end = series.next + series.value;
    let p = series.next;
    values[i] = -1;
    while (p < end) {
      const tag = buf[p];
      const field = readVarint(buf, p + 1);
      if (tag === 0x12) {
        // Sample: 0x09 value (fixed64), 0x10 timestamp (varint).
        if (buf[field.next] !== 0x09 || buf[field.next + 9] !== 0x10) throw new InternalError(`remote write template: series ${i}'s sample lacks a value or a timestamp`);
        values[i] = field.next + 1;
        times[i] = field.next + 10;
      }
      p = field.next + field.value;
    }
    if (values[i] < 0) throw new InternalError(`remote write template: series ${i} has no sample`);
    at = end;
  }
  return { values, times };
}

/** One batch of series, one sample each, encoded once. */
export class RemoteWriteTemplate {
  readonly seriesCount: number;
  readonly #series: readonly TemplateSeries[] | undefined;
  readonly #validation: NameValidation;
  #buffer: Buffer;
  #view: DataView;
  #values: Int32Array;
  #times: Int32Array;
  #timeWidth: number;

  /**
   * @param series the batch (labels are not kept after the first encode unless `keepSeries`).
   * @param timestampMs a timestamp of the run (it sets the timestamp varint's width).
   * @param keepSeries keep the labels, to re-encode if a timestamp ever needs another width (a run crossing 2^35, 2^42 ms…).
   * @throws InternalError `TALLY_INTERNAL` as {@link encodeWriteRequest}.
   */
  constructor(series: readonly TemplateSeries[], timestampMs: number, options: { validation?: NameValidation; keepSeries?: boolean } = {}) {
    this.seriesCount = series.length;
    this.#validation = options.validation ?? 'legacy';
    this.#series = options.keepSeries === false ? undefined : series;
    const built = this.#build(series, timestampMs);
    this.#buffer = built.buffer;
    this.#view = new DataView(built.buffer.buffer, built.buffer.byteOffset, built.buffer.byteLength);
    this.#values = built.values;
    this.#times = built.times;
    this.#timeWidth = varintWidth(timestampMs);
  }

  #build(series: readonly TemplateSeries[], timestampMs: number): { buffer: Buffer; values: Int32Array; times: Int32Array } {
    // A non-zero placeholder value, so that every sample's value field is written.
    const buffer = encodeWriteRequest(series.map((s) => ({ name: s.name, labels: s.labels, samples: [{ value: 1, timestampMs }] })), this.#validation);
    return { buffer, ...sampleOffsets(buffer, series.length) };
  }

  /** Bytes of the protobuf request (the same every tick of a run). */
  get protobufBytes(): number {
    return this.#buffer.length;
  }

  /**
   * The protobuf WriteRequest with sample i's value `valueOf(i)`, stamped `timestampMs`.
   * The buffer is reused by the next call: compress or copy it first.
   * @throws InternalError `TALLY_INTERNAL` when the timestamp needs another varint width and the labels were not kept.
   */
  encode(valueOf: (i: number) => number, timestampMs: number): Buffer {
    if (!Number.isSafeInteger(timestampMs) || timestampMs < 0) throw new InternalError(`remote write template: timestamp ${timestampMs} is not a whole, non-negative ms count`);
    const width = varintWidth(timestampMs);
    if (width !== this.#timeWidth) {
      if (this.#series === undefined) throw new InternalError('remote write template: the timestamp needs another width and the series were not kept');
      const built = this.#build(this.#series, timestampMs);
      this.#buffer = built.buffer;
      this.#view = new DataView(built.buffer.buffer, built.buffer.byteOffset, built.buffer.byteLength);
      this.#values = built.values;
      this.#times = built.times;
      this.#timeWidth = width;
    }
    const buf = this.#buffer;
    const view = this.#view;
    for (let i = 0; i < this.seriesCount; i++) {
      view.setFloat64(this.#values[i], valueOf(i), true);
      writeVarintAt(buf, this.#times[i], timestampMs, width);
    }
    return buf;
  }

  /** {@link encode}, snappy-compressed (block format): the body to POST. */
  body(valueOf: (i: number) => number, timestampMs: number): Buffer {
    return compressSync(this.encode(valueOf, timestampMs), SNAPPY_OUTPUT);
  }
}
