/**
 * A small protobuf writer for building OTLP templates once (not a hot path): tags,
 * varints, fixed-width scalars, strings, and OTLP `KeyValue` attributes written the way
 * the official otlp-transformer serializer writes them (integers as `int_value`, other
 * numbers as `double_value`). Messages are built inside-out: a child's bytes are written
 * first and wrapped with {@link ProtoWriter.message}, so lengths are always exact.
 *
 * @see https://protobuf.dev/programming-guides/encoding/
 * @see opentelemetry/proto/common/v1/common.proto (AnyValue, KeyValue)
 */

/** Protobuf wire types. */
export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_I32 = 5;

/** Bytes of the canonical varint of a non-negative integer below 2^53. */
export function varintSize(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    size++;
  }
  return size;
}

/** A growable byte writer. */
export class ProtoWriter {
  buffer: Buffer;
  pos = 0;

  constructor(initialBytes = 256) {
    this.buffer = Buffer.allocUnsafe(initialBytes);
  }

  /** The bytes written so far (a view, not a copy). */
  bytes(): Buffer {
    return this.buffer.subarray(0, this.pos);
  }

  #ensure(extra: number): void {
    if (this.pos + extra <= this.buffer.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.pos + extra));
    this.buffer.copy(next, 0, 0, this.pos);
    this.buffer = next;
  }

  tag(field: number, wireType: number): this {
    return this.varint(field * 8 + wireType);
  }

  /** Canonical varint of a non-negative integer below 2^53. */
  varint(value: number): this {
    this.#ensure(10);
    while (value >= 0x80) {
      this.buffer[this.pos++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    this.buffer[this.pos++] = value;
    return this;
  }

  /** int64 varint (two's complement, 10 bytes when negative), as `int_value` needs. */
  int64(value: number): this {
    if (value >= 0) return this.varint(value);
    this.#ensure(10);
    let big = BigInt.asUintN(64, BigInt(value));
    while (big >= 0x80n) {
      this.buffer[this.pos++] = Number(big & 0x7fn) | 0x80;
      big >>= 7n;
    }
    this.buffer[this.pos++] = Number(big);
    return this;
  }

  /** zigzag sint32. */
  sint32(value: number): this {
    return this.varint(((value << 1) ^ (value >> 31)) >>> 0);
  }

  /**
   * A varint of exactly `width` bytes (continuation bits on all but the last): a valid,
   * non-canonical encoding that decoders read as the same number, so the value can be
   * rewritten in place. Returns the offset of its first byte.
   */
  paddedVarint(value: number, width: number): number {
    this.#ensure(width);
    const at = this.pos;
    writePaddedVarint(this.buffer, at, value, width);
    this.pos += width;
    return at;
  }

  /** fixed64 from two 32-bit words; returns its offset. */
  fixed64(low: number, high: number): number {
    this.#ensure(8);
    const at = this.pos;
    this.buffer.writeUInt32LE(low >>> 0, at);
    this.buffer.writeUInt32LE(high >>> 0, at + 4);
    this.pos += 8;
    return at;
  }

  /** IEEE 754 double; returns its offset. */
  double(value: number): number {
    this.#ensure(8);
    const at = this.pos;
    this.buffer.writeDoubleLE(value, at);
    this.pos += 8;
    return at;
  }

  fixed32(value: number): number {
    this.#ensure(4);
    const at = this.pos;
    this.buffer.writeUInt32LE(value >>> 0, at);
    this.pos += 4;
    return at;
  }

  /** Length-delimited raw bytes; returns the offset of the first content byte. */
  bytesField(bytes: Uint8Array): number {
    this.varint(bytes.length);
    this.#ensure(bytes.length);
    const at = this.pos;
    this.buffer.set(bytes, at);
    this.pos += bytes.length;
    return at;
  }

  /** Already-encoded bytes (e.g. repeated fields), appended as they are. */
  raw(bytes: Uint8Array): this {
    this.#ensure(bytes.length);
    this.buffer.set(bytes, this.pos);
    this.pos += bytes.length;
    return this;
  }

  string(text: string): this {
    const size = Buffer.byteLength(text, 'utf8');
    this.varint(size);
    this.#ensure(size);
    this.buffer.write(text, this.pos, 'utf8');
    this.pos += size;
    return this;
  }

  /** Field `field` holding a child message already encoded as `body`; returns the body's offset. */
  message(field: number, body: Uint8Array): number {
    this.tag(field, WIRE_LEN);
    return this.bytesField(body);
  }

  /** `repeated KeyValue` attributes as field `field`, in object order. */
  attributes(field: number, attributes: Record<string, string | number | boolean>): this {
    for (const key in attributes) {
      const kv = new ProtoWriter(64);
      kv.tag(1, WIRE_LEN).string(key);
      const any = new ProtoWriter(32);
      any.anyValue(attributes[key]);
      kv.message(2, any.bytes());
      this.message(field, kv.bytes());
    }
    return this;
  }

  /** AnyValue as the official serializer picks: string, bool, int_value for integers, else double_value. */
  anyValue(value: string | number | boolean): this {
    if (typeof value === 'string') return this.tag(1, WIRE_LEN).string(value);
    if (typeof value === 'boolean') return this.tag(2, WIRE_VARINT).varint(value ? 1 : 0);
    if (Number.isInteger(value) && value >= -(2 ** 63) && value < 2 ** 63) return this.tag(3, WIRE_VARINT).int64(value);
    this.tag(4, WIRE_I64);
    this.double(value);
    return this;
  }
}

/** Write `value` (below 2^(7·width)) as a varint of exactly `width` bytes at `offset`. Hot-path safe. */
export function writePaddedVarint(buffer: Uint8Array, offset: number, value: number, width: number): void {
  for (let i = 0; i < width - 1; i++) {
    buffer[offset + i] = (value % 0x80) | 0x80;
    value = Math.floor(value / 0x80);
  }
  buffer[offset + width - 1] = value;
}
